#pragma once
// The engine running inside the window: a runtime, its HTTP server on a local port, the
// built-in load generator, and the trace flowing into a TraceDocument.
//
//   runtime threads ──record──▶ trace hub ──drain (2 ms)──▶ EventInbox (a locked vector)
//   GUI timer (every frame) ──take──▶ TraceDocument::append ──▶ views repaint
//
// Only the inbox is shared between threads; the document and the views belong to the
// GUI thread.

#include "sessions/event_pump.hpp"
#include "taskscope/net/chat_load.hpp"
#include "taskscope/net/chat_server.hpp"
#include "taskscope/net/http_server.hpp"
#include "taskscope/net/load_generator.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/trace/request_forwarder.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace taskscope::ui {

class TraceDocument;

/// Everything the control panel can set.
struct LiveOptions {
    std::size_t workers = 2;
    bool stealing = true;
    bool lifoSlot = true;
    net::sleep_mode sleep = net::sleep_mode::async;
    net::accept_mode accept = net::accept_mode::spawn;
    std::uint16_t port = 0; ///< 0: any free port
};

/// One click of "fire requests".
struct FireRequest {
    QString target = QStringLiteral("/"); ///< "/", "/sleep?ms=300", "/cpu?ms=50"
    std::size_t count = 10;
    std::size_t concurrency = 1; ///< connections at once
    bool http2 = false;          ///< HTTP/2 (h2c): streams multiplexed on each connection
    std::size_t streams = 1;     ///< with http2: requests at once on each connection
};

/// The chat server's settings (fixed while it runs).
struct ChatOptions {
    std::size_t capacity = 1000; ///< messages a group's ring keeps
    net::backlog_mode backlog = net::backlog_mode::ring;
};

/// One click of "fire chat load": clients of the chat server in one group.
struct ChatLoad {
    std::size_t posters = 2;
    double postRate = 500; ///< messages a second, each poster
    std::size_t fastReaders = 4;
    std::size_t slowReaders = 1;
    double slowRate = 0; ///< messages a second a slow reader reads; 0: stalled
    double seconds = 3;  ///< how long the posters post
    std::size_t messageBytes = 256;
};

/// The line the panel shows after a chat load: what was posted, what each class of reader
/// got (p50 and p99 of post-to-read latency, messages missed and how often it was told),
/// and the most the server held for delivery (`server`, when it still runs).
[[nodiscard]] QString chatSummary(const QString& what, const net::chat_load_report& report,
                                  const std::optional<net::chat_stats>& server);

/// Collects what the trace hub drains, for the GUI thread to take.
class EventInbox final : public trace::trace_sink {
public:
    void consume(std::span<const trace::event> batch) override;
    /// Moves everything received so far into `out` (which is cleared first).
    void take(std::vector<trace::event>& out);

private:
    std::mutex m_mutex;
    std::vector<trace::event> m_events;
};

class LiveSession : public QObject {
    Q_OBJECT
public:
    LiveSession(TraceDocument* document, QObject* parent = nullptr);
    ~LiveSession() override;

    /// Starts (or restarts) the runtime and the server with `options`; the document
    /// starts over. Returns false (and emits failed) if the server cannot listen.
    bool start(const LiveOptions& options);
    /// Stops the server, the load and the runtime. The document keeps what it has.
    void stop();
    [[nodiscard]] bool running() const noexcept { return m_runtime != nullptr; }
    [[nodiscard]] const LiveOptions& options() const noexcept { return m_options; }
    [[nodiscard]] std::uint16_t port() const noexcept { return m_port; }

    /// Takes effect for the next request, without a restart.
    void setSleepMode(net::sleep_mode mode);
    /// Restarts the server (not the runtime) with another accept loop.
    void setAcceptMode(net::accept_mode mode);

    /// Fires requests at the built-in server with the load generator; loadFinished reports.
    void fire(const FireRequest& request);
    [[nodiscard]] int loadsRunning() const noexcept { return m_loadsRunning; }

    /// Starts the chat server on the observed runtime (stopping one already running);
    /// chatChanged reports. False (and failed) without a runtime or a port.
    bool startChat(const ChatOptions& options);
    /// Stops the chat server; its connections end. The runtime goes on.
    void stopChat();
    [[nodiscard]] bool chatRunning() const noexcept { return m_chat != nullptr; }
    [[nodiscard]] std::uint16_t chatPort() const noexcept;
    [[nodiscard]] const ChatOptions& chatOptions() const noexcept { return m_chatOptions; }
    /// The running chat server's counters (zeros when none runs).
    [[nodiscard]] net::chat_stats chatStats() const;
    /// Runs a chat load against the chat server from the clients' runtime; loadFinished
    /// reports what each class of reader got.
    void fireChat(const ChatLoad& load);

    /// Also writes the trace to `path` from now on (until stopRecording).
    bool startRecording(const std::filesystem::path& path, QString* error);
    /// Finishes the file. Returns its path (empty if nothing was recording).
    std::filesystem::path stopRecording();
    [[nodiscard]] bool recording() const noexcept { return m_recording != nullptr; }

    /// Moves the events drained so far into the document (the GUI timer calls this), as
    /// many as fit a few milliseconds of the GUI thread; the rest at the next call.
    void pump();
    /// Events drained but not yet in the document (the window is that far behind).
    [[nodiscard]] std::size_t backlog() const noexcept;

signals:
    void started(quint16 port);
    void failed(const QString& message);
    /// A fire() finished: answered, errors, p50 and p99 in ms, and what was fired.
    void loadFinished(const QString& summary);
    /// The chat server started (its port) or stopped (0).
    void chatChanged(quint16 port);

private:
    bool startServer();
    void stopServer();
    /// Everything drained so far into the document, however much (at the end of a run).
    void pumpAll();

    QPointer<TraceDocument> m_document; // the session may outlive it at shutdown
    LiveOptions m_options;
    std::unique_ptr<runtime> m_runtime; // the observed executor
    std::unique_ptr<runtime> m_clients; // the load generator's own (not observed)
    std::unique_ptr<net::http_server> m_server;
    std::optional<join_handle<void>> m_serving;
    std::unique_ptr<net::chat_server> m_chat;
    /// Stopped chat servers: released with their runtime (their tasks may still be ending).
    std::vector<std::unique_ptr<net::chat_server>> m_stoppedChats;
    ChatOptions m_chatOptions;
    std::vector<join_handle<void>> m_loads;
    std::shared_ptr<EventInbox> m_inbox;
    std::shared_ptr<trace::file_writer> m_recording;
    std::shared_ptr<trace::client_request_forwarder> m_recordingClients;
    std::filesystem::path m_recordingPath;
    EventPump m_pump;
    std::uint16_t m_port = 0;
    /// The port of the last run: a restart keeps it, so a URL on the board stays right.
    std::uint16_t m_keptPort = 0;
    int m_loadsRunning = 0;
    QTimer m_pumpTimer;
    std::vector<std::thread> m_retiring; // old runtimes shutting down (joined at the end)
};

} // namespace taskscope::ui
