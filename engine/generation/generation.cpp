#include "engine/generation/generation.h"
#include "models/t5/quantized_linear.h"

#include "engine/runtime/system_info.h"

#include "engine/text/tokenizer.h"
#include "base/errors.h"
#include "models/t5/t5_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace sumlab {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void check_cancel(const GenerationCallbacks& cb) {
    if (cb.cancel && cb.cancel->load(std::memory_order_relaxed)) throw Cancelled();
}

std::vector<TokenIds> to_rows(const torch::Tensor& seq) {
    auto cpu = seq.to(torch::kCPU).contiguous();
    std::vector<TokenIds> rows(static_cast<size_t>(cpu.size(0)));
    const int64_t* p = cpu.data_ptr<int64_t>();
    for (int64_t i = 0; i < cpu.size(0); ++i) rows[i].assign(p + i * cpu.size(1), p + (i + 1) * cpu.size(1));
    return rows;
}

void process_logits(torch::Tensor& scores, const torch::Tensor& sequences, const GenerationConfig& config) {
    if (config.repetition_penalty != 1.0) apply_repetition_penalty(scores, sequences, config.repetition_penalty);
    if (config.no_repeat_ngram_size > 0) apply_no_repeat_ngram(scores, to_rows(sequences), config.no_repeat_ngram_size);
    apply_min_length(scores, sequences.size(1), config);
}

}  // namespace

// HF 4.28's _get_logits_warper, in its order; min_tokens_to_keep is 2 under beam search, else 1.
void apply_warpers(torch::Tensor& scores, const GenerationConfig& config) {
    const int64_t keep = config.num_beams > 1 ? 2 : 1;
    if (config.temperature != 1.0) scores = scores / config.temperature;
    if (config.top_k != 0) apply_top_k(scores, config.top_k, keep);
    if (config.top_p < 1.0) apply_top_p(scores, config.top_p, keep);
    if (config.typical_p < 1.0) apply_typical_p(scores, config.typical_p, keep);
}

namespace {

// Cuts a generated row after its first </s>, dropping the start token.
TokenIds cut_after_eos(const TokenIds& row, int64_t eos, bool* hit_eos) {
    TokenIds out;
    *hit_eos = false;
    for (size_t i = 1; i < row.size(); ++i) {
        out.push_back(row[i]);
        if (row[i] == eos) {
            *hit_eos = true;
            break;
        }
    }
    return out;
}

GenerationResult greedy_search(T5ForConditionalGenerationImpl& model, const Seq2SeqBatch& batch, const GenerationConfig& config,
                               const GenerationCallbacks& cb) {
    const int64_t rows = batch.input_ids.size(0);
    const int64_t max_new = config.resolved_max_new_tokens();
    auto device = batch.input_ids.device();
    auto encoder_hidden = model.encode(batch.input_ids, batch.attention_mask);
    DecoderState state = model.start_decoding(batch.attention_mask, max_new + 1);
    auto sequences = torch::full({rows, 1}, config.decoder_start_token_id, torch::TensorOptions().dtype(torch::kLong).device(device));
    auto unfinished = torch::ones({rows}, sequences.options());
    auto logprob_sum = torch::zeros({rows}, torch::kFloat64);
    auto next_input = sequences;
    // torch.manual_seed(seed) before generate(): the same draws, so the same summaries, for a seed.
    at::Generator sampler = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(config.seed));
    for (int64_t step = 0; step < max_new; ++step) {
        check_cancel(cb);
        auto logits = model.decode_step(next_input, encoder_hidden, state).select(1, -1).to(torch::kFloat32);
        auto scores = logits.clone();
        process_logits(scores, sequences, config);
        torch::Tensor next;
        if (config.do_sample) {
            apply_warpers(scores, config);
            next = torch::multinomial(torch::softmax(scores, -1), 1, /*replacement=*/false, sampler).squeeze(1);
        } else {
            next = scores.argmax(-1);
        }
        logprob_sum += torch::log_softmax(scores, -1).gather(1, next.unsqueeze(1)).squeeze(1).to(torch::kCPU, torch::kFloat64) *
                       unfinished.to(torch::kCPU, torch::kFloat64);
        next = next * unfinished + config.pad_token_id * (1 - unfinished);
        sequences = torch::cat({sequences, next.unsqueeze(1)}, 1);
        unfinished = unfinished * (next != config.eos_token_id).to(torch::kLong);
        next_input = next.unsqueeze(1);
        if (cb.on_step) cb.on_step(step + 1, max_new);
        if (unfinished.max().item<int64_t>() == 0) break;
    }
    GenerationResult result;
    auto lp = logprob_sum.accessor<double, 1>();
    for (auto& row : to_rows(sequences)) {
        bool hit_eos = false;
        result.sequences.push_back(cut_after_eos(row, config.eos_token_id, &hit_eos));
        result.hit_max_new_tokens.push_back(!hit_eos);
        result.sequence_scores.push_back(lp[static_cast<int64_t>(result.sequence_scores.size())]);
    }
    return result;
}

