#include "engine/generation/cross_attention.h"

#include "base/errors.h"
#include "models/t5/t5_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <stdexcept>

namespace sumlab {

namespace {

const std::string kSentencePieceSpace = "\xE2\x96\x81";  // ▁, SentencePiece's mark of a preceding space

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

size_t skip_spaces(std::string_view text, size_t i, size_t end = std::string_view::npos) {
    end = std::min(end, text.size());
    while (i < end && is_space(text[i])) ++i;
    return i;
}

size_t trim_back(std::string_view text, size_t begin, size_t end) {
    while (end > begin && is_space(text[end - 1])) --end;
    return end;
}

// The characters a piece stands for: its leading ▁ dropped, any other ▁ a space.
std::string surface(const std::string& piece) {
    size_t start = 0;
    while (piece.compare(start, kSentencePieceSpace.size(), kSentencePieceSpace) == 0) start += kSentencePieceSpace.size();
    std::string out;
    for (size_t i = start; i < piece.size();) {
        if (piece.compare(i, kSentencePieceSpace.size(), kSentencePieceSpace) == 0) {
            out += ' ';
            i += kSentencePieceSpace.size();
        } else {
            out += piece[i++];
        }
    }
    return out;
}

// "#PersonN#:" at `i`: the tag's length without the colon, or 0.
size_t speaker_tag_at(std::string_view text, size_t i) {
    static const std::string_view kPrefix = "#Person";
    if (text.compare(i, kPrefix.size(), kPrefix) != 0) return 0;
    size_t j = i + kPrefix.size();
    const size_t digits = j;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == digits || j + 1 >= text.size() || text[j] != '#' || text[j + 1] != ':') return 0;
    return j + 1 - i;
}

// The word at or after byte `b` (a piece starts inside its word, a lone ▁ at the next word), else the last.
int64_t word_at(const std::vector<AttentionWord>& words, size_t b) {
    if (words.empty()) return -1;
    auto it = std::upper_bound(words.begin(), words.end(), b, [](size_t x, const AttentionWord& w) { return x < w.begin; });
    if (it != words.begin() && b < std::prev(it)->end) return static_cast<int64_t>(std::prev(it) - words.begin());
    if (it == words.end()) return static_cast<int64_t>(words.size()) - 1;
    return static_cast<int64_t>(it - words.begin());
}

// Pieces of `text` with their ids and spans, as the encoder (or decoder) sees them: tokenize() gives the pieces of
// encode()'s ids one for one, encode() truncates them and appends </s> (unless they end with one).
// `from_text`: how many of them are the text's (the rest, if any, is the appended </s>): the ids that are their
// pieces' ids, in order (after truncation the last id is the appended </s>, not the piece at that place).
std::vector<AttentionPiece> pieces_of(const T5Tokenizer& tokenizer, const std::string& text, int64_t max_length,
                                      std::vector<int64_t>* ids, size_t* from_text) {
    const std::vector<std::string> pieces = tokenizer.tokenize(text);
    *ids = tokenizer.encode(text, true, max_length);
    const auto spans = align_pieces(text, pieces);
    std::vector<AttentionPiece> out;
    size_t kept = 0;
    while (kept < pieces.size() && kept < ids->size() && tokenizer.token_to_id(pieces[kept]) == (*ids)[kept]) ++kept;
    for (size_t i = 0; i < kept; ++i) out.push_back({pieces[i], (*ids)[i], spans[i].first, spans[i].second, -1});
    *from_text = kept;
    if (ids->size() > kept) out.push_back({"</s>", ids->back(), text.size(), text.size(), -1});
    return out;
}

size_t checked(size_t index, size_t size, const char* what) {
    if (index >= size) throw std::out_of_range(std::string("cross attention: ") + what + " " + std::to_string(index) + " out of range");
    return index;
}

}  // namespace

