#include "models/t5/t5_model.h"

#include <torch/torch.h>

#include <cmath>

namespace sumlab {

T5ForConditionalGenerationImpl::T5ForConditionalGenerationImpl(const T5Config& config) : config_(config) {
    shared = register_module("shared", torch::nn::Embedding(config.vocab_size, config.d_model));
    encoder = register_module("encoder", T5Stack(config, /*is_decoder=*/false, shared));
    decoder = register_module("decoder", T5Stack(config, /*is_decoder=*/true, shared));
    if (!config.tie_word_embeddings) lm_head = register_module("lm_head", T5Linear(config.d_model, config.vocab_size));
}

bool T5ForConditionalGenerationImpl::is_alias_key(const std::string& name, const T5Config& config) {
    if (name == "encoder.embed_tokens.weight" || name == "decoder.embed_tokens.weight") return true;
    // Old checkpoints carry this unused table; HF ignores it too.
    if (name == "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight") return true;
    return config.tie_word_embeddings && name == "lm_head.weight";
}

torch::Tensor T5ForConditionalGenerationImpl::encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
    return encoder->encode(input_ids, attention_mask);
}

DecoderState T5ForConditionalGenerationImpl::start_decoding(const torch::Tensor& attention_mask, int64_t max_len) const {
    return decoder->start_decoding(attention_mask, max_len);
}

torch::Tensor T5ForConditionalGenerationImpl::decode_step(const torch::Tensor& decoder_input_ids,
                                                          const torch::Tensor& encoder_hidden, DecoderState& state) {
    return lm_logits(decoder->decode_step(decoder_input_ids, encoder_hidden, state));
}

torch::Tensor T5ForConditionalGenerationImpl::lm_logits(const torch::Tensor& decoder_hidden) {
    if (config_.tie_word_embeddings)
        return torch::linear(decoder_hidden * std::pow(static_cast<double>(config_.d_model), -0.5), shared->weight);
    return lm_head->forward(decoder_hidden);
}

torch::Tensor T5ForConditionalGenerationImpl::shift_right(const torch::Tensor& labels) const {
    auto shifted = torch::full_like(labels, config_.decoder_start_token_id);
    shifted.slice(1, 1) .copy_(labels.slice(1, 0, labels.size(1) - 1));
    return shifted.masked_fill(shifted == -100, config_.pad_token_id);
}

Seq2SeqOutput T5ForConditionalGenerationImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                                      const torch::Tensor& labels, const torch::Tensor& decoder_input_ids) {
    Seq2SeqOutput out;
    out.encoder_last_hidden_state = encode(input_ids, attention_mask);
    auto dec_in = decoder_input_ids.defined() ? decoder_input_ids : shift_right(labels);
    auto encoder_bias = T5StackImpl::mask_to_bias(attention_mask, out.encoder_last_hidden_state.scalar_type());
    auto hidden = decoder->decode(dec_in, out.encoder_last_hidden_state, encoder_bias);
    out.logits = lm_logits(hidden);
    if (labels.defined()) {
        auto flat_logits = out.logits.reshape({-1, out.logits.size(-1)}).to(torch::kFloat32);
        auto flat_labels = labels.reshape({-1});
        out.loss_sum = torch::nn::functional::cross_entropy(
            flat_logits, flat_labels,
            torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum));
        out.label_tokens = (flat_labels != -100).sum().item<int64_t>();
        out.loss = out.loss_sum / static_cast<double>(std::max<int64_t>(out.label_tokens, 1));
    }
    return out;
}

}  // namespace sumlab
