#include "sessions/attach_session.hpp"

#include "document/trace_document.hpp"
#include "taskscope/trace_server.hpp"

#include <QCoreApplication>
#include <QDir>
#include <QMetaObject>
#include <QStandardPaths>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace taskscope::ui {

namespace {
/// Events the window may hold behind before the reader stops taking more (about 100 MB).
constexpr std::size_t maxBacklogEvents = 3'000'000;
} // namespace

/// What the reader thread and the session share; the thread holds it as long as it runs,
/// so a session that is gone (or has moved on to another program) costs it nothing.
struct AttachSession::Shared {
    std::mutex mutex;
    std::vector<trace::event> events;
    std::vector<std::string> names; // every name so far, once they grew
    trace::run_info info;
    std::uint32_t schema = 0;
    /// Detach: ends the connect, the reads, and the thread (which then finishes its file).
    std::shared_ptr<std::atomic<bool>> stop = std::make_shared<std::atomic<bool>>(false);
    /// The last minute of the stream, for File > Save the last minute.
    std::atomic<std::size_t> pumped{0}; ///< taken by the GUI, not yet in the document
    /// Events received and not yet in the document.
    std::size_t behind() {
        std::lock_guard lock(mutex);
        return events.size() + pumped.load();
    }
    std::shared_ptr<stream_ring> last = std::make_shared<stream_ring>(AttachSession::keptSeconds);
};

AttachSession::AttachSession(TraceDocument* document, QObject* parent)
    : QObject(parent)
    , m_document(document) {
    m_pumpTimer.setInterval(16); // a frame
    connect(&m_pumpTimer, &QTimer::timeout, this, &AttachSession::pump);
}

AttachSession::~AttachSession() {
    abandon();
    removeRecordings();
}

void AttachSession::removeRecordings() {
    // They grow about 4 bytes an event (gigabytes an hour from a busy program): none is
    // left behind once nothing shows it. (A thread still writing one keeps writing to the
    // unlinked file until it ends; where a file cannot go while open, it stays.)
    for (const std::filesystem::path& file : std::exchange(m_recordings, {})) { // every one
        std::error_code ignored;
        std::filesystem::remove(file, ignored);
    }
}

void AttachSession::attach(const QString& address) {
    abandon();
    m_last.reset();
    auto shared = std::make_shared<Shared>();
    m_shared = shared;
    m_address = address;
    m_info = {};
    m_namesSeen = 0;
    m_pump.clear();
    const QString folder = QStandardPaths::writableLocation(QStandardPaths::TempLocation);
    QDir().mkpath(folder);
    QString file = address;
    file.replace(QLatin1Char(':'), QLatin1Char('-')).remove(QLatin1Char('[')).remove(']');
    // One file per attach (this process's pid and a count): a detached thread may still be
    // finishing the last one.
    static int attaches = 0;
    m_recording =
        std::filesystem::path(QDir(folder)
                                  .filePath(QStringLiteral("taskscope-attached-%1-%2-%3.tstrace")
                                                .arg(QCoreApplication::applicationPid())
                                                .arg(++attaches)
                                                .arg(file))
                                  .toStdString());
    m_recordings.push_back(m_recording);

    QPointer<AttachSession> self(this);
    const std::string target = address.toStdString();
    std::thread([self, shared, target, path = m_recording] {
        // Posted to the application (which outlives every session) and checked there, on the
        // GUI thread: the session may be gone by then.
        const auto post = [&](auto&& f) {
            QMetaObject::invokeMethod(
                QCoreApplication::instance(),
                [self, f = std::forward<decltype(f)>(f)] {
                    if (AttachSession* session = self.data(); session != nullptr) {
                        f(*session);
                    }
                },
                Qt::QueuedConnection);
        };
        std::unique_ptr<stream_recording> stream;
        try {
            stream = std::make_unique<stream_recording>(target, path, shared->stop);
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            post([key = shared.get(), message](AttachSession& s) {
                if (s.m_shared.get() == key) {
                    s.m_shared.reset();
                    emit s.failed(message);
                }
            });
            return;
        }
        {
            std::lock_guard lock(shared->mutex);
            shared->info = stream->info();
            shared->schema = stream->schema();
        }
        post([shared](AttachSession& s) { s.onAttached(shared); });
        std::vector<trace::event> chunk;
        for (;;) {
            const std::size_t namesBefore = stream->names().size();
            if (!stream->next(chunk)) {
                break;
            }
            shared->last->add(stream->last_chunk_bytes(), namesBefore, chunk, stream->names());
            // The window takes events at a frame's budget: while it is this far behind, stop
            // reading, so the program's server misses chunks and says so (bounded memory).
            while (!shared->stop->load() && shared->behind() > maxBacklogEvents) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            std::lock_guard lock(shared->mutex);
            shared->events.insert(shared->events.end(), chunk.begin(), chunk.end());
            if (stream->names().size() != shared->names.size()) {
                shared->names = stream->names();
            }
        }
        QString how;
        try {
            how = QString::fromStdString(stream->finish());
        } catch (const std::exception& e) {
            how = QString::fromUtf8(e.what());
        }
        post([shared, how](AttachSession& s) { s.onEnded(shared, how); });
    }).detach();
}

