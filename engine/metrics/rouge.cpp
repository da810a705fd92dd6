// ROUGE scoring (rouge_score 0.1.2 parity; see rouge.h and shared/golden/rouge/README.md).
// Each scoring call tokenizes its texts once, interns the tokens as small integer ids, and runs the n-gram
// overlap, LCS and summary-level union LCS on the ids. Counts are integers; every ratio is one IEEE
// division of two integer counts, as Python's true division of ints, so results are bit-identical.
#include "engine/metrics/rouge.h"

#include "engine/metrics/porter_stemmer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace sumlab {
namespace {

constexpr char32_t replacement_character = 0xFFFD;

// Decodes the UTF-8 sequence at text[pos] and moves pos past it. An ill-formed sequence yields U+FFFD and
// moves pos past its maximal subpart only (Unicode 3.9 / W3C "U+FFFD substitution of maximal subparts"),
// so a byte that cannot continue the sequence is decoded again as the start of the next one.
char32_t decode_utf8(std::string_view text, size_t& pos) {
    const auto lead = static_cast<unsigned char>(text[pos++]);
    if (lead < 0x80) return lead;
    int length = 0;
    char32_t cp = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        cp = lead & 0x0F;
        if (lead == 0xE0) low = 0xA0;   // no overlong forms
        if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        cp = lead & 0x07;
        if (lead == 0xF0) low = 0x90;   // no overlong forms
        if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
        return replacement_character;  // a continuation byte, C0, C1 or F5..FF
    }
    for (int k = 1; k < length; ++k) {
        if (pos >= text.size()) return replacement_character;
        const auto c = static_cast<unsigned char>(text[pos]);
        if (c < low || c > high) return replacement_character;
        cp = (cp << 6) | (c & 0x3F);
        low = 0x80;
        high = 0xBF;
        ++pos;
    }
    return cp;
}

// Token ids of one scoring call.
class Vocabulary {
public:
    int id(const std::string& token) {
        const auto [it, inserted] = ids_.try_emplace(token, static_cast<int>(ids_.size()));
        return it->second;
    }
    int size() const { return static_cast<int>(ids_.size()); }

private:
    std::unordered_map<std::string, int> ids_;
};

// A text as rouge_score sees it: its "\n"-separated non-empty lines, tokenized (rougeLsum),
// and all tokens in order (rouge1, rouge2, rougeL; "\n" is a separator, so these are the lines joined).
struct TokenizedText {
    std::vector<std::vector<int>> lines;
    std::vector<int> tokens;
};

TokenizedText tokenize_text(std::string_view text, Stemming stemming, Vocabulary& vocabulary) {
    TokenizedText out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        if (end > start) {
            std::vector<int>& line = out.lines.emplace_back();
            for (const std::string& token : rouge_tokenize(text.substr(start, end - start), stemming)) {
                line.push_back(vocabulary.id(token));
            }
            out.tokens.insert(out.tokens.end(), line.begin(), line.end());
        }
        start = end + 1;
    }
    return out;
}

double ratio(std::int64_t numerator, std::int64_t denominator) {
    return static_cast<double>(numerator) / static_cast<double>(denominator);
}

RougeScore make_score(double precision, double recall) {
    return RougeScore{precision, recall, rouge_fmeasure(precision, recall)};
}

// Sorted n-gram keys (n = 1 or 2) of a token-id sequence; equal keys are equal n-grams.
std::vector<std::uint64_t> ngram_keys(const std::vector<int>& tokens, int n, int vocabulary_size) {
    std::vector<std::uint64_t> keys;
    if (tokens.size() >= static_cast<size_t>(n)) {
        keys.reserve(tokens.size() - n + 1);
        for (size_t i = 0; i + n <= tokens.size(); ++i) {
            std::uint64_t key = static_cast<std::uint64_t>(tokens[i]);
            if (n == 2) key = key * static_cast<std::uint64_t>(vocabulary_size) + static_cast<std::uint64_t>(tokens[i + 1]);
            keys.push_back(key);
        }
    }
    std::sort(keys.begin(), keys.end());
    return keys;
}

