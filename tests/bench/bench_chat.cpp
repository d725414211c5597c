// The chat server's fan-out: 1 poster and 100 readers in one group, the server on 2
// workers, in deliveries a second; with tracing on and off, next to the obvious
// thread-per-connection server (std::thread + blocking sockets) written here, in the same
// run with the same clients. Then the memory a stalled reader costs in each backlog mode.
//
//   build/release/tests/bench/taskscope_bench_chat [messages]
//
// The clients: one thread reads every reader socket through epoll and counts lines; the
// poster is in the group too and keeps at most `window` of its own messages unreceived,
// below the ring's capacity. A reader whose subscriber still falls a ring behind (the
// poster's own echo may run ahead of the slowest) is told what it lost: that counts as done,
// not delivered, and the run says how many.

#include "taskscope/net/chat_server.hpp"
#include "taskscope/runtime.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace taskscope;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t readers = 100;
constexpr std::size_t window = 256;

void print(const char* name, double value, const char* unit) {
    std::printf("bench chat/%s %.1f %s\n", name, value, unit);
    std::fflush(stdout);
}

int connect_to(std::uint16_t port, int receive_buffer = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        std::perror("connect");
        std::exit(1);
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

/// Reads lines until one contains `needle` (blocking).
void read_until(int fd, std::string_view needle) {
    std::string got;
    char buffer[4096];
    while (got.find(needle) == std::string::npos) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            return;
        }
        got.append(buffer, static_cast<std::size_t>(n));
    }
}

std::size_t count_newlines(const char* data, std::size_t size) {
    std::size_t n = 0;
    const char* end = data + size;
    while ((data = static_cast<const char*>(
                std::memchr(data, '\n', static_cast<std::size_t>(end - data)))) != nullptr) {
        ++n;
        ++data;
    }
    return n;
}

const std::string join_line = R"({"Join":{"group_name":"fan"}})"
                              "\n";
const std::string stats_line = "{\"Stats\":null}\n";

std::string post_line(std::size_t i) {
    nlohmann::json doc;
    doc["Post"]["group_name"] = "fan";
    doc["Post"]["message"] = "message " + std::to_string(i) + " of the fan-out benchmark";
    return doc.dump() + "\n";
}

/// 1 poster, `readers` readers; returns deliveries a second to the readers.
double fan_out(std::uint16_t port, std::size_t messages) {
    std::vector<int> fds;
    for (std::size_t i = 0; i < readers; ++i) {
        const int fd = connect_to(port);
        send_all(fd, join_line + stats_line);
        read_until(fd, "\"Stats\""); // joined
        fds.push_back(fd);
    }
    const int poster = connect_to(port);
    send_all(poster, join_line + stats_line);
    read_until(poster, "\"Stats\"");

    std::atomic<std::size_t> done_readers{0};
    std::atomic<bool> incomplete{false};
    std::atomic<std::size_t> dropped{0};
    std::thread reading([&] {
        const int ep = ::epoll_create1(0);
        for (std::size_t i = 0; i < fds.size(); ++i) {
            epoll_event e{};
            e.events = EPOLLIN;
            e.data.u64 = i;
            ::epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
        }
        std::vector<std::size_t> lines(fds.size(), 0);
        std::vector<char> buffer(256 * 1024);
        std::array<epoll_event, 128> ready{};
        auto progressed = clock_type::now();
        while (done_readers.load() < fds.size()) {
            const int n = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 1000);
            if (n > 0) {
                progressed = clock_type::now();
            } else if (clock_type::now() - progressed > 5s) {
                // A reader that lagged (more than the ring behind) never gets every line:
                // say so rather than wait for ever.
                std::size_t short_readers = 0;
                std::size_t fewest = messages;
                for (const std::size_t l : lines) {
                    short_readers += l < messages ? 1 : 0;
                    fewest = std::min(fewest, l);
                }
                std::printf("# %zu readers stopped short after 5 s without a line (the fewest "
                            "lines: %zu of %zu): they lagged\n",
                            short_readers, fewest, messages);
                incomplete.store(true);
                break;
            }
            for (int k = 0; k < n; ++k) {
                const auto i =
                    static_cast<std::size_t>(ready[static_cast<std::size_t>(k)].data.u64);
                const ssize_t got = ::recv(fds[i], buffer.data(), buffer.size(), 0);
                if (got <= 0) {
                    ::epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], nullptr);
                    done_readers.fetch_add(1);
                    continue;
                }
                const bool was_done = lines[i] >= messages;
                const auto size = static_cast<std::size_t>(got);
                lines[i] += count_newlines(buffer.data(), size);
                // A reader more than the ring behind is told what it lost: those messages
                // count as done (not as delivered). Its notice line is not a message.
                static constexpr std::string_view notice = "Dropped ";
                for (const char* at = buffer.data(); at < buffer.data() + size;) {
                    const void* hit =
                        ::memmem(at, static_cast<std::size_t>(buffer.data() + size - at),
                                 notice.data(), notice.size());
                    if (hit == nullptr) {
                        break;
                    }
                    at = static_cast<const char*>(hit) + notice.size();
                    const std::size_t missed = std::strtoul(at, nullptr, 10);
                    lines[i] += missed - 1;
                    dropped.fetch_add(missed);
                }
                if (!was_done && lines[i] >= messages) {
                    done_readers.fetch_add(1);
                }
            }
        }
        ::close(ep);
    });

    timeval patience{.tv_sec = 5, .tv_usec = 0}; // its echoes may stop if it lagged
    ::setsockopt(poster, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    const auto start = clock_type::now();
    std::size_t echoed = 0;
    char buffer[64 * 1024];
    for (std::size_t i = 0; i < messages; ++i) {
        while (i >= window && echoed + window <= i) {
            const ssize_t n = ::recv(poster, buffer, sizeof buffer, 0);
            if (n <= 0) {
                break;
            }
            echoed += count_newlines(buffer, static_cast<std::size_t>(n));
        }
        send_all(poster, post_line(i));
    }
    reading.join();
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    for (int fd : fds) {
        ::close(fd);
    }
    ::close(poster);
    if (dropped.load() != 0) {
        std::printf("# %zu of %zu deliveries lost to lags (a reader more than the ring behind)\n",
                    dropped.load(), readers * messages);
    }
    return incomplete.load() ? 0.0
                             : static_cast<double>(readers * messages - dropped.load()) / seconds;
}

