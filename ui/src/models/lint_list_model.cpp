#include "models/lint_list_model.hpp"

#include "document/trace_document.hpp"
#include "look/style.hpp"

#include <QPainter>
#include <QPixmap>
#include <algorithm>
#include <climits>

namespace taskscope::ui {

namespace {

constexpr std::array kinds = {
    analysis::lint_kind::blocked_worker,     analysis::lint_kind::long_poll,
    analysis::lint_kind::busy_polling,       analysis::lint_kind::lock_held_across_await,
    analysis::lint_kind::long_resource_wait, analysis::lint_kind::channel_full,
    analysis::lint_kind::lagged_receiver};
static_assert(kinds.size() == analysis::lint_kind_count);

QIcon dot(const QColor& colour) {
    QPixmap pixmap(12, 12);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(colour.darker(130));
    painter.setBrush(colour);
    painter.drawEllipse(QRectF(1.0, 1.0, 10.0, 10.0));
    painter.end();
    return QIcon(pixmap);
}

/// "15.500 ms": time since the trace began, in the format every view uses.
QString sinceStart(std::uint64_t at_ns, std::uint64_t first_ns) {
    return QString::fromStdString(
        analysis::format_duration(at_ns > first_ns ? at_ns - first_ns : 0, 3));
}

} // namespace

LintListModel::LintListModel(TraceDocument* document, QObject* parent)
    : QAbstractListModel(parent)
    , m_document(document) {
    Q_ASSERT(document != nullptr);
    for (const analysis::lint_kind k : kinds) {
        m_icons[static_cast<std::size_t>(k)] = dot(Style::lintColor(k));
    }
    connect(m_document, &TraceDocument::reset, this, &LintListModel::onReset);
    connect(m_document, &TraceDocument::changed, this, &LintListModel::onChanged);
    connect(m_document, &TraceDocument::forgotten, this, &LintListModel::onReset); // rows moved
    onReset();
}

int LintListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : m_rows;
}

QVariant LintListModel::data(const QModelIndex& index, int role) const {
    // availableRows() too: see TaskTableModel::data.
    if (!index.isValid() || index.parent().isValid() || index.column() != 0 ||
        index.row() >= m_rows || index.row() >= availableRows()) {
        return {};
    }
    const analysis::model& m = m_document->model();
    const analysis::lint& l =
        m.lints()[m.lints().first_kept() + static_cast<std::size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return QStringLiteral("at ") + sinceStart(l.at_ns, m.first_ns()) + QStringLiteral(": ") +
               QString::fromStdString(m.describe(l));
    case Qt::ToolTipRole:
        return QString::fromStdString(m.describe(l));
    case Qt::DecorationRole: {
        const auto k = static_cast<std::size_t>(l.kind);
        return k < m_icons.size() ? QVariant(m_icons[k]) : QVariant();
    }
    case TimeRole:
        return QVariant::fromValue<qulonglong>(l.at_ns);
    case DurationRole:
        return QVariant::fromValue<qulonglong>(l.duration_ns);
    case TaskRole:
        return QVariant::fromValue<uint>(l.task);
    case LaneRole:
        return QVariant::fromValue<uint>(l.lane);
    case KindRole:
        return static_cast<int>(l.kind);
    default:
        return {};
    }
}

void LintListModel::onReset() {
    beginResetModel();
    m_rows = 0;
    m_firstCountingRow = -1;
    const int available = availableRows();
    const auto& lints = m_document->model().lints();
    for (; m_rows < available; ++m_rows) {
        if (m_firstCountingRow < 0 &&
            lints[lints.first_kept() + static_cast<std::size_t>(m_rows)].kind ==
                analysis::lint_kind::busy_polling) {
            m_firstCountingRow = m_rows;
        }
    }
    endResetModel();
}

void LintListModel::onChanged() {
    const int before = m_rows;
    if (m_firstCountingRow >= 0 && before > m_firstCountingRow) {
        emit dataChanged(index(m_firstCountingRow), index(before - 1),
                         {Qt::DisplayRole, Qt::ToolTipRole});
    }
    const int available = availableRows();
    if (available <= before) {
        return;
    }
    beginInsertRows({}, before, available - 1);
    m_rows = available;
    endInsertRows();
    const auto& lints = m_document->model().lints();
    for (int row = before; m_firstCountingRow < 0 && row < available; ++row) {
        if (lints[lints.first_kept() + static_cast<std::size_t>(row)].kind ==
            analysis::lint_kind::busy_polling) {
            m_firstCountingRow = row;
        }
    }
}

int LintListModel::availableRows() const {
    const std::size_t n = m_document->model().lints().kept();
    return static_cast<int>(std::min<std::size_t>(n, INT_MAX));
}

} // namespace taskscope::ui
