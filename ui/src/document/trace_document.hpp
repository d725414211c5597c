#pragma once
// What every view of the window reads: one trace's analysis model plus what the views derive
// from it once (the per-lane level-of-detail summaries, the latency scatter's pyramid of
// request picks), whether the trace is being recorded live or was opened from a file. It
// lives on the GUI thread; live events are handed to it in batches (append) by the window's
// timer, so views never read engine state and never take a lock. An opened file arrives as
// a PreparedTrace, its derived parts built on the loader's thread.

#include "maths/lane_summary.hpp"
#include "maths/request_decimator.hpp"
#include "taskscope/analysis/model.hpp"
#include "taskscope/analysis/queue_tracker.hpp"
#include "taskscope/trace/trace_file.hpp"

#include <QObject>
#include <QString>
#include <memory>
#include <span>
#include <vector>

namespace taskscope::ui {

/// A finished model and what the views derive from it, built off the GUI thread (by
/// TraceDocument::prepare) so that adopting it costs the GUI thread only a swap.
struct PreparedTrace {
    std::unique_ptr<analysis::model> model;
    std::vector<LaneSummary> summaries;
    RequestDecimator requests;
    trace::run_info info;
    QString source;
    QString warning;
};

class TraceDocument : public QObject {
    Q_OBJECT
public:
    explicit TraceDocument(QObject* parent = nullptr);

    /// Starts an empty live document: names come from the running process.
    void startLive(const trace::run_info& info);
    /// Starts over for a program watched live: its names come with its stream (setNames),
    /// its queues are named by `schema`; `source` is the address it is watched at.
    void startAttached(const trace::run_info& info, std::uint32_t schema, const QString& source);
    /// Every name the attached program's stream defined so far, by id.
    void setNames(const std::vector<std::string>& names);
    /// Adds recorded events (live); emits changed().
    void append(std::span<const trace::event> events);
    /// Builds what the views derive from `prepared.model` (any thread; the model is
    /// finished and no longer changes).
    static void prepare(PreparedTrace& prepared);
    /// Replaces the document with a prepared file; emits reset().
    void adopt(PreparedTrace prepared);
    /// Prepares `model` here and adopts it (small traces, tests).
    void adopt(std::unique_ptr<analysis::model> model, const trace::run_info& info,
               const QString& source, const QString& warning);

    [[nodiscard]] const analysis::model& model() const noexcept { return *m_model; }
    [[nodiscard]] const trace::run_info& info() const noexcept { return m_info; }
    [[nodiscard]] bool isLive() const noexcept { return m_live; }
    /// Where the trace came from: a file name, or "live".
    [[nodiscard]] const QString& source() const noexcept { return m_source; }
    /// What could not be read from a damaged file (empty when nothing was lost).
    [[nodiscard]] const QString& warning() const noexcept { return m_warning; }

    /// The level-of-detail summary of lane `lane` (same index as model().lanes()).
    [[nodiscard]] const LaneSummary& summary(std::size_t lane) const;
    /// The trace's time extent (first and last event).
    [[nodiscard]] std::uint64_t firstNs() const noexcept { return m_model->first_ns(); }
    [[nodiscard]] std::uint64_t lastNs() const noexcept { return m_model->last_ns(); }

    /// The latency scatter's picks: built with an opened file, grown as a live chart asks.
    [[nodiscard]] RequestDecimator& requestPicks() noexcept { return m_requests; }

    /// While live: what waits in each run queue now, and what each worker polls.
    [[nodiscard]] const analysis::queue_tracker& liveQueues() const noexcept { return m_queues; }

    /// Bytes held by the model and the summaries, for the memory budget.
    [[nodiscard]] std::size_t memoryBytes() const;

signals:
    /// New events arrived (live): views redraw what they show.
    void changed();
    /// The whole document was replaced: views start over (zoom to fit, clear selection).
    void reset();

private:
    void updateSummaries();

    std::unique_ptr<analysis::model> m_model;
    std::vector<LaneSummary> m_summaries;
    RequestDecimator m_requests;
    analysis::queue_tracker m_queues; // live only
    trace::run_info m_info;
    QString m_source;
    QString m_warning;
    bool m_live = false;
};

} // namespace taskscope::ui