SourceLayout segment_source(std::string_view text) {
    SourceLayout out;
    bool continues = false;  // the previous line belongs to the current turn (no blank line since)
    for (size_t line = 0; line <= text.size();) {
        size_t line_end = text.find('\n', line);
        if (line_end == std::string_view::npos) line_end = text.size();
        const size_t begin = skip_spaces(text, line, line_end);
        const size_t end = trim_back(text, begin, line_end);
        if (begin == end) {
            continues = false;
        } else {
            const size_t tag = speaker_tag_at(text, begin);
            if (tag > 0 || !continues || out.turns.empty()) {
                AttentionTurn turn;
                if (tag > 0) turn.speaker = std::string(text.substr(begin, tag));
                turn.begin = begin;
                turn.first_word = static_cast<int64_t>(out.words.size());
                out.turns.push_back(turn);
            }
            AttentionTurn& turn = out.turns.back();
            turn.end = end;
            for (size_t i = begin; i < end;) {
                const size_t w = i;
                while (i < end && !is_space(text[i])) ++i;
                out.words.push_back({w, i, static_cast<int64_t>(out.turns.size()) - 1, -1, 0});
                ++turn.word_count;
                i = skip_spaces(text, i, end);
            }
            continues = true;
        }
        line = line_end + 1;
    }
    return out;
}

std::vector<std::pair<size_t, size_t>> align_pieces(std::string_view text, const std::vector<std::string>& pieces) {
    // How far past the previous piece a piece's characters may start: whitespace and the characters of pieces
    // normalisation changed lie between; further than this, the piece is taken as changed itself.
    constexpr size_t kWindow = 64;
    std::vector<std::pair<size_t, size_t>> spans(pieces.size());
    std::vector<size_t> pending;  // pieces not found, waiting for the next one that is
    size_t cursor = 0, pending_begin = 0;
    auto settle = [&](size_t gap_end) {
        for (size_t k : pending) spans[k] = {pending_begin, std::max(pending_begin, trim_back(text, pending_begin, gap_end))};
        pending.clear();
    };
    for (size_t i = 0; i < pieces.size(); ++i) {
        const std::string s = surface(pieces[i]);
        const size_t p = skip_spaces(text, cursor);
        if (s.empty()) {
            spans[i] = {p, p};
            continue;
        }
        size_t q = text.compare(p, s.size(), s) == 0 ? p : text.find(s, p);
        if (q != std::string_view::npos && q <= p + kWindow) {
            if (!pending.empty()) settle(q);
            spans[i] = {q, q + s.size()};
            cursor = q + s.size();
        } else {
            if (pending.empty()) pending_begin = p;
            pending.push_back(i);
        }
    }
    settle(text.size());
    return spans;
}

std::vector<double> CrossAttention::token_weights(size_t t, int64_t layer, int64_t head) const {
    const size_t S = source_len(), T = summary_len(), L = static_cast<size_t>(num_layers), H = static_cast<size_t>(num_heads);
    checked(t, T, "summary token");
    if (layer >= 0) checked(static_cast<size_t>(layer), L, "layer");
    if (head >= 0) {
        checked(static_cast<size_t>(head), H, "head");
        if (!has_heads()) throw std::out_of_range("cross attention: the per-head weights were not kept");
    }
    std::vector<double> out(S, 0.0);
    const size_t first = layer >= 0 ? static_cast<size_t>(layer) : 0, last = layer >= 0 ? first + 1 : L;
    for (size_t l = first; l < last; ++l) {
        const float* row = head >= 0 ? &head_weights[((l * H + static_cast<size_t>(head)) * T + t) * S] : &layer_weights[(l * T + t) * S];
        for (size_t s = 0; s < S; ++s) out[s] += row[s];
    }
    for (double& w : out) w /= static_cast<double>(last - first);
    return out;
}

WordShares word_shares(const CrossAttention& attention, const std::vector<double>& token_weights) {
    if (token_weights.size() != attention.source_len())
        throw std::invalid_argument("cross attention: " + std::to_string(token_weights.size()) + " weights for " +
                                    std::to_string(attention.source_len()) + " source tokens");
    WordShares out;
    out.words.assign(attention.words.size(), 0.0);
    for (size_t s = 0; s < token_weights.size(); ++s) {
        const int64_t w = attention.source_pieces[s].word;
        if (w >= 0) out.words[static_cast<size_t>(w)] += token_weights[s];
        else out.end_of_source += token_weights[s];
    }
    return out;
}

