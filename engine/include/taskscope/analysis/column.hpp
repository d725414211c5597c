#pragma once
// `column<T>`: the growable array the analysis model keeps its derived records in.
//
// A std::vector doubles by copying; with hundreds of megabytes of polls that copy (and
// the page faults of the new block) stalls whoever appends, which for a live window is
// the GUI thread. A column grows by adding segments of doubling size instead: nothing
// already stored moves, so references stay valid, appends cost the same at any size, and
// memory is touched once. (Asking for transparent huge pages was measured too: it made
// opening a 10-million-event trace take anywhere from 0.2 to 0.7 s, against a steady
// 0.27 s without, so columns take ordinary pages.)
//
// Touching memory for the first time costs a page fault per 4 KiB, and on a virtual
// machine a fault costs far more than the record written into it: on one such machine,
// faulting in 300 MB took 0.93 s page by page and 0.47 s asked for in 512 KiB steps with
// MADV_POPULATE_WRITE. So segments of 128 KiB and more come from mmap, and on Linux each
// next 512 KiB (or the whole segment) is populated in one call as the appends reach it (never more
// than the column uses plus one step, so resident memory still follows what is stored).
//
// Segment k holds `first << max(k - 1, 0)` elements: 2^b, 2^b, 2^(b+1), 2^(b+2), ... up to
// a page of 2^p elements (at most 256 KiB), then pages: index i below 2^p lives in segment
// bit_width(i >> b) at offset i - (first << (segment - 1)); above, in segment (i >> p) + p - b.
//
// A live window keeps only its last minutes (forget_before): whole segments below the first
// kept index are given back, and every index stays what it was, so records that refer to
// each other by index need no renumbering. begin() is the first kept record.

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace taskscope::analysis {

namespace detail {

/// Memory for large column segments: mapped directly on Linux, so it can be populated
/// ahead of the appends in batches; the heap elsewhere.
struct segment_memory {
    static constexpr std::size_t mapped_from = std::size_t{128} << 10; ///< bytes
    static constexpr std::size_t populate_step = std::size_t{512} << 10;

    [[nodiscard]] static bool mapped(std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
        return bytes >= mapped_from;
#else
        (void)bytes;
        return false;
#endif
    }

    static void* allocate(std::size_t bytes, std::size_t alignment) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
        if (mapped(bytes)) {
            void* p =
                ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                throw std::bad_alloc();
            }
            return p;
        }
#endif
        return ::operator new (bytes, std::align_val_t{alignment});
    }

    static void release(void* p, [[maybe_unused]] std::size_t bytes,
                        std::size_t alignment) noexcept {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
        if (mapped(bytes)) {
            ::munmap(p, bytes);
            return;
        }
#endif
        ::operator delete (p, std::align_val_t{alignment});
    }

    /// Populates [from, from + populate_step) clipped to `end`; returns the new end of
    /// what is populated. A kernel without MADV_POPULATE_WRITE (before 5.14) says no, and
    /// the pages fault in one by one as before.
    static char* populate(char* from, char* end) noexcept {
        char* to =
            from + std::min<std::size_t>(populate_step, static_cast<std::size_t>(end - from));
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
        ::madvise(from, static_cast<std::size_t>(to - from), MADV_POPULATE_WRITE);
#endif
        return to;
    }
};

} // namespace detail

template <typename T>
class column {
    static_assert(std::is_trivially_destructible_v<T> && std::is_trivially_copyable_v<T>,
                  "columns hold plain records");
    static constexpr std::size_t first_bits = 8; // 256 elements in the first two segments
    static constexpr std::size_t first = std::size_t{1} << first_bits;
    // Then pages of at most 256 KiB: a column that keeps only a few recent records (a live
    // window's retention) holds little more than them.
    static constexpr std::size_t page_bits =
        std::max<std::size_t>(first_bits, std::bit_width((std::size_t{256} << 10) / sizeof(T)) - 1);
    static constexpr std::size_t page = std::size_t{1} << page_bits;
    static constexpr std::size_t first_page_segment = page_bits - first_bits + 1;

public:
    using value_type = T;
    using size_type = std::size_t;
    using difference_type = std::ptrdiff_t;
    using reference = T&;
    using const_reference = const T&;

    template <bool Const>
    class basic_iterator {
    public:
        using iterator_category = std::random_access_iterator_tag;
        using iterator_concept = std::random_access_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using owner = std::conditional_t<Const, const column, column>;
        using reference = std::conditional_t<Const, const T&, T&>;
        using pointer = std::conditional_t<Const, const T*, T*>;

