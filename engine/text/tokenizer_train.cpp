#include "engine/text/tokenizer_train.h"

#include "engine/text/tokenizer.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "base/staged_folder.h"

#include <nlohmann/json.hpp>

#include <chrono>

namespace sumlab {

namespace {

bool is_blank(const std::string& s) {
    for (char c : s)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\v' && c != '\f') return false;
    return true;
}

void append_lines(const std::string& text, std::vector<std::string>& out) {
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!is_blank(line)) out.push_back(std::move(line));
        start = end + 1;
    }
}

std::string join(const std::vector<std::string>& items, char sep) {
    std::string s;
    for (const auto& x : items) s += (s.empty() ? "" : std::string(1, sep)) + x;
    return s;
}

nlohmann::json extra_id_tokens(int64_t extra_ids) {
    nlohmann::json list = nlohmann::json::array();
    for (int64_t i = 0; i < extra_ids; ++i) list.push_back("<extra_id_" + std::to_string(i) + ">");
    return list;
}

}  // namespace

std::vector<std::string> dialogsum_speaker_symbols() {
    // As user_defined_symbols each tag is one piece wherever it occurs, instead of the 4-5 pieces the
    // unigram trainer makes of it ("▁", "#", "Person", "1#"): SentencePiece never merges across its
    // script and number boundaries. The "▁" form swallows the space before the tag (every turn and most
    // mentions in summaries), the bare form covers "(#Person2#)". On DialogSum's first 2,000 training
    // dialogues at 2,000 pieces this cut a dialogue from 239 to 211 tokens, and a summary's speakers
    // are then always spelled exactly as in the dialogue.
    std::vector<std::string> symbols;
    for (int i = 1; i <= 9; ++i) symbols.push_back("\xe2\x96\x81#Person" + std::to_string(i) + "#");
    for (int i = 1; i <= 9; ++i) symbols.push_back("#Person" + std::to_string(i) + "#");
    return symbols;
}

std::vector<std::string> tokenizer_training_sentences(const DialogSumSplit& split, const PromptTemplate& prompt) {
    // Lines, as spm_train reads a text file: a whole dialogue can exceed max_sentence_length, and the
    // model's inputs lose their newlines to nmt_nfkc anyway. The prompt is rendered around every dialogue,
    // so its words (in every encoder input) are whole pieces.
    std::vector<std::string> sentences;
    for (const auto& ex : split.examples) {
        append_lines(prompt.render(ex.dialogue), sentences);
        for (const auto& ref : ex.references) append_lines(ref, sentences);
    }
    return sentences;
}

std::vector<std::pair<std::string, std::string>> t5_sentencepiece_options(int64_t vocab_size, int num_threads) {
    return {
        {"model_type", "unigram"},  // T5's
        {"vocab_size", std::to_string(vocab_size)},
        // T5's ids: pad 0, eos 1, unk 2, no bos; the extra ids come after the pieces (T5Tokenizer adds them).
        {"pad_id", "0"},
        {"eos_id", "1"},
        {"unk_id", "2"},
        {"bos_id", "-1"},
        {"pad_piece", "<pad>"},
        {"eos_piece", "</s>"},
        {"unk_piece", "<unk>"},
        // T5's normaliser (NFKC, whitespace runs collapsed, a dummy prefix "▁").
        {"normalization_rule_name", "nmt_nfkc"},
        {"add_dummy_prefix", "true"},
        {"remove_extra_whitespaces", "true"},
        // DialogSum is English with 89 distinct characters after NFKC: covering all of them costs ~1% of
        // an 8,000 vocabulary and leaves no <unk> in the data (SentencePiece's advice for small alphabets;
        // 0.9995 is for CJK-sized ones).
        {"character_coverage", "1.0"},
        // DialogSum's ~200k lines are all used; a larger corpus is sampled (with the seed) to bound memory.
        {"input_sentence_size", "2000000"},
        {"shuffle_input_sentence", "true"},
        // Bytes; DialogSum's longest line is ~1,400. Longer lines would be dropped silently, so be generous.
        {"max_sentence_length", "65536"},
        {"split_digits", "false"},   // T5's
        {"byte_fallback", "false"},  // T5's: rare characters are <unk>, as T5Tokenizer expects
        {"user_defined_symbols", join(dialogsum_speaker_symbols(), ',')},
        // EM statistics are summed per thread: a fixed count keeps the result the same on every machine.
        {"num_threads", std::to_string(num_threads)},
        // No model_prefix: the trainer returns the model's bytes instead of writing files (they exclude each other).
    };
}

