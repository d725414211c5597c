#pragma once
// Where the trace in the window comes from, as one value. The title, the status bar, the
// queue strip, Save, Export and Replay all read it, so they cannot disagree; each way of
// filling the document (a live start, a lesson, an opened file) replaces it whole.

#include <QString>
#include <filesystem>

namespace taskscope::ui {

struct DocumentSource {
    enum class Kind {
        nothing,  ///< the window has just opened
        live,     ///< the engine runs in the window
        lesson,   ///< a lesson runs, or ran and its recording is shown
        file,     ///< a .tstrace opened from disk
        attached, ///< a program of the user's own, watched live over its trace stream
    };

    Kind kind = Kind::nothing;
    /// The trace file behind the document: the opened file, the lesson's recording once it
    /// has ended, the live run's last finished recording, or an attached program's once it
    /// ended or was detached. Empty while there is none.
    std::filesystem::path file;
    /// The lesson's name (Kind::lesson).
    QString lesson;
    /// Where the watched program serves its trace, "HOST:PORT" (Kind::attached).
    QString address;

    [[nodiscard]] static DocumentSource liveRun() { return {Kind::live, {}, {}, {}}; }
    [[nodiscard]] static DocumentSource lessonRun(QString name) {
        return {Kind::lesson, {}, std::move(name), {}};
    }
    [[nodiscard]] static DocumentSource openedFile(std::filesystem::path path) {
        return {Kind::file, std::move(path), {}, {}};
    }
    [[nodiscard]] static DocumentSource attachedTo(QString address) {
        return {Kind::attached, {}, {}, std::move(address)};
    }

    [[nodiscard]] bool hasFile() const noexcept { return !file.empty(); }
};

} // namespace taskscope::ui