        basic_iterator() = default;
        basic_iterator(owner* c, std::size_t i) : m_column(c), m_index(i) {}
        operator basic_iterator<true>() const { return {m_column, m_index}; }

        reference operator*() const { return (*m_column)[m_index]; }
        pointer operator->() const { return &(*m_column)[m_index]; }
        reference operator[](difference_type n) const {
            return (*m_column)[static_cast<std::size_t>(static_cast<difference_type>(m_index) + n)];
        }
        basic_iterator& operator++() {
            ++m_index;
            return *this;
        }
        basic_iterator operator++(int) {
            auto copy = *this;
            ++m_index;
            return copy;
        }
        basic_iterator& operator--() {
            --m_index;
            return *this;
        }
        basic_iterator operator--(int) {
            auto copy = *this;
            --m_index;
            return copy;
        }
        basic_iterator& operator+=(difference_type n) {
            m_index = static_cast<std::size_t>(static_cast<difference_type>(m_index) + n);
            return *this;
        }
        basic_iterator& operator-=(difference_type n) { return *this += -n; }
        friend basic_iterator operator+(basic_iterator it, difference_type n) { return it += n; }
        friend basic_iterator operator+(difference_type n, basic_iterator it) { return it += n; }
        friend basic_iterator operator-(basic_iterator it, difference_type n) { return it -= n; }
        friend difference_type operator-(const basic_iterator& a, const basic_iterator& b) {
            return static_cast<difference_type>(a.m_index) -
                   static_cast<difference_type>(b.m_index);
        }
        friend bool operator==(const basic_iterator& a, const basic_iterator& b) {
            return a.m_index == b.m_index;
        }
        friend auto operator<=>(const basic_iterator& a, const basic_iterator& b) {
            return a.m_index <=> b.m_index;
        }
        [[nodiscard]] std::size_t index() const noexcept { return m_index; }

    private:
        owner* m_column = nullptr;
        std::size_t m_index = 0;
    };
    using iterator = basic_iterator<false>;
    using const_iterator = basic_iterator<true>;

    column() = default;
    column(const column& other) : m_size(other.m_first), m_first(other.m_first) {
        for (const T& v : other) {
            push_back(v);
        }
    }
    column(column&& other) noexcept
        : m_segments(std::exchange(other.m_segments, {}))
        , m_size(std::exchange(other.m_size, 0))
        , m_first(std::exchange(other.m_first, 0))
        , m_populated(std::exchange(other.m_populated, nullptr)) {}
    column& operator=(column other) noexcept {
        std::swap(m_segments, other.m_segments);
        std::swap(m_size, other.m_size);
        std::swap(m_first, other.m_first);
        std::swap(m_populated, other.m_populated);
        return *this;
    }
    ~column() { release(); }

    /// One past the last index ever appended (indices of forgotten records count too).
    [[nodiscard]] std::size_t size() const noexcept { return m_size; }
    /// No record kept.
    [[nodiscard]] bool empty() const noexcept { return m_size == m_first; }
    /// The first index still held: [first_kept(), size()) can be read.
    [[nodiscard]] std::size_t first_kept() const noexcept { return m_first; }
    /// Records kept.
    [[nodiscard]] std::size_t kept() const noexcept { return m_size - m_first; }
    /// Lets go of every record below `index` (at most size()): they can no longer be read,
    /// and the segments wholly below it are given back. Later indices do not change.
    void forget_before(std::size_t index) noexcept {
        index = std::min(index, m_size);
        if (index <= m_first) {
            return;
        }
        for (std::size_t s = segment_of(m_first);
             s < m_segments.size() && segment_start(s) + segment_length(s) <= index; ++s) {
            if (m_segments[s] != nullptr) {
                detail::segment_memory::release(m_segments[s], segment_length(s) * sizeof(T),
                                                alignof(T));
                m_segments[s] = nullptr;
            }
        }
        m_first = index;
    }

    // Reading a record let go (below first_kept()) is a bug even where its page is still
    // there: debug builds (the sanitizer runs in CI) stop at it.
    [[nodiscard]] T& operator[](std::size_t i) noexcept {
        assert(i >= m_first && i < m_size);
        const std::size_t s = segment_of(i);
        return m_segments[s][i - segment_start(s)];
    }
    [[nodiscard]] const T& operator[](std::size_t i) const noexcept {
        assert(i >= m_first && i < m_size);
        const std::size_t s = segment_of(i);
        return m_segments[s][i - segment_start(s)];
    }
    [[nodiscard]] T& front() noexcept { return (*this)[m_first]; }
    [[nodiscard]] const T& front() const noexcept { return (*this)[m_first]; }
    [[nodiscard]] T& back() noexcept { return (*this)[m_size - 1]; }
    [[nodiscard]] const T& back() const noexcept { return (*this)[m_size - 1]; }

