#include "sessions/lesson_session.hpp"

#include "document/trace_document.hpp"
#include "taskscope/lessons/lessons.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <QDir>
#include <QMetaObject>
#include <QPointer>
#include <exception>

namespace taskscope::ui {

LessonSession::LessonSession(TraceDocument* document, QObject* parent)
    : QObject(parent)
    , m_document(document) {
    m_pumpTimer.setInterval(16);
    connect(&m_pumpTimer, &QTimer::timeout, this, &LessonSession::pump);
}

LessonSession::~LessonSession() {
    join();
    for (auto& [generation, t] : m_retired) {
        t.request_stop();
    }
    m_retired.clear(); // joins
}

void LessonSession::join() {
    if (m_thread.joinable()) {
        m_thread.request_stop();
        m_thread.join();
    }
}

void LessonSession::abandon() {
    if (!m_running) {
        return;
    }
    m_pumpTimer.stop();
    m_inbox.reset(); // the lesson's thread keeps its own reference: events go nowhere
    if (m_thread.joinable()) {
        m_thread.request_stop();
        m_retired.emplace(m_generation, std::move(m_thread));
    }
    ++m_generation; // what the abandoned run still posts is ignored
    m_running = false;
    m_abandoned = true;
    emit finished(true, QString());
    m_abandoned = false;
}

bool LessonSession::start(const QString& name, double scale, QString* error) {
    const lessons::lesson_info* info = lessons::find(name.toStdString());
    if (info == nullptr) {
        if (error != nullptr) {
            *error = tr("There is no lesson called %1.").arg(name);
        }
        return false;
    }
    if (m_running) {
        if (error != nullptr) {
            *error = tr("A lesson is running: stop it first.");
        }
        return false;
    }
    join();
    const std::uint64_t generation = ++m_generation;
    m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/taskscope-XXXXXX"));
    if (!m_dir->isValid()) {
        if (error != nullptr) {
            *error = tr("Could not make a temporary folder for the lesson's recording: %1")
                         .arg(m_dir->errorString());
        }
        return false;
    }
    m_recording =
        std::filesystem::path(m_dir->filePath(name + QStringLiteral(".tstrace")).toStdString());
    m_name = name;
    m_inbox = std::make_shared<EventInbox>();

    trace::run_info about;
    about.lesson = info->name;
    about.command = "taskscope lesson " + std::string(info->name);
    m_document->startLive(about);
    m_running = true;
    m_pumpTimer.start();

    QPointer<LessonSession> self(this);
    // Signals from the lesson's thread arrive queued, on the GUI thread; those of a run
    // that was abandoned since are dropped (its last one lets its thread be joined).
    const auto post = [self, generation](auto fn) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, fn, generation] {
                LessonSession* session = self.data();
                if (session != nullptr && session->m_generation == generation) {
                    fn(*session);
                }
            },
            Qt::QueuedConnection);
    };
    const auto postDone = [self, generation](bool stopped, QString failure) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, generation, stopped, failure] {
                if (LessonSession* session = self.data()) {
                    session->onThreadDone(generation, stopped, failure);
                }
            },
            Qt::QueuedConnection);
    };
    m_thread = std::jthread([post, postDone, scale, lessonName = std::string(info->name),
                             inbox = m_inbox, path = m_recording](std::stop_token stop) {
        std::shared_ptr<trace::file_writer> file;
        lessons::run_options options;
        options.scale = scale;
        options.stop = stop;
        options.attach = [&](runtime& rt) -> std::shared_ptr<trace::trace_sink> {
            trace::run_info recorded = trace::run_info_for(rt, rt.options(), "taskscope lesson");
            recorded.lesson = lessonName;
            file = std::make_shared<trace::file_writer>(path, recorded);
            rt.trace().add_sink(inbox);
            rt.trace().add_sink(file);
            // Client request events go to both: the window and the recording.
            struct both final : trace::trace_sink {
                std::shared_ptr<trace::trace_sink> a, b;
                void consume(std::span<const trace::event> batch) override {
                    a->consume(batch);
                    b->consume(batch);
                }
            };
            auto tee = std::make_shared<both>();
            tee->a = inbox;
            tee->b = file;
            return tee;
        };
        options.on_phase_begin = [&](std::string_view phase) {
            post([name = QString::fromUtf8(phase.data(), static_cast<qsizetype>(phase.size()))](
                     LessonSession& s) { emit s.phaseStarted(name); });
        };
        options.on_phase = [&](const lessons::phase_report& phase) {
            post([line = QString::fromStdString(phase.line())](LessonSession& s) {
                emit s.phaseFinished(line);
            });
        };
        bool stopped = false;
        QString failure;
        try {
            stopped = lessons::run(lessonName, options).stopped;
        } catch (const std::exception& e) {
            failure = QString::fromUtf8(e.what());
        }
        try {
            if (file) {
                file->close();
            }
        } catch (const std::exception& e) {
            if (failure.isEmpty()) {
                failure = QString::fromUtf8(e.what());
            }
        }
        postDone(stopped, failure);
    });
    return true;
}

void LessonSession::stop() {
    if (m_thread.joinable()) {
        m_thread.request_stop();
    }
}

void LessonSession::pump() {
    if (!m_inbox || !m_document) {
        return;
    }
    m_inbox->take(m_batch);
    m_document->append(m_batch);
}

void LessonSession::onThreadDone(std::uint64_t generation, bool stopped, const QString& error) {
    if (generation != m_generation) {
        m_retired.erase(generation); // it posted its last message: the join is immediate
        return;
    }
    if (m_thread.joinable()) {
        m_thread.join();
    }
    pump(); // the runtime was flushed before the thread ended: this is the rest
    m_pumpTimer.stop();
    m_running = false;
    emit finished(stopped, error);
}

} // namespace taskscope::ui
