#include "document/trace_document.hpp"

#include <algorithm>
#include <thread>

namespace taskscope::ui {

TraceDocument::TraceDocument(QObject* parent)
    : QObject(parent)
    , m_model(std::make_unique<analysis::model>()) {}

void TraceDocument::startLive(const trace::run_info& info) {
    m_model = std::make_unique<analysis::model>();
    m_model->use_process_names();
    m_processNames = true;
    m_summaries.clear();
    m_requests.reset();
    m_queues.clear();
    m_queues.set_schema(trace::schema_version); // this build's runtime names every queue
    m_info = info;
    m_source = QStringLiteral("live");
    m_warning.clear();
    m_live = true;
    clearBatches();
    emit reset();
}

void TraceDocument::startAttached(const trace::run_info& info, std::uint32_t schema,
                                  const QString& source) {
    m_model = std::make_unique<analysis::model>();
    m_processNames = false;
    m_summaries.clear();
    m_requests.reset();
    m_queues.clear();
    m_queues.set_schema(schema);
    m_info = info;
    m_source = source;
    m_warning.clear();
    m_live = true;
    clearBatches();
    emit reset();
}

void TraceDocument::setNames(const std::vector<std::string>& names) {
    m_model->set_names(names);
}

void TraceDocument::append(std::span<const trace::event> events) {
    if (events.empty()) {
        return;
    }
    if (m_live && m_model->largest_index() + events.size() > m_indexLimit) {
        startOverLive();
    }
    m_model->consume(events);
    m_queues.consume(events);
    std::uint64_t lastNs = 0;
    for (const trace::event& e : events) {
        lastNs = std::max(lastNs, e.time_ns);
    }
    m_batches.push_back({lastNs, events.size()});
    m_keptEvents += events.size();
    updateSummaries();
    if (applyRetention()) {
        emit forgotten();
    }
    emit changed();
}

void TraceDocument::startOverLive() {
    auto fresh = std::make_unique<analysis::model>();
    if (m_processNames) {
        fresh->use_process_names();
    } else {
        fresh->set_names(m_model->names());
    }
    m_model = std::move(fresh);
    m_summaries.clear();
    m_requests.reset();
    m_forgottenEvents += m_keptEvents;
    m_keptEvents = 0;
    m_batches.clear();
    emit reset();
}

void TraceDocument::clearBatches() {
    m_batches.clear();
    m_keptEvents = 0;
    m_forgottenEvents = 0;
}

bool TraceDocument::applyRetention() {
    const Retention& r = m_retention;
    const std::uint64_t last = m_model->last_ns();
    // Over the retention by more than `slack` fiftieths of it: forgetting costs a pass over
    // what goes (about 20 ms for a million events), so it happens in steps of 2 %.
    const auto over = [&](std::uint64_t from, std::uint64_t slack) {
        const bool tooMany = r.keepEvents != 0 && m_keptEvents * 50 > r.keepEvents * (50 + slack);
        const bool tooLong =
            r.keepNs != 0 && last > from && (last - from) * 50 > r.keepNs * (50 + slack);
        return tooMany || tooLong;
    };
    std::uint64_t from = keptFromNs();
    if (!over(from, 1)) {
        return false;
    }
    // Whole batches go, oldest first, until what is left fits; the cut is the latest time
    // among them.
    std::uint64_t cut = m_model->kept_from_ns();
    while (m_batches.size() > 1 && over(from, 0)) {
        cut = std::max(cut, m_batches.front().lastNs);
        from = std::max(from, cut);
        m_keptEvents -= m_batches.front().events;
        m_forgottenEvents += m_batches.front().events;
        m_batches.pop_front();
    }
    if (cut <= m_model->kept_from_ns()) {
        return false;
    }
    m_model->forget_before(cut);
    for (LaneSummary& summary : m_summaries) {
        summary.forgetBefore(cut);
    }
    m_requests.forgetBefore(m_model->requests().first_kept());
    return true;
}

void TraceDocument::prepare(PreparedTrace& prepared) {
    const analysis::model& m = *prepared.model;
    // The request pyramid on a second thread (the file's decoding thread has ended), the
    // lane summaries and the sorted latencies here: they only read the model.
    std::thread requests([&prepared, &m] {
        prepared.requests.reset();
        prepared.requests.build(m, m.has_client_requests(), true);
    });
    prepared.summaries.clear();
    for (const analysis::lane& lane : m.lanes()) {
        prepared.summaries.emplace_back().reset(m.first_ns());
        prepared.summaries.back().update(lane);
    }
    (void)m.request_latencies(); // sorts them now, not at the latency chart's first look
    requests.join();
}

void TraceDocument::adopt(PreparedTrace prepared) {
    m_model = std::move(prepared.model);
    m_summaries = std::move(prepared.summaries);
    m_requests = std::move(prepared.requests);
    m_queues.clear();
    m_info = std::move(prepared.info);
    m_source = std::move(prepared.source);
    m_warning = std::move(prepared.warning);
    m_live = false;
    clearBatches(); // a file keeps everything: nothing was let go
    emit reset();
}

void TraceDocument::adopt(std::unique_ptr<analysis::model> model, const trace::run_info& info,
                          const QString& source, const QString& warning) {
    PreparedTrace prepared{.model = std::move(model),
                           .summaries = {},
                           .requests = {},
                           .info = info,
                           .source = source,
                           .warning = warning};
    prepare(prepared);
    adopt(std::move(prepared));
}

void TraceDocument::updateSummaries() {
    const auto& lanes = m_model->lanes();
    while (m_summaries.size() < lanes.size()) {
        m_summaries.emplace_back().reset(m_model->first_ns());
    }
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        m_summaries[i].update(lanes[i]);
    }
}

const LaneSummary& TraceDocument::summary(std::size_t lane) const {
    static const LaneSummary empty;
    return lane < m_summaries.size() ? m_summaries[lane] : empty;
}

std::size_t TraceDocument::memoryBytes() const {
    std::size_t n = 0;
    for (const auto& s : m_summaries) {
        n += s.memoryBytes();
    }
    const auto& m = *m_model;
    for (const auto& l : m.lanes()) {
        n += l.polls.capacity_bytes() + l.blocks.capacity_bytes() + l.jobs.capacity_bytes() +
             l.parked.capacity_bytes() + l.depth.capacity_bytes();
    }
    n += m.tasks().capacity_bytes() + m.wakes().capacity_bytes() + m.steals().capacity_bytes() +
         m.requests().capacity_bytes() + m.global_depth().capacity_bytes() +
         m.lints().capacity_bytes() + m.reactor_events().capacity_bytes() +
         m.markers().capacity_bytes();
    return n;
}

} // namespace taskscope::ui
