// The interface between SumLab and its SentencePiece plugin (libsumlab_sentencepiece.so).
// Debian's libsentencepiece carries and exports its own protobuf-lite, which clashes with the
// protobuf LibTorch loads; so SentencePiece is only ever touched inside the plugin, which the
// engine loads with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) and reaches through this abstract class.
// Keep it small and stable: only std::string / std::vector cross the boundary.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sumlab {

class SentencePieceModel {
public:
    virtual ~SentencePieceModel() = default;
    virtual int piece_size() const = 0;
    virtual int piece_to_id(const std::string& piece) const = 0;  // unk_id() for unknown pieces
    virtual std::string id_to_piece(int id) const = 0;            // id must be < piece_size()
    virtual int unk_id() const = 0;
    virtual bool is_control(int id) const = 0;
    virtual bool is_unknown(int id) const = 0;
    virtual std::vector<std::string> encode_as_pieces(const std::string& text) const = 0;
    virtual std::string decode_pieces(const std::vector<std::string>& pieces) const = 0;
};

}  // namespace sumlab

// The plugin's exported symbols.
// Loads a model file. Returns nullptr and fills `error` on failure.
extern "C" sumlab::SentencePieceModel* sumlab_sentencepiece_load(const char* model_path, std::string* error);
using sumlab_sentencepiece_load_fn = sumlab::SentencePieceModel* (*)(const char*, std::string*);

// Trains a model (libsentencepiece_train's SentencePieceTrainer) on `sentences`, one training sentence
// each, with `options` as spm_train's --name=value flags and `seed` for its random generator
// (SetRandomGeneratorSeed). The trainer logs to stderr only when `verbose`. On success returns true and
// the serialized ModelProto (the bytes of a .model file) in `model`; otherwise false and `error`.
extern "C" bool sumlab_sentencepiece_train(const std::vector<std::string>* sentences,
                                           const std::vector<std::pair<std::string, std::string>>* options,
                                           unsigned seed, bool verbose, std::string* model, std::string* error);
using sumlab_sentencepiece_train_fn = bool (*)(const std::vector<std::string>*,
                                               const std::vector<std::pair<std::string, std::string>>*, unsigned,
                                               bool, std::string*, std::string*);
