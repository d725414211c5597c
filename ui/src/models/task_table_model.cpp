#include "models/task_table_model.hpp"

#include "document/trace_document.hpp"

#include <algorithm>
#include <climits>
#include <string_view>

namespace taskscope::ui {

namespace {

QString text(std::string_view s) {
    return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size()));
}

QString duration(std::uint64_t ns) {
    return QString::fromStdString(analysis::format_duration(ns));
}

QString wakesBySource(const analysis::task_info& t) {
    QStringList parts;
    for (std::size_t s = 0; s < t.wakes.size(); ++s) {
        if (t.wakes[s] != 0) {
            parts << text(trace::to_string(static_cast<trace::wake_source>(s))) + u' ' +
                         QString::number(t.wakes[s]);
        }
    }
    return parts.isEmpty() ? QStringLiteral("no wakes") : parts.join(QStringLiteral(", "));
}

} // namespace

TaskTableModel::TaskTableModel(TraceDocument* document, QObject* parent)
    : GrowingTableModel(document, ColumnCount, parent) {
    start();
}

QVariant TaskTableModel::data(const QModelIndex& index, int role) const {
    if (!valid(index)) {
        return {};
    }
    const analysis::model& m = m_document->model();
    const analysis::task_info* found = m.task(m.task_of_row(static_cast<std::size_t>(index.row())));
    if (found == nullptr) {
        return {};
    }
    const analysis::task_info& t = *found;
    const std::uint64_t now = m.last_ns();
    const auto column = static_cast<Column>(index.column());

    if (role == Qt::DisplayRole) {
        switch (column) {
        case IdColumn:
            return QString::number(t.id);
        case NameColumn:
            return QString::fromStdString(m.name(t.name));
        case StateColumn:
            return text(analysis::to_string(t.state));
        case PollsColumn:
            return QString::number(t.polls);
        case BusyColumn:
            return duration(t.busy_until(now));
        case ScheduledColumn:
            return duration(t.scheduled_until(now));
        case IdleColumn:
            return duration(t.idle_until(now));
        case WakesColumn:
            return QString::number(t.total_wakes());
        case ColumnCount:
            break;
        }
    } else if (role == SortRole) {
        switch (column) {
        case IdColumn:
            return QVariant::fromValue<qulonglong>(t.id);
        case NameColumn:
            return QString::fromStdString(m.name(t.name));
        case StateColumn:
            return static_cast<int>(t.state);
        case PollsColumn:
            return QVariant::fromValue<uint>(t.polls);
        case BusyColumn:
            return QVariant::fromValue<qulonglong>(t.busy_until(now));
        case ScheduledColumn:
            return QVariant::fromValue<qulonglong>(t.scheduled_until(now));
        case IdleColumn:
            return QVariant::fromValue<qulonglong>(t.idle_until(now));
        case WakesColumn:
            return QVariant::fromValue<uint>(t.total_wakes());
        case ColumnCount:
            break;
        }
    } else if (role == Qt::ToolTipRole) {
        if (column == WakesColumn) {
            return wakesBySource(t);
        }
        if (column == NameColumn) {
            return QString::fromStdString(
                m.task_label(m.task_of_row(static_cast<std::size_t>(index.row()))));
        }
    } else if (role == Qt::TextAlignmentRole) {
        if (column != NameColumn && column != StateColumn) {
            return (Qt::AlignRight | Qt::AlignVCenter).toInt();
        }
    }
    return {};
}

QVariant TaskTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) {
        return QAbstractTableModel::headerData(section, orientation, role);
    }
    if (role == Qt::DisplayRole) {
        switch (static_cast<Column>(section)) {
        case IdColumn:
            return QStringLiteral("Id");
        case NameColumn:
            return QStringLiteral("Name");
        case StateColumn:
            return QStringLiteral("State");
        case PollsColumn:
            return QStringLiteral("Polls");
        case BusyColumn:
            return QStringLiteral("Busy");
        case ScheduledColumn:
            return QStringLiteral("Scheduled");
        case IdleColumn:
            return QStringLiteral("Idle");
        case WakesColumn:
            return QStringLiteral("Wakes");
        case ColumnCount:
            break;
        }
    } else if (role == Qt::ToolTipRole) {
        switch (static_cast<Column>(section)) {
        case BusyColumn:
            return QStringLiteral("Time spent inside polls");
        case ScheduledColumn:
            return QStringLiteral("Time woken and waiting for a worker");
        case IdleColumn:
            return QStringLiteral("Time pending and waiting for a waker");
        default:
            break;
        }
    }
    return {};
}

const analysis::model& TaskTableModel::model() const {
    return m_document->model();
}

analysis::task_ref TaskTableModel::taskAt(int row) const {
    const analysis::model& m = m_document->model();
    return row >= 0 && row < m_rows && static_cast<std::size_t>(row) < m.task_rows()
               ? m.task_of_row(static_cast<std::size_t>(row))
               : analysis::no_task;
}

int TaskTableModel::rowOf(analysis::task_ref task) const {
    const std::size_t row = m_document->model().row_of_task(task);
    return row < static_cast<std::size_t>(m_rows) ? static_cast<int>(row) : -1;
}

int TaskTableModel::availableRows() const {
    const std::size_t n = m_document->model().task_rows();
    return static_cast<int>(std::min<std::size_t>(n, INT_MAX));
}

} // namespace taskscope::ui
