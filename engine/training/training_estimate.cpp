// engine/training/training_estimate: parameter counts, the memory of a training step walked through the model
// sublayer by sublayer as the code runs it, optimizer steps, and a timed probe step.
#include "engine/training/training_estimate.h"

#include "engine/training/optimizer.h"
#include "engine/training/training_arguments.h"
#include "base/errors.h"
#include "models/lora.h"
#include "models/t5/t5_init.h"
#include "models/t5/t5_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sumlab {

namespace {

constexpr int64_t kBytes = 4;            // fp32 training
constexpr int64_t kLossBlockRows = 256;  // LmHeadCrossEntropy::kRows (t5_model.cpp)

enum class Weight { trainable, frozen, lora };

// The tensors one micro-batch keeps for backward, by name (counted in floats), so a tensor that several
// nodes save (the normed input of q, k and v; the encoder output every cross-attention reads) counts once.
class KeptTensors {
public:
    void keep(const std::string& name, int64_t floats) { tensors_.emplace(name, floats); }
    // The floats of the tensors `other` does not hold.
    int64_t floats_not_in(const KeptTensors& other) const {
        int64_t total = 0;
        for (const auto& [name, n] : tensors_)
            if (!other.tensors_.count(name)) total += n;
        return total;
    }
    int64_t floats(const std::string& prefix = {}) const {
        int64_t total = 0;
        for (const auto& [name, n] : tensors_)
            if (name.compare(0, prefix.size(), prefix) == 0) total += n;
        return total;
    }

private:
    std::map<std::string, int64_t> tensors_;
};

// One micro-batch's forward pass, in the order the modules run it, recording what autograd (LibTorch 1.13)
// and SumLab's own autograd nodes keep. Each helper returns whether its output requires grad.
class ForwardWalk {
public:
    ForwardWalk(const T5Config& c, const TrainingArguments& args)
        : c_(c), full_(args.method == TrainingMethod::full), dropout_(args.dropout_rate.value_or(c.dropout_rate)),
          checkpointing_(args.gradient_checkpointing), B_(args.per_device_train_batch_size), S_(args.max_source_length),
          T_(args.max_target_length) {
        if (!full_) {
            r_ = args.lora.r;
            targets_.insert(args.lora.target_modules.begin(), args.lora.target_modules.end());
        }
    }

    void run() {
        const int64_t d = c_.d_model, H = c_.num_heads;
        // The batch: input_ids, attention_mask (B × S), labels and decoder inputs (B × T), int64.
        kept_.keep("batch", 2 * (2 * B_ * S_ + 2 * B_ * T_));

        // Encoder: embedding (keeps its indices where it trains), dropout (keeps nothing), the blocks.
        const int64_t Ns = B_ * S_, Nt = B_ * T_;
        if (full_) kept_.keep("enc.ids", 2 * Ns);
        bool grad = full_;
        std::string x = "enc.x";
        // Position bias + padding mask, (B, H, S, S); it trains with relative_attention_bias.
        const Bias enc_bias{"enc.bias", B_ * H * S_ * S_, full_};
        for (int64_t l = 0; l < c_.num_layers; ++l) {
            const std::string p = "enc." + std::to_string(l);
            begin_block();
            const std::vector<std::pair<std::string, int64_t>> inputs{{x, Ns * d}, {enc_bias.name, enc_bias.floats}};
            grad = self_attention_sublayer(p + ".self", x, S_, grad, enc_bias);
            x = p + ".x_mid";
            grad = feed_forward_sublayer(p + ".ff", x, Ns, grad);
            x = p + ".x_out";
            end_block(inputs, encoder_block_floats_);
        }
        const bool enc_grad = layer_norm("enc.final_ln", x, Ns, grad);  // then dropout: a new tensor
        enc_out_ = "enc_out";  // kept by whichever cross-attention projections save their input

        // Decoder: its self-attention bias is (1, H, T, T); cross-attention adds the (B, 1, 1, S) mask.
        if (full_) kept_.keep("dec.ids", 2 * Nt);
        grad = full_;
        x = "dec.x";
        const Bias dec_bias{"dec.bias", H * T_ * T_, full_};
        const Bias cross_bias{"dec.cross_bias", B_ * S_, false};
        for (int64_t l = 0; l < c_.num_decoder_layers; ++l) {
            const std::string p = "dec." + std::to_string(l);
            begin_block();
            const std::vector<std::pair<std::string, int64_t>> inputs{
                {x, Nt * d}, {dec_bias.name, dec_bias.floats}, {enc_out_, Ns * d}, {cross_bias.name, cross_bias.floats}};
            grad = self_attention_sublayer(p + ".self", x, T_, grad, dec_bias);
            x = p + ".x_self";
            grad = cross_attention_sublayer(p + ".cross", x, grad, enc_grad, cross_bias);
            x = p + ".x_cross";
            grad = feed_forward_sublayer(p + ".ff", x, Nt, grad);
            x = p + ".x_out";
            end_block(inputs, decoder_block_floats_);
        }
        layer_norm("dec.final_ln", x, Nt, grad);  // then dropout: "dec_out"
        loss(d);
    }

