#pragma once
// A running program of the user's own, watched live: it serves its trace
// (TASKSCOPE_LISTEN, taskscope/trace_server.hpp), a thread here reads the stream into a
// recording file and an inbox, and the GUI timer moves the inbox into the document.
//
//   program ──.tstrace stream──▶ reader thread ──▶ recording file (Save, Replay afterwards)
//                                              └─▶ inbox ──GUI timer (EventPump)──▶ document
//
// The thread never touches the document; the session never waits on the network (a
// connect that takes long, a detach, a program that stalls).

#include "sessions/event_pump.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

namespace taskscope::ui {

class TraceDocument;

} // namespace taskscope::ui
namespace taskscope {
class stream_ring;
} // namespace taskscope
namespace taskscope::ui {

class AttachSession : public QObject {
    Q_OBJECT
public:
    AttachSession(TraceDocument* document, QObject* parent = nullptr);
    ~AttachSession() override;

    /// Connects to "HOST:PORT" on a thread of its own (detaching from any program first);
    /// attached() or failed() reports. The document starts over once attached.
    void attach(const QString& address);
    /// Stops watching; the document keeps what it has and ended() reports.
    void detach();
    /// Stops watching because the document is taken over: nothing more reaches it, and
    /// ended() is not emitted.
    void abandon();
    /// Connecting, or attached and the stream still flowing.
    [[nodiscard]] bool running() const noexcept { return m_shared != nullptr; }
    [[nodiscard]] const QString& address() const noexcept { return m_address; }
    /// The program's description (valid once attached).
    [[nodiscard]] const trace::run_info& info() const noexcept { return m_info; }
    /// Events a second taken in over the last second or so.
    [[nodiscard]] double eventsPerSecond() const noexcept { return m_rate; }
    /// The file the stream is written to (whole once ended() came).
    [[nodiscard]] const std::filesystem::path& recording() const noexcept { return m_recording; }
    /// What File > Save the last minute keeps of the stream, in seconds.
    static constexpr double keptSeconds = 60;
    /// Writes the stream's last minute (while attached, or after it ended) to `path`: how
    /// many events, or nullopt when there is none or it could not be written.
    [[nodiscard]] std::optional<std::uint64_t> saveLast(const std::filesystem::path& path) const;
    /// Whether there is a last minute to save (a program was attached).
    [[nodiscard]] bool hasLast() const noexcept { return m_last != nullptr; }
    /// Events received but not yet in the document.
    [[nodiscard]] std::size_t backlog() const noexcept { return m_pump.backlog(); }

    /// Moves what arrived into the document (the timer calls it every frame).
    void pump();

signals:
    void attached();
    void failed(const QString& message);
    /// The stream ended: "the program ended", "stopped", or what broke.
    void ended(const QString& how);

private:
    struct Shared;
    void onAttached(const std::shared_ptr<Shared>& shared);
    void onEnded(const std::shared_ptr<Shared>& shared, const QString& how);
    /// Replaces `out` with what the thread received since, the names first.
    void takeArrived(Shared& shared, std::vector<trace::event>& out);

    QPointer<TraceDocument> m_document;
    std::shared_ptr<Shared> m_shared; // the reader thread's, while one runs for us
    QString m_address;
    trace::run_info m_info;
    std::filesystem::path m_recording;
    std::vector<std::filesystem::path> m_recordings; ///< made by this session: removed with it
    /// Removes the temporary recordings of this session (File > Save copies one first).
    void removeRecordings();
    std::shared_ptr<stream_ring> m_last; // the attached program's last minute
    std::size_t m_namesSeen = 0;
    EventPump m_pump;
    QTimer m_pumpTimer;
    QElapsedTimer m_rateClock;
    std::uint64_t m_rateEvents = 0;
    double m_rate = 0;
};

} // namespace taskscope::ui