// _score_ngrams: overlap = sum over target n-grams of min(target count, prediction count).
RougeScore score_ngrams(const std::vector<int>& target, const std::vector<int>& prediction, int n, int vocabulary_size) {
    const std::vector<std::uint64_t> t = ngram_keys(target, n, vocabulary_size);
    const std::vector<std::uint64_t> p = ngram_keys(prediction, n, vocabulary_size);
    std::int64_t overlap = 0;
    size_t i = 0;
    size_t j = 0;
    while (i < t.size() && j < p.size()) {
        if (t[i] < p[j]) {
            ++i;
        } else if (p[j] < t[i]) {
            ++j;
        } else {
            const std::uint64_t key = t[i];
            std::int64_t in_target = 0;
            std::int64_t in_prediction = 0;
            for (; i < t.size() && t[i] == key; ++i) ++in_target;
            for (; j < p.size() && p[j] == key; ++j) ++in_prediction;
            overlap += std::min(in_target, in_prediction);
        }
    }
    const auto target_count = static_cast<std::int64_t>(t.size());
    const auto prediction_count = static_cast<std::int64_t>(p.size());
    return make_score(ratio(overlap, std::max<std::int64_t>(prediction_count, 1)),
                      ratio(overlap, std::max<std::int64_t>(target_count, 1)));
}

std::int64_t lcs_length(const std::vector<int>& a, const std::vector<int>& b) {
    std::vector<std::int32_t> row(b.size() + 1, 0);
    for (size_t i = 1; i <= a.size(); ++i) {
        std::int32_t diagonal = 0;  // previous row, column j - 1
        for (size_t j = 1; j <= b.size(); ++j) {
            const std::int32_t up = row[j];
            row[j] = a[i - 1] == b[j - 1] ? diagonal + 1 : std::max(up, row[j - 1]);
            diagonal = up;
        }
    }
    return row[b.size()];
}

// _score_lcs.
RougeScore score_lcs(const std::vector<int>& target, const std::vector<int>& prediction) {
    if (target.empty() || prediction.empty()) return RougeScore{};
    const std::int64_t lcs = lcs_length(target, prediction);
    return make_score(ratio(lcs, static_cast<std::int64_t>(prediction.size())),
                      ratio(lcs, static_cast<std::int64_t>(target.size())));
}

// lcs_ind: fills the LCS table of (ref, can) and backtracks from the corner exactly as
// _backtrack_norec does (a strictly larger left cell moves left, ties move up), marking the ref indices taken.
void mark_lcs(const std::vector<int>& ref, const std::vector<int>& can, std::vector<std::int32_t>& table,
              std::vector<char>& taken) {
    if (ref.empty() || can.empty()) return;
    const size_t width = can.size() + 1;
    table.assign((ref.size() + 1) * width, 0);
    for (size_t i = 1; i <= ref.size(); ++i) {
        const std::int32_t* up_row = &table[(i - 1) * width];
        std::int32_t* row = &table[i * width];
        for (size_t j = 1; j <= can.size(); ++j) {
            row[j] = ref[i - 1] == can[j - 1] ? up_row[j - 1] + 1 : std::max(up_row[j], row[j - 1]);
        }
    }
    size_t i = ref.size();
    size_t j = can.size();
    while (i > 0 && j > 0) {
        if (ref[i - 1] == can[j - 1]) {
            taken[i - 1] = 1;
            --i;
            --j;
        } else if (table[i * width + j - 1] > table[(i - 1) * width + j]) {
            --j;
        } else {
            --i;
        }
    }
}

