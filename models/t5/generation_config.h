// GenerationConfig: the decoding settings of Hugging Face's GenerationConfig (transformers 4.28) that SumLab
// implements, and generation_settings(), the one description of each: HF key, flag, range, help. That table
// reads and writes generation_config.json and results provenance, makes the `generate` / `evaluate` flags and
// the Compare and Evaluate pages' settings form, and formats the settings for people.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sumlab {

struct T5Config;

struct GenerationConfig {
    int64_t max_length = 20;                       // HF default; counts the decoder start token
    std::optional<int64_t> max_new_tokens;         // overrides max_length when set
    int64_t min_length = 0;
    int64_t min_new_tokens = 0;
    int64_t num_beams = 1;
    bool early_stopping = false;
    double length_penalty = 1.0;
    int64_t no_repeat_ngram_size = 0;
    double repetition_penalty = 1.0;
    // Sampling (HF's sample(): processors, then warpers temperature -> top_k -> top_p -> typical_p, softmax,
    // torch.multinomial). HF's defaults.
    bool do_sample = false;
    double temperature = 1.0;
    int64_t top_k = 50;  // 0 = off
    double top_p = 1.0;
    double typical_p = 1.0;
    int64_t num_return_sequences = 1;  // samples per input (do_sample only here)
    int64_t seed = 0;                  // SumLab's: seeds the draws, so a seed gives the same summaries every time
    int64_t decoder_start_token_id = 0;
    int64_t eos_token_id = 1;
    int64_t pad_token_id = 0;

    // Defaults from the model config, then generation_config.json when present (HF's order).
    static GenerationConfig from_model_dir(const std::string& dir, const T5Config& model);
    // Reads the table's keys and the token ids from a generation_config.json object; other keys are ignored,
    // as transformers keeps attributes it does not know.
    void apply_json(const nlohmann::json& j, const std::string& path);
    void validate(const std::string& where) const;
    // Number of tokens to generate after the start token.
    int64_t resolved_max_new_tokens() const { return max_new_tokens ? *max_new_tokens : max_length - 1; }
};

// One row of the generation settings table.
struct GenerationSettingSpec {
    enum class Kind { integer, real, boolean };
    std::string key;       // HF GenerationConfig's attribute: "num_beams"
    std::string flag;      // sumlab-cli flag: "--num-beams"
    Kind kind = Kind::integer;
    std::string help;      // one sentence: --help, the GUI's tooltip; says why where SumLab bounds what HF does not
    std::string origin;    // where users know the key from: "Hugging Face: num_beams"
    double min = 0, max = 0;   // HF 4.28's range; max is SumLab's where HF has none (the help says why)
    bool is_min_exclusive = false;  // (min, max]: HF wants a strictly positive value (temperature, penalties)
    bool is_nullable = false;  // null is a value (max_new_tokens: use max_length)
    bool is_flag = false;      // a flag of `generate` and `evaluate`
    bool is_form = false;      // on the Compare / Evaluate pages' form
    bool is_sampling = false;  // used only with do_sample (the form's second row, enabled by do_sample)
    std::function<nlohmann::json(const GenerationConfig&)> get;
    std::function<void(GenerationConfig&, const nlohmann::json&)> set;  // value already checked
};
const std::vector<GenerationSettingSpec>& generation_settings();
// The help with its origin, as --help shows it.
std::string generation_setting_help(const GenerationSettingSpec& s);
// "[1, 256]", "(0, 100]": the row's range as the errors, --help and tests show it.
std::string generation_range_text(const GenerationSettingSpec& s);
// The smallest value a field with `step` resolution can offer: min, or min + step when min is excluded.
double generation_lowest_value(const GenerationSettingSpec& s, double step);
// The row of `key`, or ConfigError(where, key) when there is none.
const GenerationSettingSpec& generation_setting(const std::string& key, const std::string& where);
// Type and range of a value for its row; ConfigError(where, key, why) otherwise.
void check_generation_value(const GenerationSettingSpec& s, const nlohmann::json& v, const std::string& where);
// Sets {key: value, ...} on `config`, each checked against its row; an unknown key is a ConfigError.
void apply_generation_settings(GenerationConfig& config, const nlohmann::json& values, const std::string& where);
// {key: value} of the form's rows (is_form), in table order.
nlohmann::json generation_form_values(const GenerationConfig& config);

// Every setting in the table plus the token ids, with max_new_tokens resolved: what a results provenance
// records and `info` prints.
nlohmann::ordered_json generation_to_json(const GenerationConfig& config);
// generation_config.json as save_pretrained writes it: the token ids and the settings that differ from HF's
// defaults.
nlohmann::ordered_json generation_config_file(const GenerationConfig& config);
// "max_new_tokens=200, num_beams=1, ..." for the table keys present in `values`, in table order.
std::string describe_generation(const nlohmann::json& values);

}  // namespace sumlab
