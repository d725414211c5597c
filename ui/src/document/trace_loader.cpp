#include "document/trace_loader.hpp"

#include "taskscope/analysis/load.hpp"

#include <QMetaObject>
#include <QPointer>

namespace taskscope::ui {

/// One load: what the thread fills in and the GUI thread reads once it reports.
struct TraceLoader::Job {
    std::atomic<bool> cancel{false};
    std::atomic<int> percent{-1};
    PreparedTrace result;
    QString error;
    bool cancelled = false;
};

TraceLoader::TraceLoader(QObject* parent) : QObject(parent) {}

TraceLoader::~TraceLoader() {
    stopRunning();
}

void TraceLoader::stopRunning() {
    if (m_job) {
        m_job->cancel.store(true);
    }
    if (m_thread.joinable()) {
        m_thread.join();
    }
    m_job.reset();
}

void TraceLoader::start(const QString& path) {
    stopRunning();
    m_result.reset();
    m_path = path;
    auto job = std::make_shared<Job>();
    m_job = job;
    QPointer<TraceLoader> self(this);
    const std::filesystem::path file = path.toStdString();
    m_thread = std::thread([self, job, file, path] {
        try {
            analysis::loaded_trace loaded =
                analysis::load_model(file, [&](std::uint64_t read, std::uint64_t total) {
                    if (total != 0) {
                        // 100 only once loaded() says so.
                        const int percent =
                            static_cast<int>(std::min<std::uint64_t>(99, 100 * read / total));
                        if (job->percent.exchange(percent) != percent) {
                            QMetaObject::invokeMethod(
                                self.data(),
                                [self, job, percent] {
                                    if (self && self->m_job == job && !job->cancel.load()) {
                                        emit self->progress(percent);
                                    }
                                },
                                Qt::QueuedConnection);
                        }
                    }
                    return !job->cancel.load();
                });
            job->cancelled = loaded.cancelled;
            if (!loaded.cancelled) {
                job->result.model = std::move(loaded.trace);
                job->result.info = std::move(loaded.info);
                job->result.source = path;
                job->result.warning = QString::fromStdString(loaded.report.warning);
                TraceDocument::prepare(job->result);
            }
        } catch (const trace::file_error& e) {
            job->error = QString::fromUtf8(e.what());
        } catch (const std::exception& e) {
            job->error =
                QObject::tr("Could not open %1: %2").arg(path, QString::fromUtf8(e.what()));
        }
        QMetaObject::invokeMethod(
            self.data(),
            [self, job] {
                if (self) {
                    self->finish(job);
                }
            },
            Qt::QueuedConnection);
    });
}

void TraceLoader::finish(const std::shared_ptr<Job>& job) {
    if (m_job != job) {
        return; // a newer start() replaced this load
    }
    if (m_thread.joinable()) {
        m_thread.join(); // it has posted this and is ending
    }
    m_job.reset();
    // A cancel that came after the reading finished, until now, still counts.
    if (job->error.isEmpty() && (job->cancelled || job->cancel.load())) {
        emit cancelled();
        return;
    }
    if (!job->error.isEmpty()) {
        emit failed(job->error);
        return;
    }
    m_result = std::make_unique<PreparedTrace>(std::move(job->result));
    emit loaded();
}

void TraceLoader::cancel() {
    if (m_job) {
        m_job->cancel.store(true);
    }
}

PreparedTrace TraceLoader::takeResult() {
    PreparedTrace out;
    if (m_result) {
        out = std::move(*m_result);
        m_result.reset();
    }
    return out;
}

} // namespace taskscope::ui