// _summary_level_lcs: union LCS of each reference line against all candidate lines, with each token
// counted at most as often as it occurs in both texts (ROUGE-1.5.5).
RougeScore score_summary_lcs(const std::vector<std::vector<int>>& ref_lines,
                             const std::vector<std::vector<int>>& can_lines, int vocabulary_size) {
    if (ref_lines.empty() || can_lines.empty()) return RougeScore{};
    std::int64_t m = 0;
    std::int64_t n = 0;
    std::vector<std::int64_t> ref_counts(vocabulary_size, 0);
    std::vector<std::int64_t> can_counts(vocabulary_size, 0);
    for (const auto& line : ref_lines) {
        m += static_cast<std::int64_t>(line.size());
        for (int t : line) ++ref_counts[t];
    }
    for (const auto& line : can_lines) {
        n += static_cast<std::int64_t>(line.size());
        for (int t : line) ++can_counts[t];
    }
    if (m == 0 || n == 0) return RougeScore{};

    std::int64_t hits = 0;
    std::vector<std::int32_t> table;
    std::vector<char> taken;
    for (const auto& ref : ref_lines) {
        taken.assign(ref.size(), 0);
        for (const auto& can : can_lines) mark_lcs(ref, can, table, taken);
        for (size_t k = 0; k < ref.size(); ++k) {
            if (!taken[k]) continue;
            const int t = ref[k];
            if (can_counts[t] > 0 && ref_counts[t] > 0) {
                ++hits;
                --can_counts[t];
                --ref_counts[t];
            }
        }
    }
    return make_score(ratio(hits, n), ratio(hits, m));
}

RougeScores score_tokenized(const TokenizedText& target, const TokenizedText& prediction, int vocabulary_size) {
    RougeScores s;
    s.rouge1 = score_ngrams(target.tokens, prediction.tokens, 1, vocabulary_size);
    s.rouge2 = score_ngrams(target.tokens, prediction.tokens, 2, vocabulary_size);
    s.rougeL = score_lcs(target.tokens, prediction.tokens);
    s.rougeLsum = score_summary_lcs(target.lines, prediction.lines, vocabulary_size);
    return s;
}

std::string escape_control(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else out += c;
    }
    return out;
}

std::string format_percent(double fraction) {
    const double percent = fraction * 100.0;
    std::string text = std::to_string(percent);
    text.erase(text.find_last_not_of('0') + 1);
    if (!text.empty() && text.back() == '.') text.pop_back();
    return text + "%";
}

}  // namespace

const char* rouge_type_name(RougeType type) {
    switch (type) {
        case RougeType::rouge1: return "rouge1";
        case RougeType::rouge2: return "rouge2";
        case RougeType::rougeL: return "rougeL";
        case RougeType::rougeLsum: break;
    }
    return "rougeLsum";
}

const char* rouge_measure_name(RougeMeasure measure) {
    switch (measure) {
        case RougeMeasure::precision: return "precision";
        case RougeMeasure::recall: return "recall";
        case RougeMeasure::fmeasure: break;
    }
    return "fmeasure";
}

double rouge_fmeasure(double precision, double recall) {
    if (precision + recall > 0) return 2 * precision * recall / (precision + recall);
    return 0.0;
}

std::vector<std::string> rouge_tokenize(std::string_view text, Stemming stemming) {
    std::vector<std::string> tokens;
    std::string current;
    const auto end_token = [&] {
        if (current.empty()) return;
        if (stemming == Stemming::porter && current.size() > 3) current = porter_stem(current);
        if (!current.empty()) tokens.push_back(std::move(current));
        current.clear();
    };
    size_t pos = 0;
    while (pos < text.size()) {
        const char32_t cp = decode_utf8(text, pos);
        if ((cp >= U'a' && cp <= U'z') || (cp >= U'0' && cp <= U'9')) {
            current += static_cast<char>(cp);
        } else if (cp >= U'A' && cp <= U'Z') {
            current += static_cast<char>(cp - U'A' + U'a');
        } else if (cp == 0x212A) {  // KELVIN SIGN lowercases to "k"
            current += 'k';
        } else if (cp == 0x0130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE lowercases to "i" U+0307
            current += 'i';
            end_token();
        } else {
            end_token();
        }
    }
    end_token();
    return tokens;
}

std::vector<std::string> RougeScorer::tokenize(std::string_view text) const { return rouge_tokenize(text, stemming_); }

