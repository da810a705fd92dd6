// libsumlab_sentencepiece.so: the only place SumLab calls SentencePiece (see sentencepiece_api.h).
#include "engine/sentencepiece_plugin/sentencepiece_api.h"

#include <sentencepiece_processor.h>

#include <memory>

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

extern "C" __attribute__((visibility("default"))) sumlab::SentencePieceModel* sumlab_sentencepiece_load(
    const char* model_path, std::string* error) {
    auto model = std::make_unique<Model>();
    auto status = model->sp.Load(model_path);
    if (!status.ok()) {
        if (error) *error = status.ToString();
        return nullptr;
    }
    return model.release();
}
