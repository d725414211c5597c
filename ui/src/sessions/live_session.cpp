#include "sessions/live_session.hpp"

#include "document/trace_document.hpp"

#include <QElapsedTimer>
#include <QLocale>
#include <QMetaObject>
#include <QPointer>
#include <algorithm>
#include <cstdio>
#include <thread>

namespace taskscope::ui {

namespace {

/// A latency in the format every view uses ("18.0 µs", "652.1 ms").
QString duration(std::uint64_t ns) {
    return QString::fromStdString(analysis::format_duration(ns, 1));
}

/// Runs one load and tells the session (on its own thread) how it went.
task<void> fire_load(net::load_options options, QString what, std::function<void(QString)> done) {
    const net::load_report report = co_await net::run_load(options);
    QString summary = QStringLiteral("%1: %2 answered").arg(what).arg(report.count);
    if (report.errors != 0) {
        summary += QStringLiteral(", %1 errors (%2)")
                       .arg(report.errors)
                       .arg(QString::fromStdString(report.first_error));
    }
    if (report.count != 0) {
        summary +=
            QStringLiteral(", latency p50 %1, p99 %2")
                .arg(duration(report.percentile_ns(0.5)), duration(report.percentile_ns(0.99)));
    }
    done(summary);
}

/// A count with thousands separated ("12,345").
QString count(std::uint64_t n) {
    return QLocale(QLocale::English).toString(static_cast<qulonglong>(n));
}

/// Runs one chat load and tells the session (on its own thread) what it got.
task<void> fire_chat_load(net::chat_load_options options, QString what,
                          std::function<void(net::chat_load_report, QString)> done) {
    net::chat_load_report report = co_await net::run_chat_load(options);
    done(std::move(report), what);
}

} // namespace

QString chatSummary(const QString& what, const net::chat_load_report& report,
                    const std::optional<net::chat_stats>& server) {
    QString summary = QStringLiteral("%1: %2 posted").arg(what, count(report.posted));
    const auto readers = [&](const QString& name, const net::chat_reader_report& r) {
        if (r.readers == 0) {
            return;
        }
        summary += QStringLiteral("; %1 got %2").arg(name, count(r.received));
        if (r.received != 0) {
            summary += QStringLiteral(", p50 %1, p99 %2")
                           .arg(duration(r.percentile_ns(0.5)), duration(r.percentile_ns(0.99)));
        }
        if (r.lag_notices != 0) {
            summary += QStringLiteral(", missed %1 (told %2 times)")
                           .arg(count(r.missed), count(r.lag_notices));
        }
    };
    readers(QStringLiteral("fast readers"), report.fast);
    readers(QStringLiteral("slow readers"), report.slow);
    if (server) {
        summary += QStringLiteral("; the server held at most %1 KiB for delivery")
                       .arg(static_cast<double>(server->peak_queued_bytes) / 1024.0, 0, 'f', 1);
    }
    if (report.connect_errors != 0 || !report.first_error.empty()) {
        summary += QStringLiteral("; %1 clients could not join (%2)")
                       .arg(report.connect_errors)
                       .arg(QString::fromStdString(report.first_error));
    }
    return summary;
}

void EventInbox::consume(std::span<const trace::event> batch) {
    std::lock_guard lock(m_mutex);
    m_events.insert(m_events.end(), batch.begin(), batch.end());
}

void EventInbox::take(std::vector<trace::event>& out) {
    out.clear();
    std::lock_guard lock(m_mutex);
    out.swap(m_events);
}

LiveSession::LiveSession(TraceDocument* document, QObject* parent)
    : QObject(parent)
    , m_document(document) {
    m_pumpTimer.setInterval(16); // a frame
    connect(&m_pumpTimer, &QTimer::timeout, this, &LiveSession::pump);
}

LiveSession::~LiveSession() {
    stop();
    for (std::thread& t : m_retiring) {
        t.join();
    }
}

bool LiveSession::start(const LiveOptions& options) {
    stop();
    m_options = options;
    const runtime_options config{
        .workers = options.workers, .stealing = options.stealing, .lifo_slot = options.lifoSlot};
    m_runtime = std::make_unique<runtime>(config);
    m_inbox = std::make_shared<EventInbox>();
    m_runtime->trace().add_sink(m_inbox);
    // The load generator runs outside the observed executor, as a real client would, so a
    // blocked worker delays its requests instead of stopping the client too.
    m_clients = std::make_unique<runtime>(runtime_options{.workers = 1});
    m_clients->trace().add_sink(std::make_shared<trace::client_request_forwarder>(
        m_inbox, m_clients->trace(), m_runtime->trace()));

    trace::run_info info = trace::run_info_for(*m_runtime, config, "taskscope (live)");
    info.sleep_mode = std::string(net::to_string(options.sleep));
    info.accept_mode = std::string(net::to_string(options.accept));
    m_document->startLive(info);

    if (!startServer()) {
        return false;
    }
    m_pumpTimer.start();
    emit started(m_port);
    return true;
}

bool LiveSession::startServer() {
    net::http_server_options server_options;
    server_options.port = m_port != 0 ? m_port : m_options.port;
    const bool keeping = server_options.port == 0 && m_keptPort != 0;
    if (keeping) {
        server_options.port = m_keptPort;
    }
    server_options.sleep = m_options.sleep;
    server_options.accept = m_options.accept;
    server_options.log = [](std::string_view line) {
        std::fprintf(stderr, "taskscope: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    try {
        // The server just stopped may hold the kept port a moment longer: try a few times.
        for (int attempt = 0;; ++attempt) {
            try {
                m_server = net::http_server::bind(*m_runtime, server_options);
                break;
            } catch (const std::system_error&) {
                if (!keeping || attempt == 10) {
                    throw;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(30));
            }
        }
    } catch (const std::system_error& e) {
        if (server_options.port == 0) {
            emit failed(QStringLiteral("The HTTP server could not start: %1").arg(e.what()));
            return false;
        }
        // The port is taken (perhaps by the server just stopped): take any free one.
        server_options.port = 0;
        try {
            m_server = net::http_server::bind(*m_runtime, server_options);
        } catch (const std::system_error& again) {
            emit failed(QStringLiteral("The HTTP server could not start: %1").arg(again.what()));
            return false;
        }
    }
    m_port = m_server->port();
    m_serving = m_runtime->spawn(m_server->run(), "http_server.run");
    return true;
}

void LiveSession::stopServer() {
    if (m_server) {
        m_server->stop(std::chrono::milliseconds(100));
    }
    if (m_serving) {
        m_serving->detach();
        m_serving.reset();
    }
}

void LiveSession::stop() {
    if (!m_runtime) {
        return;
    }
    m_pumpTimer.stop();
    stopRecording();
    stopServer();
    for (auto& load : m_loads) {
        load.detach();
    }
    m_loads.clear();
    m_loadsRunning = 0;
    pumpAll();
    // A worker may be inside a blocking sleep for seconds; shutting down waits for it,
    // so the old runtime retires on a thread of its own and the window stays responsive.
    const bool chatWasRunning = m_chat != nullptr;
    if (m_chat) {
        m_chat->stop(std::chrono::milliseconds(100));
        m_stoppedChats.push_back(std::move(m_chat));
    }
    struct retired {
        std::unique_ptr<runtime> observed;
        std::unique_ptr<runtime> clients;
        std::unique_ptr<net::http_server> server;
        std::vector<std::unique_ptr<net::chat_server>> chats;
    };
    auto old = std::make_shared<retired>(retired{std::move(m_runtime), std::move(m_clients),
                                                 std::move(m_server), std::move(m_stoppedChats)});
    m_stoppedChats.clear();
    m_retiring.emplace_back([old] {
        old->clients->shutdown();
        old->server.reset();
        old->chats.clear(); // each waits for its tasks to end, on the runtime still running
        old->observed->shutdown();
    });
    if (chatWasRunning) {
        emit chatChanged(0);
    }
    m_inbox.reset();
    m_pump.clear();
    if (m_port != 0) {
        m_keptPort = m_port;
    }
    m_port = 0;
}

void LiveSession::setSleepMode(net::sleep_mode mode) {
    m_options.sleep = mode;
    if (m_server) {
        m_server->set_sleep_mode(mode);
    }
}

void LiveSession::setAcceptMode(net::accept_mode mode) {
    m_options.accept = mode;
    if (!m_runtime) {
        return;
    }
    const std::uint16_t port = m_port;
    stopServer();
    // The old server's accept loop closes its listener on a worker; retire it there.
    auto old = std::shared_ptr<net::http_server>(std::move(m_server));
    m_runtime
        ->spawn(
            [](std::shared_ptr<net::http_server> server) -> task<void> {
                server.reset();
                co_return;
            }(old),
            "retire_server")
        .detach();
    m_port = port;
    if (startServer()) {
        emit started(m_port);
    }
}

void LiveSession::fire(const FireRequest& request) {
    if (!m_runtime || !m_server) {
        emit failed(tr("The live engine is not running: Run > Restart the live engine (Ctrl+L) "
                       "starts it."));
        return;
    }
    net::load_options load;
    load.port = m_port;
    load.target = request.target.toStdString();
    load.requests = std::max<std::size_t>(1, request.count);
    load.concurrency = std::max<std::size_t>(1, request.concurrency);
    load.timeout = std::chrono::milliseconds(120'000);
    load.http2 = request.http2;
    load.streams = std::max<std::size_t>(1, request.streams);
    const QString what =
        request.http2 ? QStringLiteral("%1 x %2 (HTTP/2: %3 connection(s), %4 stream(s) each)")
                            .arg(request.count)
                            .arg(request.target)
                            .arg(request.concurrency)
                            .arg(request.streams)
                      : QStringLiteral("%1 x %2 (%3 at once)")
                            .arg(request.count)
                            .arg(request.target)
                            .arg(request.concurrency);
    ++m_loadsRunning;
    QPointer<LiveSession> self(this);
    auto done = [self](QString summary) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, summary] {
                if (LiveSession* session = self.data()) {
                    session->m_loadsRunning = std::max(0, session->m_loadsRunning - 1);
                    emit session->loadFinished(summary);
                }
            },
            Qt::QueuedConnection);
    };
    m_loads.push_back(m_clients->spawn(fire_load(load, what, done), "fire_requests"));
    // Finished loads need no handle: keep the list short.
    std::erase_if(m_loads, [](const join_handle<void>& h) { return h.is_finished(); });
}