    const KeptTensors& kept() const { return kept_; }
    // The loss's own temporaries on top of what is kept (its forward blocks or its backward, the larger).
    int64_t loss_working_floats() const { return loss_working_; }
    // What Seq2SeqOutput holds until the step ends: the encoder output, and full fine-tuning's logits.
    int64_t held_floats() const { return held_; }
    // The encoder's tensors still kept when the backward reaches its last layer's attention: the final norm's,
    // the last feed-forward sublayer's and the residual inputs of both are released by then.
    int64_t encoder_kept_at_last_attention_floats() const {
        const std::string last = "enc." + std::to_string(c_.num_layers - 1);
        return kept_.floats("enc.") - kept_.floats("enc.final_ln") - kept_.floats(last + ".ff") - kept_.floats(last + ".x_mid") -
               kept_.floats(last + ".x_out");
    }
    // That attention layer's backward: d/d probs and d/d scores (the dropout mask re-applied) are two
    // (B, H, S, S) maps at once; full fine-tuning also accumulates the trainable position bias's gradient
    // (a third); the gradients of the residual stream and of the encoder output are (B·S, d) each.
    int64_t encoder_attention_working_floats() const {
        return (full_ ? 3 : 2) * B_ * c_.num_heads * S_ * S_ + 2 * B_ * S_ * c_.d_model;
    }
    // Gradient checkpointing: the most a block's own tensors take while it runs (its forward, and its recompute
    // in backward), beyond its inputs; and the most alive during the forward pass (all kept so far + one block's).
    int64_t encoder_block_floats() const { return encoder_block_floats_; }
    int64_t forward_peak_floats() const { return forward_peak_; }
    bool is_checkpointing() const { return checkpointing_; }
    int64_t source_rows() const { return B_ * S_; }
    int64_t target_rows() const { return B_ * T_; }
    bool is_full() const { return full_; }

private:
    struct Bias {
        std::string name;
        int64_t floats;
        bool requires_grad;
    };

    // A checkpointed block (models/t5/checkpointing.h) keeps only its inputs; what it would keep is alive only
    // while it runs: in the forward pass (which runs it with grad, then drops its graph) and again while its
    // recompute is backpropagated.
    void begin_block() {
        if (!checkpointing_) return;
        outer_ = std::move(kept_);
        kept_ = KeptTensors();
    }
    void end_block(const std::vector<std::pair<std::string, int64_t>>& inputs, int64_t& largest) {
        if (!checkpointing_) return;
        for (const auto& [name, floats] : inputs) outer_.keep(name, floats);
        const int64_t own = kept_.floats_not_in(outer_);
        largest = std::max(largest, own);
        forward_peak_ = std::max(forward_peak_, outer_.floats() + own);
        kept_ = std::move(outer_);
        outer_ = KeptTensors();
    }

    Weight weight_of(const std::string& linear) const {
        if (full_) return Weight::trainable;
        return targets_.count(linear) ? Weight::lora : Weight::frozen;
    }

    // T5LayerNorm: x.pow(2) keeps x, mean() keeps x², rsqrt and x * rsqrt keep the (rows, 1) factor, and
    // weight * normed keeps normed where the weight trains. Nothing where neither x nor the weight needs grad.
    bool layer_norm(const std::string& p, const std::string& x, int64_t rows, bool x_grad) {
        const int64_t d = c_.d_model;
        if (x_grad) {
            kept_.keep(x, rows * d);
            kept_.keep(p + ".x_squared", rows * d);
            kept_.keep(p + ".rsqrt", rows);
        }
        if (full_) kept_.keep(p + ".normed", rows * d);
        return x_grad || full_;
    }