// HF's BeamHypotheses: the n best finished hypotheses of one input.
struct BeamHypotheses {
    int64_t num_beams;
    double length_penalty;
    bool early_stopping;
    std::vector<std::pair<double, TokenIds>> beams;
    double worst_score = 1e9;

    void add(TokenIds hyp, double sum_logprobs) {
        double score = sum_logprobs / std::pow(static_cast<double>(hyp.size()), length_penalty);
        if (static_cast<int64_t>(beams.size()) < num_beams || score > worst_score) {
            beams.emplace_back(score, std::move(hyp));
            if (static_cast<int64_t>(beams.size()) > num_beams) {
                std::vector<std::pair<double, size_t>> sorted;
                for (size_t i = 0; i < beams.size(); ++i) sorted.emplace_back(beams[i].first, i);
                std::sort(sorted.begin(), sorted.end());
                beams.erase(beams.begin() + static_cast<std::ptrdiff_t>(sorted[0].second));
                worst_score = sorted[1].first;
            } else {
                worst_score = std::min(score, worst_score);
            }
        }
    }

    bool is_done(double best_sum_logprobs, int64_t cur_len) const {
        if (static_cast<int64_t>(beams.size()) < num_beams) return false;
        if (early_stopping) return true;
        return worst_score >= best_sum_logprobs / std::pow(static_cast<double>(cur_len), length_penalty);
    }
};

