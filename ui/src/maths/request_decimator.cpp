#include "maths/request_decimator.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace taskscope::ui {

namespace {

constexpr std::uint32_t none = UINT32_MAX;
/// Groups up to this many are sorted whole rather than selected rank by rank.
constexpr std::size_t smallGroup = 64;

} // namespace

std::size_t RequestDecimator::ranksKept(std::size_t n,
                                        std::array<std::size_t, maxPerColumn>& ranks) {
    std::size_t count = 0;
    // Keeps `rank` in ranks[0, count), ascending, once.
    const auto add = [&](std::size_t rank) {
        std::size_t at = 0;
        while (at < count && ranks[at] < rank) {
            ++at;
        }
        if (at < count && ranks[at] == rank) {
            return;
        }
        for (std::size_t k = count; k > at; --k) {
            ranks[k] = ranks[k - 1];
        }
        ranks[at] = rank;
        ++count;
    };
    const std::size_t keep = std::min(n, static_cast<std::size_t>(maxPerColumn));
    if (n <= static_cast<std::size_t>(maxPerColumn)) {
        for (std::size_t i = 0; i < n; ++i) {
            ranks[i] = i;
        }
        return n;
    }
    // Nearest ranks, as analysis::percentile counts them: ceil(q n) - 1.
    const auto rankOf = [n](std::size_t perThousand) { return (n * perThousand + 999) / 1000 - 1; };
    for (const std::size_t rank : {std::size_t{0}, rankOf(500), rankOf(750), rankOf(900),
                                   rankOf(950), rankOf(990), rankOf(999), n - 1}) {
        add(rank);
    }
    // With few requests the high percentiles are the same request: fill the places left
    // with ranks spread evenly, then the lowest free ones, so a column of nine shows eight.
    for (std::size_t i = 1; i + 1 < static_cast<std::size_t>(maxPerColumn) && count < keep; ++i) {
        add(i * (n - 1) / (maxPerColumn - 1));
    }
    for (std::size_t rank = 1; count < keep; ++rank) {
        add(rank);
    }
    return count;
}

std::vector<std::size_t> RequestDecimator::ranksKept(std::size_t n) {
    std::array<std::size_t, maxPerColumn> ranks{};
    const std::size_t count = ranksKept(n, ranks);
    return {ranks.begin(), ranks.begin() + static_cast<std::ptrdiff_t>(count)};
}

void RequestDecimator::reset() noexcept {
    m_levels.clear();
}

void RequestDecimator::forgetBefore(std::size_t firstRequest) {
    for (std::size_t l = 0; l < m_levels.size(); ++l) {
        Level& level = m_levels[l];
        const std::size_t size = baseBlock << l;
        const std::size_t first = (firstRequest + size - 1) / size; // wholly kept from here
        if (first <= level.firstBlock) {
            continue;
        }
        const std::size_t drop = std::min(first - level.firstBlock, level.begin.size() - 1);
        const std::uint32_t dropped = level.begin[drop];
        level.picks.erase(level.picks.begin(), level.picks.begin() + dropped);
        level.begin.erase(level.begin.begin(),
                          level.begin.begin() + static_cast<std::ptrdiff_t>(drop));
        level.provisional.erase(level.provisional.begin(),
                                level.provisional.begin() + static_cast<std::ptrdiff_t>(drop));
        for (std::uint32_t& b : level.begin) {
            b -= dropped;
        }
        level.firstBlock = first;
    }
}

void RequestDecimator::build(const analysis::model& model, bool client, bool complete) {
    if (client != m_client) {
        reset();
        m_client = client;
    }
    const std::size_t n = model.requests().size();
    std::vector<std::uint32_t> scratch;
    // A view of 64 columns or more uses blocks of at most n / 64 / blocksPerColumn.
    std::size_t levels = 0;
    while ((baseBlock << levels) * 64 * blocksPerColumn <= n) {
        ++levels;
    }
    // The top level first: each of its blocks chooses its halves' picks just before, from
    // requests still in the cache. Level by level from the bottom, every level above the
    // first read its picks' requests from all over the model again (most of the time the
    // build took went in those cache misses).
    for (std::size_t level = levels; level-- > 0;) {
        const std::size_t blocks = n / (baseBlock << level);
        if (blocks > 0 && (m_levels.size() <= level || blocks > m_levels[level].firstBlock)) {
            scratch.clear();
            blockPicks(model, level, blocks - 1, complete, scratch);
        }
    }
}

