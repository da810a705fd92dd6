// TensorBoard event files as Hugging Face's TensorBoardCallback (transformers 4.28, through
// torch.utils.tensorboard.SummaryWriter) writes them: <logging_dir>/events.out.tfevents.<time>.<host>.<pid>.<n>,
// a "brain.Event:2" record first, then one Event per scalar (simple_value) or text (the text plugin's
// DT_STRING tensor). Written from the published format, no TensorFlow or libprotobuf (LibTorch carries its
// own protobuf): TFRecord framing (uint64 length, masked CRC-32C of the length, data, masked CRC-32C of the
// data) around hand-encoded protobuf. Every record is flushed, so a running TensorBoard sees each point.
// Plain C++17, no LibTorch, no Qt.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace sumlab {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `size` bytes, and TFRecord's mask of it:
// ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t crc32c(const void* data, size_t size);
uint32_t masked_crc32c(const void* data, size_t size);

// HF's default logging_dir: <output_dir>/runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname> (local time, English month
// as Python's strftime("%b") in the C locale). A given logging_dir has its "~" expanded, as HF does.
std::string default_logging_dir(const std::string& output_dir);
std::string resolve_logging_dir(const std::optional<std::string>& logging_dir, const std::string& output_dir);

// HF's rewrite_logs for one key: "eval_loss" -> "eval/loss", "test_x" -> "test/x", any other -> "train/<key>".
std::string tensorboard_tag(const std::string& key);

class TensorBoardWriter {
public:
    // Creates log_dir (and its parents) and the event file; writes the file_version record.
    // Throws FileError naming the path when it cannot.
    explicit TensorBoardWriter(const std::string& log_dir);
    ~TensorBoardWriter();
    TensorBoardWriter(const TensorBoardWriter&) = delete;
    TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

    // SummaryWriter.add_scalar: Summary.Value{tag, simple_value (float32)} at `step`.
    void add_scalar(const std::string& tag, double value, int64_t step);
    // SummaryWriter.add_text: the tag gets "/text_summary", the text plugin's metadata and a DT_STRING tensor.
    void add_text(const std::string& tag, const std::string& text, int64_t step = 0);
    // SummaryWriter.add_hparams(hparams, metric_dict={}), as TensorBoardCallback.on_train_begin calls it
    // with args.to_sanitized_dict(): a second event file in <log_dir>/<str(time.time())>/ holding the
    // hparams plugin's experiment, session_start_info and session_end_info (STATUS_SUCCESS) summaries.
    // `hparams` is a flat object; numbers and booleans (Python's bool is an int there) become number_value
    // and FLOAT64, strings string_value and STRING; null is "None" and a list its JSON text (to_sanitized_dict's
    // str(): Python would write ['tensorboard'] where SumLab writes ["tensorboard"]).
    void add_hparams(const nlohmann::json& hparams);
    // TensorBoardCallback.on_log for a metrics.jsonl line: every number but "step" (the x axis) and
    // "max_steps" (a constant) as a scalar named by tensorboard_tag, at the line's "step".
    void add_logs(const nlohmann::json& line);

    const std::string& path() const { return path_; }  // the event file

private:
    void write_event(const std::string& fields_after_wall_time);
    void write_summary(const std::string& value, int64_t step);

    std::string log_dir_, path_;
    std::FILE* file_ = nullptr;
};

}  // namespace sumlab
