#include "models/task_filter_model.hpp"

#include "models/task_table_model.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace taskscope::ui {

namespace {

/// Columns whose values change as a live trace grows (the id and the name never do).
bool valuesChange(int column) {
    return column != TaskTableModel::IdColumn && column != TaskTableModel::NameColumn;
}

} // namespace

TaskFilterModel::TaskFilterModel(QObject* parent) : QAbstractProxyModel(parent) {}

void TaskFilterModel::setSourceModel(QAbstractItemModel* source) {
    beginResetModel();
    if (m_table != nullptr) {
        disconnect(m_table, nullptr, this, nullptr);
    }
    m_table = qobject_cast<TaskTableModel*>(source);
    QAbstractProxyModel::setSourceModel(m_table);
    if (m_table != nullptr) {
        connect(m_table, &QAbstractItemModel::modelAboutToBeReset, this,
                &TaskFilterModel::beginResetModel);
        connect(m_table, &QAbstractItemModel::modelReset, this, &TaskFilterModel::onSourceReset);
        connect(m_table, &QAbstractItemModel::rowsInserted, this, &TaskFilterModel::onRowsInserted);
        connect(m_table, &QAbstractItemModel::dataChanged, this, &TaskFilterModel::onDataChanged);
    }
    m_nameMatch.clear();
    refilterAll();
    endResetModel();
}

const analysis::model* TaskFilterModel::tasks() const {
    return m_table != nullptr ? &m_table->model() : nullptr;
}

// ---- filtering -----------------------------------------------------------------------------

void TaskFilterModel::setFilterText(const QString& text) {
    const QString trimmed = text.trimmed();
    if (trimmed != m_text) {
        m_text = trimmed;
        m_nameMatch.clear();
        refilter();
    }
}

void TaskFilterModel::setStateFilter(std::optional<analysis::task_state> state) {
    if (state != m_state) {
        m_state = state;
        refilter();
    }
}

bool TaskFilterModel::accepts(std::uint32_t sourceRow) const {
    const analysis::model* m = tasks();
    const analysis::task_info* found =
        m != nullptr && sourceRow < m->task_rows() ? m->task(m->task_of_row(sourceRow)) : nullptr;
    if (found == nullptr) {
        return false;
    }
    const analysis::task_info& t = *found;
    if (m_state.has_value() && t.state != *m_state) {
        return false;
    }
    if (m_text.isEmpty()) {
        return true;
    }
    if (t.name >= m_nameMatch.size()) {
        m_nameMatch.resize(t.name + 1u, -1);
    }
    std::int8_t& named = m_nameMatch[t.name];
    if (named < 0) {
        named =
            QString::fromStdString(m->name(t.name)).contains(m_text, Qt::CaseInsensitive) ? 1 : 0;
    }
    if (named == 1) {
        return true;
    }
    // "#id": the id's digits after a '#', as the table shows them (to_chars: no allocation).
    std::array<char, 24> digits{'#'};
    const auto end = std::to_chars(digits.data() + 1, digits.data() + digits.size(), t.id).ptr;
    const QLatin1StringView id(digits.data(), end - digits.data());
    return id.contains(m_text, Qt::CaseInsensitive);
}

void TaskFilterModel::refilter() {
    if (m_table == nullptr) {
        return;
    }
    const int sourceRows = m_table->rowCount();
    // Proxy rows that no longer pass, in runs from the back (removing them keeps views'
    // selections and scroll positions where they can stay).
    std::vector<std::pair<int, int>> runs; // [first, last] proxy rows
    for (int row = static_cast<int>(m_rows.size()) - 1; row >= 0; --row) {
        if (accepts(m_rows[static_cast<std::size_t>(row)])) {
            continue;
        }
        if (!runs.empty() && runs.back().first == row + 1) {
            runs.back().first = row;
        } else {
            runs.emplace_back(row, row);
        }
    }
    std::vector<std::uint32_t> added;
    for (int r = 0; r < sourceRows; ++r) {
        const auto source = static_cast<std::uint32_t>(r);
        const bool shown = source < m_rowOf.size() && m_rowOf[source] >= 0;
        if (!shown && accepts(source)) {
            added.push_back(source);
        }
    }
    if (runs.size() > 256) {
        // A change that scatters removals over a big table: cheaper to start over.
        beginResetModel();
        refilterAll();
        endResetModel();
        return;
    }
    for (const auto& [first, last] : runs) {
        beginRemoveRows({}, first, last);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + last + 1);
        endRemoveRows();
    }
    if (!added.empty()) {
        const auto at = static_cast<int>(m_rows.size());
        beginInsertRows({}, at, at + static_cast<int>(added.size()) - 1);
        m_rows.insert(m_rows.end(), added.begin(), added.end());
        endInsertRows();
    }
    indexRows();
    if (!added.empty() && m_sortColumn >= 0) {
        resort();
    }
}

// ---- sorting -------------------------------------------------------------------------------

