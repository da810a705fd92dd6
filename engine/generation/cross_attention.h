// Where a generated summary looked in its dialogue: the decoder's cross-attention of ONE teacher-forced pass over
// the summary (eval mode, inference mode, float32), with the source's tokens mapped to the dialogue's words and
// turns so that a heat-map can be drawn over words, and the origin of a summary word that the diagnostics flag
// as invented (engine/metrics/summary_diagnostics.h: unsupported_name, unsupported_number).
//
// Intended use (the Compare page's attention view, through ui/AttentionWorker):
//     CrossAttention a = compute_cross_attention(model, tokenizer, prompt.render(dialogue), summary);
//     std::vector<double> w = a.token_weights(t);            // summary token t over the source tokens, sums to 1
//     WordShares s = word_shares(a, w);                      // the same mass per dialogue word (+ the final </s>)
//     AttentionOrigin o = attention_origin(a, mark.begin, mark.end);  // a flagged word: its top words, or nowhere
//
// This header includes no LibTorch (the ui draws the struct); only compute_cross_attention runs the model.
#pragma once

#include "engine/text/tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sumlab {

class T5ForConditionalGenerationImpl;

// One token of the source or of the summary.
struct AttentionPiece {
    std::string piece;  // SentencePiece's piece ("▁Hello"), or "</s>"
    int64_t id = 0;
    // Byte span in its text of the piece's characters (the ▁ not included). Empty for the appended </s> (at the
    // text's end) and for a lone ▁ (at the next character). A piece whose characters normalisation changed
    // ("…" -> "...") spans the text between its neighbours.
    size_t begin = 0, end = 0;
    int64_t word = -1;  // source pieces: index into CrossAttention::words; -1 for the appended </s>
};

// A word of the source: a run of characters without whitespace ("#Person1#:", "Hello,").
struct AttentionWord {
    size_t begin = 0, end = 0;  // bytes of the source
    int64_t turn = 0;           // index into CrossAttention::turns
    int64_t first_piece = -1;   // its first source piece; -1 when truncation (max_source_length) cut it off
    int64_t piece_count = 0;
};

// A row of the heat-map: a dialogue turn (a line starting with "#PersonN#:", with the lines that follow it
// directly), or a line of the prompt's own text (speaker empty: "Summarize the following conversation.").
struct AttentionTurn {
    std::string speaker;  // "#Person1#", or empty for prompt text
    size_t begin = 0, end = 0;
    int64_t first_word = 0, word_count = 0;
};

struct SourceLayout {
    std::vector<AttentionWord> words;  // first_piece -1, piece_count 0 (no tokens yet)
    std::vector<AttentionTurn> turns;
};
// Words and turns of a source text (no tokenizer needed).
SourceLayout segment_source(std::string_view text);

// Byte spans of SentencePiece `pieces` (T5Tokenizer::tokenize(text)) in `text`, one per piece, as
// AttentionPiece::begin/end describe them.
std::vector<std::pair<size_t, size_t>> align_pieces(std::string_view text, const std::vector<std::string>& pieces);

struct CrossAttention {
    std::string source;   // the rendered prompt the encoder read
    std::string summary;  // the generated summary
    // The encoder's tokens, truncated to max_source_length, the final </s> included (HF's tokenizer appends it and
    // the model attends to it, often heavily: a "sink" that is no word of the dialogue).
    std::vector<AttentionPiece> source_pieces;
    // The summary's tokens, its final </s> included. Row t of the weights is the decoder step that produced
    // summary_pieces[t] (its input: the start token, then summary_pieces[0..t-1] -- HF's shift right).
    std::vector<AttentionPiece> summary_pieces;
    std::vector<AttentionWord> words;
    std::vector<AttentionTurn> turns;
    int64_t num_layers = 0, num_heads = 0;
    std::vector<float> layer_weights;  // (layers, summary, source): the mean over heads, row-major
    std::vector<float> head_weights;   // (layers, heads, summary, source), or empty (CrossAttentionOptions::max_head_values)

    size_t source_len() const { return source_pieces.size(); }
    size_t summary_len() const { return summary_pieces.size(); }
    bool has_heads() const { return !head_weights.empty(); }
    // Summary token t's weights over the source tokens: layer -1 = the mean of the layers, head -1 = the mean of
    // the heads (head >= 0 needs has_heads()). Sums to 1. std::out_of_range for an index out of range.
    std::vector<double> token_weights(size_t t, int64_t layer = -1, int64_t head = -1) const;
};

// A token row's mass per word: words[w] = the sum of the weights of word w's pieces (0 for a word truncation cut
// off); end_of_source = the weight of the appended </s>. The words and end_of_source add up to the row's sum.
struct WordShares {
    std::vector<double> words;
    double end_of_source = 0;
};
WordShares word_shares(const CrossAttention& attention, const std::vector<double>& token_weights);

// The share of a summary token's attention a source word must get to count as where the token came from: a
// tenth of the token's whole attention (summed over the word's pieces; the final </s> is no word). A uniform
// spread over a 200-token dialogue gives each token 0.5%; a word copied from the dialogue typically draws a
// large part of the mass at the layers that copy. Below 10% everywhere, the token "came from nowhere".
constexpr double kMeaningfulShare = 0.10;

struct AttentionOrigin {
    std::vector<std::pair<int64_t, double>> words;  // the top source words (index, share), largest first
    double end_of_source = 0;                       // the share of the final </s>
    bool from_nowhere = true;                       // no word has kMeaningfulShare
    size_t tokens = 0;                              // summary tokens averaged (those overlapping the range)
};
// Where the summary's bytes [begin, end) looked: the mean of the weight rows of the summary tokens that overlap
// the range (each row sums to 1, so the mean does), per word, the top `top_k` words.
AttentionOrigin attention_origin(const CrossAttention& attention, size_t begin, size_t end, int64_t layer = -1,
                                 int64_t head = -1, size_t top_k = 3);

struct CrossAttentionOptions {
    int64_t max_source_length = 512;  // as the generation truncated the prompt (GenerationSettings::maxSourceLength)
    // Per-head weights are kept only up to this many floats (64 MB): flan-t5-base, 12 layers x 12 heads, fits a
    // 200-token summary of a 512-token prompt (59 MB); larger models keep the means over heads only.
    size_t max_head_values = size_t{1} << 24;
};

// Runs the encoder on `source` and the decoder teacher-forced on the tokens of `summary` (re-tokenized: the
// summary's text, as the Compare page has it), and returns the cross-attention of every layer. The model must be
// float32 (ConfigError otherwise); it is put in eval mode for the pass and restored afterwards.
CrossAttention compute_cross_attention(T5ForConditionalGenerationImpl& model, const T5Tokenizer& tokenizer,
                                       const std::string& source, const std::string& summary,
                                       const CrossAttentionOptions& options = {});

}  // namespace sumlab
