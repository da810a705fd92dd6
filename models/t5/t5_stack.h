// T5Stack: the encoder or the decoder — embeddings (shared with the model), blocks, final RMS norm.
// The relative position bias is computed once per forward by block 0 and reused by every block.
#pragma once

#include "models/t5/t5_block.h"

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>

#include <vector>

namespace sumlab {

// Everything the decoder keeps between generation steps.
struct DecoderState {
    std::vector<BlockCache> blocks;  // one per decoder block
    torch::Tensor encoder_bias;      // (b, 1, 1, src_len): 0 where the source is valid, finfo.min at padding
    torch::Tensor self_bias;         // (1, heads, max_len, max_len): position bias of every step, computed once
    int64_t length = 0;              // decoder tokens already consumed

    // Keeps rows `index` of the self-attention caches (beam search reorders hypotheses each step).
    // `index` must keep every row within its input's group of beams: the cross-attention caches and
    // the encoder bias are identical across one input's beams, so they are left as they are.
    void reorder(const torch::Tensor& index);
};

class T5StackImpl : public torch::nn::Module {
public:
    T5StackImpl(const T5Config& config, bool is_decoder, torch::nn::Embedding shared);

    // Encoder: input_ids (b, l), attention_mask (b, l) of 0/1 -> (b, l, d_model).
    torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);

    // Decoder over a whole target (teacher forcing): causal self-attention -> (b, t, d_model).
    // cross_attentions (optional, for inspection): one (b, heads, t, src_len) tensor per block, the
    // cross-attention probabilities after the softmax and before dropout (never checkpointed then).
    torch::Tensor decode(const torch::Tensor& decoder_input_ids, const torch::Tensor& encoder_hidden,
                         const torch::Tensor& encoder_bias, std::vector<torch::Tensor>* cross_attentions = nullptr);

    // Decoder on the next tokens (b, n), extending `state` -> (b, n, d_model).
    torch::Tensor decode_step(const torch::Tensor& decoder_input_ids, const torch::Tensor& encoder_hidden,
                              DecoderState& state);

    DecoderState start_decoding(const torch::Tensor& encoder_attention_mask, int64_t max_len) const;

    // (b, l) 0/1 mask -> (b, 1, 1, l) additive bias, HF's invert_attention_mask.
    static torch::Tensor mask_to_bias(const torch::Tensor& attention_mask, torch::ScalarType dtype);
    static double lowest(torch::ScalarType dtype);  // torch.finfo(dtype).min

    // HF's gradient_checkpointing_enable(): while training with grad, each block runs under checkpoint()
    // (checkpointing.h) and is recomputed in backward. Generation (decode_step's caches) is never checkpointed.
    void set_gradient_checkpointing(bool enabled) { gradient_checkpointing_ = enabled; }
    bool gradient_checkpointing() const { return gradient_checkpointing_; }

    torch::nn::ModuleList block{nullptr};
    T5LayerNorm final_layer_norm{nullptr};

private:
    torch::Tensor run_blocks(torch::Tensor hidden, const torch::Tensor& self_bias, const torch::Tensor& encoder_hidden,
                             const torch::Tensor& encoder_bias, DecoderState* state,
                             std::vector<torch::Tensor>* cross_attentions = nullptr);

    torch::nn::Embedding embed_tokens_{nullptr};  // the model's `shared`, not registered here
    std::vector<T5Block> blocks_;
    bool is_decoder_;
    double dropout_;
    bool gradient_checkpointing_ = false;
};
TORCH_MODULE(T5Stack);

}  // namespace sumlab