/// The obvious server: a thread per connection, blocking reads, and a Post written to every
/// member's socket by the posting connection's thread (each socket behind a std::mutex).
class thread_server {
public:
    thread_server() {
        m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        ::setsockopt(m_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(m_listen, reinterpret_cast<const sockaddr*>(&address), sizeof address);
        ::listen(m_listen, 1024);
        socklen_t length = sizeof address;
        ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&address), &length);
        m_port = ntohs(address.sin_port);
        m_accepting = std::thread([this] { accept_loop(); });
    }
    ~thread_server() {
        ::shutdown(m_listen, SHUT_RDWR);
        m_accepting.join();
        {
            std::lock_guard lock(m_mutex);
            for (auto& c : m_connections) {
                ::shutdown(c->fd, SHUT_RDWR);
            }
        }
        for (auto& t : m_threads) {
            t.join();
        }
        for (auto& c : m_connections) {
            ::close(c->fd);
        }
        ::close(m_listen);
    }
    [[nodiscard]] std::uint16_t port() const { return m_port; }

private:
    struct connection {
        int fd;
        std::mutex write;
    };

    void accept_loop() {
        for (;;) {
            const int fd = ::accept(m_listen, nullptr, nullptr);
            if (fd < 0) {
                return;
            }
            auto c = std::make_shared<connection>();
            c->fd = fd;
            std::lock_guard lock(m_mutex);
            m_connections.push_back(c);
            m_threads.emplace_back([this, c] { serve(c); });
        }
    }

    void write_line(connection& c, std::string_view line) {
        std::lock_guard lock(c.write);
        send_all(c.fd, line);
    }

    void serve(std::shared_ptr<connection> c) {
        std::string pending;
        char buffer[16 * 1024];
        for (;;) {
            const ssize_t n = ::recv(c->fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return;
            }
            pending.append(buffer, static_cast<std::size_t>(n));
            for (auto end = pending.find('\n'); end != std::string::npos;
                 end = pending.find('\n')) {
                const auto doc = nlohmann::json::parse(pending.substr(0, end), nullptr, false);
                pending.erase(0, end + 1);
                if (doc.contains("Join")) {
                    std::lock_guard lock(m_mutex);
                    m_members.push_back(c);
                } else if (doc.contains("Post")) {
                    nlohmann::json out;
                    out["Message"]["group_name"] = doc["Post"]["group_name"];
                    out["Message"]["message"] = doc["Post"]["message"];
                    const std::string line = out.dump() + "\n";
                    std::vector<std::shared_ptr<connection>> members;
                    {
                        std::lock_guard lock(m_mutex);
                        members = m_members;
                    }
                    for (auto& m : members) {
                        write_line(*m, line);
                    }
                } else {
                    write_line(*c, "{\"Stats\":{}}\n");
                }
            }
        }
    }

    int m_listen = -1;
    std::uint16_t m_port = 0;
    std::thread m_accepting;
    std::mutex m_mutex; // guards what follows
    std::vector<std::shared_ptr<connection>> m_connections;
    std::vector<std::shared_ptr<connection>> m_members;
    std::vector<std::thread> m_threads;
};

