#include "taskscope/net/chat_load.hpp"

#include "taskscope/net/load_generator.hpp"
#include "taskscope/net/tcp.hpp"
#include "taskscope/runtime.hpp"
#include "taskscope/time.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

namespace taskscope::net {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

std::int64_t steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               clock_type::now().time_since_epoch())
        .count();
}

enum class reader_kind : std::uint8_t { fast, slow };

struct shared_chat_load {
    chat_load_options options;
    std::atomic<std::size_t> ready{0};  // readers that saw their sync come back
    std::atomic<std::size_t> failed{0}; // readers that could not connect or join
    std::atomic<std::uint64_t> posted{0};
    std::atomic<bool> posting_done{false};
    /// When readers give up (steady ns): set once posting is done.
    std::atomic<std::int64_t> end_ns{INT64_MAX};

    std::mutex mutex; // guards report
    chat_load_report report;

    [[nodiscard]] bool cancelled() const noexcept {
        return options.cancel != nullptr && options.cancel->load();
    }
    [[nodiscard]] bool past_end() const noexcept {
        return cancelled() || steady_ns() >= end_ns.load();
    }
    void error(std::string what, bool connect) {
        std::lock_guard lock(mutex);
        report.connect_errors += connect ? 1 : 0;
        if (report.first_error.empty()) {
            report.first_error = std::move(what);
        }
    }
};

std::string post_line(const std::string& group, const std::string& text) {
    nlohmann::json doc;
    doc["Post"]["group_name"] = group;
    doc["Post"]["message"] = text;
    return doc.dump() + "\n";
}

/// What a reader got, merged into the report when it is done.
struct reader_tally {
    std::uint64_t received = 0;
    std::uint64_t lag_notices = 0;
    std::uint64_t missed = 0;
    std::vector<std::uint64_t> latencies_ns;
};

/// Reads one server line: a load message (its latency), a lag notice, or other.
/// Returns true when it was `sync` coming back.
bool take_line(std::string_view line, std::string_view sync, reader_tally& tally) {
    const nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
    if (!doc.is_object()) {
        return false;
    }
    if (const auto m = doc.find("Message"); m != doc.end() && m->is_object()) {
        const auto text = m->find("message");
        if (text == m->end() || !text->is_string()) {
            return false;
        }
        const auto& s = text->get_ref<const std::string&>();
        if (s == sync) {
            return true;
        }
        std::int64_t posted = 0;
        if (s.starts_with("t=") &&
            std::from_chars(s.data() + 2, s.data() + s.size(), posted).ec == std::errc{}) {
            ++tally.received;
            tally.latencies_ns.push_back(
                static_cast<std::uint64_t>(std::max<std::int64_t>(0, steady_ns() - posted)));
        }
        return false;
    }
    if (const auto e = doc.find("Error"); e != doc.end() && e->is_string()) {
        const auto& s = e->get_ref<const std::string&>();
        constexpr std::string_view dropped = "Dropped ";
        std::uint64_t n = 0;
        if (s.starts_with(dropped) &&
            std::from_chars(s.data() + dropped.size(), s.data() + s.size(), n).ec == std::errc{}) {
            ++tally.lag_notices;
            tally.missed += n;
        }
    }
    return false;
}