void RequestDecimator::choose(const analysis::model& model, std::vector<std::uint32_t>& picks) {
    if (picks.size() <= static_cast<std::size_t>(maxPerColumn)) {
        std::sort(picks.begin(), picks.end());
        return; // no route has more than it may keep
    }
    const auto& requests = model.requests();
    m_group.clear();
    bool oneRoute = true;
    const std::uint16_t firstRoute = requests[picks.front()].route_index;
    for (const std::uint32_t i : picks) {
        const analysis::request_span& r = requests[i];
        m_group.push_back({r.latency_ns(), i});
        oneRoute = oneRoute && r.route_index == firstRoute;
    }
    const auto byLatency = [](const Entry& a, const Entry& b) { return a.latency < b.latency; };
    if (!oneRoute) {
        // Each route's entries together, in their order (usually there is one route).
        std::stable_sort(m_group.begin(), m_group.end(), [&](const Entry& a, const Entry& b) {
            return requests[a.request].route_index < requests[b.request].route_index;
        });
    }
    picks.clear();
    auto begin = m_group.begin();
    const auto end = m_group.end();
    while (begin != end) {
        const std::uint16_t route = requests[begin->request].route_index;
        auto split = begin + 1;
        while (split != end && requests[split->request].route_index == route) {
            ++split;
        }
        const auto n = static_cast<std::size_t>(split - begin);
        if (n <= static_cast<std::size_t>(maxPerColumn)) {
            for (auto it = begin; it != split; ++it) {
                picks.push_back(it->request);
            }
        } else if (n <= smallGroup) {
            // A pyramid block's group (two halves' picks, 16 or so): one sort of so few
            // costs less than a selection per rank kept.
            std::sort(begin, split, byLatency);
            std::array<std::size_t, maxPerColumn> ranks{};
            const std::size_t count = ranksKept(n, ranks);
            for (std::size_t k = 0; k < count; ++k) {
                picks.push_back((begin + static_cast<std::ptrdiff_t>(ranks[k]))->request);
            }
        } else {
            // Ascending ranks, so each nth_element only searches what lies above the last.
            std::array<std::size_t, maxPerColumn> ranks{};
            const std::size_t count = ranksKept(n, ranks);
            auto from = begin;
            for (std::size_t k = 0; k < count; ++k) {
                const auto at = begin + static_cast<std::ptrdiff_t>(ranks[k]);
                std::nth_element(from, at, split, byLatency);
                picks.push_back(at->request);
                from = at + 1;
            }
        }
        begin = split;
    }
    std::sort(picks.begin(), picks.end()); // by index: about begin order
}

bool RequestDecimator::blockPicks(const analysis::model& model, std::size_t level,
                                  std::size_t block, bool complete,
                                  std::vector<std::uint32_t>& out) {
    if (m_levels.size() <= level) {
        const std::size_t added = m_levels.size();
        m_levels.resize(level + 1);
        for (std::size_t l = added; l <= level; ++l) { // from the first block wholly kept
            const std::size_t size = baseBlock << l;
            m_levels[l].firstBlock = (model.requests().first_kept() + size - 1) / size;
        }
    }
    // Keep every block before this one first, so each is chosen once: a block that is not
    // final yet is kept as provisional and chosen again when asked, so one request whose
    // end never comes costs its own blocks a choice each time, not every block after it.
    for (std::size_t next = m_levels[level].endBlock(); next < block; ++next) {
        std::vector<std::uint32_t> scratch;
        (void)blockPicks(model, level, next, complete, scratch);
    }
    Level& kept = m_levels[level];
    if (block >= kept.firstBlock && block < kept.endBlock() &&
        kept.provisional[block - kept.firstBlock] == 0) {
        const std::size_t k = block - kept.firstBlock;
        out.insert(out.end(), kept.picks.begin() + kept.begin[k],
                   kept.picks.begin() + kept.begin[k + 1]);
        return true;
    }

    std::vector<std::uint32_t> picks;
    bool final = true;
    ++m_blocksChosen;
    if (level == 0) {
        const auto& requests = model.requests();
        const std::size_t from = std::max(block * baseBlock, requests.first_kept());
        const std::size_t to = block * baseBlock + baseBlock;
        final = to <= requests.size();
        for (std::size_t i = from; i < std::min(to, requests.size()); ++i) {
            const analysis::request_span& r = requests[i];
            if (r.client != m_client) {
                continue;
            }
            if (!r.finished()) {
                final = final && complete;
                continue;
            }
            picks.push_back(static_cast<std::uint32_t>(i));
        }
    } else {
        const bool left = blockPicks(model, level - 1, 2 * block, complete, picks);
        const bool right = blockPicks(model, level - 1, 2 * block + 1, complete, picks);
        final = left && right;
    }
    choose(model, picks);
    Level& here = m_levels[level]; // the recursion may have grown m_levels
    if (block == here.endBlock()) {
        here.picks.insert(here.picks.end(), picks.begin(), picks.end());
        here.begin.push_back(static_cast<std::uint32_t>(here.picks.size()));
        here.provisional.push_back(final ? 0 : 1);
    }
    out.insert(out.end(), picks.begin(), picks.end());
    return final;
}