void TaskFilterModel::sort(int column, Qt::SortOrder order) {
    m_sortColumn = column >= 0 && column < TaskTableModel::ColumnCount ? column : -1;
    m_order = order;
    resort();
}

std::uint64_t TaskFilterModel::sortKey(std::uint32_t sourceRow, int column) const {
    const analysis::model& m = *tasks();
    const analysis::task_info* found =
        sourceRow < m.task_rows() ? m.task(m.task_of_row(sourceRow)) : nullptr;
    if (found == nullptr) {
        return 0;
    }
    const analysis::task_info& t = *found;
    const std::uint64_t now = m.last_ns();
    switch (column) {
    case TaskTableModel::IdColumn:
        return t.id;
    case TaskTableModel::NameColumn:
        return t.name < m_nameRank.size() ? m_nameRank[t.name] : 0;
    case TaskTableModel::StateColumn:
        return static_cast<std::uint64_t>(t.state);
    case TaskTableModel::PollsColumn:
        return t.polls;
    case TaskTableModel::BusyColumn:
        return t.busy_until(now);
    case TaskTableModel::ScheduledColumn:
        return t.scheduled_until(now);
    case TaskTableModel::IdleColumn:
        return t.idle_until(now);
    case TaskTableModel::WakesColumn:
        return t.total_wakes();
    default:
        return sourceRow;
    }
}

void TaskFilterModel::radixSort(std::vector<Key>& keys) {
    if (keys.size() < 2) {
        return;
    }
    // Only the bytes in which some values differ need a pass.
    std::uint64_t differ = 0;
    for (const Key& k : keys) {
        differ |= k.value ^ keys.front().value;
    }
    std::vector<Key> buffer(keys.size());
    for (int shift = 0; shift < 64; shift += 8) {
        if (((differ >> shift) & 0xFF) == 0) {
            continue;
        }
        std::array<std::size_t, 257> start{};
        for (const Key& k : keys) {
            ++start[((k.value >> shift) & 0xFF) + 1];
        }
        for (std::size_t b = 1; b < start.size(); ++b) {
            start[b] += start[b - 1];
        }
        for (const Key& k : keys) { // stable: equal digits keep their order
            buffer[start[(k.value >> shift) & 0xFF]++] = k;
        }
        keys.swap(buffer);
    }
}

void TaskFilterModel::order() {
    if (m_sortColumn < 0 || tasks() == nullptr) {
        std::sort(m_rows.begin(), m_rows.end()); // the source's order: the order tasks began
        return;
    }
    const analysis::model& m = *tasks();
    if (m_sortColumn == TaskTableModel::NameColumn) {
        // Names in order, ignoring case: a rank per name id.
        std::vector<trace::name_id> names;
        for (const std::uint32_t row : m_rows) {
            const analysis::task_info* t =
                row < m.task_rows() ? m.task(m.task_of_row(row)) : nullptr;
            names.push_back(t != nullptr ? t->name : trace::default_task_name);
        }
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        std::vector<QString> texts;
        texts.reserve(names.size());
        for (const trace::name_id id : names) {
            texts.push_back(QString::fromStdString(m.name(id)));
        }
        std::vector<std::size_t> byText(names.size());
        for (std::size_t i = 0; i < byText.size(); ++i) {
            byText[i] = i;
        }
        std::stable_sort(byText.begin(), byText.end(), [&](std::size_t a, std::size_t b) {
            return texts[a].compare(texts[b], Qt::CaseInsensitive) < 0;
        });
        m_nameRank.assign(names.empty() ? 0 : names.back() + 1u, 0);
        for (std::size_t rank = 0; rank < byText.size(); ++rank) {
            m_nameRank[names[byText[rank]]] = static_cast<std::uint32_t>(rank);
        }
    }
    // Ties keep the source's order: start from it, and the radix sort is stable.
    std::sort(m_rows.begin(), m_rows.end());
    const bool descending = m_order == Qt::DescendingOrder;
    std::vector<Key> keys;
    keys.reserve(m_rows.size());
    for (const std::uint32_t row : m_rows) {
        const std::uint64_t value = sortKey(row, m_sortColumn);
        keys.push_back({descending ? ~value : value, row});
    }
    radixSort(keys);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        m_rows[i] = keys[i].row;
    }
}

void TaskFilterModel::indexRows() {
    const std::size_t sourceRows =
        m_table != nullptr ? static_cast<std::size_t>(m_table->rowCount()) : 0;
    m_rowOf.assign(sourceRows, -1);
    for (std::size_t i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i] < sourceRows) {
            m_rowOf[m_rows[i]] = static_cast<std::int32_t>(i);
        }
    }
}

