// The item models behind the task table and the findings list: hand-built traces in,
// exact cell texts, sort values, filters and incremental live growth out. Every model (the
// proxy too) runs under QAbstractItemModelTester, whose complaints fail the test case.

#include "document/trace_document.hpp"
#include "look/style.hpp"
#include "models/lint_list_model.hpp"
#include "models/task_filter_model.hpp"
#include "models/task_table_model.hpp"
#include "taskscope/analysis/model.hpp"
#include "taskscope/trace/event.hpp"
#include "taskscope/trace/event_types.hpp"
#include "taskscope/trace/names.hpp"

#include <QAbstractItemModelTester>
#include <QIcon>
#include <QImage>
#include <QSignalSpy>
#include <QStringList>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace Catch {
template <>
struct StringMaker<QString> {
    static std::string convert(const QString& s) { return '"' + s.toStdString() + '"'; }
};
template <>
struct StringMaker<QColor> {
    static std::string convert(const QColor& c) { return c.name(QColor::HexArgb).toStdString(); }
};
} // namespace Catch

namespace {

using namespace taskscope;
using analysis::lint_kind;
using analysis::task_state;
using trace::event;
using trace::event_kind;
using trace::poll_result;
using trace::track_kind;
using trace::wake_source;
using ui::LintListModel;
using ui::TaskFilterModel;
using ui::TaskTableModel;
using ui::TraceDocument;

// ---- failing a test from QAbstractItemModelTester ---------------------------------------

// The tester runs in Warning mode: Fatal would abort the whole test run, and QtTest mode
// reports through a QTest run that Catch does not start. Its warnings (category
// "qt.modeltest") reach this handler, which fails the running test case with the message.
class ModelTesterWarnings {
public:
    enum class Mode { Fail, Count };

    explicit ModelTesterWarnings(Mode mode = Mode::Fail) {
        s_mode = mode;
        s_count = 0;
        s_previous = qInstallMessageHandler(&handle);
    }
    ~ModelTesterWarnings() { qInstallMessageHandler(s_previous); }
    ModelTesterWarnings(const ModelTesterWarnings&) = delete;
    ModelTesterWarnings& operator=(const ModelTesterWarnings&) = delete;

    [[nodiscard]] static int count() noexcept { return s_count; }

private:
    static void handle(QtMsgType type, const QMessageLogContext& context, const QString& message) {
        if (type != QtDebugMsg && type != QtInfoMsg && context.category != nullptr &&
            std::strcmp(context.category, "qt.modeltest") == 0) {
            ++s_count;
            if (s_mode == Mode::Fail) {
                FAIL_CHECK("QAbstractItemModelTester: " << message.toStdString());
            }
            return;
        }
        if (s_previous != nullptr) {
            s_previous(type, context, message);
        }
    }