AttentionOrigin attention_origin(const CrossAttention& attention, size_t begin, size_t end, int64_t layer, int64_t head,
                                 size_t top_k) {
    AttentionOrigin out;
    std::vector<double> mean(attention.source_len(), 0.0);
    for (size_t t = 0; t < attention.summary_len(); ++t) {
        const AttentionPiece& p = attention.summary_pieces[t];
        if (p.end <= begin || p.begin >= end || p.begin == p.end) continue;
        const std::vector<double> w = attention.token_weights(t, layer, head);
        for (size_t s = 0; s < w.size(); ++s) mean[s] += w[s];
        ++out.tokens;
    }
    if (out.tokens == 0) return out;
    for (double& w : mean) w /= static_cast<double>(out.tokens);
    const WordShares shares = word_shares(attention, mean);
    out.end_of_source = shares.end_of_source;
    std::vector<int64_t> order(shares.words.size());
    for (size_t w = 0; w < order.size(); ++w) order[w] = static_cast<int64_t>(w);
    const size_t n = std::min(top_k, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                      [&](int64_t a, int64_t b) { return shares.words[static_cast<size_t>(a)] > shares.words[static_cast<size_t>(b)]; });
    for (size_t k = 0; k < n; ++k) out.words.push_back({order[k], shares.words[static_cast<size_t>(order[k])]});
    out.from_nowhere = out.words.empty() || out.words.front().second < kMeaningfulShare;
    return out;
}

CrossAttention compute_cross_attention(T5ForConditionalGenerationImpl& model, const T5Tokenizer& tokenizer,
                                       const std::string& source, const std::string& summary,
                                       const CrossAttentionOptions& options) {
    const auto dtype = model.shared->weight.scalar_type();
    if (dtype != torch::kFloat32)
        throw ConfigError("cross attention", "dtype", std::string("needs a float32 model, not ") + c10::toString(dtype));
    CrossAttention out;
    out.source = source;
    out.summary = summary;
    std::vector<int64_t> source_ids, summary_ids;
    size_t source_text_pieces = 0, summary_text_pieces = 0;
    out.source_pieces = pieces_of(tokenizer, source, options.max_source_length, &source_ids, &source_text_pieces);
    out.summary_pieces = pieces_of(tokenizer, summary, 0, &summary_ids, &summary_text_pieces);
    SourceLayout layout = segment_source(source);
    out.words = std::move(layout.words);
    out.turns = std::move(layout.turns);
    for (size_t s = 0; s < source_text_pieces; ++s) {  // the appended </s> stays word -1
        AttentionPiece& p = out.source_pieces[s];
        p.word = word_at(out.words, p.begin);
        if (p.word < 0) continue;
        AttentionWord& w = out.words[static_cast<size_t>(p.word)];
        if (w.first_piece < 0) w.first_piece = static_cast<int64_t>(s);
        ++w.piece_count;
    }

    // One teacher-forced pass: labels = the summary's ids, decoder inputs = HF's shift right of them.
    const bool was_training = model.is_training();
    model.eval();
    struct Restore {
        T5ForConditionalGenerationImpl& m;
        bool training;
        ~Restore() { m.train(training); }
    } restore{model, was_training};
    torch::InferenceMode guard;
    const auto device = model.shared->weight.device();
    auto input_ids = torch::tensor(source_ids, torch::kLong).unsqueeze(0).to(device);
    auto labels = torch::tensor(summary_ids, torch::kLong).unsqueeze(0).to(device);
    const std::vector<torch::Tensor> layers = model.cross_attentions(input_ids, torch::ones_like(input_ids), model.shift_right(labels));
    auto all = torch::cat(layers, 0).to(torch::kCPU, torch::kFloat32).contiguous();  // (layers, heads, summary, source)
    out.num_layers = all.size(0);
    out.num_heads = all.size(1);
    auto means = all.mean(1).contiguous();  // (layers, summary, source)
    out.layer_weights.assign(means.data_ptr<float>(), means.data_ptr<float>() + means.numel());
    if (static_cast<size_t>(all.numel()) <= options.max_head_values)
        out.head_weights.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
    return out;
}

}  // namespace sumlab
