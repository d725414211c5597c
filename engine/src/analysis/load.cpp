#include "taskscope/analysis/load.hpp"

namespace taskscope::analysis {

loaded_trace load_model(const std::filesystem::path& file, const load_progress& progress,
                        model_options options) {
    trace::file_reader reader(file);
    loaded_trace out;
    out.info = reader.info();
    out.trace = std::make_unique<model>(options);
    model& m = *out.trace;
    trace::read_all(reader, [&](std::span<const trace::event> chunk, const auto& names) {
        m.set_names(names);
        m.consume(chunk);
        if (progress && !progress(reader.progress_bytes(), reader.file_bytes())) {
            out.cancelled = true;
            return false;
        }
        return true;
    });
    if (!out.cancelled) { // a cancelled load is dropped: not worth finishing
        m.finish();
    }
    out.report = reader.report();
    return out;
}

} // namespace taskscope::analysis
