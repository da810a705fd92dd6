// libsumlab_sentencepiece.so: the only place SumLab calls SentencePiece (see sentencepiece_api.h).
#include "engine/text/sentencepiece_plugin/sentencepiece_api.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

// Exported by libsentencepiece (its common.h, not installed): the level below which LOG() is silent
// (0 INFO, 1 WARNING, 2 ERROR).
namespace sentencepiece::logging {
int GetMinLogLevel();
void SetMinLogLevel(int v);
}  // namespace sentencepiece::logging

namespace {

class Model final : public sumlab::SentencePieceModel {
public:
    sentencepiece::SentencePieceProcessor sp;

    int piece_size() const override { return sp.GetPieceSize(); }
    int piece_to_id(const std::string& piece) const override { return sp.PieceToId(piece); }
    std::string id_to_piece(int id) const override { return sp.IdToPiece(id); }
    int unk_id() const override { return sp.unk_id(); }
    bool is_control(int id) const override { return sp.IsControl(id); }
    bool is_unknown(int id) const override { return sp.IsUnknown(id); }

    std::vector<std::string> encode_as_pieces(const std::string& text) const override {
        std::vector<std::string> pieces;
        auto status = sp.Encode(text, &pieces);
        if (!status.ok()) pieces.clear();
        return pieces;
    }

    std::string decode_pieces(const std::vector<std::string>& pieces) const override {
        std::string text;
        auto status = sp.Decode(pieces, &text);
        if (!status.ok()) text.clear();
        return text;
    }
};

// Hands the caller's sentences to the trainer one by one (no temporary file).
class VectorIterator final : public sentencepiece::SentenceIterator {
public:
    explicit VectorIterator(const std::vector<std::string>& sentences) : sentences_(sentences) {}
    bool done() const override { return i_ >= sentences_.size(); }
    void Next() override { ++i_; }
    const std::string& value() const override { return sentences_[i_]; }
    sentencepiece::util::Status status() const override { return {}; }

private:
    const std::vector<std::string>& sentences_;
    size_t i_ = 0;
};

}  // namespace

// SentencePiece reports most problems through its Status, but a damaged model can also make it
// throw (its Darts trie builder throws on keys it cannot order, found by fuzz_sentencepiece_load):
// nothing may escape this C entry point, so every failure becomes the error text.
extern "C" __attribute__((visibility("default"))) sumlab::SentencePieceModel* sumlab_sentencepiece_load(
    const char* model_path, std::string* error) {
    try {
        auto model = std::make_unique<Model>();
        auto status = model->sp.Load(model_path);
        if (!status.ok()) {
            if (error) *error = status.ToString();
            return nullptr;
        }
        return model.release();
    } catch (const std::exception& e) {
        if (error) *error = std::string("SentencePiece failed on it: ") + e.what();
    } catch (...) {
        if (error) *error = "SentencePiece failed on it";
    }
    return nullptr;
}

// Training shares the load entry point's rule: nothing escapes, every failure becomes the error text.
extern "C" __attribute__((visibility("default"))) bool sumlab_sentencepiece_train(
    const std::vector<std::string>* sentences, const std::vector<std::pair<std::string, std::string>>* options,
    unsigned seed, bool verbose, std::string* model, std::string* error) {
    const int old_level = sentencepiece::logging::GetMinLogLevel();
    try {
        if (!sentences || !options || !model) {
            if (error) *error = "sumlab_sentencepiece_train: null argument";
            return false;
        }
        std::unordered_map<std::string, std::string> kwargs(options->begin(), options->end());
        // The trainer's reservoir sampling and shuffling draw from this process-wide generator.
        sentencepiece::SetRandomGeneratorSeed(seed);
        // INFO logs (one line per EM round and more) only on request; warnings and errors always.
        sentencepiece::logging::SetMinLogLevel(verbose ? 0 : 1);
        VectorIterator it(*sentences);
        auto status = sentencepiece::SentencePieceTrainer::Train(kwargs, &it, model);
        sentencepiece::logging::SetMinLogLevel(old_level);
        if (!status.ok()) {
            if (error) *error = status.ToString();
            model->clear();
            return false;
        }
        return true;
    } catch (const std::exception& e) {
        if (error) *error = std::string("SentencePiece training failed: ") + e.what();
    } catch (...) {
        if (error) *error = "SentencePiece training failed";
    }
    sentencepiece::logging::SetMinLogLevel(old_level);
    if (model) model->clear();
    return false;
}
