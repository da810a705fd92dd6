#include "models/t5/t5_stack.h"
#include "models/t5/checkpointing.h"
#include "models/t5/t5_dropout.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

namespace sumlab {

void DecoderState::reorder(const torch::Tensor& index) {
    auto pick = [&](torch::Tensor& t) {
        if (t.defined()) t = t.index_select(0, index);
    };
    for (auto& b : blocks) {
        pick(b.self_attention.key);
        pick(b.self_attention.value);
    }
}

T5StackImpl::T5StackImpl(const T5Config& config, bool is_decoder, torch::nn::Embedding shared)
    : embed_tokens_(std::move(shared)), is_decoder_(is_decoder), dropout_(config.dropout_rate) {
    block = register_module("block", torch::nn::ModuleList());
    int64_t n = is_decoder ? config.num_decoder_layers : config.num_layers;
    for (int64_t i = 0; i < n; ++i) {
        blocks_.push_back(T5Block(config, is_decoder, /*has_relative_attention_bias=*/i == 0));
        block->push_back(blocks_.back());
    }
    final_layer_norm = register_module("final_layer_norm", T5LayerNorm(config.d_model, config.layer_norm_epsilon));
}

// torch.finfo(dtype).min, which HF adds at masked positions.
double T5StackImpl::lowest(torch::ScalarType dtype) {
    if (dtype == torch::kFloat64) return std::numeric_limits<double>::lowest();
    if (dtype == torch::kBFloat16) return -3.3895313892515355e38;
    if (dtype == torch::kFloat16) return -65504.0;
    return std::numeric_limits<float>::lowest();
}

torch::Tensor T5StackImpl::mask_to_bias(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
    auto m = attention_mask.to(dtype).unsqueeze(1).unsqueeze(2);  // (b, 1, 1, l)
    return (1.0 - m) * lowest(dtype);
}

torch::Tensor T5StackImpl::run_blocks(torch::Tensor hidden, const torch::Tensor& self_bias,
                                      const torch::Tensor& encoder_hidden, const torch::Tensor& encoder_bias,
                                      DecoderState* state, std::vector<torch::Tensor>* cross_attentions) {
    if (is_training() && dropout_ > 0.0) hidden = t5_dropout(hidden, dropout_, true);
    const bool checkpointed = gradient_checkpointing_ && is_training() && !state && !cross_attentions && torch::GradMode::is_enabled();
    if (cross_attentions) cross_attentions->assign(blocks_.size(), torch::Tensor());
    for (size_t i = 0; i < blocks_.size(); ++i) {
        if (checkpointed) {
            T5Block block = blocks_[i];
            const auto params = block->parameters();
            const bool trains = std::any_of(params.begin(), params.end(), [](const torch::Tensor& p) { return p.requires_grad(); });
            hidden = checkpoint([block](const std::vector<torch::Tensor>& x) mutable { return block->forward(x[0], x[1], x[2], x[3]); },
                                {hidden, self_bias, encoder_hidden, encoder_bias}, trains);
        } else {
            hidden = blocks_[i]->forward(hidden, self_bias, encoder_hidden, encoder_bias, state ? &state->blocks[i] : nullptr,
                                         cross_attentions ? &(*cross_attentions)[i] : nullptr);
        }
    }
    hidden = final_layer_norm->forward(hidden);
    if (is_training() && dropout_ > 0.0) hidden = t5_dropout(hidden, dropout_, true);
    return hidden;
}

torch::Tensor T5StackImpl::encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
    auto hidden = embed_tokens_->forward(input_ids);
    const int64_t len = input_ids.size(1);
    auto bias = blocks_[0]->self_attention->attention->compute_bias(len, len);  // (1, h, l, l)
    bias = bias + mask_to_bias(attention_mask, hidden.scalar_type());          // (b, h, l, l)
    return run_blocks(hidden, bias, torch::Tensor(), torch::Tensor(), nullptr);
}

torch::Tensor T5StackImpl::decode(const torch::Tensor& decoder_input_ids, const torch::Tensor& encoder_hidden,
                                  const torch::Tensor& encoder_bias, std::vector<torch::Tensor>* cross_attentions) {
    auto hidden = embed_tokens_->forward(decoder_input_ids);
    const int64_t len = decoder_input_ids.size(1);
    auto bias = blocks_[0]->self_attention->attention->compute_bias(len, len);
    auto future = torch::ones({len, len}, torch::TensorOptions().dtype(torch::kBool).device(hidden.device())).triu(1);
    auto causal = torch::zeros({len, len}, hidden.options()).masked_fill(future, lowest(hidden.scalar_type()));
    bias = bias + causal.view({1, 1, len, len});
    return run_blocks(hidden, bias, encoder_hidden, encoder_bias, nullptr, cross_attentions);
}

DecoderState T5StackImpl::start_decoding(const torch::Tensor& encoder_attention_mask, int64_t max_len) const {
    DecoderState state;
    state.blocks.resize(blocks_.size());
    state.encoder_bias = mask_to_bias(encoder_attention_mask, blocks_[0]->self_attention->attention->q->weight.scalar_type());
    state.self_bias = blocks_[0]->self_attention->attention->compute_bias(max_len, max_len);
    return state;
}

torch::Tensor T5StackImpl::decode_step(const torch::Tensor& decoder_input_ids, const torch::Tensor& encoder_hidden,
                                       DecoderState& state) {
    auto hidden = embed_tokens_->forward(decoder_input_ids);
    const int64_t n = decoder_input_ids.size(1);
    const int64_t end = state.length + n;
    torch::Tensor bias;
    if (end <= state.self_bias.size(2)) {
        bias = state.self_bias.slice(2, state.length, end).slice(3, 0, end);
    } else {
        bias = blocks_[0]->self_attention->attention->compute_bias(n, end, state.length);
    }
    if (n > 1) {
        // Several new tokens at once: they must not see each other's future.
        auto q_pos = torch::arange(state.length, end, torch::TensorOptions().dtype(torch::kLong).device(hidden.device())).unsqueeze(1);
        auto k_pos = torch::arange(end, torch::TensorOptions().dtype(torch::kLong).device(hidden.device())).unsqueeze(0);
        auto causal = torch::zeros({n, end}, hidden.options()).masked_fill(k_pos > q_pos, lowest(hidden.scalar_type()));
        bias = bias + causal.view({1, 1, n, end});
    }
    auto out = run_blocks(hidden, bias, encoder_hidden, state.encoder_bias, &state);
    state.length = end;
    return out;
}

}  // namespace sumlab
