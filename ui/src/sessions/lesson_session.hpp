#pragma once
// A lesson running inside the window. The lesson plays a program's main thread, so it runs
// on a thread of its own; its runtime's trace flows into the document like a live run's
// (through an EventInbox the GUI timer empties) and into a temporary .tstrace file, which
// is what Replay plays back once the lesson is over.

#include "sessions/live_session.hpp"

#include <QObject>
#include <QString>
#include <QTemporaryDir>
#include <QTimer>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

namespace taskscope::ui {

class TraceDocument;

class LessonSession : public QObject {
    Q_OBJECT
public:
    explicit LessonSession(TraceDocument* document, QObject* parent = nullptr);
    ~LessonSession() override;

    /// Starts lesson `name` at `scale` (the document starts over). False, with `error`
    /// set, if it cannot start (an unknown lesson, no temporary directory).
    bool start(const QString& name, double scale, QString* error = nullptr);
    /// Asks the lesson to end after its current step; finished() follows.
    void stop();
    /// The document is taken over (a live run, an opened file): stop feeding it at once,
    /// ask the lesson to stop, and let it end in the background. finished() still follows
    /// (with `stopped`), and abandoned() says so.
    void abandon();
    [[nodiscard]] bool abandoned() const noexcept { return m_abandoned; }
    [[nodiscard]] bool running() const noexcept { return m_running; }
    [[nodiscard]] const QString& lessonName() const noexcept { return m_name; }
    /// The last run's recording; complete once finished() was emitted.
    [[nodiscard]] const std::filesystem::path& recording() const noexcept { return m_recording; }

signals:
    void phaseStarted(const QString& phase);
    /// A phase ended: its line as taskscope-cli prints it ("phase sequential 6.003 result=6").
    void phaseFinished(const QString& line);
    /// The lesson ended (stopped early, or failed with `error`).
    void finished(bool stopped, const QString& error);

private:
    void pump();
    void join();
    void onThreadDone(std::uint64_t generation, bool stopped, const QString& error);

    QPointer<TraceDocument> m_document;
    std::shared_ptr<EventInbox> m_inbox;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::filesystem::path m_recording;
    std::jthread m_thread;
    std::map<std::uint64_t, std::jthread> m_retired; // abandoned runs by generation
    std::uint64_t m_generation = 0; // of the current run: messages of older runs are ignored
    QTimer m_pumpTimer;
    std::vector<trace::event> m_batch;
    QString m_name;
    bool m_running = false;
    bool m_abandoned = false;
};

} // namespace taskscope::ui