    // T5Linear: a trainable weight's product keeps its input; a frozen one keeps only the weight; LoRA's
    // fused node keeps its input and dropout(x)·Aᵀ (rows × r), and regenerates the dropout mask.
    bool linear(const std::string& name, const std::string& input, int64_t rows, int64_t in_features, bool input_grad) {
        switch (weight_of(name)) {
            case Weight::trainable: kept_.keep(input, rows * in_features); return true;
            case Weight::frozen: return input_grad;
            case Weight::lora:
                kept_.keep(input, rows * in_features);
                kept_.keep(input + "." + name + ".lora_z", rows * r_);
                return true;
        }
        return input_grad;
    }

    // T5Attention after its layer norm: `q_in` (B·q_len rows) queries `kv_in` (B·k_len rows).
    bool attention(const std::string& p, const std::string& q_in, int64_t q_len, bool q_grad, const std::string& kv_in,
                   int64_t k_len, bool kv_grad, const Bias& bias) {
        const int64_t d = c_.d_model, I = c_.inner_dim();
        const int64_t q_rows = B_ * q_len, k_rows = B_ * k_len, maps = B_ * c_.num_heads * q_len * k_len;
        const bool gq = linear("q", q_in, q_rows, d, q_grad);
        const bool gk = linear("k", kv_in, k_rows, d, kv_grad);
        const bool gv = linear("v", kv_in, k_rows, d, kv_grad);
        const bool needs_grad = gq || gk || gv || bias.requires_grad;
        if (needs_grad && !full_) {
            // AttentionCore (q's weight frozen): q, k, v as projected, the bias, the softmax once.
            kept_.keep(p + ".q", q_rows * I);
            kept_.keep(p + ".k", k_rows * I);
            kept_.keep(p + ".v", k_rows * I);
            kept_.keep(bias.name, bias.floats);
            kept_.keep(p + ".probs", maps);
        } else if (needs_grad) {
            // Autograd's matmuls: contiguous per-head copies of q, kᵀ and v for bmm, the softmax output, and
            // its dropped-out copy for the product with v.
            kept_.keep(p + ".q_heads", q_rows * I);
            kept_.keep(p + ".k_heads", k_rows * I);
            kept_.keep(p + ".v_heads", k_rows * I);
            kept_.keep(p + ".probs", maps);
            if (dropout_ > 0) kept_.keep(p + ".probs_dropped", maps);
        }
        // The heads' output, transposed back into a contiguous (rows, inner) copy: the input of o.
        return linear("o", p + ".heads_out", q_rows, I, needs_grad);
    }

    // Pre-norm, attention, dropout (keeps nothing), residual add (keeps nothing).
    bool self_attention_sublayer(const std::string& p, const std::string& x, int64_t len, bool x_grad, const Bias& bias) {
        const bool ln_grad = layer_norm(p + ".ln", x, B_ * len, x_grad);
        return attention(p, p + ".ln_out", len, ln_grad, p + ".ln_out", len, ln_grad, bias) || x_grad;
    }

    bool cross_attention_sublayer(const std::string& p, const std::string& x, bool x_grad, bool enc_grad, const Bias& bias) {
        const bool ln_grad = layer_norm(p + ".ln", x, B_ * T_, x_grad);
        return attention(p, p + ".ln_out", T_, ln_grad, enc_out_, S_, enc_grad, bias) || x_grad;
    }