bool LiveSession::startChat(const ChatOptions& options) {
    if (!m_runtime) {
        emit failed(tr("The live engine is not running: Run > Restart the live engine (Ctrl+L) "
                       "starts it."));
        return false;
    }
    stopChat();
    m_chatOptions = options;
    net::chat_server_options server;
    server.capacity = std::max<std::size_t>(1, options.capacity);
    server.backlog = options.backlog;
    server.log = [](std::string_view line) {
        std::fprintf(stderr, "taskscope: chat: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    try {
        m_chat = net::chat_server::start(*m_runtime, server);
    } catch (const std::exception& e) {
        emit failed(tr("The chat server could not start: %1").arg(QString::fromUtf8(e.what())));
        return false;
    }
    emit chatChanged(m_chat->port());
    return true;
}

void LiveSession::stopChat() {
    if (!m_chat) {
        return;
    }
    m_chat->stop(std::chrono::milliseconds(200));
    m_stoppedChats.push_back(std::move(m_chat));
    emit chatChanged(0);
}

std::uint16_t LiveSession::chatPort() const noexcept {
    return m_chat ? m_chat->port() : 0;
}

net::chat_stats LiveSession::chatStats() const {
    return m_chat ? m_chat->stats() : net::chat_stats{};
}

void LiveSession::fireChat(const ChatLoad& load) {
    if (!m_runtime || !m_chat) {
        emit failed(tr("The chat server is not running: start it first."));
        return;
    }
    net::chat_load_options options;
    options.port = m_chat->port();
    options.group = "lobby";
    options.posters = load.posters;
    options.post_rate = load.postRate;
    options.fast_readers = load.fastReaders;
    options.slow_readers = load.slowReaders;
    options.slow_rate = load.slowRate;
    options.message_bytes = std::max<std::size_t>(16, load.messageBytes);
    options.duration = std::chrono::milliseconds(static_cast<std::int64_t>(load.seconds * 1000));
    const QString what =
        QStringLiteral("chat: %1 posters at %2/s, %3 fast and %4 %5 readers, %6 s")
            .arg(load.posters)
            .arg(load.postRate)
            .arg(load.fastReaders)
            .arg(load.slowReaders)
            .arg(load.slowRate > 0 ? QStringLiteral("slow (%1/s)").arg(load.slowRate)
                                   : QStringLiteral("stalled"))
            .arg(load.seconds);
    ++m_loadsRunning;
    QPointer<LiveSession> self(this);
    auto done = [self](net::chat_load_report report, QString fired) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, report = std::move(report), fired] {
                if (LiveSession* session = self.data()) {
                    session->m_loadsRunning = std::max(0, session->m_loadsRunning - 1);
                    std::optional<net::chat_stats> server;
                    if (session->m_chat) {
                        server = session->m_chat->stats();
                    }
                    emit session->loadFinished(chatSummary(fired, report, server));
                }
            },
            Qt::QueuedConnection);
    };
    m_loads.push_back(m_clients->spawn(fire_chat_load(options, what, done), "fire_chat"));
    std::erase_if(m_loads, [](const join_handle<void>& h) { return h.is_finished(); });
}

