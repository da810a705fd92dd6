// T5Tokenizer with Hugging Face's semantics (transformers 4.28 slow tokenizer, legacy mode):
// special tokens split out first (whitespace around them stripped), SentencePiece for the rest,
// `</s>` appended, `<extra_id_N>` = vocab_size - 1 - N, pad 0, and decode that joins pieces
// through SentencePiece and cleans up spaces as HF does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sumlab {

class SentencePieceModel;

class T5Tokenizer {
public:
    // Loads `spiece.model` (and `extra_ids` from tokenizer_config.json when present) from a model folder.
    static T5Tokenizer from_directory(const std::string& dir);
    T5Tokenizer(const std::string& spiece_path, int extra_ids = 100);

    // Pieces as HF's tokenize(): special tokens whole, SentencePiece pieces otherwise; no </s>.
    std::vector<std::string> tokenize(const std::string& text) const;

    // Ids as HF's tokenizer(text, max_length=N, truncation=True): </s> appended when add_eos;
    // max_length > 0 truncates and keeps the final </s>.
    std::vector<int64_t> encode(const std::string& text, bool add_eos = true, int64_t max_length = 0) const;

    // HF's decode(ids, skip_special_tokens, clean_up_tokenization_spaces=True).
    std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = true) const;

    int64_t token_to_id(const std::string& token) const;
    std::string id_to_token(int64_t id) const;
    bool is_special_id(int64_t id) const;

    int64_t vocab_size() const { return sp_size_ + extra_ids_; }  // HF's tokenizer.vocab_size (not config's)
    int64_t extra_ids() const { return extra_ids_; }  // the <extra_id_*> sentinels
    int64_t pad_token_id() const { return pad_id_; }
    int64_t eos_token_id() const { return eos_id_; }
    int64_t unk_token_id() const { return unk_id_; }
    const std::string& model_path() const { return path_; }

private:
    std::shared_ptr<const SentencePieceModel> sp_;
    std::string path_;
    int64_t sp_size_ = 0;
    int64_t extra_ids_ = 0;
    int64_t pad_id_ = 0, eos_id_ = 1, unk_id_ = 2;
    std::vector<std::string> special_tokens_;  // </s>, <unk>, <pad>, <extra_id_0..N-1>
};

// Trains a SentencePiece model through the plugin: `sentences` are the training text, one sentence each,
// `options` spm_train's flags (name, value), `seed` the trainer's random seed. Returns the bytes of the .model
// file. Throws FileError when the plugin cannot be loaded or has no trainer, DataError naming `what` (the
// data's path) with the trainer's message when training fails (too few sentences for the vocabulary, say).
std::string train_sentencepiece(const std::vector<std::string>& sentences,
                                const std::vector<std::pair<std::string, std::string>>& options, unsigned seed,
                                bool verbose, const std::string& what);

// Where the SentencePiece plugin was found (for diagnostics); loads it on first use.
std::string sentencepiece_plugin_path();

}  // namespace sumlab