    // T5LayerFF: norm, wi (or act(wi_0 x) * wi_1 x), dropout, wo, dropout, residual add.
    bool feed_forward_sublayer(const std::string& p, const std::string& x, int64_t rows, bool x_grad) {
        const int64_t d = c_.d_model, F = c_.d_ff;
        const std::string ln_out = p + ".ln_out";
        const bool ln_grad = layer_norm(p + ".ln", x, rows, x_grad);
        const FeedForwardKind kind = c_.ff_kind();
        const bool saves_result = kind == FeedForwardKind::relu || kind == FeedForwardKind::gated_relu;  // relu keeps its output
        auto activation = [&](const std::string& pre, bool pre_grad) {
            if (pre_grad) kept_.keep(saves_result ? p + ".act" : pre, rows * F);  // gelu and silu keep their input
        };
        std::string product;
        bool product_grad;
        if (c_.is_gated()) {
            const bool ga = linear("wi_0", ln_out, rows, d, ln_grad);
            const bool gb = linear("wi_1", ln_out, rows, d, ln_grad);
            activation(p + ".wi_0_out", ga);
            if (gb) kept_.keep(p + ".act", rows * F);            // act(a) * b keeps act(a) for b's gradient
            if (ga) kept_.keep(p + ".wi_1_out", rows * F);       // and b for act(a)'s
            product = p + ".gated";
            product_grad = ga || gb;
        } else {
            product_grad = linear("wi", ln_out, rows, d, ln_grad);
            activation(p + ".wi_out", product_grad);
            product = p + ".act";
        }
        const std::string wo_in = dropout_ > 0 ? p + ".dropped" : product;
        return linear("wo", wo_in, rows, F, product_grad) || x_grad;
    }

    // The loss over the vocabulary (t5_model.cpp).
    void loss(int64_t d) {
        const int64_t Nt = B_ * T_, V = c_.vocab_size;
        const std::string hidden = c_.tie_word_embeddings ? "dec_out.scaled" : "dec_out";  // tied: hidden · d^-0.5
        held_ = B_ * S_ * d;  // Seq2SeqOutput holds the encoder output until the step ends
        if (!full_) {
            // LmHeadCrossEntropy (output weight frozen): keeps the hidden states and d loss / d logits; its forward
            // works on blocks of logits and their log-softmax, its backward scales d loss / d logits into a copy.
            kept_.keep(hidden, Nt * d);
            kept_.keep("loss.grad_logits", Nt * V);
            loss_working_ = std::max(2 * std::min(Nt, kLossBlockRows) * V, Nt * V + Nt * d);
            return;
        }
        // lm_head's product keeps its input; Seq2SeqOutput holds the logits through backward; log_softmax keeps
        // its output (nll_loss the same tensor). Backward: d/d log-probs and d/d logits, both (Nt, V), at once.
        kept_.keep(hidden, Nt * d);
        kept_.keep("loss.logits", Nt * V);
        kept_.keep("loss.log_probs", Nt * V);
        loss_working_ = 2 * Nt * V;
        held_ += Nt * V;
    }

    const T5Config& c_;
    bool full_;
    double dropout_;
    bool checkpointing_;
    KeptTensors outer_;  // while a checkpointed block is walked: what was kept before it
    int64_t encoder_block_floats_ = 0, decoder_block_floats_ = 0, forward_peak_ = 0;
    int64_t B_, S_, T_;
    int64_t r_ = 0;
    std::set<std::string> targets_;
    std::string enc_out_;
    KeptTensors kept_;
    int64_t loss_working_ = 0;
    int64_t held_ = 0;
};

// Sizes of every parameter tensor the config gives, for the largest one (AdamW's temporaries).
int64_t largest_parameter(const T5Config& c) {
    const int64_t d = c.d_model;
    return std::max({c.vocab_size * d, d * c.d_ff, d * c.inner_dim()});
}

}  // namespace

int64_t t5_parameter_count(const T5Config& c) {
    const int64_t d = c.d_model, inner = c.inner_dim();
    const int64_t attention = 4 * d * inner;                          // q, k, v (d -> inner), o (inner -> d), no biases
    const int64_t feed_forward = (c.is_gated() ? 3 : 2) * d * c.d_ff;  // wi_0, wi_1, wo or wi, wo
    const int64_t relative_bias = c.relative_attention_num_buckets * c.num_heads;  // block 0 of each stack
    const int64_t encoder_block = attention + feed_forward + 2 * d;           // two layer norms
    const int64_t decoder_block = 2 * attention + feed_forward + 3 * d;       // self + cross attention, three norms
    const int64_t embeddings = c.vocab_size * d * (c.tie_word_embeddings ? 1 : 2);  // shared (+ untied lm_head)
    return embeddings + c.num_layers * encoder_block + relative_bias + d + c.num_decoder_layers * decoder_block + relative_bias + d;
}