    static inline QtMessageHandler s_previous = nullptr;
    static inline Mode s_mode = Mode::Fail;
    static inline int s_count = 0;
};

std::unique_ptr<QAbstractItemModelTester> testerFor(QAbstractItemModel* model) {
    return std::make_unique<QAbstractItemModelTester>(
        model, QAbstractItemModelTester::FailureReportingMode::Warning);
}

// ---- building events: the makers of trace/event_types.hpp ------------------------------

namespace make = trace::make;

void adopt(TraceDocument& document, std::unique_ptr<analysis::model> model) {
    document.adopt(std::move(model), trace::run_info{}, QStringLiteral("test.tstrace"), QString());
}

// Four tasks on two workers, ending at 3 ms (all times in ns):
//   accept#3             polls 1000-3000 and 6000-10000 (done), a timer wake at 5000
//   handle_connection#7  polls 10000-2010000 and 2300000-2400000, woken by io x3 and
//                        a channel, scheduled since 2500000
//   spinner#12           one 900 us poll, idle since 901000
//   Timer_loop#70        running since 2900000
std::unique_ptr<analysis::model> fourTasks() {
    auto m = std::make_unique<analysis::model>();
    m->set_names({"task", "accept", "handle_connection", "spinner", "Timer_loop"});
    const std::vector<event> events = {
        make::track_started(0, 0, track_kind::worker, 0),
        make::track_started(0, 1, track_kind::worker, 1),
        make::task_spawned(0, 0, 3, 0, 1),
        make::task_spawned(0, 0, 7, 0, 2),
        make::task_spawned(0, 0, 12, 0, 3),
        make::task_spawned(0, 0, 70, 0, 4),
        make::poll_begin(1000, 0, 3),
        make::poll_begin(1000, 1, 12),
        make::poll_end(3000, 0, 3),
        make::wake(5000, 0, 3, 0, wake_source::timer),
        make::poll_begin(6000, 0, 3),
        make::poll_end(10000, 0, 3, poll_result::ready),
        make::poll_begin(10000, 0, 7),
        make::poll_end(901'000, 1, 12),
        make::poll_end(2'010'000, 0, 7),
        make::wake(2'100'000, 0, 7, 0, wake_source::io),
        make::wake(2'150'000, 0, 7, 0, wake_source::io),
        make::wake(2'200'000, 0, 7, 3, wake_source::channel),
        make::poll_begin(2'300'000, 0, 7),
        make::poll_end(2'400'000, 0, 7),
        make::wake(2'500'000, 0, 7, 0, wake_source::io),
        make::poll_begin(2'900'000, 1, 70),
        make::marker(3'000'000, 0, 0),
    };
    m->consume(events);
    m->finish();
    return m;
}

QStringList columnTexts(const QAbstractItemModel& model, int column, int role = Qt::DisplayRole) {
    QStringList texts;
    for (int row = 0; row < model.rowCount(); ++row) {
        texts << model.index(row, column).data(role).toString();
    }
    return texts;
}

QStringList rowTexts(const QAbstractItemModel& model, int row) {
    QStringList texts;
    for (int column = 0; column < model.columnCount(); ++column) {
        texts << model.index(row, column).data().toString();
    }
    return texts;
}

QStringList ids(const QAbstractItemModel& model) {
    return columnTexts(model, TaskTableModel::IdColumn);
}

} // namespace

// ---- the task table ------------------------------------------------------------------------

TEST_CASE("task table: one row per task with formatted cells", "[models]") {
    ModelTesterWarnings warnings;
    TraceDocument document;
    TaskTableModel table(&document);
    const auto tableTester = testerFor(&table);
    CHECK(table.rowCount() == 0);
    CHECK(table.columnCount() == 8);

    QSignalSpy resets(&table, &QAbstractItemModel::modelReset);
    adopt(document, fourTasks());
    CHECK(resets.count() == 1);
    REQUIRE(table.rowCount() == 4);

    const QStringList headers = {"Id",   "Name",      "State", "Polls",
                                 "Busy", "Scheduled", "Idle",  "Wakes"};
    for (int c = 0; c < table.columnCount(); ++c) {
        CHECK(table.headerData(c, Qt::Horizontal, Qt::DisplayRole).toString() == headers[c]);
    }

    // Rows in the order the model met the tasks; the still-open states count up to 3 ms.
    CHECK(rowTexts(table, 0) ==
          QStringList{"3", "accept", "done", "2", "6.0 µs", "2.0 µs", "2.0 µs", "1"});
    CHECK(rowTexts(table, 1) == QStringList{"7", "handle_connection", "scheduled", "2", "2.1 ms",
                                            "710.0 µs", "190.0 µs", "4"});
    CHECK(rowTexts(table, 2) ==
          QStringList{"12", "spinner", "idle", "1", "900.0 µs", "1.0 µs", "2.1 ms", "0"});
    CHECK(rowTexts(table, 3) ==
          QStringList{"70", "Timer_loop", "running", "0", "100.0 µs", "2.9 ms", "0.0 µs", "0"});

    // Raw values for sorting.
    const auto sortValue = [&](int row, int column) {
        return table.index(row, column).data(TaskTableModel::SortRole);
    };
    CHECK(sortValue(1, TaskTableModel::IdColumn).toULongLong() == 7);
    CHECK(sortValue(1, TaskTableModel::NameColumn).toString() == "handle_connection");
    CHECK(sortValue(1, TaskTableModel::StateColumn).toInt() ==
          static_cast<int>(task_state::scheduled));
    CHECK(sortValue(1, TaskTableModel::PollsColumn).toUInt() == 2);
    CHECK(sortValue(1, TaskTableModel::BusyColumn).toULongLong() == 2'100'000);
    CHECK(sortValue(1, TaskTableModel::ScheduledColumn).toULongLong() == 710'000);
    CHECK(sortValue(1, TaskTableModel::IdleColumn).toULongLong() == 190'000);
    CHECK(sortValue(1, TaskTableModel::WakesColumn).toUInt() == 4);
    CHECK(sortValue(3, TaskTableModel::BusyColumn).toULongLong() == 100'000);
    CHECK(sortValue(2, TaskTableModel::IdleColumn).toULongLong() == 2'099'000);

    // Wakes by source in the tooltip.
    CHECK(columnTexts(table, TaskTableModel::WakesColumn, Qt::ToolTipRole) ==
          QStringList{"timer 1", "io 3, channel 1", "no wakes", "no wakes"});
    CHECK(table.index(1, TaskTableModel::NameColumn).data(Qt::ToolTipRole).toString() ==
          "handle_connection#7");

    // Rows are task refs.
    const analysis::model& m = document.model();
    CHECK(table.taskAt(1) == m.find_task(7));
    CHECK(table.rowOf(m.find_task(70)) == 3);
    CHECK(table.taskAt(4) == analysis::no_task);
    CHECK(table.taskAt(-1) == analysis::no_task);
    CHECK(table.rowOf(analysis::no_task) == -1);
    CHECK_FALSE(table.index(4, 0).isValid());
    CHECK_FALSE(table.index(0, 0).data(Qt::UserRole + 100).isValid());

    // Another file replaces everything.
    auto empty = std::make_unique<analysis::model>();
    adopt(document, std::move(empty));
    CHECK(resets.count() == 2);
    CHECK(table.rowCount() == 0);
    CHECK(warnings.count() == 0);
}

TEST_CASE("task table: live tasks insert rows and refresh their values", "[models]") {
    ModelTesterWarnings warnings;
    TraceDocument document;
    TaskTableModel table(&document);
    TaskFilterModel filter;
    filter.setSourceModel(&table);
    filter.sort(TaskTableModel::BusyColumn, Qt::DescendingOrder);
    const auto tableTester = testerFor(&table);
    const auto filterTester = testerFor(&filter);

    const trace::name_id reader = trace::intern("models-test-reader");
    const trace::name_id writer = trace::intern("models-test-writer");
    const trace::name_id flusher = trace::intern("models-test-flusher");
    document.startLive(trace::run_info{});
    CHECK(table.rowCount() == 0);

    QSignalSpy inserted(&table, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&table, &QAbstractItemModel::dataChanged);

    // Batch 1: two tasks, one running.
    const std::vector<event> batch1 = {
        make::track_started(0, 0, track_kind::worker, 0), make::task_spawned(0, 0, 1, 0, reader),
        make::task_spawned(0, 0, 2, 0, writer), make::poll_begin(100, 0, 1)};
    document.append(batch1);
    REQUIRE(inserted.count() == 1);
    CHECK(inserted[0][1].toInt() == 0);
    CHECK(inserted[0][2].toInt() == 1);
    REQUIRE(table.rowCount() == 2);
    CHECK(rowTexts(table, 0) == QStringList{"1", "models-test-reader", "running", "0", "0.0 µs",
                                            "0.1 µs", "0.0 µs", "0"});
    CHECK(rowTexts(table, 1) == QStringList{"2", "models-test-writer", "scheduled", "0", "0.0 µs",
                                            "0.1 µs", "0.0 µs", "0"});
    table.refresh(); // nothing to announce: every row is new
    CHECK(changed.count() == 0);

    // Batch 2: the poll ends, a timer wakes it, a third task appears.
    const std::vector<event> batch2 = {make::poll_end(1100, 0, 1),
                                       make::task_spawned(1200, 0, 3, 0, flusher),
                                       make::wake(1500, 0, 1, 0, wake_source::timer)};
    document.append(batch2);
    REQUIRE(inserted.count() == 2);
    CHECK(inserted[1][1].toInt() == 2);
    CHECK(inserted[1][2].toInt() == 2);
    REQUIRE(table.rowCount() == 3);
    // The values already read fresh; the announcement waits for the throttle (no event loop
    // runs here, so it cannot have fired) or for refresh().
    CHECK(changed.count() == 0);
    table.refresh();
    REQUIRE(changed.count() == 1);
    const auto topLeft = changed[0][0].value<QModelIndex>();
    const auto bottomRight = changed[0][1].value<QModelIndex>();
    CHECK(topLeft == table.index(0, 0));
    CHECK(bottomRight == table.index(2, TaskTableModel::ColumnCount - 1));
    CHECK(rowTexts(table, 0) == QStringList{"1", "models-test-reader", "scheduled", "1", "1.0 µs",
                                            "0.1 µs", "0.4 µs", "1"});
    CHECK(rowTexts(table, 2) == QStringList{"3", "models-test-flusher", "scheduled", "0", "0.0 µs",
                                            "0.3 µs", "0.0 µs", "0"});
    table.refresh(); // nothing new since the last one
    CHECK(changed.count() == 1);

    // Batch 3: task 2 runs from 2000 and the trace reaches 5000.
    const std::vector<event> batch3 = {make::poll_begin(2000, 0, 2), make::marker(5000, 0, 0)};
    document.append(batch3);
    CHECK(inserted.count() == 2);
    table.refresh();
    CHECK(changed.count() == 2);
    CHECK(table.index(1, TaskTableModel::BusyColumn).data().toString() == "3.0 µs");
    CHECK(table.index(1, TaskTableModel::BusyColumn).data(TaskTableModel::SortRole).toULongLong() ==
          3000);
    CHECK(table.index(2, TaskTableModel::ScheduledColumn).data().toString() == "3.8 µs");

    // The proxy re-sorted on the announcement: writer's 3 us above reader's 1 us.
    CHECK(ids(filter) == QStringList{"2", "1", "3"});
    CHECK(filter.taskAt(0) == document.model().find_task(2));

    // Going live again starts from nothing.
    document.startLive(trace::run_info{});
    CHECK(table.rowCount() == 0);
    CHECK(filter.rowCount() == 0);
    CHECK(warnings.count() == 0);
}

// ---- the filter and sort proxy ---------------------------------------------------------

TEST_CASE("task filter: name, #id and state filters", "[models]") {
    ModelTesterWarnings warnings;
    TraceDocument document;
    TaskTableModel table(&document);
    TaskFilterModel filter;
    filter.setSourceModel(&table);
    filter.sort(TaskTableModel::IdColumn, Qt::AscendingOrder);
    const auto tableTester = testerFor(&table);
    const auto filterTester = testerFor(&filter);
    adopt(document, fourTasks());
    REQUIRE(filter.rowCount() == 4);

    filter.setFilterText("conn");
    CHECK(ids(filter) == QStringList{"7"});
    filter.setFilterText("TIMER");
    CHECK(ids(filter) == QStringList{"70"});
    filter.setFilterText("#7");
    CHECK(ids(filter) == QStringList{"7", "70"});
    filter.setFilterText("  #12 ");
    CHECK(filter.filterText() == "#12");
    CHECK(ids(filter) == QStringList{"12"});
    filter.setFilterText("nothing-like-this");
    CHECK(filter.rowCount() == 0);
    filter.setFilterText("");
    CHECK(filter.rowCount() == 4);

    filter.setStateFilter(task_state::idle);
    CHECK(ids(filter) == QStringList{"12"});
    filter.setStateFilter(task_state::scheduled);
    CHECK(ids(filter) == QStringList{"7"});
    filter.setStateFilter(task_state::done);
    CHECK(ids(filter) == QStringList{"3"});
    filter.setStateFilter(task_state::cancelled);
    CHECK(filter.rowCount() == 0);
    filter.setStateFilter(task_state::running);
    CHECK(ids(filter) == QStringList{"70"});
    CHECK(filter.stateFilter() == std::optional<task_state>(task_state::running));

    // Both at once.
    filter.setFilterText("#7");
    CHECK(ids(filter) == QStringList{"70"});
    CHECK(filter.taskAt(0) == document.model().find_task(70));
    CHECK(filter.rowOf(document.model().find_task(70)) == 0);
    CHECK(filter.rowOf(document.model().find_task(7)) == -1); // filtered out
    filter.setStateFilter(std::nullopt);
    CHECK(ids(filter) == QStringList{"7", "70"});
    CHECK(filter.taskAt(2) == analysis::no_task);
    CHECK(warnings.count() == 0);
}

TEST_CASE("task filter: sorts by raw values, not by text", "[models]") {
    ModelTesterWarnings warnings;
    TraceDocument document;
    TaskTableModel table(&document);
    TaskFilterModel filter;
    filter.setSourceModel(&table);
    const auto tableTester = testerFor(&table);
    const auto filterTester = testerFor(&filter);
    adopt(document, fourTasks());

    // Busy: 6.0 us, 100.0 us, 900.0 us, 2.1 ms (as text: "100.0 µs" < "2.1 ms" < "6.0 µs").
    filter.sort(TaskTableModel::BusyColumn, Qt::AscendingOrder);
    CHECK(ids(filter) == QStringList{"3", "70", "12", "7"});
    CHECK(columnTexts(filter, TaskTableModel::BusyColumn) ==
          QStringList{"6.0 µs", "100.0 µs", "900.0 µs", "2.1 ms"});
    CHECK(filter.taskAt(0) == document.model().find_task(3));
    CHECK(filter.rowOf(document.model().find_task(7)) == 3);
    filter.sort(TaskTableModel::BusyColumn, Qt::DescendingOrder);
    CHECK(ids(filter) == QStringList{"7", "12", "70", "3"});

    // Ids as numbers ("12" < "3" as text).
    filter.sort(TaskTableModel::IdColumn, Qt::AscendingOrder);
    CHECK(ids(filter) == QStringList{"3", "7", "12", "70"});

    // Names ignoring case: Timer_loop last, not first.
    filter.sort(TaskTableModel::NameColumn, Qt::AscendingOrder);
    CHECK(ids(filter) == QStringList{"3", "7", "12", "70"});
    filter.sort(TaskTableModel::NameColumn, Qt::DescendingOrder);
    CHECK(ids(filter) == QStringList{"70", "12", "7", "3"});

    // Idle: 0, 2 us, 190 us, 2.1 ms.
    filter.sort(TaskTableModel::IdleColumn, Qt::AscendingOrder);
    CHECK(ids(filter) == QStringList{"70", "3", "7", "12"});

    // Wakes: 0, 0, 1, 4; ties keep the source order.
    filter.sort(TaskTableModel::WakesColumn, Qt::DescendingOrder);
    CHECK(ids(filter).first() == "7");
    CHECK(ids(filter)[1] == "3");
    CHECK(warnings.count() == 0);
}

TEST_CASE("task filter: the radix sort orders by value, ties by row", "[models]") {
    std::mt19937_64 random(5);
    std::vector<TaskFilterModel::Key> keys;
    for (std::uint32_t row = 0; row < 5000; ++row) {
        // Values that differ in low, middle and top bytes, with many ties.
        const std::uint64_t value = (random() % 50) << ((row % 3) * 24);
        keys.push_back({value, row});
    }
    auto expected = keys;
    std::stable_sort(expected.begin(), expected.end(),
                     [](const auto& a, const auto& b) { return a.value < b.value; });
    TaskFilterModel::radixSort(keys);
    REQUIRE(keys.size() == expected.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        CHECK(keys[i].value == expected[i].value);
        CHECK(keys[i].row == expected[i].row);
    }
}

namespace {

/// A task table that counts how often a cell is read.
class CountingTable : public TaskTableModel {
public:
    using TaskTableModel::TaskTableModel;
    QVariant data(const QModelIndex& index, int role) const override {
        ++reads;
        return TaskTableModel::data(index, role);
    }
    mutable std::size_t reads = 0;
};

} // namespace

TEST_CASE("task filter: a million tasks sort and filter through a permutation of rows",
          "[models]") {
    ModelTesterWarnings warnings;
    // A million tasks on one worker, each polled once for 1 to 1,000 ns.
    constexpr std::uint64_t tasks = 1'000'000;
    auto m = std::make_unique<analysis::model>();
    m->set_names({"task", "reader", "Writer"});
    std::vector<event> events{make::track_started(0, 0, track_kind::worker, 0)};
    events.reserve(3 * tasks + 1);
    std::uint64_t t = 0;
    for (std::uint64_t i = 0; i < tasks; ++i) {
        events.push_back(
            make::task_spawned(t, 0, i + 1, 0, static_cast<trace::name_id>(1 + i % 2)));
        events.push_back(make::poll_begin(t + 1, 0, i + 1));
        t += 2 + (i * 7919) % 1000;
        events.push_back(make::poll_end(t, 0, i + 1, poll_result::ready));
    }
    m->consume(events);
    m->finish();
    events = {};

    TraceDocument document;
    CountingTable table(&document);
    TaskFilterModel filter;
    filter.setSourceModel(&table);
    // The table as a user sees it, checked by the tester through the reset and the sort
    // (each of which has it walk every row).
    auto filterTester = testerFor(&filter);
    adopt(document, std::move(m));
    REQUIRE(table.rowCount() == static_cast<int>(tasks));
    REQUIRE(filter.rowCount() == static_cast<int>(tasks));
    const analysis::model& model = document.model();

    // Sorting reads the task records, not a QVariant per cell, and keeps only the rows'
    // order: each row is a task once, and the busy times come out in order.
    const std::size_t readsBefore = table.reads;
    filter.sort(TaskTableModel::BusyColumn, Qt::DescendingOrder);
    CHECK(table.reads - readsBefore < 1000); // the testers' look at a few cells, at most
    std::vector<bool> seen(tasks, false);
    std::uint64_t previous = UINT64_MAX;
    bool ordered = true;
    bool onceEach = true;
    for (int row = 0; row < filter.rowCount(); ++row) {
        const analysis::task_ref task = filter.taskAt(row);
        onceEach = onceEach && task < tasks && !seen[task] && filter.rowOf(task) == row;
        seen[task] = true;
        const std::uint64_t busy = model.tasks()[task].busy_ns;
        ordered = ordered && busy <= previous;
        previous = busy;
    }
    CHECK(onceEach);
    CHECK(ordered);
    filterTester.reset();

    // Filters: by name (each name's match is worked out once) and by #id.
    filter.setFilterText("WRITER");
    CHECK(filter.rowCount() == static_cast<int>(tasks / 2));
    filter.setFilterText("#99999"); // "#id" contains it: ids beginning 99999
    std::set<std::uint64_t> expected;
    for (std::uint64_t id = 1; id <= tasks; ++id) {
        if (("#" + std::to_string(id)).find("#99999") != std::string::npos) {
            expected.insert(id);
        }
    }
    std::set<std::uint64_t> shown;
    for (int row = 0; row < filter.rowCount(); ++row) {
        shown.insert(model.tasks()[filter.taskAt(row)].id);
    }
    CHECK(shown == expected);
    filter.setFilterText("");
    CHECK(filter.rowCount() == static_cast<int>(tasks));
    CHECK(warnings.count() == 0);
}

// ---- the findings list ----------------------------------------------------------------------

namespace {

constexpr std::uint64_t traceStart = 5'000'000'000; // the first event: "at 0.000 s"

// A long poll, a blocked worker and busy polling, in that order, on a trace that starts at
// 5 s on its clock.
std::vector<event> lintEvents(trace::name_id compute, trace::name_id connection,
                              trace::name_id spinner) {
    const std::uint64_t b = traceStart;
    std::vector<event> events = {
        make::track_started(b, 0, track_kind::worker, 0),
        make::track_started(b, 1, track_kind::worker, 1),
        make::task_spawned(b, 0, 7, 0, connection),
        make::task_spawned(b, 0, 8, 0, compute),
        make::task_spawned(b, 0, 9, 0, spinner),
        make::poll_begin(b + 5'000, 1, 8),
        make::poll_end(b + 1'505'000, 1, 8),
        make::poll_begin(b + 1'234'000'000, 0, 7),
        make::block_begin(b + 1'234'000'010, 0, 7, 2'000'000'000),
        make::block_end(b + 3'234'000'000, 0, 7),
        make::poll_end(b + 3'234'000'100, 0, 7, poll_result::ready),
    };
    std::uint64_t t = b + 4'000'000'000;
    for (int i = 0; i < 4; ++i) {
        events.push_back(make::poll_begin(t, 1, 9));
        events.push_back(make::wake(t + 1, 1, 9, 9, wake_source::self));
        events.push_back(make::poll_end(t + 10, 1, 9));
        t += 100;
    }
    return events;
}

analysis::model_options lintOptions() {
    analysis::model_options options;
    options.long_poll_ns = 1'000'000;
    options.busy_poll_min_polls = 4;
    options.busy_poll_self_wake_ratio = 0.75;
    return options;
}

QColor centreColour(const QVariant& decoration) {
    const QIcon icon = decoration.value<QIcon>();
    const QImage image = icon.pixmap(QSize(12, 12)).toImage();
    return image.pixelColor(image.width() / 2, image.height() / 2);
}

} // namespace

TEST_CASE("lint list: one row per finding with its time, text and roles", "[models]") {
    ModelTesterWarnings warnings;
    TraceDocument document;
    LintListModel lints(&document);
    const auto tester = testerFor(&lints);
    CHECK(lints.rowCount() == 0);

    auto m = std::make_unique<analysis::model>(lintOptions());
    m->set_names({"task", "compute", "handle_connection", "spinner"});
    m->consume(lintEvents(1, 2, 3));
    m->finish();
    adopt(document, std::move(m));
    const analysis::model& model = document.model();
    REQUIRE(lints.rowCount() == 3);

    CHECK(columnTexts(lints, 0) ==
          QStringList{
              "at 5.000 µs: task compute#8 ran 1.5 ms on worker 1 without yielding (split the "
              "work with yield_now or move it to spawn_blocking)",
              "at 1.234 s: worker 0 blocked for 2.0 s in task handle_connection#7 (a blocking "
              "call inside a task: await an async version or use spawn_blocking)",
              "at 4.000 s: task spinner#9 woke itself on 4 of 4 polls (busy polling: wake it "
              "from a timer or the reactor instead)",
          });
    CHECK(lints.index(1).data(Qt::ToolTipRole).toString().startsWith("worker 0 blocked for 2.0 s"));

    const auto role = [&](int row, int r) { return lints.index(row).data(r); };
    CHECK(role(0, LintListModel::TimeRole).toULongLong() == traceStart + 5'000);
    CHECK(role(0, LintListModel::DurationRole).toULongLong() == 1'500'000);
    CHECK(role(0, LintListModel::TaskRole).toUInt() == model.find_task(8));
    CHECK(role(0, LintListModel::LaneRole).toUInt() == 1);
    CHECK(role(0, LintListModel::KindRole).toInt() == static_cast<int>(lint_kind::long_poll));

    CHECK(role(1, LintListModel::TimeRole).toULongLong() == traceStart + 1'234'000'000);
    CHECK(role(1, LintListModel::DurationRole).toULongLong() == 2'000'000'100);
    CHECK(role(1, LintListModel::TaskRole).toUInt() == model.find_task(7));
    CHECK(role(1, LintListModel::LaneRole).toUInt() == 0);
    CHECK(role(1, LintListModel::KindRole).toInt() == static_cast<int>(lint_kind::blocked_worker));

    CHECK(role(2, LintListModel::TimeRole).toULongLong() == traceStart + 4'000'000'310);
    CHECK(role(2, LintListModel::DurationRole).toULongLong() == 0);
    CHECK(role(2, LintListModel::TaskRole).toUInt() == model.find_task(9));
    CHECK(role(2, LintListModel::LaneRole).toUInt() == 1);
    CHECK(role(2, LintListModel::KindRole).toInt() == static_cast<int>(lint_kind::busy_polling));

    // A coloured dot per kind: orange, red (the timeline's blocked red), purple.
    CHECK(ui::Style::lintColor(lint_kind::blocked_worker) == ui::Style::blockedColor());
    CHECK(ui::Style::lintColor(lint_kind::long_poll) == QColor(0xf5, 0x7c, 0x00));
    CHECK(ui::Style::lintColor(lint_kind::busy_polling) == QColor(0x7b, 0x1f, 0xa2));
    for (int row = 0; row < 3; ++row) {
        const QVariant decoration = role(row, Qt::DecorationRole);
        REQUIRE(decoration.canConvert<QIcon>());
        CHECK_FALSE(decoration.value<QIcon>().isNull());
    }
    CHECK(centreColour(role(0, Qt::DecorationRole)) == ui::Style::lintColor(lint_kind::long_poll));
    CHECK(centreColour(role(1, Qt::DecorationRole)) ==
          ui::Style::lintColor(lint_kind::blocked_worker));
    CHECK(centreColour(role(2, Qt::DecorationRole)) ==
          ui::Style::lintColor(lint_kind::busy_polling));

    CHECK_FALSE(lints.index(3).isValid());
    CHECK_FALSE(role(0, LintListModel::KindRole + 10).isValid());

    adopt(document, std::make_unique<analysis::model>());
    CHECK(lints.rowCount() == 0);
    CHECK(warnings.count() == 0);
}

TEST_CASE("lint list: live findings append and busy-polling counts update", "[models]") {
    ModelTesterWarnings warnings;
    TraceDocument document;
    LintListModel lints(&document);
    const auto tester = testerFor(&lints);
    QSignalSpy inserted(&lints, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&lints, &QAbstractItemModel::dataChanged);

    const trace::name_id compute = trace::intern("models-test-compute");
    const trace::name_id connection = trace::intern("models-test-connection");
    const trace::name_id spinner = trace::intern("models-test-spinner");
    document.startLive(trace::run_info{});
    // The live model uses the default thresholds (10 ms polls, 100 polls for busy
    // polling), so feed it the events of a 12 ms poll and a blocking one, batch by batch.
    const std::uint64_t b = traceStart;
    const std::vector<event> start = {make::track_started(b, 0, track_kind::worker, 0),
                                      make::task_spawned(b, 0, 7, 0, connection),
                                      make::task_spawned(b, 0, 8, 0, compute),
                                      make::task_spawned(b, 0, 9, 0, spinner)};
    document.append(start);
    CHECK(lints.rowCount() == 0);
    CHECK(inserted.count() == 0);

    const std::vector<event> longPoll = {make::poll_begin(b + 2'000'000'000, 0, 8),
                                         make::poll_end(b + 2'012'000'000, 0, 8)};
    document.append(longPoll);
    REQUIRE(lints.rowCount() == 1);
    CHECK(inserted.count() == 1);
    CHECK(lints.index(0).data().toString().startsWith(
        "at 2.000 s: task models-test-compute#8 ran 12.0 ms on worker 0"));

    const std::vector<event> blocked = {
        make::poll_begin(b + 3'000'000'000, 0, 7),
        make::block_begin(b + 3'000'000'001, 0, 7, 50'000'000),
        make::block_end(b + 3'050'000'000, 0, 7),
        make::poll_end(b + 3'050'000'001, 0, 7, poll_result::ready)};
    document.append(blocked);
    REQUIRE(lints.rowCount() == 2);
    REQUIRE(inserted.count() == 2);
    CHECK(inserted[1][1].toInt() == 1);
    CHECK(inserted[1][2].toInt() == 1);
    CHECK(lints.index(1).data().toString().startsWith(
        "at 3.000 s: worker 0 blocked for 50.0 ms in task models-test-connection#7"));
    CHECK(lints.index(1).data(LintListModel::KindRole).toInt() ==
          static_cast<int>(lint_kind::blocked_worker));
    CHECK(changed.count() == 0); // no text here counts anything

    // 100 self-woken polls make a busy-polling finding; later polls change its counts.
    std::vector<event> spinning;
    std::uint64_t t = b + 4'000'000'000;
    for (int i = 0; i < 100; ++i) {
        spinning.push_back(make::poll_begin(t, 0, 9));
        spinning.push_back(make::wake(t + 1, 0, 9, 9, wake_source::self));
        spinning.push_back(make::poll_end(t + 10, 0, 9));
        t += 100;
    }
    document.append(spinning);
    REQUIRE(lints.rowCount() == 3);
    CHECK(lints.index(2).data().toString().startsWith(
        "at 4.000 s: task models-test-spinner#9 woke itself on 100 of 100 polls"));
    CHECK(changed.count() == 0);

    const std::vector<event> more = {make::poll_begin(t, 0, 9), make::poll_end(t + 10, 0, 9)};
    document.append(more);
    CHECK(lints.rowCount() == 3);
    REQUIRE(changed.count() == 1);
    CHECK(changed[0][0].value<QModelIndex>() == lints.index(2));
    CHECK(changed[0][1].value<QModelIndex>() == lints.index(2));
    CHECK(lints.index(2).data().toString().contains("woke itself on 100 of 101 polls"));
    CHECK(warnings.count() == 0);
}

// ---- the tester hook itself -------------------------------------------------------------

namespace {

// Announces an inserted row without adding one: a model bug the tester must report.
class LyingListModel : public QAbstractListModel {
public:
    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : 1;
    }
    [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override {
        return index.isValid() && role == Qt::DisplayRole ? QVariant(QStringLiteral("row"))
                                                          : QVariant();
    }
    void lie() {
        beginInsertRows({}, 1, 1);
        endInsertRows();
    }
};

} // namespace

TEST_CASE("model tests: a broken model's tester warnings are caught", "[models]") {
    ModelTesterWarnings warnings(ModelTesterWarnings::Mode::Count);
    LyingListModel model;
    const auto tester = testerFor(&model);
    CHECK(warnings.count() == 0);
    model.lie();
    CHECK(warnings.count() > 0);
}
