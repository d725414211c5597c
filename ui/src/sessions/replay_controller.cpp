#include "sessions/replay_controller.hpp"

#include "document/trace_document.hpp"
#include "document/view_state.hpp"
#include "taskscope/trace/event_types.hpp"

#include <algorithm>

namespace taskscope::ui {

using trace::event_kind;

ReplayController::ReplayController(TraceDocument* document, ViewState* view, QObject* parent)
    : QObject(parent)
    , m_document(document)
    , m_view(view) {
    m_timer.setInterval(16);
    connect(&m_timer, &QTimer::timeout, this, &ReplayController::tick);
}

ReplayController::~ReplayController() = default;

bool ReplayController::open(const std::filesystem::path& file, QString* error) {
    std::unique_ptr<analysis::replay_cursor> cursor;
    try {
        cursor = std::make_unique<analysis::replay_cursor>(file);
    } catch (const std::exception& e) {
        if (error != nullptr) {
            *error = QString::fromUtf8(e.what());
        }
        return false; // a replay already running goes on
    }
    pause();
    m_cursor = std::move(cursor);
    m_lastStep = tr("at the start: press Play, or step to the next poll, wake or steal");
    publish();
    return true;
}

void ReplayController::close() {
    if (!m_cursor) {
        return;
    }
    pause();
    m_cursor.reset();
    m_view->setPlayhead(-1);
    emit closed();
}

std::uint64_t ReplayController::positionNs() const noexcept {
    return m_cursor ? m_cursor->position_ns() : 0;
}

QString ReplayController::positionText() const {
    const std::uint64_t first = m_document->firstNs();
    const std::uint64_t at =
        std::clamp(positionNs(), first, std::max(first, m_document->lastNs())) - first;
    return QString::fromStdString(analysis::format_duration(at, 3));
}

void ReplayController::play() {
    if (!m_cursor || m_playing) {
        return;
    }
    bool atEnd = false;
    if (!guarded([&] { atEnd = m_cursor->at_end(); })) {
        return;
    }
    if (atEnd) {
        rewind();
        if (!m_cursor) {
            return;
        }
    }
    m_playing = true;
    m_playFromNs = static_cast<double>(
        std::max<std::uint64_t>(m_cursor->position_ns(), m_document->firstNs()));
    m_clock.start();
    m_timer.start();
    emit playingChanged(true);
}

void ReplayController::pause() {
    if (!m_playing) {
        return;
    }
    m_playing = false;
    m_timer.stop();
    emit playingChanged(false);
}

void ReplayController::togglePlay() {
    m_playing ? pause() : play();
}

void ReplayController::setSpeed(double speed) {
    m_speed = std::clamp(speed, minSpeed, maxSpeed);
    if (m_playing && m_cursor) {
        m_playFromNs = static_cast<double>(m_cursor->position_ns());
        m_clock.restart();
    }
}

bool ReplayController::guarded(const std::function<void()>& action) {
    try {
        action();
        return true;
    } catch (const std::exception& e) {
        // The file went away or changed under the replay (seeking back reads it again).
        const QString message = tr("The replay ended: %1").arg(QString::fromUtf8(e.what()));
        close();
        emit failed(message);
        return false;
    }
}

void ReplayController::seek(std::uint64_t ns) {
    if (!m_cursor || !guarded([&] { m_cursor->seek(ns); })) {
        return;
    }
    if (m_playing) {
        m_playFromNs = static_cast<double>(ns);
        m_clock.restart();
    }
    m_lastStep = tr("moved the playhead");
    publish();
}

void ReplayController::rewind() {
    if (!m_cursor || !guarded([&] { m_cursor->rewind(); })) {
        return;
    }
    m_lastStep = tr("at the start");
    publish();
}

bool ReplayController::stepPoll() {
    return step(event_kind::poll_begin);
}

bool ReplayController::stepWake() {
    return step(event_kind::wake);
}

bool ReplayController::stepSteal() {
    return step(event_kind::steal);
}

bool ReplayController::step(event_kind kind) {
    if (!m_cursor) {
        return false;
    }
    pause();
    std::optional<trace::event> e;
    if (!guarded([&] { e = m_cursor->step(kind); })) {
        return false;
    }
    if (!e) {
        m_lastStep = tr("no further %1 in this trace")
                         .arg(kind == event_kind::poll_begin ? tr("poll")
                              : kind == event_kind::wake     ? tr("wake")
                                                             : tr("steal"));
        publish();
        return false;
    }
    describe(*e);
    publish();
    return true;
}

void ReplayController::tick() {
    if (!m_cursor) {
        return;
    }
    const double elapsedNs = static_cast<double>(m_clock.nsecsElapsed()) * m_speed;
    // Never past the trace's end: the bar and the strip both show the playhead.
    const auto target = std::min(static_cast<std::uint64_t>(m_playFromNs + elapsedNs),
                                 std::max(m_document->lastNs(), m_document->firstNs()));
    if (!guarded([&] { m_cursor->seek(target); })) {
        return;
    }
    if (m_cursor->last()) {
        describe(*m_cursor->last());
    }
    if (target >= m_document->lastNs()) {
        pause();
    }
    publish();
}

namespace {

/// What a replay step landed on, as a sentence a class can read: one handler a kind.
struct StepSentence {
    const analysis::model& m;
    QString text;