task<void> reader(std::shared_ptr<shared_chat_load> shared, reader_kind kind, std::size_t index) {
    shared_chat_load& s = *shared;
    const chat_load_options& o = s.options;
    auto join_deadline = io_deadline::after(o.join_timeout);
    auto [connected, stream] = co_await tcp_stream::connect(o.host, o.port, &join_deadline);
    if (!connected.ok()) {
        s.error("connect: " + std::string(to_string(connected.status)), true);
        s.failed.fetch_add(1);
        co_return;
    }
    const std::string sync = "sync reader " + std::to_string(index);
    nlohmann::json join;
    join["Join"]["group_name"] = o.group;
    const std::string hello = join.dump() + "\n" + post_line(o.group, sync);
    const io_result sent = co_await stream.write_all(hello, &join_deadline);
    if (!sent.ok()) {
        s.error("join: " + std::string(to_string(sent.status)), true);
        s.failed.fetch_add(1);
        co_return;
    }
    const bool stalled = kind == reader_kind::slow && o.slow_rate <= 0.0;
    const auto pause = kind == reader_kind::slow && !stalled
                           ? std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / o.slow_rate))
                           : std::chrono::nanoseconds(0);
    // A slow reader takes little at a time, so its socket buffer stays full.
    std::vector<char> buffer(kind == reader_kind::fast ? 16 * 1024 : 1024);
    std::string pending_bytes;
    reader_tally tally;
    bool joined = false;
    for (;;) {
        if (joined && s.past_end()) {
            break;
        }
        if (joined && s.posting_done.load() && tally.received + tally.missed >= s.posted.load()) {
            break; // everything posted arrived (or was reported missing)
        }
        if (joined && stalled && !s.posting_done.load()) {
            // Reads nothing while the posters post; afterwards it reads what is left, and
            // so hears how much it missed.
            co_await sleep_for(10ms);
            continue;
        }
        // Each line first: a slow reader reads at its rate, not at the socket's.
        if (const auto end = pending_bytes.find('\n'); end != std::string::npos) {
            const std::string_view line(pending_bytes.data(), end);
            if (take_line(line, sync, tally) && !joined) {
                joined = true;
                s.ready.fetch_add(1);
            }
            pending_bytes.erase(0, end + 1);
            if (joined && pause.count() > 0) {
                co_await sleep_for(pause);
            }
            continue;
        }
        // Short reads, so the end of the run and a cancel are seen within 50 ms.
        auto deadline = io_deadline::after(50ms);
        const io_result r = co_await stream.read(buffer, &deadline);
        if (r.status == io_status::timed_out) {
            if (!joined && clock_type::now() >= join_deadline.at()) {
                s.error("join: no answer within the join timeout", true);
                s.failed.fetch_add(1);
                co_return;
            }
            if (!joined && s.cancelled()) {
                s.failed.fetch_add(1);
                co_return;
            }
            continue;
        }
        if (!r.ok()) {
            s.error("read: " + std::string(to_string(r.status)), false);
            if (!joined) {
                s.failed.fetch_add(1);
            }
            break;
        }
        pending_bytes.append(buffer.data(), r.bytes);
    }
    std::lock_guard lock(s.mutex);
    chat_reader_report& into = kind == reader_kind::fast ? s.report.fast : s.report.slow;
    into.readers += joined ? 1 : 0;
    into.received += tally.received;
    into.lag_notices += tally.lag_notices;
    into.missed += tally.missed;
    into.latencies_ns.insert(into.latencies_ns.end(), tally.latencies_ns.begin(),
                             tally.latencies_ns.end());
}

/// Counts the Error lines a poster gets (a post to a group that does not exist, ...).
task<void> poster_errors(std::shared_ptr<shared_chat_load> shared,
                         std::shared_ptr<tcp_stream> stream,
                         std::shared_ptr<std::atomic<bool>> posting_over) {
    std::vector<char> buffer(4096);
    std::uint64_t errors = 0;
    std::string first;
    std::string pending_bytes;
    while (!shared->past_end()) {
        auto deadline = io_deadline::after(50ms);
        const io_result r = co_await stream->read(buffer, &deadline);
        if (r.status == io_status::timed_out) {
            if (posting_over->load()) {
                break; // quiet for 50 ms after the last post
            }
            continue;
        }
        if (!r.ok()) {
            break;
        }
        pending_bytes.append(buffer.data(), r.bytes);
        for (auto end = pending_bytes.find('\n'); end != std::string::npos;
             end = pending_bytes.find('\n')) {
            const auto doc = nlohmann::json::parse(pending_bytes.substr(0, end), nullptr, false);
            if (doc.is_object() && doc.contains("Error")) {
                ++errors;
                if (first.empty()) {
                    first = "post: " + doc["Error"].dump();
                }
            }
            pending_bytes.erase(0, end + 1);
        }
    }
    std::lock_guard lock(shared->mutex);
    shared->report.post_errors += errors;
    if (shared->report.first_error.empty() && !first.empty()) {
        shared->report.first_error = first;
    }
}

