#pragma once
// The task table: one row per task of the document's model, in the order the model met
// them (row == task_ref). Tasks only ever append, so a live trace inserts rows at the end;
// the times of tasks already shown grow with every batch, and the table announces that
// with one dataChanged over everything at most five times a second.

#include "taskscope/analysis/model.hpp"

#include <QAbstractTableModel>
#include <QTimer>

namespace taskscope::ui {

class TraceDocument;

class TaskTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column : int {
        IdColumn,
        NameColumn,
        StateColumn,
        PollsColumn,
        BusyColumn,
        ScheduledColumn,
        IdleColumn,
        WakesColumn,
        ColumnCount
    };
    /// Raw values to sort by: numbers (ids, counts, nanoseconds, the state's enum value)
    /// and the name as a string.
    static constexpr int SortRole = Qt::UserRole;

    explicit TaskTableModel(TraceDocument* document, QObject* parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation,
                                      int role) const override;

    /// The model whose tasks the rows are (row == task_ref).
    [[nodiscard]] const analysis::model& model() const;

    /// The task shown in `row`, or analysis::no_task.
    [[nodiscard]] analysis::task_ref taskAt(int row) const;
    /// The row showing `task`, or -1.
    [[nodiscard]] int rowOf(analysis::task_ref task) const;

    /// Inserts the rows of new tasks and announces changed values now rather than at the
    /// next throttle tick.
    void refresh();

private:
    void onReset();
    void onChanged();
    void insertNewRows();
    [[nodiscard]] int availableRows() const;

    TraceDocument* m_document;
    int m_rows = 0;
    bool m_valuesChanged = false;
    QTimer m_throttle;
};

} // namespace taskscope::ui
