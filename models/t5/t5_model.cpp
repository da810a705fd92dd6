#include "models/t5/t5_model.h"

#include "models/t5/autocast.h"
#include "models/t5/quantized_linear.h"

#include <torch/torch.h>

#include <cmath>

namespace sumlab {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Sum of the token cross-entropies of hidden · weightᵀ against labels (-100 ignored), computed a
// block of rows at a time so the (tokens × vocabulary) logits never exist whole: the function
// keeps only d loss / d logits = softmax − one-hot. Autograd's own ops would keep the logits, their
// log-softmax and, in backward, two more gradients of that size (4 × 66 MB for a flan-t5-small
// batch of 8 × 64 labels) at the moment of the step's memory peak.
struct LmHeadCrossEntropy : torch::autograd::Function<LmHeadCrossEntropy> {
    static constexpr int64_t kRows = 256;  // 33 MB of logits per block; 64 rows ran the product at 3/4 speed

    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& hidden, const torch::Tensor& weight,
                                 const torch::Tensor& labels) {
        const int64_t n = hidden.size(0);
        auto grad_logits = torch::empty({n, weight.size(0)}, hidden.options());
        auto loss = torch::zeros({}, hidden.options().dtype(torch::kFloat64));
        for (int64_t start = 0; start < n; start += kRows) {
            const int64_t end = std::min(n, start + kRows);
            auto logits = torch::mm(hidden.slice(0, start, end), weight.t());
            auto rows = labels.slice(0, start, end);
            auto valid = rows.ne(-100);
            auto target = rows.masked_fill(valid.logical_not(), 0).unsqueeze(1);
            auto log_probs = torch::log_softmax(logits, -1);
            auto token_loss = -log_probs.gather(1, target).squeeze(1);
            loss += token_loss.masked_fill(valid.logical_not(), 0).sum().to(torch::kFloat64);
            auto g = grad_logits.slice(0, start, end);
            torch::exp_out(g, log_probs);
            g.scatter_add_(1, target, torch::full({end - start, 1}, -1.0f, g.options()));
            g.masked_fill_(valid.logical_not().unsqueeze(1), 0);
        }
        ctx->save_for_backward({hidden, weight, grad_logits});
        return loss.to(hidden.scalar_type());
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto saved = ctx->get_saved_variables();
        const auto &hidden = saved[0], &weight = saved[1];
        auto grad_logits = saved[2] * grads[0];
        torch::Tensor grad_hidden, grad_weight;
        if (ctx->needs_input_grad(0)) grad_hidden = torch::mm(grad_logits, weight);
        if (ctx->needs_input_grad(1)) grad_weight = torch::mm(grad_logits.t(), hidden);
        return {grad_hidden, grad_weight, torch::Tensor()};
    }
};

}  // namespace

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

std::vector<torch::Tensor> T5ForConditionalGenerationImpl::cross_attentions(const torch::Tensor& input_ids,
                                                                            const torch::Tensor& attention_mask,
                                                                            const torch::Tensor& decoder_input_ids) {
    auto encoder_hidden = encode(input_ids, attention_mask);
    auto encoder_bias = T5StackImpl::mask_to_bias(attention_mask, encoder_hidden.scalar_type());
    std::vector<torch::Tensor> weights;
    decoder->decode(decoder_input_ids, encoder_hidden, encoder_bias, &weights);
    return weights;
}

DecoderState T5ForConditionalGenerationImpl::start_decoding(const torch::Tensor& attention_mask, int64_t max_len) const {
    return decoder->start_decoding(attention_mask, max_len);
}

torch::Tensor T5ForConditionalGenerationImpl::decode_step(const torch::Tensor& decoder_input_ids,
                                                          const torch::Tensor& encoder_hidden, DecoderState& state) {
    return lm_logits(decoder->decode_step(decoder_input_ids, encoder_hidden, state));
}

torch::Tensor T5ForConditionalGenerationImpl::lm_logits(const torch::Tensor& decoder_hidden) {
    if (config_.tie_word_embeddings) {
        auto scaled = decoder_hidden * std::pow(static_cast<double>(config_.d_model), -0.5);
        return tied_lm_head_int8 ? tied_lm_head_int8->forward(scaled) : torch::linear(scaled, shared->weight);
    }
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
    // As for the attention maps (t5_attention.cpp): only where the output weights are frozen.
    const auto& output_weight = config_.tie_word_embeddings ? shared->weight : lm_head->weight;
    const bool fused_loss = labels.defined() && torch::GradMode::is_enabled() && !output_weight.requires_grad() &&
                            hidden.device().is_cpu() && hidden.scalar_type() == torch::kFloat32 && !autocast_enabled(hidden.device().type()) &&
                            (config_.tie_word_embeddings ? !tied_lm_head_int8 : !lm_head->has_lora() && !lm_head->is_quantized());
    if (fused_loss) {
        auto flat_hidden = hidden.reshape({-1, hidden.size(-1)});
        const auto& weight = output_weight;
        if (config_.tie_word_embeddings) flat_hidden = flat_hidden * std::pow(static_cast<double>(config_.d_model), -0.5);
        auto flat_labels = labels.reshape({-1});
        out.loss_sum = LmHeadCrossEntropy::apply(flat_hidden.contiguous(), weight, flat_labels);
        out.label_tokens = (flat_labels != -100).sum().item<int64_t>();
        out.loss = out.loss_sum / static_cast<double>(std::max<int64_t>(out.label_tokens, 1));
        return out;
    }
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
