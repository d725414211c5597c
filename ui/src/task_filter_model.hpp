#pragma once
// What the task table shows: the tasks whose name or "#id" contains the filter text
// (ignoring case), optionally only those in one state, sorted by the source's raw values
// (TaskTableModel::SortRole) so "900.0 us" sorts below "2.0 ms".

#include "taskscope/analysis/model.hpp"

#include <QSortFilterProxyModel>
#include <QString>
#include <optional>

namespace taskscope::ui {

class TaskFilterModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    /// Set a TaskTableModel as the source (setSourceModel).
    explicit TaskFilterModel(QObject* parent = nullptr);

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

protected:
    [[nodiscard]] bool filterAcceptsRow(int sourceRow,
                                        const QModelIndex& sourceParent) const override;

private:
    QString m_text;
    std::optional<analysis::task_state> m_state;
};

} // namespace taskscope::ui
