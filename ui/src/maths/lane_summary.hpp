#pragma once
// Level-of-detail for one timeline lane: what to draw for its polls at any zoom, in time
// proportional to the pixels on screen, not to the polls in view.
//
// Level 0 cuts time into buckets of `baseBucketNs`; each level above halves the count by
// merging pairs. A bucket keeps the time spent polling in it, the task of its longest poll
// (its colour) and whether any poll in it blocked the thread. Zoomed out, the draw list
// reads the level whose buckets are at most a pixel wide; zoomed in past level 0, it walks
// the polls themselves and folds the ones narrower than a pixel.
//
// Built once when a file opens and extended as live events arrive (update() looks only at
// polls added since its last call). Levels hold only buckets with polling in them, by
// bucket number, so an idle stretch costs nothing and a live window that lets go of its
// oldest minutes (forgetBefore) gives their buckets back: memory follows the polls kept,
// not the time.

#include "maths/time_scale.hpp"
#include "taskscope/analysis/model.hpp"

#include <cstdint>
#include <deque>
#include <vector>

namespace taskscope::ui {

/// One rectangle of a lane, in pixels.
struct DrawItem {
    double x0 = 0;
    double x1 = 0;
    analysis::task_ref task = analysis::no_task; ///< the colour: the longest poll's task
    float occupancy = 1.0f;                      ///< share of the item's time spent polling
    bool blocked = false;                        ///< a poll in it blocked its thread
    std::uint32_t pollIndex = UINT32_MAX;        ///< the poll, when the item is exactly one
    [[nodiscard]] bool single() const noexcept { return pollIndex != UINT32_MAX; }
};

class LaneSummary {
public:
    static constexpr std::uint64_t baseBucketNs = std::uint64_t{1} << 16; // ~65.5 us

    struct Bucket {
        std::uint64_t index = 0; ///< its number at its level: it starts at origin + index * width
        std::uint64_t busyNs = 0;
        std::uint64_t longestNs = 0;
        analysis::task_ref task = analysis::no_task;
        bool blocked = false;
    };
    /// A level's buckets with polling in them, by ascending index (a deque: forgetting the
    /// oldest gives their memory back, however few are kept).
    using Level = std::deque<Bucket>;

    /// Forgets everything; buckets start at `originNs` (the trace's first event).
    void reset(std::uint64_t originNs);
    /// Takes the polls of `lane` added (or closed) since the last call.
    void update(const analysis::lane& lane);
    /// Lets go of the buckets wholly before `cutNs` (the lane's polls before it are gone).
    void forgetBefore(std::uint64_t cutNs);

    /// The rectangles for the visible range of `scale`, left to right, at most about one
    /// per pixel where polls are narrower than a pixel.
    void drawList(const analysis::lane& lane, const TimeScale& scale,
                  std::vector<DrawItem>& out) const;

    [[nodiscard]] std::size_t levelCount() const noexcept { return m_levels.size(); }
    [[nodiscard]] const Level& level(std::size_t l) const { return m_levels[l]; }
    /// The bucket `index` of level `l` (an empty one where nothing was polled).
    [[nodiscard]] Bucket bucket(std::size_t l, std::uint64_t index) const;
    [[nodiscard]] std::size_t memoryBytes() const noexcept;

private:
    void addPoll(const analysis::poll_span& p);
    void rebuildAbove(std::uint64_t firstDirty);

    std::uint64_t m_origin = 0;
    std::size_t m_pollsDone = 0; // polls[0, m_pollsDone) are in the buckets
    std::vector<Level> m_levels;
};

} // namespace taskscope::ui