int64_t lora_parameter_count(const T5Config& c, const LoraConfig& lora) {
    const int64_t d = c.d_model, inner = c.inner_dim(), r = lora.r;
    const int64_t attention_layers = c.num_layers + 2 * c.num_decoder_layers;  // encoder self, decoder self and cross
    const int64_t ff_layers = c.num_layers + c.num_decoder_layers;
    int64_t total = 0;
    for (const std::string& t : lora.target_modules) {
        // A linear in -> out gains A (r × in) and B (out × r).
        if (t == "q" || t == "k" || t == "v" || t == "o") {
            total += attention_layers * r * (d + inner);
        } else if (t == "wo") {
            total += ff_layers * r * (c.d_ff + d);
        } else if ((t == "wi" && !c.is_gated()) || ((t == "wi_0" || t == "wi_1") && c.is_gated())) {
            total += ff_layers * r * (d + c.d_ff);
        } else {
            // apply_lora's message.
            throw ConfigError("LoRA settings", "target_modules",
                              "\"" + t + "\" matches no layer of this model (" + c.feed_forward_proj + " models have " +
                                  (c.is_gated() ? "wi_0, wi_1" : "wi") + ")");
        }
    }
    return total;
}

TrainingMemoryEstimate estimate_training_memory(const T5Config& config, const TrainingArguments& args) {
    TrainingMemoryEstimate e;
    const bool full = args.method == TrainingMethod::full;
    e.base_parameters = t5_parameter_count(config);
    const int64_t adapters = full ? 0 : lora_parameter_count(config, args.lora);
    e.trainable_parameters = full ? e.base_parameters : adapters;
    e.all_parameters = e.base_parameters + adapters;
    e.weight_bytes = e.all_parameters * kBytes;
    e.gradient_bytes = e.trainable_parameters * kBytes;
    e.optimizer_bytes = 2 * e.trainable_parameters * kBytes;
    e.saved_bytes = e.trainable_parameters * kBytes;
    e.checkpoint_bytes = e.saved_bytes + e.optimizer_bytes;
    e.batch = args.per_device_train_batch_size;
    e.source_length = args.max_source_length;
    e.target_length = args.max_target_length;

    ForwardWalk walk(config, args);
    walk.run();
    e.activation_bytes = walk.kept().floats() * kBytes;
    // From the second step on, gradients and moments exist through forward and backward (zero_grad zeroes them).
    const int64_t state = e.weight_bytes + e.gradient_bytes + e.optimizer_bytes;
    // What is alive on top of them at each moment that can be the peak, in the order a step runs.
    const KeptTensors& kept = walk.kept();
    const int64_t all_kept = kept.floats();
    const int64_t Ns = walk.source_rows(), Nt = walk.target_rows(), d = config.d_model;
    const int64_t embedding = config.vocab_size * d;
    std::vector<int64_t> phases;
    // The loss: everything kept, and the loss's temporaries.
    phases.push_back(all_kept + walk.loss_working_floats());
    // Where a weight is used more than once (the shared embedding: encoder and decoder, and lm_head when tied),
    // autograd buffers its gradient until the last use's backward, and summing into that buffer briefly takes a
    // third copy; a weight used once adds its gradient into .grad and frees it (counted by tst_training_estimate's tensorPeak).
    const bool tied = config.tie_word_embeddings;
    const int64_t pending = walk.is_full() ? embedding : 0;  // the shared embedding's buffered gradient
    if (walk.is_full()) {
        // lm_head's backward: d loss / d logits in place of the released log-softmax, its weight's gradient
        // (V, d) and d loss / d hidden; the weight gradient stays buffered when tied.
        phases.push_back(all_kept + embedding + Nt * d);
        // The decoder embedding's backward: the encoder's tensors untouched, d loss / d encoder output, and the
        // dense (V, d) gradient (three copies while it is summed into lm_head's when tied).
        phases.push_back(kept.floats("enc.") + kept.floats("batch") + walk.held_floats() + Ns * d + (tied ? 3 : 1) * embedding);
        // The encoder embedding's backward, last: three (V, d) copies while its gradient is summed in.
        phases.push_back(kept.floats("batch") + walk.held_floats() + Ns * d + 3 * embedding);
    }
    // The encoder's last attention layer's backward, with the decoder's tensors released.
    phases.push_back(walk.encoder_kept_at_last_attention_floats() + kept.floats("batch") + walk.held_floats() + pending +
                     walk.encoder_attention_working_floats());
    if (walk.is_checkpointing()) {
        // The forward pass's largest moment: everything kept before a block, and that block's own graph.
        phases.push_back(walk.forward_peak_floats());
        // The encoder's last block recomputed for its backward, its attention's backward on top, the decoder
        // released (the encoder's block inputs stay until each block's turn).
        phases.push_back(kept.floats("enc.") + kept.floats("batch") + walk.held_floats() + pending + walk.encoder_block_floats() +
                         walk.encoder_attention_working_floats());
    }
    // AdamW on the largest trainable tensor: (exp_avg_sq.sqrt() / c).add_(eps) holds two temporaries of its size.
    const int64_t largest_trainable = walk.is_full() ? largest_parameter(config)
                                                     : args.lora.r * std::max({config.d_model, config.inner_dim(), config.d_ff});
    phases.push_back(walk.held_floats() + 2 * largest_trainable);
    const int64_t on_top = *std::max_element(phases.begin(), phases.end()) * kBytes;
    e.working_bytes = std::max<int64_t>(0, on_top - e.activation_bytes);
    e.peak_bytes = state + on_top;
    return e;
}

