// libsumlab_sentencepiece.so: the only place SumLab calls SentencePiece (see sentencepiece_api.h).
#include "engine/sentencepiece_plugin/sentencepiece_api.h"

#include <sentencepiece_processor.h>

#include <exception>
#include <memory>
#include <string>

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
