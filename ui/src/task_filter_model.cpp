#include "task_filter_model.hpp"

#include "task_table_model.hpp"

namespace taskscope::ui {

TaskFilterModel::TaskFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(TaskTableModel::SortRole);
    setSortCaseSensitivity(Qt::CaseInsensitive);
}

void TaskFilterModel::setFilterText(const QString& text) {
    const QString trimmed = text.trimmed();
    if (trimmed != m_text) {
        m_text = trimmed;
        invalidateFilter();
    }
}

void TaskFilterModel::setStateFilter(std::optional<analysis::task_state> state) {
    if (state != m_state) {
        m_state = state;
        invalidateFilter();
    }
}

analysis::task_ref TaskFilterModel::taskAt(int row) const {
    const auto* table = qobject_cast<const TaskTableModel*>(sourceModel());
    if (table == nullptr || row < 0 || row >= rowCount()) {
        return analysis::no_task;
    }
    return table->taskAt(mapToSource(index(row, 0)).row());
}

int TaskFilterModel::rowOf(analysis::task_ref task) const {
    const auto* table = qobject_cast<const TaskTableModel*>(sourceModel());
    if (table == nullptr) {
        return -1;
    }
    const int sourceRow = table->rowOf(task);
    if (sourceRow < 0) {
        return -1;
    }
    const QModelIndex proxy = mapFromSource(table->index(sourceRow, 0));
    return proxy.isValid() ? proxy.row() : -1;
}

bool TaskFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const QAbstractItemModel* source = sourceModel();
    if (source == nullptr) {
        return false;
    }
    if (m_state.has_value()) {
        const QVariant state = source->index(sourceRow, TaskTableModel::StateColumn, sourceParent)
                                   .data(TaskTableModel::SortRole);
        if (state.toInt() != static_cast<int>(*m_state)) {
            return false;
        }
    }
    if (m_text.isEmpty()) {
        return true;
    }
    const QString name =
        source->index(sourceRow, TaskTableModel::NameColumn, sourceParent).data().toString();
    if (name.contains(m_text, Qt::CaseInsensitive)) {
        return true;
    }
    const QString id =
        u'#' + source->index(sourceRow, TaskTableModel::IdColumn, sourceParent).data().toString();
    return id.contains(m_text, Qt::CaseInsensitive);
}

} // namespace taskscope::ui