    [[nodiscard]] QString task(std::uint64_t id) const {
        const analysis::task_ref ref = m.find_task(id);
        return ref == analysis::no_task ? QStringLiteral("task #%1").arg(id)
                                        : QString::fromStdString(m.task_label(ref));
    }
    [[nodiscard]] QString lane(const trace::event& e) const {
        const auto& lanes = m.lanes();
        return e.track < lanes.size() ? QString::fromStdString(lanes[e.track].label())
                                      : QStringLiteral("thread %1").arg(e.track);
    }
    [[nodiscard]] static QString duration(std::uint64_t ns) {
        return QString::fromStdString(analysis::format_duration(ns));
    }

    void on(const trace::event& e, const trace::track_started_view&) {
        text = ReplayController::tr("%1 starts").arg(lane(e));
    }
    void on(const trace::event& e, const trace::task_spawned_view& v) {
        text = v.parent != 0
                   ? ReplayController::tr("%1 spawns %2 on %3")
                         .arg(task(v.parent), task(v.task), lane(e))
                   : ReplayController::tr("%1 is spawned on %2").arg(task(v.task), lane(e));
    }
    void on(const trace::event& e, const trace::poll_begin_view& v) {
        text = ReplayController::tr("%1 polls %2").arg(lane(e), task(v.task));
    }
    void on(const trace::event& e, const trace::poll_end_view& v) {
        switch (v.result) {
        case trace::poll_result::ready:
            text = ReplayController::tr("%1 finishes %2: it is done").arg(lane(e), task(v.task));
            return;
        case trace::poll_result::threw:
            text = ReplayController::tr("%1 finishes %2: it threw").arg(lane(e), task(v.task));
            return;
        case trace::poll_result::pending:
            break;
        }
        text = ReplayController::tr("%1 finishes polling %2: it waits (pending)")
                   .arg(lane(e), task(v.task));
    }
    void on(const trace::event& e, const trace::task_cancelled_view& v) {
        text = ReplayController::tr("%1 cancels %2").arg(lane(e), task(v.task));
    }
    void on(const trace::event&, const trace::wake_view& v) {
        switch (v.source) {
        case trace::wake_source::timer:
            text = ReplayController::tr("a timer wakes %1").arg(task(v.task));
            return;
        case trace::wake_source::io:
            text = ReplayController::tr("a socket is ready: %1 wakes").arg(task(v.task));
            return;
        case trace::wake_source::blocking:
            text = ReplayController::tr("a blocking-pool job finished: %1 wakes").arg(task(v.task));
            return;
        case trace::wake_source::self:
        case trace::wake_source::yield:
            text = ReplayController::tr("%1 yields and queues itself again").arg(task(v.task));
            return;
        default:
            text = v.waker != 0
                       ? ReplayController::tr("%1 wakes %2").arg(task(v.waker), task(v.task))
                       : ReplayController::tr("%1 is woken from outside the runtime")
                             .arg(task(v.task));
        }
    }
    void on(const trace::event& e, const trace::steal_view& v) {
        text = ReplayController::tr("%1 steals %n task(s) from worker %2 and runs %3", "",
                                    static_cast<int>(v.count))
                   .arg(lane(e), QString::number(v.victim), task(v.first_task));
    }
    void on(const trace::event& e, const trace::global_push_view& v) {
        text = ReplayController::tr("%1 moves %n task(s) to the global queue", "",
                                    static_cast<int>(v.count))
                   .arg(lane(e));
    }
    void on(const trace::event& e, const trace::global_pop_view& v) {
        text = ReplayController::tr("%1 takes %2 from the global queue").arg(lane(e), task(v.task));
    }
    void on(const trace::event& e, const trace::queue_depth_view& v) {
        text =
            ReplayController::tr("%1's run queue holds %2").arg(lane(e), QString::number(v.depth));
    }
    void on(const trace::event& e, const trace::block_begin_view& v) {
        text = v.intended_ns != 0
                   ? ReplayController::tr("%1 blocks in %2 for %3: it runs nothing else")
                         .arg(lane(e), task(v.task), duration(v.intended_ns))
                   : ReplayController::tr("%1 blocks in %2: it runs nothing else")
                         .arg(lane(e), task(v.task));
    }
    void on(const trace::event& e, const trace::block_end_view& v) {
        text = ReplayController::tr("%1 is free again (%2 stopped blocking)")
                   .arg(lane(e), task(v.task));
    }
    void on(const trace::event& e, const trace::blocking_job_begin_view& v) {
        text = ReplayController::tr("%1 starts %2 for %3")
                   .arg(lane(e), QString::fromStdString(m.name(v.name)), task(v.spawner));
    }
    void on(const trace::event& e, const trace::blocking_job_end_view&) {
        text = ReplayController::tr("%1 finishes its job").arg(lane(e));
    }
    void on(const trace::event& e, const trace::worker_park_view&) {
        text = ReplayController::tr("%1 goes to sleep (nothing to run)").arg(lane(e));
    }
    void on(const trace::event& e, const trace::worker_unpark_view&) {
        text = ReplayController::tr("%1 wakes up").arg(lane(e));
    }
    void on(const trace::event&, const trace::timer_armed_view& v) {
        text = ReplayController::tr("%1 sets a timer").arg(task(v.task));
    }
    void on(const trace::event&, const trace::timer_fired_view& v) {
        text = ReplayController::tr("a timer fires for %1").arg(task(v.task));
    }
    void on(const trace::event&, const trace::io_ready_view& v) {
        text = ReplayController::tr("a socket is ready for %1").arg(task(v.task));
    }
    void on(const trace::event&, const trace::request_begin_view& v) {
        const QString request =
            QString::fromStdString(analysis::request_label(v.request_id, v.http2));
        const QString route = QString::fromStdString(m.name(v.route));
        text = v.side == trace::request_side::client
                   ? ReplayController::tr("the load generator sends %1 to %2").arg(request, route)
                   : ReplayController::tr("%1 starts serving %2 to %3")
                         .arg(task(v.task), request, route);
    }
    void on(const trace::event&, const trace::request_end_view& v) {
        text = v.side == trace::request_side::client
                   ? ReplayController::tr("the load generator gets its answer (status %1)")
                         .arg(v.status)
                   : ReplayController::tr("%1 answers (status %2)")
                         .arg(task(v.task), QString::number(v.status));
    }
    void on(const trace::event&, const trace::marker_view& v) {
        text = QString::fromStdString(m.name(v.name));
    }
    void on(const trace::event& e, const trace::events_dropped_view&) {
        text = ReplayController::tr("%1 lost events here (its buffer was full)").arg(lane(e));
    }
};

} // namespace

QString ReplayController::sentence(const analysis::model& m, const trace::event& e) {
    StepSentence sentence{m, {}};
    if (!trace::dispatch(e, sentence) || sentence.text.isEmpty()) {
        return tr("an event this taskscope does not know (kind %1)").arg(static_cast<int>(e.kind));
    }
    return sentence.text;
}

void ReplayController::describe(const trace::event& e) {
    m_lastStep = sentence(m_document->model(), e);
}

void ReplayController::publish() {
    m_view->setPlayhead(static_cast<qint64>(m_cursor->position_ns()));
    emit moved();
}

} // namespace taskscope::ui
