// Summary diagnostics (see summary_diagnostics.h): ROUGE match positions, unsupported names and numbers,
// speaker-tag checks.
#include "engine/metrics/summary_diagnostics.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace sumlab {
namespace {

bool is_ascii_separator(unsigned char c) {
    return c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Clipped n-gram matching in prediction order: the first min(count in prediction, count in reference)
// occurrences of each n-gram match, which is the overlap rouge_score's _score_ngrams counts.
std::vector<bool> clipped_matches(const std::vector<std::string>& prediction, const std::vector<std::string>& reference, size_t n,
                                  size_t* overlap) {
    std::vector<bool> matched(prediction.size() >= n ? prediction.size() - n + 1 : 0, false);
    *overlap = 0;
    if (prediction.size() < n || reference.size() < n) return matched;
    auto gram = [n](const std::vector<std::string>& tokens, size_t i) {
        std::string key = tokens[i];
        for (size_t k = 1; k < n; ++k) key += ' ' + tokens[i + k];
        return key;
    };
    std::unordered_map<std::string, size_t> available;
    for (size_t i = 0; i + n <= reference.size(); ++i) ++available[gram(reference, i)];
    for (size_t i = 0; i < matched.size(); ++i) {
        auto it = available.find(gram(prediction, i));
        if (it != available.end() && it->second > 0) {
            --it->second;
            matched[i] = true;
            ++*overlap;
        }
    }
    return matched;
}

// score_multi's rule: the reference with the highest fmeasure of `type`, the first one on ties.
size_t best_reference(const std::vector<RougeScores>& per_reference, RougeType type) {
    size_t best = 0;
    for (size_t i = 1; i < per_reference.size(); ++i)
        if (per_reference[i][type].fmeasure > per_reference[best][type].fmeasure) best = i;
    return best;
}

const std::set<std::string>& number_words() {
    static const std::set<std::string> words{"zero",    "one",      "two",      "three",   "four",     "five",    "six",
                                             "seven",   "eight",    "nine",     "ten",     "eleven",   "twelve",  "thirteen",
                                             "fourteen", "fifteen", "sixteen",  "seventeen", "eighteen", "nineteen", "twenty",
                                             "thirty",  "forty",    "fifty",    "sixty",   "seventy",  "eighty",  "ninety",
                                             "hundred", "thousand", "million",  "billion", "dozen",    "half"};
    return words;
}

// Words too common to tell speakers apart.
const std::set<std::string>& stop_words() {
    static const std::set<std::string> words{
        "the",  "and",   "for",  "with", "are",  "was",   "were", "has",  "have", "had",  "she",  "her",   "his",  "him",
        "they", "them",  "their", "that", "this", "what", "will", "would", "can", "not",  "but",  "about", "from", "you",
        "your", "our",   "its",  "also", "who",  "how",  "why",  "when", "where", "which", "there", "then", "tell", "ask",
        "say",  "said",  "want", "think", "know", "get",  "got",  "like", "just", "some", "all",  "one",   "too",  "very",
        "does", "did",   "doe",  "thi",  "wa",   "ha",   "should", "could", "been", "being", "into", "than", "more", "talk"};
    return words;
}

struct Word {
    size_t begin = 0;  // without leading/trailing ASCII punctuation
    size_t end = 0;
    bool starts_sentence = false;
};

// Whitespace-separated words, trimmed of ASCII punctuation; a word starts a sentence when it is the first one
// or the previous word ended with . ! ? or :
std::vector<Word> split_words(std::string_view text) {
    std::vector<Word> words;
    bool next_starts = true;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        if (i >= text.size()) break;
        const size_t raw_begin = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        const size_t raw_end = i;
        size_t b = raw_begin, e = raw_end;
        while (b < e && is_ascii_separator(static_cast<unsigned char>(text[b])) && text[b] != '#' && text[b] != '$') ++b;
        while (e > b && is_ascii_separator(static_cast<unsigned char>(text[e - 1])) && text[e - 1] != '#' && text[e - 1] != '%') --e;
        if (b < e) words.push_back({b, e, next_starts});
        const char last = text[raw_end - 1];
        next_starts = last == '.' || last == '!' || last == '?' || last == ':';
    }
    return words;
}

struct SpeakerTag {
    size_t begin = 0;
    size_t end = 0;
    std::string number;  // "1" of #Person1#
};

// Every #Person<digits># of the text.
std::vector<SpeakerTag> find_speaker_tags(std::string_view text) {
    std::vector<SpeakerTag> tags;
    constexpr std::string_view prefix = "#Person";
    for (size_t at = text.find(prefix); at != std::string_view::npos; at = text.find(prefix, at + 1)) {
        size_t i = at + prefix.size();
        const size_t digits = i;
        while (i < text.size() && is_digit(text[i])) ++i;
        if (i == digits || i >= text.size() || text[i] != '#') continue;
        tags.push_back({at, i + 1, std::string(text.substr(digits, i - digits))});
    }
    return tags;
}

// Content tokens of each speaker's turns: lines "#PersonN#: ..." of the dialogue (a line without a tag
// continues the previous turn).
std::map<std::string, std::set<std::string>> speaker_vocabulary(std::string_view dialogue) {
    std::map<std::string, std::set<std::string>> vocabulary;
    std::string current;
    size_t start = 0;
    while (start <= dialogue.size()) {
        size_t end = dialogue.find('\n', start);
        if (end == std::string_view::npos) end = dialogue.size();
        std::string_view line = dialogue.substr(start, end - start);
        size_t first = 0;
        while (first < line.size() && is_space(line[first])) ++first;
        line.remove_prefix(first);
        const std::vector<SpeakerTag> tags = find_speaker_tags(line);
        if (!tags.empty() && tags.front().begin == 0) {
            current = tags.front().number;
            line.remove_prefix(tags.front().end);
        }
        if (!current.empty()) {
            auto& words = vocabulary[current];
            for (std::string& token : rouge_tokenize(line, Stemming::porter)) words.insert(std::move(token));
        }
        start = end + 1;
    }
    return vocabulary;
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Speaker tags: each gets a speaker_tag mark; a tag naming a speaker the dialogue lacks is unknown_speaker.
// In a sentence that names exactly one speaker, its content words (porter-stemmed rouge tokens of 3 or more
// characters, minus stop words and speaker tags) are counted in each speaker's turns; when another speaker's
// turns share at least 2 more of them than the named speaker's, the tag is a speaker_swap. Sentences naming
// two speakers ("#Person1# asks #Person2# ...") are not judged: who did what is not recoverable from bags of words.
void check_speaker_tags(std::string_view summary, std::string_view dialogue, std::vector<SummaryMark>& marks) {
    const std::vector<SpeakerTag> tags = find_speaker_tags(summary);
    if (tags.empty()) return;
    const auto vocabulary = speaker_vocabulary(dialogue);
    std::set<std::string> speakers;
    for (const SpeakerTag& tag : find_speaker_tags(dialogue)) speakers.insert(tag.number);

    // Sentences: split after . ! ? followed by whitespace or the end.
    std::vector<std::pair<size_t, size_t>> sentences;
    size_t begin = 0;
    for (size_t i = 0; i < summary.size(); ++i) {
        const char c = summary[i];
        if ((c == '.' || c == '!' || c == '?') && (i + 1 == summary.size() || is_space(summary[i + 1]))) {
            sentences.emplace_back(begin, i + 1);
            begin = i + 1;
        }
    }
    if (begin < summary.size()) sentences.emplace_back(begin, summary.size());

    for (const SpeakerTag& tag : tags) {
        marks.push_back({tag.begin, tag.end, MarkKind::speaker_tag, "Speaker #Person" + tag.number + "#"});
        if (!speakers.count(tag.number)) {
            marks.push_back({tag.begin, tag.end, MarkKind::unknown_speaker,
                             "Nobody speaks as #Person" + tag.number + "# in the dialogue"});
        }
    }
    for (const auto& [s_begin, s_end] : sentences) {
        std::set<std::string> named;
        const SpeakerTag* first = nullptr;
        for (const SpeakerTag& tag : tags) {
            if (tag.begin >= s_begin && tag.end <= s_end) {
                named.insert(tag.number);
                if (!first) first = &tag;
            }
        }
        if (named.size() != 1 || !vocabulary.count(first->number)) continue;
        std::set<std::string> content;
        for (std::string& token : rouge_tokenize(summary.substr(s_begin, s_end - s_begin), Stemming::porter)) {
            if (token.size() >= 3 && !stop_words().count(token) && token.rfind("person", 0) != 0) content.insert(std::move(token));
        }
        auto shared = [&content](const std::set<std::string>& words) {
            return static_cast<int>(std::count_if(content.begin(), content.end(), [&words](const std::string& t) { return words.count(t) > 0; }));
        };
        const int own = shared(vocabulary.at(first->number));
        for (const auto& [speaker, words] : vocabulary) {
            if (speaker == first->number) continue;
            const int other = shared(words);
            if (other >= own + 2) {
                for (const SpeakerTag& tag : tags) {
                    if (tag.begin >= s_begin && tag.end <= s_end) {
                        marks.push_back({tag.begin, tag.end, MarkKind::speaker_swap,
                                         "This sentence shares " + std::to_string(other) + " content words with #Person" + speaker +
                                             "#'s turns but " + std::to_string(own) + " with #Person" + first->number + "#'s"});
                    }
                }
                break;
            }
        }
    }
}

// Names and numbers of the summary whose (unstemmed) rouge tokens the dialogue lacks.
void check_names_and_numbers(std::string_view summary, std::string_view dialogue, std::vector<SummaryMark>& marks) {
    std::set<std::string> dialogue_tokens;
    for (std::string& token : rouge_tokenize(dialogue, Stemming::none)) dialogue_tokens.insert(std::move(token));
    for (const Word& word : split_words(summary)) {
        const std::string_view text = summary.substr(word.begin, word.end - word.begin);
        if (text.rfind("#Person", 0) == 0) continue;  // speaker tags are checked on their own
        const std::vector<std::string> tokens = rouge_tokenize(text, Stemming::none);
        if (tokens.empty()) continue;
        const bool has_digit = std::any_of(text.begin(), text.end(), is_digit);
        const bool is_number_word = tokens.size() == 1 && number_words().count(tokens.front()) > 0;
        if (has_digit || is_number_word) {
            for (const std::string& token : tokens) {
                if ((has_digit ? std::any_of(token.begin(), token.end(), is_digit) : true) && !dialogue_tokens.count(token)) {
                    marks.push_back({word.begin, word.end, MarkKind::unsupported_number,
                                     "The number " + quoted(text) + " does not occur in the dialogue"});
                    break;
                }
            }
            continue;
        }
        // "I", "I'm", "I'll" are capitalised wherever they stand.
        if (word.starts_sentence || !is_upper(text.front()) || tokens.front() == "i") continue;
        if (!std::all_of(tokens.begin(), tokens.end(), [&](const std::string& t) { return dialogue_tokens.count(t) > 0; })) {
            marks.push_back({word.begin, word.end, MarkKind::unsupported_name, "The name " + quoted(text) + " does not occur in the dialogue"});
        }
    }
}

}  // namespace

const char* mark_kind_name(MarkKind kind) {
    switch (kind) {
        case MarkKind::rouge1_match: return "rouge1_match";
        case MarkKind::rouge2_match: return "rouge2_match";
        case MarkKind::speaker_tag: return "speaker_tag";
        case MarkKind::unsupported_name: return "unsupported_name";
        case MarkKind::unsupported_number: return "unsupported_number";
        case MarkKind::unknown_speaker: return "unknown_speaker";
        case MarkKind::speaker_swap: return "speaker_swap";
    }
    return "";
}

std::vector<TokenSpan> rouge_token_spans(std::string_view text, Stemming stemming) {
    // Tokens never span an ASCII separator, so tokenising each run between separators on its own gives the
    // same tokens in the same order as tokenising the whole text.
    std::vector<TokenSpan> spans;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_ascii_separator(static_cast<unsigned char>(text[i]))) ++i;
        const size_t begin = i;
        while (i < text.size() && !is_ascii_separator(static_cast<unsigned char>(text[i]))) ++i;
        if (begin == i) continue;
        for (std::string& token : rouge_tokenize(text.substr(begin, i - begin), stemming)) spans.push_back({begin, i, std::move(token)});
    }
    return spans;
}

