#pragma once
// What the task table shows: the tasks whose name or "#id" contains the filter text
// (ignoring case), optionally only those in one state, sorted by their raw values so
// "900.0 us" sorts below "2.0 ms".
//
// A proxy of our own rather than QSortFilterProxyModel: that one sorts and filters through
// data() and a QVariant per cell and comparison, and re-sorts row by row on every change,
// which a table of a million tasks cannot afford. This one reads the analysis model's task
// records directly, keeps only a permutation of rows (4 bytes a row each way), sorts with
// a radix sort on 64-bit keys, re-sorts live tables at most when the source announces its
// throttled value changes, and matches names once per distinct name.

#include "taskscope/analysis/model.hpp"

#include <QAbstractProxyModel>
#include <QString>
#include <cstdint>
#include <optional>
#include <vector>

namespace taskscope::ui {

class TaskTableModel;

class TaskFilterModel : public QAbstractProxyModel {
    Q_OBJECT
public:
    explicit TaskFilterModel(QObject* parent = nullptr);

    /// A TaskTableModel (the only kind of source it takes).
    void setSourceModel(QAbstractItemModel* source) override;

    /// "conn" matches handle_connection#7, "#7" matches task 7 (and 70, 71, ...).
    void setFilterText(const QString& text);
    [[nodiscard]] const QString& filterText() const noexcept { return m_text; }

    /// Only tasks in `state`; std::nullopt shows every state.
    void setStateFilter(std::optional<analysis::task_state> state);
    [[nodiscard]] std::optional<analysis::task_state> stateFilter() const noexcept {
        return m_state;
    }

    /// The task shown in proxy row `row`, or analysis::no_task.
    [[nodiscard]] analysis::task_ref taskAt(int row) const;
    /// The proxy row showing `task`, or -1 when it is filtered out or unknown.
    [[nodiscard]] int rowOf(analysis::task_ref task) const;

    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    [[nodiscard]] int sortColumn() const noexcept { return m_sortColumn; }
    [[nodiscard]] Qt::SortOrder sortOrder() const noexcept { return m_order; }

    [[nodiscard]] QModelIndex index(int row, int column,
                                    const QModelIndex& parent = {}) const override;
    [[nodiscard]] QModelIndex parent(const QModelIndex& child) const override;
    [[nodiscard]] bool hasChildren(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role = Qt::DisplayRole) const override;
    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QModelIndex mapToSource(const QModelIndex& proxy) const override;
    [[nodiscard]] QModelIndex mapFromSource(const QModelIndex& source) const override;

    /// Sorts `keys` (value, row) by value, ties by row: an LSD radix sort that skips the
    /// bytes all values share. Public for its tests.
    struct Key {
        std::uint64_t value;
        std::uint32_t row;
    };
    static void radixSort(std::vector<Key>& keys);

private:
    [[nodiscard]] const analysis::model* tasks() const;
    [[nodiscard]] bool accepts(std::uint32_t sourceRow) const;
    /// The value column `column` sorts row `sourceRow` by.
    [[nodiscard]] std::uint64_t sortKey(std::uint32_t sourceRow, int column) const;
    /// Puts m_rows in sort order (rows already there only; no signals).
    void order();
    /// m_rowOf from m_rows.
    void indexRows();
    /// m_rows from scratch: every source row that passes, in sort order (no signals).
    void refilterAll();
    /// Re-sorts the rows shown, telling views through layout change signals.
    void resort();
    /// Applies the filters again: rows that no longer pass are removed, new ones appended,
    /// then the order is restored.
    void refilter();

    void onSourceReset();
    void onRowsInserted(const QModelIndex& parent, int first, int last);
    void onDataChanged();

    TaskTableModel* m_table = nullptr;
    QString m_text;
    std::optional<analysis::task_state> m_state;
    int m_sortColumn = -1;
    Qt::SortOrder m_order = Qt::AscendingOrder;
    std::vector<std::uint32_t> m_rows;            ///< proxy row -> source row
    std::vector<std::int32_t> m_rowOf;            ///< source row -> proxy row, -1 when filtered out
    mutable std::vector<std::int8_t> m_nameMatch; ///< by name id: -1 unknown, 0 no, 1 yes
    std::vector<std::uint32_t> m_nameRank;        ///< by name id: place in name order
    bool m_appended = false;                      ///< rows were appended since the last sort
};

} // namespace taskscope::ui