std::vector<RequestDecimator::Route> RequestDecimator::decimate(const analysis::model& model,
                                                                bool client, bool complete,
                                                                double startNs, double endNs,
                                                                int columns) {
    if (client != m_client) {
        reset();
        m_client = client;
    }
    const auto& requests = model.requests();
    const auto [first, last] = model.requests_beginning_in(startNs, endNs);
    const std::size_t columnsWide = static_cast<std::size_t>(std::max(columns, 1));

    // The candidates: every visible request, or the picks of the level whose blocks put at
    // least blocksPerColumn in a column (and the requests of the partial blocks at the
    // edges).
    const std::size_t perColumn = (last - first) / columnsWide;
    m_level = -1;
    while ((baseBlock << (m_level + 1)) * blocksPerColumn <= perColumn) {
        ++m_level;
    }
    m_candidates.clear();
    const auto takeRequests = [&](std::size_t from, std::size_t to) {
        for (std::size_t i = from; i < to; ++i) {
            const analysis::request_span& r = requests[i];
            if (r.client == client && r.finished()) {
                m_candidates.push_back(static_cast<std::uint32_t>(i));
            }
        }
    };
    if (m_level < 0) {
        takeRequests(first, last);
    } else {
        const std::size_t size = baseBlock << m_level;
        const std::size_t firstBlock = (first + size - 1) / size;
        const std::size_t lastBlock = last / size;
        takeRequests(first, firstBlock * size);
        for (std::size_t b = firstBlock; b < lastBlock; ++b) {
            blockPicks(model, static_cast<std::size_t>(m_level), b, complete, m_candidates);
        }
        takeRequests(lastBlock * size, last);
    }
    m_candidateCount = m_candidates.size();

    // Pass 1: each candidate's pixel column, and how many each column holds.
    const double width = std::max((endNs - startNs) / static_cast<double>(columnsWide), 1.0);
    const double firstColumn = std::floor(startNs / width);
    const auto columnCount =
        static_cast<std::uint32_t>(std::max(0.0, std::floor(endNs / width) - firstColumn)) + 1;
    m_columnOf.assign(m_candidates.size(), none);
    m_columnEnd.assign(columnCount + 1, 0);
    std::vector<bool> routeSeen;
    std::vector<std::uint16_t> routeOrder;
    for (std::size_t c = 0; c < m_candidates.size(); ++c) {
        const analysis::request_span& r = requests[m_candidates[c]];
        const auto begin = static_cast<double>(r.begin_ns);
        if (begin < startNs || begin > endNs) {
            continue;
        }
        const auto column = static_cast<std::uint32_t>(std::clamp(
            std::floor(begin / width) - firstColumn, 0.0, static_cast<double>(columnCount - 1)));
        m_columnOf[c] = column;
        ++m_columnEnd[column + 1];
        if (r.route_index >= routeSeen.size()) {
            routeSeen.resize(r.route_index + 1u, false);
        }
        if (!routeSeen[r.route_index]) {
            routeSeen[r.route_index] = true;
            routeOrder.push_back(r.route_index);
        }
    }
    for (std::uint32_t c = 0; c < columnCount; ++c) {
        m_columnEnd[c + 1] += m_columnEnd[c];
    }

    // Pass 2: the candidates grouped by column (a counting sort).
    m_grouped.resize(m_columnEnd[columnCount]);
    std::vector<std::uint32_t> fill(m_columnEnd.begin(), m_columnEnd.end() - 1);
    for (std::size_t c = 0; c < m_candidates.size(); ++c) {
        if (m_columnOf[c] != none) {
            m_grouped[fill[m_columnOf[c]]++] = m_candidates[c];
        }
    }

    // Pass 3: each column's points, route by route.
    std::vector<Route> out(routeOrder.size());
    std::vector<std::size_t> slotOf(routeSeen.size(), 0);
    for (std::size_t s = 0; s < routeOrder.size(); ++s) {
        slotOf[routeOrder[s]] = s;
        out[s].route = model.routes()[routeOrder[s]];
    }
    std::vector<std::uint32_t> column;
    for (std::uint32_t c = 0; c < columnCount; ++c) {
        column.clear();
        for (std::uint32_t e = m_columnEnd[c]; e < m_columnEnd[c + 1]; ++e) {
            column.push_back(m_grouped[e]);
        }
        choose(model, column);
        for (const std::uint32_t i : column) {
            out[slotOf[requests[i].route_index]].requests.push_back(i);
        }
    }

    // Scratch for a million-request view is tens of MB: give it back rather than keep it.
    constexpr std::size_t keepEntries = std::size_t{1} << 18;
    if (m_grouped.capacity() > keepEntries) {
        m_grouped = {};
        m_columnOf = {};
        m_candidates = {};
    }
    return out;
}

} // namespace taskscope::ui