double async_fan_out(bool tracing, std::size_t messages) {
    trace::trace_options trace;
    trace.enabled = tracing;
    runtime rt({.workers = 2, .trace = trace});
    auto server = net::chat_server::start(rt, {});
    const double rate = fan_out(server->port(), messages);
    server.reset();
    rt.shutdown();
    return rate;
}

/// 10 fast readers and 1 reader that never reads; returns the server's peak queued bytes.
std::uint64_t stalled_peak(net::backlog_mode mode, std::size_t messages) {
    runtime rt({.workers = 2});
    net::chat_server_options options;
    options.backlog = mode;
    auto server = net::chat_server::start(rt, options);
    const int stalled = connect_to(server->port(), 4096);
    send_all(stalled, join_line);
    std::vector<int> fast;
    for (int i = 0; i < 10; ++i) {
        fast.push_back(connect_to(server->port()));
        send_all(fast.back(), join_line + stats_line);
        read_until(fast.back(), "\"Stats\"");
    }
    std::atomic<bool> posting{true};
    std::thread draining([&] { // the fast readers read everything
        std::vector<char> buffer(256 * 1024);
        while (posting.load()) {
            for (int fd : fast) {
                while (::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT) > 0) {
                }
            }
            std::this_thread::sleep_for(100us);
        }
    });
    const int poster = connect_to(server->port());
    for (std::size_t i = 0; i < messages; ++i) {
        send_all(poster, post_line(i));
        if (i % 100 == 99) {
            std::this_thread::sleep_for(1ms); // about 100k messages a second at most
        }
    }
    send_all(poster, stats_line);
    read_until(poster, "\"Stats\""); // every post handled
    std::this_thread::sleep_for(100ms);
    posting.store(false);
    draining.join();
    const std::uint64_t peak = server->stats().peak_queued_bytes;
    ::close(stalled);
    ::close(poster);
    for (int fd : fast) {
        ::close(fd);
    }
    server.reset();
    rt.shutdown();
    return peak;
}

} // namespace

int main(int argc, char** argv) {
    std::size_t messages = 20'000;
    if (argc > 1) {
        char* end = nullptr;
        messages = std::strtoul(argv[1], &end, 10);
        if (argc > 2 || end == argv[1] || *end != '\0' || messages == 0) {
            std::fprintf(stderr,
                         "usage: %s [MESSAGES]\n"
                         "  fan-out of MESSAGES posts (default 20000) to 100 readers, tracing on "
                         "and off, against a thread-per-connection server; then the server's "
                         "backlog under a stalled reader\n",
                         argv[0]);
            return 2;
        }
    }
    std::printf("# fan-out: 1 poster -> %zu readers in one group, %zu messages, server on 2 "
                "workers; clients: one epoll thread + the poster\n",
                readers, messages);
    double async_on = 0;
    double async_off = 0;
    double threads = 0;
    for (int round = 0; round < 2; ++round) { // interleaved, the better of two each
        async_on = std::max(async_on, async_fan_out(true, messages));
        async_off = std::max(async_off, async_fan_out(false, messages));
        thread_server peer;
        threads = std::max(threads, fan_out(peer.port(), messages));
    }
    print("fanout100_async_trace_on", async_on, "deliveries/s");
    print("fanout100_async_trace_off", async_off, "deliveries/s");
    print("fanout100_thread_per_connection", threads, "deliveries/s");
    print("ratio_async_trace_on_vs_threads", async_on / threads, "x");
    print("ratio_async_trace_off_vs_threads", async_off / threads, "x");

    const std::size_t stalled_messages = 50'000;
    std::printf("# a stalled reader (never reads) and 10 fast readers, %zu posts of ~90 bytes, "
                "capacity 1000\n",
                stalled_messages);
    print("stalled_ring_peak_queued",
          static_cast<double>(stalled_peak(net::backlog_mode::ring, stalled_messages)) / 1024.0,
          "KiB");
    print("stalled_unbounded_peak_queued",
          static_cast<double>(stalled_peak(net::backlog_mode::unbounded, stalled_messages)) /
              1024.0,
          "KiB");
    return 0;
}