SummaryDiagnostics diagnose_summary(std::string_view summary, const std::vector<std::string>& references,
                                    std::string_view dialogue, Stemming stemming) {
    if (references.empty()) throw std::invalid_argument("diagnose_summary: no references");
    const RougeScorer scorer(stemming);
    SummaryDiagnostics d;
    const std::vector<TokenSpan> spans = rouge_token_spans(summary, stemming);
    for (const TokenSpan& span : spans) d.tokens.push_back(span.token);

    std::vector<RougeScores> per_reference;
    for (const std::string& reference : references) per_reference.push_back(scorer.score(reference, summary));
    d.scores = references.size() == 1 ? per_reference.front() : scorer.score_multi(references, summary);
    d.rouge1_reference = best_reference(per_reference, RougeType::rouge1);
    d.rouge2_reference = best_reference(per_reference, RougeType::rouge2);

    const std::vector<bool> unigrams = clipped_matches(d.tokens, scorer.tokenize(references[d.rouge1_reference]), 1, &d.rouge1_overlap);
    const std::vector<bool> bigrams = clipped_matches(d.tokens, scorer.tokenize(references[d.rouge2_reference]), 2, &d.rouge2_overlap);
    d.rouge1_matched.assign(d.tokens.size(), false);
    d.rouge2_matched.assign(d.tokens.size(), false);
    for (size_t i = 0; i < unigrams.size(); ++i) d.rouge1_matched[i] = unigrams[i];
    for (size_t i = 0; i < bigrams.size(); ++i) {
        if (bigrams[i]) d.rouge2_matched[i] = d.rouge2_matched[i + 1] = true;
    }
    for (size_t i = 0; i < spans.size(); ++i) {
        if (d.rouge1_matched[i]) d.marks.push_back({spans[i].begin, spans[i].end, MarkKind::rouge1_match, "Matches the reference (ROUGE-1)"});
        if (d.rouge2_matched[i]) {
            d.marks.push_back({spans[i].begin, spans[i].end, MarkKind::rouge2_match, "Part of a bigram of the reference (ROUGE-2)"});
        }
    }
    check_names_and_numbers(summary, dialogue, d.marks);
    check_speaker_tags(summary, dialogue, d.marks);
    std::stable_sort(d.marks.begin(), d.marks.end(), [](const SummaryMark& a, const SummaryMark& b) { return a.begin < b.begin; });
    return d;
}

}  // namespace sumlab