task<void> poster(std::shared_ptr<shared_chat_load> shared, std::size_t index,
                  clock_type::time_point start) {
    shared_chat_load& s = *shared;
    const chat_load_options& o = s.options;
    auto deadline = io_deadline::after(o.join_timeout);
    auto [connected, fresh] = co_await tcp_stream::connect(o.host, o.port, &deadline);
    if (!connected.ok()) {
        s.error("connect: " + std::string(to_string(connected.status)), true);
        co_return;
    }
    auto stream = std::make_shared<tcp_stream>(std::move(fresh));
    auto posting_over = std::make_shared<std::atomic<bool>>(false);
    join_handle<void> errors =
        spawn(poster_errors(shared, stream, posting_over), "chat_poster_errors");
    const auto stop = start + o.duration;
    const std::string padding(o.message_bytes, '.');
    std::uint64_t n = 0;
    for (;; ++n) {
        if (o.post_rate > 0.0) {
            const auto due = start + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                         static_cast<double>(n) * 1e9 / o.post_rate));
            if (due >= stop) {
                break;
            }
            if (due > clock_type::now()) {
                co_await sleep_until(due);
            }
        }
        if (clock_type::now() >= stop || s.cancelled()) {
            break;
        }
        std::string text = "t=" + std::to_string(steady_ns()) + " p=" + std::to_string(index) +
                           " n=" + std::to_string(n) + " ";
        if (text.size() < o.message_bytes) {
            text.append(padding, 0, o.message_bytes - text.size());
        }
        const std::string line = post_line(o.group, text);
        auto write_deadline = io_deadline::after(o.join_timeout);
        const io_result written = co_await stream->write_all(line, &write_deadline);
        if (!written.ok()) {
            s.error("post: " + std::string(to_string(written.status)), false);
            break;
        }
        s.posted.fetch_add(1);
    }
    posting_over->store(true);
    co_await errors;
}

task<chat_load_report> run_shared_chat_load(std::shared_ptr<shared_chat_load> shared) {
    shared_chat_load& s = *shared;
    const chat_load_options& o = s.options;
    std::vector<join_handle<void>> readers;
    const std::size_t reader_count = o.fast_readers + o.slow_readers;
    for (std::size_t i = 0; i < reader_count; ++i) {
        const reader_kind kind = i < o.fast_readers ? reader_kind::fast : reader_kind::slow;
        readers.push_back(spawn(reader(shared, kind, i), kind == reader_kind::fast
                                                             ? "chat_fast_reader"
                                                             : "chat_slow_reader"));
    }
    // Posting starts once every reader is in (or has given up).
    while (s.ready.load() + s.failed.load() < reader_count && !s.cancelled()) {
        co_await sleep_for(1ms);
    }
    const auto start = clock_type::now();
    std::vector<join_handle<void>> posters;
    for (std::size_t i = 0; i < o.posters; ++i) {
        posters.push_back(spawn(poster(shared, i, start), "chat_poster"));
    }
    // The posters' error readers end at end_ns: set it when the posting time is over.
    co_await sleep_until(start + o.duration);
    s.end_ns.store(steady_ns() + std::chrono::nanoseconds(o.drain).count());
    for (auto& p : posters) {
        co_await p;
    }
    s.posting_done.store(true);
    for (auto& r : readers) {
        co_await r;
    }
    chat_load_report report;
    {
        std::lock_guard lock(s.mutex);
        report = std::move(s.report);
    }
    report.posted = s.posted.load();
    report.elapsed_ns =
        static_cast<std::uint64_t>(std::chrono::nanoseconds(clock_type::now() - start).count());
    std::sort(report.fast.latencies_ns.begin(), report.fast.latencies_ns.end());
    std::sort(report.slow.latencies_ns.begin(), report.slow.latencies_ns.end());
    co_return report;
}

} // namespace

std::uint64_t chat_reader_report::percentile_ns(double p) const noexcept {
    return nearest_rank_ns(latencies_ns, p);
}

task<chat_load_report> run_chat_load(chat_load_options options) {
    auto shared = std::make_shared<shared_chat_load>();
    shared->options = std::move(options);
    return run_shared_chat_load(std::move(shared));
}

chat_load_report run_chat_load_blocking(chat_load_options options, std::size_t workers) {
    runtime rt({.workers = std::max<std::size_t>(1, workers)});
    chat_load_report report = rt.block_on(run_chat_load(std::move(options)), "chat_load");
    rt.shutdown();
    return report;
}

} // namespace taskscope::net
