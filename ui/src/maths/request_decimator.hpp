#pragma once
// What the latency scatter draws of requests that may number millions: per pixel column and
// route, the fastest request, the slowest, and the ones at the column's p50, p75, p90, p95,
// p99 and p99.9 — at most eight points, each a real request (so its tooltip tells the
// truth), however many requests the column holds. A column of eight requests or fewer shows
// them all. Plain code, so it is unit-tested; the chart hands the result to Qt Charts.
//
// Qt Charts' cost grows with the points it holds, faster than linearly for a scatter series
// (20,000 requests froze the window for over a minute). Bounded by pixels, a
// 1.5-million-request trace draws a few thousand points.
//
// Choosing them must not cost a pass over every request either (a zoomed-out view of 1.5 M
// requests took 70 ms that way). So requests are also kept in a pyramid of blocks by index
// (they are stored about in the order they began): a block of 16 keeps its eight picks
// chosen as above, a block of 32 the eight picks among its two halves' picks, and so on up.
// A zoomed-out view takes its candidates from the level whose blocks put at least eight in
// a pixel column, and chooses each column's eight among them. Every block's fastest and
// slowest request is a candidate, so no outlier hides: the slowest request of a column is
// drawn there or, when its block straddles two columns, a request at least as slow is drawn
// in the neighbouring one. The percentiles in between are those of the picks. Views of
// fewer than 128 requests a column look at every request. A block's picks are kept once none of its
// requests can change (all answered, or the trace is a finished file).

#include "taskscope/analysis/model.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace taskscope::ui {

class RequestDecimator {
public:
    /// The most points kept per pixel column and route.
    static constexpr int maxPerColumn = 8;
    /// Requests in a block of the pyramid's lowest level.
    static constexpr std::size_t baseBlock = 16;
    /// A level serves a view when its blocks put at least this many in a pixel column.
    static constexpr std::size_t blocksPerColumn = 8;

    /// The requests kept for one route, as indices into model::requests(), by begin time.
    struct Route {
        trace::name_id route = 0;
        std::vector<std::uint32_t> requests;
    };

    /// The finished requests of the side `client` that began in [startNs, endNs], thinned
    /// for `columns` pixel columns across that range; routes in the order they first occur.
    /// Columns are anchored at whole multiples of their width, not at startNs, so panning
    /// keeps what each column shows. `complete`: the model will not change any more (an
    /// opened file), so blocks with unanswered requests are final too.
    [[nodiscard]] std::vector<Route> decimate(const analysis::model& model, bool client,
                                              bool complete, double startNs, double endNs,
                                              int columns);

    /// Forgets the pyramid: call when the model is replaced or the side shown changes.
    void reset() noexcept;
    /// Lets go of the picks of blocks that hold requests before `firstRequest` (the model
    /// forgot them): such blocks are chosen again, from what is kept, when a view asks.
    void forgetBefore(std::size_t firstRequest);
    /// Chooses every final block's picks now, on every level a view of 64 columns or more
    /// could use (an opened file's pyramid, built on the loader's thread rather than at
    /// the first paint).
    void build(const analysis::model& model, bool client, bool complete);

    /// The ranks (0: fastest) kept of a column of `n` requests of one route, ascending: all
    /// of them up to maxPerColumn; else the fastest, the nearest ranks of p50, p75, p90, p95,
    /// p99 and p99.9, and the slowest, topped up to maxPerColumn with ranks spread evenly
    /// where percentiles coincide.
    [[nodiscard]] static std::vector<std::size_t> ranksKept(std::size_t n);
    /// The same into `ranks` (no allocation); returns how many.
    static std::size_t ranksKept(std::size_t n, std::array<std::size_t, maxPerColumn>& ranks);

    /// Requests the last decimate() chose among (every visible one, or the pyramid's picks).
    [[nodiscard]] std::size_t candidates() const noexcept { return m_candidateCount; }
    /// The pyramid level the last decimate() used; -1 when it looked at every request.
    [[nodiscard]] int level() const noexcept { return m_level; }
    /// Pyramid blocks chosen (not taken from what was kept) since the decimator began: what
    /// a live chart's refresh costs.
    [[nodiscard]] std::size_t blocksChosen() const noexcept { return m_blocksChosen; }

private:
    struct Entry {
        std::uint64_t latency;
        std::uint32_t request;
    };
    /// One level of the pyramid: block firstBlock + k's picks are picks[begin[k],
    /// begin[k + 1]), for the blocks chosen so far (a run from firstBlock). A provisional
    /// block (a request in it not answered yet, or never: its end was lost) is chosen again
    /// whenever asked; the others are final.
    struct Level {
        std::size_t firstBlock = 0;
        std::vector<std::uint32_t> begin{0};
        std::vector<std::uint32_t> picks;
        std::vector<std::uint8_t> provisional; ///< by k
        [[nodiscard]] std::size_t endBlock() const noexcept {
            return firstBlock + begin.size() - 1;
        }
    };

    /// Appends to `out` the picks of block `block` of level `level`: kept, or chosen now
    /// (and kept, provisional when not final). Returns whether the block is final.
    bool blockPicks(const analysis::model& model, std::size_t level, std::size_t block,
                    bool complete, std::vector<std::uint32_t>& out);
    /// Keeps in `picks` (request indices) the ones ranksKept() chooses per route, ordered
    /// by index.
    void choose(const analysis::model& model, std::vector<std::uint32_t>& picks);

    std::vector<Level> m_levels;
    bool m_client = false;
    // Scratch kept between calls (a live chart decimates ten times a second).
    std::vector<std::uint32_t> m_candidates;
    std::vector<std::uint32_t> m_columnOf;
    std::vector<std::uint32_t> m_columnEnd;
    std::vector<std::uint32_t> m_grouped; // candidates by column
    std::vector<Entry> m_group;
    std::size_t m_candidateCount = 0;
    std::size_t m_blocksChosen = 0;
    int m_level = -1;
};

} // namespace taskscope::ui