void TaskFilterModel::resort() {
    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    // Views' selections and current cells follow their tasks to the new rows.
    const QModelIndexList before = persistentIndexList();
    std::vector<std::pair<std::uint32_t, int>> held; // source row, column
    held.reserve(static_cast<std::size_t>(before.size()));
    for (const QModelIndex& index : before) {
        held.emplace_back(m_rows[static_cast<std::size_t>(index.row())], index.column());
    }
    order();
    indexRows();
    m_appended = false;
    QModelIndexList after;
    after.reserve(before.size());
    for (const auto& [source, column] : held) {
        const int row = source < m_rowOf.size() ? m_rowOf[source] : -1;
        after.append(row >= 0 ? createIndex(row, column) : QModelIndex());
    }
    changePersistentIndexList(before, after);
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

// ---- following the source ------------------------------------------------------------------

void TaskFilterModel::onSourceReset() {
    m_nameMatch.clear();
    refilterAll();
    endResetModel();
}

void TaskFilterModel::refilterAll() {
    m_rows.clear();
    const int rows = m_table != nullptr ? m_table->rowCount() : 0;
    for (int r = 0; r < rows; ++r) {
        if (accepts(static_cast<std::uint32_t>(r))) {
            m_rows.push_back(static_cast<std::uint32_t>(r));
        }
    }
    order();
    indexRows();
}

void TaskFilterModel::onRowsInserted(const QModelIndex& parent, int first, int last) {
    if (parent.isValid()) {
        return;
    }
    std::vector<std::uint32_t> added;
    for (int r = first; r <= last; ++r) {
        if (accepts(static_cast<std::uint32_t>(r))) {
            added.push_back(static_cast<std::uint32_t>(r));
        }
    }
    m_rowOf.resize(static_cast<std::size_t>(m_table->rowCount()), -1);
    if (added.empty()) {
        return;
    }
    // New tasks go to the end; a sorted table puts them in place at the source's next
    // announcement of changed values (a fifth of a second later while live).
    const auto at = static_cast<int>(m_rows.size());
    beginInsertRows({}, at, at + static_cast<int>(added.size()) - 1);
    for (const std::uint32_t source : added) {
        m_rowOf[source] = static_cast<std::int32_t>(m_rows.size());
        m_rows.push_back(source);
    }
    endInsertRows();
    m_appended = m_sortColumn >= 0;
}

void TaskFilterModel::onDataChanged() {
    if (m_state.has_value()) {
        refilter(); // states change: rows come and go
    } else if (m_sortColumn >= 0 && (valuesChange(m_sortColumn) || m_appended)) {
        resort();
    }
    if (!m_rows.empty()) {
        emit dataChanged(index(0, 0),
                         index(static_cast<int>(m_rows.size()) - 1, columnCount() - 1));
    }
}

// ---- the proxy's shape ---------------------------------------------------------------------

analysis::task_ref TaskFilterModel::taskAt(int row) const {
    if (m_table == nullptr || row < 0 || row >= static_cast<int>(m_rows.size())) {
        return analysis::no_task;
    }
    return m_table->taskAt(static_cast<int>(m_rows[static_cast<std::size_t>(row)]));
}

int TaskFilterModel::rowOf(analysis::task_ref task) const {
    if (m_table == nullptr) {
        return -1;
    }
    const int source = m_table->rowOf(task);
    if (source < 0 || static_cast<std::size_t>(source) >= m_rowOf.size()) {
        return -1;
    }
    return m_rowOf[static_cast<std::size_t>(source)];
}

QModelIndex TaskFilterModel::index(int row, int column, const QModelIndex& parent) const {
    if (parent.isValid() || row < 0 || row >= static_cast<int>(m_rows.size()) || column < 0 ||
        column >= columnCount()) {
        return {};
    }
    return createIndex(row, column);
}

QModelIndex TaskFilterModel::parent(const QModelIndex& /*child*/) const {
    return {};
}

bool TaskFilterModel::hasChildren(const QModelIndex& parent) const {
    return !parent.isValid() && !m_rows.empty();
}

QVariant TaskFilterModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation == Qt::Horizontal && m_table != nullptr) {
        return m_table->headerData(section, orientation, role); // columns are the source's
    }
    return QAbstractProxyModel::headerData(section, orientation, role);
}

int TaskFilterModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int TaskFilterModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() || m_table == nullptr ? 0 : m_table->columnCount();
}

QModelIndex TaskFilterModel::mapToSource(const QModelIndex& proxy) const {
    if (!proxy.isValid() || m_table == nullptr || proxy.row() >= static_cast<int>(m_rows.size())) {
        return {};
    }
    return m_table->index(static_cast<int>(m_rows[static_cast<std::size_t>(proxy.row())]),
                          proxy.column());
}

QModelIndex TaskFilterModel::mapFromSource(const QModelIndex& source) const {
    if (!source.isValid() || static_cast<std::size_t>(source.row()) >= m_rowOf.size()) {
        return {};
    }
    const int row = m_rowOf[static_cast<std::size_t>(source.row())];
    return row >= 0 ? index(row, source.column()) : QModelIndex();
}

} // namespace taskscope::ui
