#pragma once
// Opening a `.tstrace` in the background, as hotspot's PerfParser does: start(), cancel(),
// and signals for progress and the outcome. The file is read into the analysis model on a
// thread of the loader's own (analysis::load_model, the same loop taskscope-cli uses), and
// what the views derive from it is prepared there too (TraceDocument::prepare), so the GUI
// thread only swaps the result in.

#include "document/trace_document.hpp"

#include <QObject>
#include <QString>
#include <atomic>
#include <memory>
#include <thread>

namespace taskscope::ui {

class TraceLoader : public QObject {
    Q_OBJECT
public:
    explicit TraceLoader(QObject* parent = nullptr);
    /// Cancels a load still running and waits for its thread.
    ~TraceLoader() override;

    /// Starts loading `path`. A load still running is cancelled first and reports nothing.
    void start(const QString& path);
    /// Asks the running load to stop: it reports cancelled() (also when it had finished
    /// reading but had not reported yet).
    void cancel();
    [[nodiscard]] bool running() const noexcept { return m_job != nullptr; }
    /// The file of the running or last load.
    [[nodiscard]] const QString& path() const noexcept { return m_path; }

    /// After loaded(): the prepared trace, for TraceDocument::adopt.
    [[nodiscard]] PreparedTrace takeResult();

signals:
    /// Percent of the file read, 0 to 99 (100 comes as loaded()).
    void progress(int percent);
    void loaded();
    void failed(const QString& message);
    void cancelled();

private:
    struct Job;
    void stopRunning();
    void finish(const std::shared_ptr<Job>& job);

    std::shared_ptr<Job> m_job; ///< the running load, if any
    std::thread m_thread;
    QString m_path;
    std::unique_ptr<PreparedTrace> m_result;
};

} // namespace taskscope::ui