GenerationResult beam_search(T5ForConditionalGenerationImpl& model, const Seq2SeqBatch& batch, const GenerationConfig& config,
                             const GenerationCallbacks& cb) {
    const int64_t batch_size = batch.input_ids.size(0);
    const int64_t k = config.num_beams;
    const int64_t max_new = config.resolved_max_new_tokens();
    const int64_t max_length = max_new + 1;
    auto device = batch.input_ids.device();

    auto encoder_hidden = model.encode(batch.input_ids, batch.attention_mask).repeat_interleave(k, 0);
    auto mask = batch.attention_mask.repeat_interleave(k, 0);
    DecoderState state = model.start_decoding(mask, max_length);

    std::vector<BeamHypotheses> hyps(static_cast<size_t>(batch_size), BeamHypotheses{k, config.length_penalty, config.early_stopping, {}, 1e9});
    std::vector<bool> done(static_cast<size_t>(batch_size), false);
    auto beam_scores = torch::zeros({batch_size, k}, torch::kFloat32);
    // Beam search starts from one live beam; HF's beam_sample starts all k at 0 (they fork by sampling).
    if (!config.do_sample) beam_scores.slice(1, 1).fill_(-1e9);
    at::Generator sampler = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(config.seed));
    beam_scores = beam_scores.view({batch_size * k});
    auto long_cpu = torch::TensorOptions().dtype(torch::kLong);
    auto sequences = torch::full({batch_size * k, 1}, config.decoder_start_token_id, long_cpu);
    auto next_input = sequences.to(device);

    int64_t cur_len = 1;
    while (true) {
        check_cancel(cb);
        auto logits = model.decode_step(next_input, encoder_hidden, state).select(1, -1).to(torch::kFloat32);
        auto scores = torch::log_softmax(logits, -1).to(torch::kCPU);
        process_logits(scores, sequences, config);
        const int64_t vocab = scores.size(-1);
        scores = scores + beam_scores.unsqueeze(1).expand_as(scores);
        torch::Tensor top_scores, top_ids;
        if (config.do_sample) {
            // HF's beam_sample: warp the running scores, draw 2k candidates without replacement from
            // softmax over all beams' tokens, best first.
            apply_warpers(scores, config);
            scores = scores.view({batch_size, k * vocab});
            auto drawn = torch::multinomial(torch::softmax(scores, -1), 2 * k, /*replacement=*/false, sampler);
            auto [sorted, order] = torch::sort(scores.gather(1, drawn), 1, /*descending=*/true);
            top_scores = sorted;
            top_ids = drawn.gather(1, order);
        } else {
            scores = scores.view({batch_size, k * vocab});
            std::tie(top_scores, top_ids) = torch::topk(scores, 2 * k, 1, /*largest=*/true, /*sorted=*/true);
        }
        auto top_beams = top_ids.div(vocab, "floor");
        auto top_tokens = top_ids.remainder(vocab);

        auto next_scores = torch::zeros({batch_size, k}, torch::kFloat32);
        auto next_tokens = torch::zeros({batch_size, k}, long_cpu);
        auto next_indices = torch::zeros({batch_size, k}, long_cpu);
        auto ts = top_scores.accessor<float, 2>();
        auto tt = top_tokens.accessor<int64_t, 2>();
        auto tb = top_beams.accessor<int64_t, 2>();
        auto ns = next_scores.accessor<float, 2>();
        auto nt = next_tokens.accessor<int64_t, 2>();
        auto ni = next_indices.accessor<int64_t, 2>();
        auto seq_rows = to_rows(sequences);
        for (int64_t b = 0; b < batch_size; ++b) {
            if (done[b]) {
                for (int64_t j = 0; j < k; ++j) {
                    nt[b][j] = config.pad_token_id;
                    ni[b][j] = b * k;  // any row: the hypotheses of a finished input are final
                }
                continue;
            }
            int64_t beam_idx = 0;
            for (int64_t rank = 0; rank < 2 * k; ++rank) {
                int64_t batch_beam = b * k + tb[b][rank];
                if (tt[b][rank] == config.eos_token_id) {
                    if (rank >= k) continue;
                    hyps[b].add(seq_rows[batch_beam], static_cast<double>(ts[b][rank]));
                } else {
                    ns[b][beam_idx] = ts[b][rank];
                    nt[b][beam_idx] = tt[b][rank];
                    ni[b][beam_idx] = batch_beam;
                    ++beam_idx;
                }
                if (beam_idx == k) break;
            }
            double best = ts[b][0];
            for (int64_t r = 1; r < 2 * k; ++r) best = std::max(best, static_cast<double>(ts[b][r]));
            done[b] = done[b] || hyps[b].is_done(best, cur_len);
        }
        beam_scores = next_scores.view({batch_size * k});
        auto beam_idx = next_indices.view({batch_size * k});
        sequences = torch::cat({sequences.index_select(0, beam_idx), next_tokens.view({batch_size * k, 1})}, 1);
        state.reorder(beam_idx.to(device));
        next_input = next_tokens.view({batch_size * k, 1}).to(device);
        ++cur_len;
        if (cb.on_step) cb.on_step(cur_len - 1, max_new);
        bool all_done = std::all_of(done.begin(), done.end(), [](bool d) { return d; });
        if (all_done || cur_len >= max_length) break;
    }

    // Finalize: open beams of unfinished inputs compete with the finished hypotheses.
    auto seq_rows = to_rows(sequences);
    auto bs = beam_scores.accessor<float, 1>();
    GenerationResult result;
    for (int64_t b = 0; b < batch_size; ++b) {
        if (!done[b])
            for (int64_t j = 0; j < k; ++j) hyps[b].add(seq_rows[b * k + j], static_cast<double>(bs[b * k + j]));
        // sorted(..., key=score).pop(): the highest score, the later one among equals.
        auto& beams = hyps[b].beams;
        std::stable_sort(beams.begin(), beams.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
        const auto& [score, best] = beams.back();
        TokenIds out(best.begin() + 1, best.end());
        bool hit_limit = static_cast<int64_t>(best.size()) >= max_length;
        if (!hit_limit) out.push_back(config.eos_token_id);
        result.sequences.push_back(std::move(out));
        result.sequence_scores.push_back(static_cast<double>(static_cast<float>(score)));
        result.hit_max_new_tokens.push_back(hit_limit);
    }
    return result;
}

}  // namespace

