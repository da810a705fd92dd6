// What a reader of a generated summary wants pointed out, as byte ranges of the summary (the Compare page
// turns them into highlighting; plain C++, no Qt):
//   - the words that ROUGE-1 and ROUGE-2 count as matches against a reference, found with rouge's own
//     tokenizer and stemmer (rouge_tokenize), clipped as rouge_score clips them, so the number of ROUGE-1
//     matched tokens divided by the summary's token count is exactly the ROUGE-1 precision of `scores`;
//   - names and numbers of the summary that the dialogue never mentions (possible hallucinations);
//   - speaker tags (#Person1#, #Person2#) that name a speaker absent from the dialogue, or that the dialogue
//     contradicts (the rule is written at check_speaker_tags in the .cpp and at MarkKind::speaker_swap).
//
// Intended use:
//     SummaryDiagnostics d = diagnose_summary(summary, references, dialogue, Stemming::porter);
//     for (const SummaryMark& m : d.marks) highlight(m.begin, m.end, m.kind);
#pragma once

#include "engine/metrics/rouge.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sumlab {

enum class MarkKind {
    rouge1_match,        // a token counted in ROUGE-1's overlap with the chosen reference
    rouge2_match,        // a token of a bigram counted in ROUGE-2's overlap
    speaker_tag,         // any #PersonN# tag (for styling)
    unsupported_name,    // a capitalised word, not at the start of a sentence, whose token the dialogue lacks
    unsupported_number,  // a number (digits or a number word) whose tokens the dialogue lacks
    unknown_speaker,     // #PersonN# where nobody speaks as #PersonN# in the dialogue
    speaker_swap,        // the sentence's one speaker tag, while its content words are another speaker's turns'
                         // (at least 2 more shared content words with the other speaker than with the named one)
};

// "rouge1_match", "unsupported_name", ...
const char* mark_kind_name(MarkKind kind);

struct SummaryMark {
    size_t begin = 0;  // byte offsets into the summary, [begin, end)
    size_t end = 0;
    MarkKind kind = MarkKind::rouge1_match;
    std::string detail;  // one readable sentence for a tooltip ("“Paris” does not occur in the dialogue")
};

struct SummaryDiagnostics {
    std::vector<std::string> tokens;   // rouge_tokenize(summary, stemming)
    std::vector<bool> rouge1_matched;  // per token: counted in ROUGE-1's overlap (clipped, first occurrences)
    std::vector<bool> rouge2_matched;  // per token: part of a bigram counted in ROUGE-2's overlap
    size_t rouge1_overlap = 0;         // matched unigrams (== count of rouge1_matched)
    size_t rouge2_overlap = 0;         // matched bigrams
    size_t rouge1_reference = 0;       // the reference the ROUGE-1 matches are against (score_multi's choice)
    size_t rouge2_reference = 0;       // the same for ROUGE-2
    RougeScores scores;                // score (one reference) or score_multi (several)
    std::vector<SummaryMark> marks;    // in order of `begin`; ranges of different kinds may overlap
};

// Byte range of every rouge token of `text`: tokenising text[begin, end) alone gives exactly that token, and
// the ranges in order give rouge_tokenize(text, stemming). A run of characters that rouge splits into several
// tokens (a non-ASCII letter inside a word) yields one range per token over the same run.
struct TokenSpan {
    size_t begin = 0;
    size_t end = 0;
    std::string token;
};
std::vector<TokenSpan> rouge_token_spans(std::string_view text, Stemming stemming);

// Throws std::invalid_argument when `references` is empty.
SummaryDiagnostics diagnose_summary(std::string_view summary, const std::vector<std::string>& references,
                                    std::string_view dialogue, Stemming stemming);

}  // namespace sumlab