void AttachSession::onAttached(const std::shared_ptr<Shared>& shared) {
    if (m_shared != shared || !m_document) {
        return;
    }
    {
        std::lock_guard lock(shared->mutex);
        m_info = shared->info;
        m_last = shared->last;
        m_document->startAttached(m_info, shared->schema, m_address);
    }
    // The document that showed an earlier recording of this session is replaced now.
    const std::filesystem::path current = m_recording;
    m_recordings.erase(std::remove(m_recordings.begin(), m_recordings.end(), current),
                       m_recordings.end());
    removeRecordings();
    m_recordings.push_back(current);
    m_rateClock.start();
    m_rateEvents = 0;
    m_rate = 0;
    m_pumpTimer.start();
    emit attached();
}

void AttachSession::onEnded(const std::shared_ptr<Shared>& shared, const QString& how) {
    if (m_shared != shared) {
        return;
    }
    m_pumpTimer.stop();
    if (m_document) {
        m_pump.pumpAll(*m_document,
                       [&](std::vector<trace::event>& out) { takeArrived(*shared, out); });
    }
    m_shared.reset();
    m_rate = 0;
    emit ended(how);
}

std::optional<std::uint64_t> AttachSession::saveLast(const std::filesystem::path& path) const {
    if (!m_last) {
        return std::nullopt;
    }
    return m_last->write(path, m_info);
}

void AttachSession::detach() {
    if (!m_shared) {
        return;
    }
    // The thread ends its recording cleanly and reports through ended().
    m_shared->stop->store(true);
}

void AttachSession::abandon() {
    detach();
    // The thread finishes on its own; nothing it reports reaches this session now.
    m_shared.reset();
    m_pumpTimer.stop();
    m_pump.clear();
    m_rate = 0;
}

void AttachSession::takeArrived(Shared& shared, std::vector<trace::event>& out) {
    std::lock_guard lock(shared.mutex);
    // Names first: the events about to go in may name them.
    if (shared.names.size() != m_namesSeen) {
        m_document->setNames(shared.names);
        m_namesSeen = shared.names.size();
    }
    out.swap(shared.events);
    shared.events.clear();
    shared.pumped.store(out.size());
}

void AttachSession::pump() {
    const std::shared_ptr<Shared> shared = m_shared;
    if (!shared || !m_document) {
        return;
    }
    m_rateEvents += m_pump.pump(*m_document,
                                [&](std::vector<trace::event>& out) { takeArrived(*shared, out); });
    shared->pumped.store(m_pump.backlog());
    if (m_rateClock.elapsed() >= 1000) {
        m_rate =
            static_cast<double>(m_rateEvents) * 1000.0 / static_cast<double>(m_rateClock.restart());
        m_rateEvents = 0;
    }
}

} // namespace taskscope::ui