void apply_repetition_penalty(torch::Tensor& scores, const torch::Tensor& sequences, double penalty) {
    auto seq = sequences.to(scores.device());
    auto picked = scores.gather(1, seq);
    picked = torch::where(picked < 0, picked * penalty, picked / penalty);
    scores.scatter_(1, seq, picked);
}

void apply_no_repeat_ngram(torch::Tensor& scores, const std::vector<TokenIds>& sequences, int64_t n) {
    auto cpu = scores.device().is_cpu();
    for (size_t row = 0; row < sequences.size(); ++row) {
        const auto& s = sequences[row];
        const int64_t len = static_cast<int64_t>(s.size());
        if (len + 1 < n) continue;
        std::vector<int64_t> banned;
        // Every earlier n-gram whose first n-1 tokens equal the last n-1 tokens bans its last token.
        for (int64_t i = 0; i + n <= len; ++i) {
            bool match = true;
            for (int64_t j = 0; j < n - 1 && match; ++j) match = s[i + j] == s[len - (n - 1) + j];
            if (match) banned.push_back(s[i + n - 1]);
        }
        if (banned.empty()) continue;
        if (cpu) {
            float* p = scores[static_cast<int64_t>(row)].data_ptr<float>();
            for (int64_t t : banned) p[t] = kNegInf;
        } else {
            auto idx = torch::tensor(banned, torch::TensorOptions().dtype(torch::kLong)).to(scores.device());
            scores[static_cast<int64_t>(row)].index_fill_(0, idx, kNegInf);
        }
    }
}

void apply_top_k(torch::Tensor& scores, int64_t top_k, int64_t min_tokens_to_keep) {
    // TopKLogitsWarper: everything below the k-th largest score (ties with it stay).
    const int64_t k = std::min(std::max(top_k, min_tokens_to_keep), scores.size(-1));
    const auto kth = std::get<0>(scores.topk(k, -1)).select(-1, k - 1).unsqueeze(-1);
    scores.masked_fill_(scores < kth, kNegInf);
}

void apply_top_p(torch::Tensor& scores, double top_p, int64_t min_tokens_to_keep) {
    // TopPLogitsWarper: ascending sort; drop the low tail whose cumulative probability is <= 1 - top_p.
    auto [sorted, indices] = scores.sort(-1, /*descending=*/false);
    auto remove = sorted.softmax(-1).cumsum(-1) <= (1.0 - top_p);
    if (min_tokens_to_keep > 1) remove.narrow(-1, remove.size(-1) - min_tokens_to_keep, min_tokens_to_keep).fill_(false);
    scores.masked_fill_(remove.scatter(1, indices, remove), kNegInf);
}

