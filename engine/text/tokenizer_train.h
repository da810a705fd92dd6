// A T5 tokenizer learned from DialogSum: a SentencePiece unigram model trained (through the plugin, see
// tokenizer.h) on the training split's prompted dialogues and summaries, with T5's special ids (pad 0,
// eos 1, unk 2, no bos) and 100 <extra_id_*> tokens that T5Tokenizer appends after the pieces. The folder
// holds spiece.model, tokenizer_config.json and special_tokens_map.json as transformers 4.28's
// T5Tokenizer.save_pretrained writes them, so both SumLab and T5Tokenizer.from_pretrained load it.
//
// Data flow: load_dialogsum() -> tokenizer_training_sentences() -> train_sentencepiece() -> the folder.
// The same data, options and seed give the same spiece.model, byte for byte.
#pragma once

#include "engine/data/dialogsum.h"
#include "engine/data/prompt.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sumlab {

struct TokenizerTrainOptions {
    std::string data_path;           // a DialogSum folder or file; its training split is used
    std::string output_dir;          // must not exist, or be an empty folder
    int64_t vocab_size = 8000;       // SentencePiece pieces, specials and speaker tags included
    std::string prompt = "dialogsum";  // a preset name or template: the text every model input is wrapped in
    uint32_t seed = 42;              // the trainer's random generator (sampling when the data is larger)
    int num_threads = 2;             // EM threads; part of the result (sums are split per thread), so fixed
    size_t limit = 0;                // use only the first `limit` training examples (0: all)
    bool verbose = false;            // SentencePiece's own progress log on stderr
};

struct TokenizerTrainResult {
    std::string spiece_path;
    int64_t pieces = 0;      // SentencePiece vocabulary
    int64_t extra_ids = 100;
    int64_t vocab_size = 0;  // pieces + extra_ids: HF's len(tokenizer), the least config.json's vocab_size may be
    size_t examples = 0;     // training dialogues used
    size_t sentences = 0;    // lines handed to the trainer
    double seconds = 0;      // training time
};

// DialogSum's speaker tags kept whole: "▁#Person1#" (after a space, as every turn starts) and "#Person1#"
// (after "(" and the like), for speakers 1-9.
std::vector<std::string> dialogsum_speaker_symbols();

// The trainer's input: every non-blank line of each example's prompted dialogue (prompt.render), then
// every non-blank line of its reference summaries.
std::vector<std::string> tokenizer_training_sentences(const DialogSumSplit& split, const PromptTemplate& prompt);

// spm_train flags for a T5 unigram model of `vocab_size` pieces (the reasons are in the .cpp).
std::vector<std::pair<std::string, std::string>> t5_sentencepiece_options(int64_t vocab_size, int num_threads);

// tokenizer_config.json / special_tokens_map.json as T5Tokenizer (transformers 4.28) saves them.
std::string t5_tokenizer_config_json(int64_t extra_ids = 100, int64_t model_max_length = 512);
std::string t5_special_tokens_map_json(int64_t extra_ids = 100);

// Loads the training split, trains, and publishes the folder whole (see StagedFolder). Throws FileError /
// DataError / ConfigError naming the file and the problem; FileError when output_dir is not free.
TokenizerTrainResult train_t5_tokenizer(const TokenizerTrainOptions& options);

}  // namespace sumlab