int64_t optimizer_steps(int64_t train_examples, const TrainingArguments& args) {
    if (args.max_steps > 0) return args.max_steps;
    int64_t examples = args.every_kth > 1 ? (train_examples + args.every_kth - 1) / args.every_kth : train_examples;
    if (args.limit > 0) examples = std::min(examples, args.limit);
    if (examples <= 0 || args.per_device_train_batch_size <= 0 || args.gradient_accumulation_steps <= 0) return 0;
    const int64_t batches = (examples + args.per_device_train_batch_size - 1) / args.per_device_train_batch_size;
    const int64_t per_epoch = (batches + args.gradient_accumulation_steps - 1) / args.gradient_accumulation_steps;  // a last, shorter accumulation still steps
    return static_cast<int64_t>(std::ceil(args.num_train_epochs * static_cast<double>(per_epoch)));
}

double seconds_per_optimizer_step(const StepTiming& timing, int64_t gradient_accumulation_steps) {
    return static_cast<double>(std::max<int64_t>(gradient_accumulation_steps, 1)) * timing.forward_backward_s + timing.optimizer_s;
}

std::optional<StepTiming> time_training_step(const T5Config& model_config, const TrainingArguments& args,
                                             const std::atomic<bool>* cancel) {
    if (args.device != "cpu") throw ConfigError("training settings", "device", "the step-time probe runs on the CPU only");
    auto cancelled = [&] { return cancel && cancel->load(); };
    T5Config config = model_config;
    if (args.dropout_rate) config.dropout_rate = *args.dropout_rate;
    T5ForConditionalGeneration model(config);
    init_t5_weights(*model, static_cast<uint64_t>(args.seed));
    if (args.method == TrainingMethod::lora) apply_lora(*model, args.lora);
    model->train();
    const TrainableParameters trainable = trainable_parameters_of(*model);
    const std::vector<torch::Tensor>& tensors = trainable.tensors;
    Optimizer optimizer(trainable.named, args);
    const int64_t B = args.per_device_train_batch_size, S = args.max_source_length, T = args.max_target_length;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(args.seed));
    auto input_ids = torch::randint(3, config.vocab_size, {B, S}, gen, torch::kLong);
    auto attention_mask = torch::ones({B, S}, torch::kLong);
    auto labels = torch::randint(3, config.vocab_size, {B, T}, gen, torch::kLong);
    using Clock = std::chrono::steady_clock;
    StepTiming timing;
    for (int pass = 0; pass < 2; ++pass) {  // the first warms up: page faults, AdamW's moments
        if (cancelled()) return std::nullopt;
        const auto t0 = Clock::now();
        {
            auto out = model->forward(input_ids, attention_mask, labels);
            out.loss.backward();
        }
        const auto t1 = Clock::now();
        if (cancelled()) return std::nullopt;
        clip_grad_norm(tensors, args.max_grad_norm > 0 ? args.max_grad_norm : 1.0);
        optimizer.step(args.learning_rate);
        optimizer.zero_grad();
        const auto t2 = Clock::now();
        timing.forward_backward_s = std::chrono::duration<double>(t1 - t0).count();
        timing.optimizer_s = std::chrono::duration<double>(t2 - t1).count();
    }
    return timing;
}

}  // namespace sumlab