void apply_typical_p(torch::Tensor& scores, double mass, int64_t min_tokens_to_keep) {
    // TypicalLogitsWarper: keep the tokens whose surprisal is closest to the entropy, up to `mass`.
    auto normalized = torch::log_softmax(scores, -1);
    auto p = normalized.exp();
    auto ent = -(normalized * p).nansum(-1, /*keepdim=*/true);
    auto shifted = (-normalized - ent).abs();
    auto [sorted_scores, indices] = shifted.sort(-1, /*descending=*/false);
    auto cumulative = scores.gather(-1, indices).softmax(-1).cumsum(-1);
    auto last = (cumulative < mass).sum(1).clamp_max(scores.size(-1) - 1);  // all below `mass` by rounding: keep all
    auto remove = sorted_scores > sorted_scores.gather(1, last.view({-1, 1}));
    if (min_tokens_to_keep > 1) remove.narrow(-1, 0, min_tokens_to_keep).fill_(false);
    scores.masked_fill_(remove.scatter(1, indices, remove), kNegInf);
}

void apply_min_length(torch::Tensor& scores, int64_t cur_len, const GenerationConfig& config) {
    // MinLengthLogitsProcessor (cur_len counts the start token), then MinNewTokensLengthLogitsProcessor.
    if (cur_len < config.min_length || cur_len - 1 < config.min_new_tokens)
        scores.select(1, config.eos_token_id).fill_(kNegInf);
}

GenerationResult generate(T5ForConditionalGenerationImpl& model, const Seq2SeqBatch& batch, const GenerationConfig& config,
                          const GenerationCallbacks& callbacks) {
    config.validate("generation settings");
    if (config.num_return_sequences > 1 && !config.do_sample)
        throw ConfigError("generation settings", "num_return_sequences", "above 1 needs do_sample (greedy and beam search return one summary)");
    torch::InferenceMode guard;
    // bfloat16 and int8 products run on oneDNN's (OpenMP's) threads
    use_threads_for(is_quantized_int8(model) ? torch::kQInt8 : model.shared->weight.scalar_type());
    bool was_training = model.is_training();
    model.eval();
    // HF's _expand_inputs_for_generation: each input repeated, its samples next to each other (beam
    // sampling runs one beam search per sample).
    Seq2SeqBatch expanded = batch;
    if (config.num_return_sequences > 1) {
        expanded.input_ids = batch.input_ids.repeat_interleave(config.num_return_sequences, 0);
        expanded.attention_mask = batch.attention_mask.repeat_interleave(config.num_return_sequences, 0);
    }
    GenerationResult r = config.num_beams > 1 ? beam_search(model, expanded, config, callbacks) : greedy_search(model, expanded, config, callbacks);
    if (was_training) model.train();
    return r;
}

std::vector<TextGeneration> generate_texts(T5ForConditionalGenerationImpl& model, const T5Tokenizer& tokenizer,
                                           const std::vector<std::string>& texts, const GenerationConfig& config,
                                           int64_t batch_size, int64_t max_source_length, const GenerationCallbacks& callbacks,
                                           const std::function<void(size_t, size_t)>& on_batch) {
    if (batch_size < 1) throw ConfigError("generation settings", "batch_size", "must be at least 1");
    std::vector<TextGeneration> out;
    out.reserve(texts.size());
    auto device = model.shared->weight.device();
    for (size_t start = 0; start < texts.size(); start += static_cast<size_t>(batch_size)) {
        size_t end = std::min(texts.size(), start + static_cast<size_t>(batch_size));
        std::vector<TokenIds> sources;
        for (size_t i = start; i < end; ++i) sources.push_back(tokenizer.encode(texts[i], true, max_source_length));
        auto batch = make_batch(sources, {}, tokenizer.pad_token_id()).to(device);
        // Each batch draws from its own stream, seeded by the seed and its first row: the same inputs,
        // batch size and seed give the same samples, and batches do not repeat each other's draws.
        GenerationConfig batch_config = config;
        batch_config.seed = config.seed + static_cast<int64_t>(start);
        auto result = generate(model, batch, batch_config, callbacks);
        for (size_t i = 0; i < result.sequences.size(); ++i)
            out.push_back({tokenizer.decode(result.sequences[i], true), result.sequences[i], result.hit_max_new_tokens[i]});
        if (on_batch) on_batch(end, texts.size());
    }
    return out;
}

}  // namespace sumlab
