#include "models/resource_table_model.hpp"

#include "document/trace_document.hpp"

#include <algorithm>
#include <climits>

namespace taskscope::ui {

namespace {

QString duration(std::uint64_t ns) {
    return QString::fromStdString(analysis::format_duration(ns));
}

QString kindText(const analysis::resource_info& r) {
    return r.announced ? QString::fromUtf8(trace::to_string(r.kind).data(),
                                           static_cast<qsizetype>(trace::to_string(r.kind).size()))
                       : QStringLiteral("?");
}

bool hasCapacity(const analysis::resource_info& r) {
    return r.announced && r.capacity != trace::unbounded_capacity &&
           r.kind != trace::resource_kind::notify && r.kind != trace::resource_kind::oneshot;
}

/// What the resource holds now: a mutex's holder, a semaphore's permits in use, a
/// channel's queued messages.
QString nowText(const analysis::model& m, const analysis::resource_info& r) {
    if (r.kind == trace::resource_kind::mutex) {
        const std::uint64_t holder = r.holder_now();
        if (holder == 0) {
            return QStringLiteral("free");
        }
        return QStringLiteral("held by ") +
               QString::fromStdString(m.task_label(m.find_task(holder)));
    }
    if (r.kind == trace::resource_kind::semaphore) {
        return QString::number(r.depth) + QStringLiteral(" held");
    }
    if (r.kind == trace::resource_kind::notify) {
        return {};
    }
    return QString::number(r.depth) + QStringLiteral(" queued");
}

} // namespace

ResourceTableModel::ResourceTableModel(TraceDocument* document, QObject* parent)
    : GrowingTableModel(document, ColumnCount, parent) {
    start();
}

QVariant ResourceTableModel::data(const QModelIndex& index, int role) const {
    if (!valid(index)) {
        return {};
    }
    const analysis::model& m = m_document->model();
    const analysis::resource_info& r = m.resources().all()[static_cast<std::size_t>(index.row())];
    const auto column = static_cast<Column>(index.column());
    if (role == IdRole) {
        return QVariant::fromValue<quint32>(r.id);
    }
    if (role == Qt::DisplayRole) {
        switch (column) {
        case KindColumn:
            return kindText(r);
        case NameColumn:
            return r.announced ? QString::fromStdString(m.name(r.name))
                               : QStringLiteral("#") + QString::number(r.id);
        case CapacityColumn:
            return hasCapacity(r) ? QString::number(r.capacity) : QString();
        case NowColumn:
            return nowText(m, r);
        case WaitingColumn:
            return QString::number(r.waiters_now);
        case WaitsColumn:
            return QString::number(r.total_waits);
        case TotalWaitColumn:
            return duration(r.total_wait_ns);
        case LongestWaitColumn:
            return duration(r.longest_wait_ns);
        case LaggedColumn:
            if (r.kind != trace::resource_kind::broadcast) {
                return {};
            }
            return QString::number(r.lagged_receivers.size()) + QStringLiteral(" (") +
                   QString::number(r.messages_missed) + QStringLiteral(" missed)");
        case ColumnCount:
            break;
        }
    } else if (role == SortRole) {
        switch (column) {
        case KindColumn:
            return kindText(r);
        case NameColumn:
            return QString::fromStdString(m.name(r.name));
        case CapacityColumn:
            return QVariant::fromValue<quint32>(hasCapacity(r) ? r.capacity : 0);
        case NowColumn:
            return QVariant::fromValue<qulonglong>(
                r.kind == trace::resource_kind::mutex ? r.holder_now() : r.depth);
        case WaitingColumn:
            return QVariant::fromValue<quint32>(r.waiters_now);
        case WaitsColumn:
            return QVariant::fromValue<qulonglong>(r.total_waits);
        case TotalWaitColumn:
            return QVariant::fromValue<qulonglong>(r.total_wait_ns);
        case LongestWaitColumn:
            return QVariant::fromValue<qulonglong>(r.longest_wait_ns);
        case LaggedColumn:
            return QVariant::fromValue<qulonglong>(r.messages_missed);
        case ColumnCount:
            break;
        }
    } else if (role == Qt::ToolTipRole) {
        QString tip = QString::fromStdString(m.resource_label(r.id));
        if (r.creator != 0) {
            tip += QStringLiteral(", created by task ") +
                   QString::fromStdString(m.task_label(m.find_task(r.creator)));
        }
        if (r.closed) {
            tip += QStringLiteral(" (closed)");
        }
        tip += QStringLiteral("\nmost ever: ") + QString::number(r.max_depth);
        return tip;
    } else if (role == Qt::TextAlignmentRole) {
        if (column != KindColumn && column != NameColumn && column != NowColumn) {
            return (Qt::AlignRight | Qt::AlignVCenter).toInt();
        }
    }
    return {};
}

QVariant ResourceTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) {
        return QAbstractTableModel::headerData(section, orientation, role);
    }
    if (role == Qt::DisplayRole) {
        switch (static_cast<Column>(section)) {
        case KindColumn:
            return tr("Kind");
        case NameColumn:
            return tr("Name");
        case CapacityColumn:
            return tr("Capacity");
        case NowColumn:
            return tr("Now");
        case WaitingColumn:
            return tr("Waiting");
        case WaitsColumn:
            return tr("Waits");
        case TotalWaitColumn:
            return tr("Total wait");
        case LongestWaitColumn:
            return tr("Longest wait");
        case LaggedColumn:
            return tr("Lagged");
        case ColumnCount:
            break;
        }
    } else if (role == Qt::ToolTipRole) {
        switch (static_cast<Column>(section)) {
        case NowColumn:
            return tr("A mutex's holder; permits held; messages queued (a broadcast: its "
                      "slowest receiver's backlog)");
        case WaitingColumn:
            return tr("Tasks waiting on it now");
        case WaitsColumn:
            return tr("How many times a task had to wait for it");
        case TotalWaitColumn:
            return tr("Time tasks spent waiting for it, all waits together");
        case LaggedColumn:
            return tr("Broadcast receivers that fell behind, and the messages they missed");
        default:
            break;
        }
    }
    return {};
}

int ResourceTableModel::availableRows() const {
    const std::size_t n = m_document->model().resources().size();
    return static_cast<int>(std::min<std::size_t>(n, INT_MAX));
}

} // namespace taskscope::ui
