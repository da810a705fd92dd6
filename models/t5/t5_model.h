// T5ForConditionalGeneration: shared embedding, encoder and decoder stacks, lm_head.
// Parameter names equal Hugging Face's, so loading and saving are a straight mapping.
#pragma once

#include "models/t5/t5_config.h"
#include "models/t5/t5_stack.h"

#include <torch/nn/modules/embedding.h>

namespace sumlab {

struct Seq2SeqOutput {
    torch::Tensor logits;                     // (b, t, vocab_size); undefined when training with labels on CPU fp32,
                                              // where the loss is computed without materialising them
    torch::Tensor loss;                       // scalar: mean over label tokens != -100 (undefined without labels)
    torch::Tensor loss_sum;                   // scalar: sum of token losses (for exact accumulation)
    int64_t label_tokens = 0;                 // number of label tokens != -100
    torch::Tensor encoder_last_hidden_state;  // (b, s, d_model)
};

class QuantizedLinear;  // models/t5/quantized_linear.h

class T5ForConditionalGenerationImpl : public torch::nn::Module {
public:
    explicit T5ForConditionalGenerationImpl(const T5Config& config);

    // Teacher-forced forward. decoder_input_ids default to labels shifted right (HF's _shift_right).
    Seq2SeqOutput forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                          const torch::Tensor& labels, const torch::Tensor& decoder_input_ids = {});

    torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask);

    // The decoder's cross-attention of a teacher-forced pass, for inspection (HF's output_attentions=True
    // `cross_attentions`, which in eval mode is the same): one tensor per decoder block, (b, heads, t, s),
    // after the softmax and before dropout, so each row sums to 1 over the source. No logits are computed.
    std::vector<torch::Tensor> cross_attentions(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                                const torch::Tensor& decoder_input_ids);
    DecoderState start_decoding(const torch::Tensor& attention_mask, int64_t max_len) const;
    // Logits of the next tokens (b, n, vocab) given new decoder ids (b, n).
    torch::Tensor decode_step(const torch::Tensor& decoder_input_ids, const torch::Tensor& encoder_hidden,
                              DecoderState& state);
    // Decoder hidden states -> logits (applies the tied-embedding rescale d_model^-0.5).
    torch::Tensor lm_logits(const torch::Tensor& decoder_hidden);

    // labels (b, t) with -100 for ignored -> decoder inputs: start token, then labels[:-1] with -100 -> pad.
    torch::Tensor shift_right(const torch::Tensor& labels) const;

    // HF's gradient_checkpointing_enable() / _disable(): both stacks (T5StackImpl::set_gradient_checkpointing).
    void set_gradient_checkpointing(bool enabled) {
        encoder->set_gradient_checkpointing(enabled);
        decoder->set_gradient_checkpointing(enabled);
    }

    const T5Config& config() const { return config_; }
    // Parameters that are aliases of another (encoder/decoder.embed_tokens, tied lm_head) in HF files.
    static bool is_alias_key(const std::string& name, const T5Config& config);

    torch::nn::Embedding shared{nullptr};  // (vocab_size, d_model)
    T5Stack encoder{nullptr}, decoder{nullptr};
    T5Linear lm_head{nullptr};             // (vocab_size, d_model); untied models only
    // Tied models after quantize_int8: the output projection's int8 copy of shared.weight (the embedding stays fp32).
    std::shared_ptr<const QuantizedLinear> tied_lm_head_int8;

private:
    T5Config config_;
};
TORCH_MODULE(T5ForConditionalGeneration);

}  // namespace sumlab