RougeScores RougeScorer::score(std::string_view target, std::string_view prediction) const {
    Vocabulary vocabulary;
    const TokenizedText t = tokenize_text(target, stemming_, vocabulary);
    const TokenizedText p = tokenize_text(prediction, stemming_, vocabulary);
    return score_tokenized(t, p, vocabulary.size());
}

RougeScores RougeScorer::score_multi(const std::vector<std::string>& targets, std::string_view prediction) const {
    if (targets.empty()) throw std::invalid_argument("score_multi: no references");
    Vocabulary vocabulary;
    const TokenizedText p = tokenize_text(prediction, stemming_, vocabulary);
    RougeScores best;
    for (size_t i = 0; i < targets.size(); ++i) {
        const TokenizedText t = tokenize_text(targets[i], stemming_, vocabulary);
        const RougeScores s = score_tokenized(t, p, vocabulary.size());
        for (RougeType type : all_rouge_types) {
            if (i == 0 || s[type].fmeasure > best[type].fmeasure) best[type] = s[type];
        }
    }
    return best;
}

RougeScores RougeScorer::human_ceiling(const std::vector<std::string>& references) const {
    if (references.size() < 2) throw std::invalid_argument("human_ceiling: needs at least two references");
    RougeScores sum;
    for (size_t j = 0; j < references.size(); ++j) {
        std::vector<std::string> others;
        others.reserve(references.size() - 1);
        for (size_t k = 0; k < references.size(); ++k) {
            if (k != j) others.push_back(references[k]);
        }
        const RougeScores s = score_multi(others, references[j]);
        for (RougeType type : all_rouge_types) {
            for (RougeMeasure measure : all_rouge_measures) sum[type][measure] += s[type][measure];
        }
    }
    const auto count = static_cast<double>(references.size());
    for (RougeType type : all_rouge_types) {
        for (RougeMeasure measure : all_rouge_measures) sum[type][measure] /= count;
    }
    return sum;
}

std::string RougeProvenance::describe() const {
    std::string text = "ROUGE (rouge_score 0.1.2 parity): tokenizer " + tokenizer;
    text += stemming == Stemming::porter ? ", Porter stemmer (NLTK 3.8) on" : ", stemmer off";
    text += ", rougeLsum split on \"" + escape_control(lsum_split) + "\"";
    if (max_references <= 1) {
        text += ", 1 reference per example";
    } else {
        text += ", " + (min_references == max_references ? std::to_string(max_references)
                                                         : std::to_string(min_references) + "-" + std::to_string(max_references));
        text += " references per example (best F per type)";
    }
    const std::string over = std::to_string(examples) + (examples == 1 ? " example" : " examples");
    if (aggregation == Aggregation::mean) {
        text += ", mean over " + over;
    } else {
        text += ", median of " + std::to_string(bootstrap_resamples) + " bootstrap means over " + over;
    }
    if (bootstrap_resamples > 0) {
        text += ", " + format_percent(confidence) + " CI: percentile bootstrap, " + std::to_string(bootstrap_resamples) +
                " resamples, seed " + std::to_string(seed);
    }
    return text;
}

nlohmann::json RougeProvenance::to_json() const {
    nlohmann::json j = {
        {"stemmer", stemming == Stemming::porter ? "porter (nltk 3.8)" : "none"},
        {"tokenizer", tokenizer},
        {"rougeLsum_split", lsum_split},
        {"references", {{"min", min_references}, {"max", max_references}}},
        {"examples", examples},
        {"aggregation", aggregation == Aggregation::mean ? "mean" : "bootstrap median"},
    };
    if (bootstrap_resamples > 0) {
        j["bootstrap"] = {{"method", "percentile"}, {"resamples", bootstrap_resamples}, {"confidence", confidence}, {"seed", seed}};
    }
    return j;
}

nlohmann::json rouge_scores_to_json(const RougeScores& scores) {
    nlohmann::json out = nlohmann::json::object();
    for (RougeType type : all_rouge_types) {
        nlohmann::json& entry = out[rouge_type_name(type)];
        for (RougeMeasure measure : all_rouge_measures) entry[rouge_measure_name(measure)] = scores[type][measure];
    }
    return out;
}

}  // namespace sumlab