    void push_back(const T& value) { new (slot_for_append()) T(value); }
    template <typename... Args>
    T& emplace_back(Args&&... args) {
        T* p = new (slot_for_append()) T{std::forward<Args>(args)...};
        return *p;
    }
    void pop_back() noexcept { --m_size; }
    /// Inserts before `at`, moving the later elements up by one (rare: late events).
    void insert(const_iterator at, const T& value) {
        const std::size_t index = at.index();
        push_back(value);
        for (std::size_t i = m_size - 1; i > index; --i) {
            (*this)[i] = (*this)[i - 1];
        }
        (*this)[index] = value;
    }
    void clear() noexcept {
        release();
        m_size = 0;
        m_first = 0;
    }

    [[nodiscard]] iterator begin() noexcept { return {this, m_first}; }
    [[nodiscard]] iterator end() noexcept { return {this, m_size}; }
    [[nodiscard]] const_iterator begin() const noexcept { return {this, m_first}; }
    [[nodiscard]] const_iterator end() const noexcept { return {this, m_size}; }
    [[nodiscard]] const_iterator cbegin() const noexcept { return begin(); }
    [[nodiscard]] const_iterator cend() const noexcept { return end(); }

    /// Memory held, for the window's per-event budget.
    [[nodiscard]] std::size_t capacity_bytes() const noexcept {
        std::size_t n = 0;
        for (std::size_t s = 0; s < m_segments.size(); ++s) {
            n += m_segments[s] != nullptr ? segment_length(s) * sizeof(T) : 0;
        }
        return n;
    }

private:
    static std::size_t segment_of(std::size_t i) noexcept {
        if (i >= page) {
            return (i >> page_bits) + first_page_segment - 1;
        }
        return static_cast<std::size_t>(std::bit_width(i >> first_bits));
    }
    static std::size_t segment_start(std::size_t s) noexcept {
        if (s >= first_page_segment) {
            return (s - first_page_segment + 1) << page_bits;
        }
        return s == 0 ? 0 : first << (s - 1);
    }
    static std::size_t segment_length(std::size_t s) noexcept {
        if (s >= first_page_segment) {
            return page;
        }
        return s == 0 ? first : first << (s - 1);
    }

    T* slot_for_append() {
        const std::size_t s = segment_of(m_size);
        if (s >= m_segments.size()) {
            m_segments.resize(s + 1, nullptr);
        }
        if (m_segments[s] == nullptr) {
            m_segments[s] = allocate(segment_length(s));
            m_populated = nullptr;
        }
        T* p = m_segments[s] + (m_size - segment_start(s));
        if (reinterpret_cast<char*>(p + 1) > m_populated) {
            populate_ahead(s, p);
        }
        ++m_size;
        return p;
    }

    void populate_ahead(std::size_t s, T* p) noexcept {
        char* end = reinterpret_cast<char*>(m_segments[s] + segment_length(s));
        if (!detail::segment_memory::mapped(segment_length(s) * sizeof(T))) {
            m_populated = end; // heap memory: faults page by page
            return;
        }
        char* from = std::max(m_populated, reinterpret_cast<char*>(p));
        if (from < reinterpret_cast<char*>(m_segments[s])) {
            from = reinterpret_cast<char*>(m_segments[s]);
        }
        m_populated = detail::segment_memory::populate(from, end);
        if (reinterpret_cast<char*>(p + 1) > m_populated) {
            m_populated = end; // a record larger than a step: let it fault
        }
    }

    static T* allocate(std::size_t n) {
        return static_cast<T*>(detail::segment_memory::allocate(n * sizeof(T), alignof(T)));
    }

    void release() noexcept {
        for (std::size_t s = 0; s < m_segments.size(); ++s) {
            if (m_segments[s] != nullptr) {
                detail::segment_memory::release(m_segments[s], segment_length(s) * sizeof(T),
                                                alignof(T));
            }
        }
        m_segments.clear();
        m_populated = nullptr;
    }

    std::vector<T*> m_segments; ///< nullptr: forgotten (or not reached yet)
    std::size_t m_size = 0;
    std::size_t m_first = 0;
    char* m_populated = nullptr; ///< the end of what is populated in the last segment
};

} // namespace taskscope::analysis
