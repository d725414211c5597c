#pragma once
// Replay for teaching: a playhead over a trace file that plays at a chosen speed (0.1x to
// 10x), pauses, and steps to the next poll, wake or steal. It owns the replay cursor; the
// queue strip shows the cursor's state and the timeline draws the playhead.

#include "taskscope/analysis/replay.hpp"

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>
#include <filesystem>
#include <functional>
#include <memory>

namespace taskscope::analysis {
class model;
} // namespace taskscope::analysis

namespace taskscope::ui {

class TraceDocument;
class ViewState;

class ReplayController : public QObject {
    Q_OBJECT
public:
    ReplayController(TraceDocument* document, ViewState* view, QObject* parent = nullptr);
    ~ReplayController() override;

    /// Starts replaying `file` (the trace the document shows), paused at its first event.
    /// False (and `error`) if the file cannot be read.
    bool open(const std::filesystem::path& file, QString* error = nullptr);
    /// Ends the replay: no playhead any more.
    void close();
    [[nodiscard]] bool active() const noexcept { return m_cursor != nullptr; }

    [[nodiscard]] bool playing() const noexcept { return m_playing; }
    /// Playback speed: trace seconds per wall-clock second.
    [[nodiscard]] double speed() const noexcept { return m_speed; }
    [[nodiscard]] std::uint64_t positionNs() const noexcept;
    /// The playhead as people read it: time since the trace's start, within the trace
    /// ("211.469 ms"). The bar and the queue strip both show this.
    [[nodiscard]] QString positionText() const;
    /// The cursor (its queues are the state at the playhead); nullptr when not active.
    [[nodiscard]] const analysis::replay_cursor* cursor() const noexcept { return m_cursor.get(); }
    /// What the last step landed on, for people: "poll of handle_connection#7 on worker 1".
    [[nodiscard]] const QString& lastStep() const noexcept { return m_lastStep; }

    /// The sentence the replay shows when it lands on `e`, naming tasks, threads and
    /// requests as `m` does: "handle_connection#7 starts serving
    /// HTTP/2 connection 1, stream 3 to /".
    [[nodiscard]] static QString sentence(const analysis::model& m, const trace::event& e);

    static constexpr double minSpeed = 0.1;
    static constexpr double maxSpeed = 10.0;

public slots:
    void play();
    void pause();
    void togglePlay();
    void setSpeed(double speed);
    void seek(std::uint64_t ns);
    void rewind();
    /// Step to the next event of the kind; false (and nothing moves) at the end.
    bool stepPoll();
    bool stepWake();
    bool stepSteal();

signals:
    /// The playhead moved or the state changed (views redraw).
    void moved();
    void playingChanged(bool playing);
    void closed();
    /// The replay could not go on (its file went away); it is closed.
    void failed(const QString& message);

private:
    bool step(trace::event_kind kind);
    /// Runs `action` on the cursor; an exception (the file is gone) closes the replay.
    bool guarded(const std::function<void()>& action);
    void tick();
    void describe(const trace::event& e);
    void publish();

    TraceDocument* m_document;
    ViewState* m_view;
    std::unique_ptr<analysis::replay_cursor> m_cursor;
    QTimer m_timer;
    QElapsedTimer m_clock;
    double m_speed = 1.0;
    double m_playFromNs = 0; ///< the playhead when play() (or a speed change) happened
    bool m_playing = false;
    QString m_lastStep;
};

} // namespace taskscope::ui
