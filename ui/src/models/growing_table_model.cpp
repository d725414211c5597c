#include "models/growing_table_model.hpp"

#include "document/trace_document.hpp"

namespace taskscope::ui {

namespace {
// One dataChanged per throttle tick at most: at 5 a second a live table keeps up without
// re-sorting a proxy for every batch of events.
constexpr int throttleMs = 200;
} // namespace

GrowingTableModel::GrowingTableModel(TraceDocument* document, int columns, QObject* parent)
    : QAbstractTableModel(parent)
    , m_document(document)
    , m_columns(columns) {
    Q_ASSERT(document != nullptr);
    m_throttle.setSingleShot(true);
    m_throttle.setInterval(throttleMs);
    connect(&m_throttle, &QTimer::timeout, this, &GrowingTableModel::refresh);
    connect(m_document, &TraceDocument::reset, this, &GrowingTableModel::onReset);
    connect(m_document, &TraceDocument::changed, this, &GrowingTableModel::onChanged);
    connect(m_document, &TraceDocument::forgotten, this, [this] { onForgotten(); });
}

void GrowingTableModel::onForgotten() {
    onReset();
}

void GrowingTableModel::start() {
    m_rows = availableRows();
}

int GrowingTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : m_rows;
}

int GrowingTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : m_columns;
}

bool GrowingTableModel::valid(const QModelIndex& index) const {
    // availableRows() too: the document has already replaced its model when reset() reaches
    // this model, so the old row count may briefly exceed the new model's items.
    return index.isValid() && !index.parent().isValid() && index.row() < m_rows &&
           index.row() < availableRows() && index.column() < m_columns;
}

void GrowingTableModel::refresh() {
    m_throttle.stop();
    insertNewRows();
    if (m_valuesChanged && m_rows > 0) {
        emit dataChanged(index(0, 0), index(m_rows - 1, m_columns - 1));
    }
    m_valuesChanged = false;
}

void GrowingTableModel::onReset() {
    m_throttle.stop();
    beginResetModel();
    m_rows = availableRows();
    m_valuesChanged = false;
    endResetModel();
}

void GrowingTableModel::onChanged() {
    // New rows at once (cheap, and selection by row stays valid); the growing values of the
    // rows already shown at the next tick.
    const int before = m_rows;
    insertNewRows();
    if (before > 0) {
        m_valuesChanged = true;
        if (!m_throttle.isActive()) {
            m_throttle.start();
        }
    }
}

void GrowingTableModel::insertNewRows() {
    const int available = availableRows();
    if (available > m_rows) {
        beginInsertRows({}, m_rows, available - 1);
        m_rows = available;
        endInsertRows();
    }
}

} // namespace taskscope::ui
