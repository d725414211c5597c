#include "sessions/replay_controller.hpp"

#include "document/trace_document.hpp"
#include "document/view_state.hpp"

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
    const auto target = static_cast<std::uint64_t>(m_playFromNs + elapsedNs);
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

void ReplayController::describe(const trace::event& e) {
    const analysis::model& m = m_document->model();
    const auto label = [&](std::uint64_t id) {
        const analysis::task_ref ref = m.find_task(id);
        return ref == analysis::no_task ? QStringLiteral("task #%1").arg(id)
                                        : QString::fromStdString(m.task_label(ref));
    };
    const auto lane = [&](std::uint16_t track) {
        const auto& lanes = m.lanes();
        return track < lanes.size() ? QString::fromStdString(lanes[track].label())
                                    : QStringLiteral("track %1").arg(track);
    };
    switch (e.kind) {
    case event_kind::poll_begin:
        m_lastStep = tr("%1 polls %2").arg(lane(e.track), label(e.task));
        break;
    case event_kind::poll_end:
        m_lastStep = tr("%1 finished polling %2 (%3)")
                         .arg(lane(e.track), label(e.task),
                              QString::fromUtf8(
                                  trace::to_string(static_cast<trace::poll_result>(e.detail))));
        break;
    case event_kind::wake:
        m_lastStep =
            tr("%1 woken (%2)%3")
                .arg(label(e.task),
                     QString::fromUtf8(trace::to_string(static_cast<trace::wake_source>(e.detail))),
                     e.arg != 0 ? tr(" by %1").arg(label(e.arg)) : QString());
        break;
    case event_kind::steal:
        m_lastStep = tr("%1 steals %2 task(s) from worker %3, runs %4")
                         .arg(lane(e.track))
                         .arg(e.arg2)
                         .arg(e.arg)
                         .arg(label(e.task));
        break;
    default:
        m_lastStep = tr("%1: %2").arg(lane(e.track), QString::fromUtf8(trace::to_string(e.kind)));
        break;
    }
}

void ReplayController::publish() {
    m_view->setPlayhead(static_cast<qint64>(m_cursor->position_ns()));
    emit moved();
}

} // namespace taskscope::ui
