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
#include <deque>
#include <memory>
#include <span>
#include <vector>

namespace taskscope::ui {

/// How much of a live trace the window keeps: the last `keepNs` of trace time and at most
/// `keepEvents` events, whichever is less; 0 is no limit. Older events go in whole batches
/// (as they arrived), so memory stays flat however long the run; a recording to a file
/// still holds everything.
struct Retention {
    static constexpr std::uint64_t defaultKeepNs = 10ull * 60 * 1'000'000'000;
    static constexpr std::uint64_t defaultKeepEvents = 20'000'000;
    std::uint64_t keepNs = defaultKeepNs;
    std::uint64_t keepEvents = defaultKeepEvents;
    friend bool operator==(const Retention&, const Retention&) = default;
};

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
    /// Adds recorded events (live); emits changed(), and forgotten() first when the
    /// retention let older events go.
    void append(std::span<const trace::event> events);

    /// What a live document keeps (applies to the next append).
    void setRetention(const Retention& retention) { m_retention = retention; }
    [[nodiscard]] const Retention& retention() const noexcept { return m_retention; }
    /// Where the kept window starts: firstNs() until the retention let anything go.
    [[nodiscard]] std::uint64_t keptFromNs() const noexcept {
        return std::max(m_model->first_ns(), m_model->kept_from_ns());
    }
    /// Events in the kept window, and those let go before it (live).
    [[nodiscard]] std::uint64_t keptEvents() const noexcept { return m_keptEvents; }
    [[nodiscard]] std::uint64_t forgottenEvents() const noexcept { return m_forgottenEvents; }
    /// Records refer to each other by 32-bit indices that forgetting does not lower: a live
    /// document whose model would hand out more than this many (after about seven hours at
    /// a million events a second) starts a fresh model, emitting reset(). Tests lower it.
    static constexpr std::uint64_t defaultIndexLimit =
        (std::uint64_t{1} << 32) - (std::uint64_t{1} << 26);
    void setIndexLimit(std::uint64_t limit) noexcept { m_indexLimit = limit; }
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
    /// The retention let the oldest events go (keptFromNs() moved): views drop what they
    /// hold of them (rows, picks, a selection); changed() follows.
    void forgotten();

private:
    void updateSummaries();
    /// Lets the oldest batches go while the kept window is over the retention (with 2 % of
    /// slack, so it happens in steps, not at every append).
    bool applyRetention();
    void clearBatches();
    /// A fresh model for the same live run (its names kept); what was kept counts as let go.
    void startOverLive();

    std::unique_ptr<analysis::model> m_model;
    std::vector<LaneSummary> m_summaries;
    RequestDecimator m_requests;
    analysis::queue_tracker m_queues; // live only
    trace::run_info m_info;
    QString m_source;
    QString m_warning;
    bool m_live = false;
    Retention m_retention;
    /// The batches appended while live, oldest first: what the retention lets go.
    struct Batch {
        std::uint64_t lastNs = 0; ///< its latest event's time
        std::uint64_t events = 0;
    };
    std::deque<Batch> m_batches;
    std::uint64_t m_keptEvents = 0;
    std::uint64_t m_forgottenEvents = 0;
    std::uint64_t m_indexLimit = defaultIndexLimit;
    bool m_processNames = false; ///< live: names come from this process (else setNames)
};

} // namespace taskscope::ui