bool LiveSession::startRecording(const std::filesystem::path& path, QString* error) {
    if (!m_runtime) {
        if (error != nullptr) {
            *error = QStringLiteral("Nothing is running to record.");
        }
        return false;
    }
    stopRecording();
    const TraceDocument* document = m_document.data();
    if (document == nullptr) {
        return false;
    }
    try {
        trace::run_info info = document->info();
        info.sleep_mode = std::string(net::to_string(m_options.sleep));
        info.accept_mode = std::string(net::to_string(m_options.accept));
        m_recording = std::make_shared<trace::file_writer>(path, info);
    } catch (const trace::file_error& e) {
        if (error != nullptr) {
            *error = QString::fromUtf8(e.what());
        }
        return false;
    }
    m_recordingPath = path;
    m_runtime->trace().add_sink(m_recording);
    m_recordingClients = std::make_shared<trace::client_request_forwarder>(
        m_recording, m_clients->trace(), m_runtime->trace());
    m_clients->trace().add_sink(m_recordingClients);
    return true;
}

std::filesystem::path LiveSession::stopRecording() {
    if (!m_recording) {
        return {};
    }
    if (m_runtime) {
        m_clients->trace().flush();
        m_clients->trace().remove_sink(m_recordingClients);
        m_runtime->trace().flush();
        m_runtime->trace().remove_sink(m_recording);
    }
    m_recordingClients.reset();
    try {
        m_recording->close();
    } catch (const trace::file_error& e) {
        emit failed(QString::fromUtf8(e.what()));
    }
    m_recording.reset();
    return std::exchange(m_recordingPath, {});
}

void LiveSession::pump() {
    if (m_inbox && m_document) {
        m_pump.pump(*m_document, [this](std::vector<trace::event>& out) { m_inbox->take(out); });
    }
}

void LiveSession::pumpAll() {
    if (m_inbox && m_document) {
        m_pump.pumpAll(*m_document, [this](std::vector<trace::event>& out) { m_inbox->take(out); });
    }
}

std::size_t LiveSession::backlog() const noexcept {
    return m_pump.backlog();
}

} // namespace taskscope::ui