std::string t5_tokenizer_config_json(int64_t extra_ids, int64_t model_max_length) {
    // json.dumps(..., indent=2, sort_keys=True) + "\n": nlohmann's object keeps its keys sorted.
    nlohmann::json j;
    j["additional_special_tokens"] = extra_id_tokens(extra_ids);
    j["clean_up_tokenization_spaces"] = true;
    j["eos_token"] = "</s>";
    j["extra_ids"] = extra_ids;
    j["model_max_length"] = model_max_length;  // FLAN-T5's; the lab truncates at 512
    j["pad_token"] = "<pad>";
    j["sp_model_kwargs"] = nlohmann::json::object();
    j["tokenizer_class"] = "T5Tokenizer";
    j["unk_token"] = "<unk>";
    return j.dump(2) + "\n";
}

std::string t5_special_tokens_map_json(int64_t extra_ids) {
    nlohmann::json j;
    j["additional_special_tokens"] = extra_id_tokens(extra_ids);
    j["eos_token"] = "</s>";
    j["pad_token"] = "<pad>";
    j["unk_token"] = "<unk>";
    return j.dump(2) + "\n";
}

TokenizerTrainResult train_t5_tokenizer(const TokenizerTrainOptions& options) {
    if (options.vocab_size < 32 || options.vocab_size > 1'000'000)
        throw ConfigError("tokenizer training", "vocab_size", "must be between 32 and 1000000, got " + std::to_string(options.vocab_size));
    if (options.num_threads < 1 || options.num_threads > 256)
        throw ConfigError("tokenizer training", "num_threads", "must be between 1 and 256");
    require_free_output_folder(options.output_dir);  // before minutes of training

    LoadOptions load;
    load.split = Split::train;
    load.lone_file_split = Split::train;
    DialogSumDataset data = load_dialogsum(options.data_path, load);
    DialogSumSplit train = data.at(Split::train);
    if (options.limit > 0 && train.examples.size() > options.limit) train.examples.resize(options.limit);
    const PromptTemplate prompt = resolve_prompt(options.prompt);
    const std::vector<std::string> sentences = tokenizer_training_sentences(train, prompt);

    TokenizerTrainResult result;
    result.examples = train.examples.size();
    result.sentences = sentences.size();
    const auto start = std::chrono::steady_clock::now();
    const std::string model = train_sentencepiece(sentences, t5_sentencepiece_options(options.vocab_size, options.num_threads),
                                                  options.seed, options.verbose, train.path);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    StagedFolder out(options.output_dir);
    write_atomically(join_path(out.path(), "spiece.model"), model);
    write_atomically(join_path(out.path(), "tokenizer_config.json"), t5_tokenizer_config_json(result.extra_ids));
    write_atomically(join_path(out.path(), "special_tokens_map.json"), t5_special_tokens_map_json(result.extra_ids));
    // Read back the pieces as the model's users will (and check the file is a model SumLab loads).
    const T5Tokenizer tokenizer = T5Tokenizer::from_directory(out.path());
    result.pieces = tokenizer.vocab_size() - result.extra_ids;
    result.vocab_size = tokenizer.vocab_size();
    out.commit();
    result.spiece_path = join_path(out.final_path(), "spiece.model");
    return result;
}

}  // namespace sumlab
