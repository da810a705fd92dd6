// NLTK 3.8 PorterStemmer, mode NLTK_EXTENSIONS (reference: golden/rouge/reference/nltk_3.8_porter.py).
// Each helper below is the NLTK method of the same name (stepN rewrites the word in place) with the
// ORIGINAL_ALGORITHM and MARTIN_EXTENSIONS branches removed; rule order and "first matching suffix
// decides" are kept, because both change results.
#include "engine/metrics/porter_stemmer.h"

#include <array>
#include <utility>

namespace sumlab {
namespace {

using std::string_view;

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// _is_consonant: a letter other than a, e, i, o, u, and other than a `y` that follows a consonant.
// NLTK recurses over runs of `y`; here the recursion is a loop that counts the negations.
bool is_consonant(string_view word, size_t i) {
    bool negate = false;
    for (;;) {
        const char c = word[i];
        if (is_vowel(c)) return negate;
        if (c != 'y' || i == 0) return !negate;
        negate = !negate;
        --i;
    }
}

// _measure: the number of vowel-to-consonant transitions, i.e. m in [C](VC){m}[V].
int measure(string_view stem) {
    int m = 0;
    bool previous_is_vowel = false;
    for (size_t i = 0; i < stem.size(); ++i) {
        const bool consonant = is_consonant(stem, i);
        if (consonant && previous_is_vowel) ++m;
        previous_is_vowel = !consonant;
    }
    return m;
}

bool has_positive_measure(string_view stem) { return measure(stem) > 0; }

bool contains_vowel(string_view stem) {
    for (size_t i = 0; i < stem.size(); ++i) {
        if (!is_consonant(stem, i)) return true;
    }
    return false;
}

// Condition *d.
bool ends_double_consonant(string_view word) {
    const size_t n = word.size();
    return n >= 2 && word[n - 1] == word[n - 2] && is_consonant(word, n - 1);
}

// Condition *o, with NLTK's extension that a two-letter vowel-consonant word also qualifies.
bool ends_cvc(string_view word) {
    const size_t n = word.size();
    if (n >= 3 && is_consonant(word, n - 3) && !is_consonant(word, n - 2) && is_consonant(word, n - 1)) {
        const char last = word[n - 1];
        if (last != 'w' && last != 'x' && last != 'y') return true;
    }
    return n == 2 && !is_consonant(word, 0) && is_consonant(word, 1);
}

// Compared from the last character, where most suffix rules already fail.
bool ends_with(string_view word, string_view suffix) {
    if (word.size() < suffix.size()) return false;
    for (size_t k = 1; k <= suffix.size(); ++k) {
        if (word[word.size() - k] != suffix[suffix.size() - k]) return false;
    }
    return true;
}

string_view drop_suffix(string_view word, size_t suffix_size) { return word.substr(0, word.size() - suffix_size); }

// Replaces the last `suffix_size` characters of `word` with `replacement`.
void replace_suffix(std::string& word, size_t suffix_size, string_view replacement) {
    word.resize(word.size() - suffix_size);
    word.append(replacement);
}

// A suffix rule: when `word` ends with `suffix`, `condition(stem, word)` decides between
// stem + replacement and `word` unchanged; either way no later rule is tried.
struct Rule {
    string_view suffix;
    string_view replacement;
    bool (*condition)(string_view stem, string_view word);
};

// _apply_rule_list for rules whose suffixes are literal strings; rewrites `word` in place.
template <size_t N>
void apply_rule_list(std::string& word, const std::array<Rule, N>& rules) {
    for (const Rule& rule : rules) {
        if (!ends_with(word, rule.suffix)) continue;
        const string_view stem = drop_suffix(word, rule.suffix.size());
        if (rule.condition(stem, word)) replace_suffix(word, rule.suffix.size(), rule.replacement);
        return;
    }
}

bool m_gt_0(string_view stem, string_view) { return measure(stem) > 0; }
bool m_gt_1(string_view stem, string_view) { return measure(stem) > 1; }

void step1a(std::string& word) {
    // NLTK: 'dies' -> 'die' (but 'flies' -> 'fli').
    if (ends_with(word, "ies") && word.size() == 4) return replace_suffix(word, 3, "ie");
    if (ends_with(word, "sses")) return replace_suffix(word, 4, "ss");
    if (ends_with(word, "ies")) return replace_suffix(word, 3, "i");
    if (ends_with(word, "ss")) return;
    if (ends_with(word, "s")) return replace_suffix(word, 1, "");
}

void step1b(std::string& word) {
    // NLTK: 'died' -> 'die', 'spied' -> 'spi'.
    if (ends_with(word, "ied")) return replace_suffix(word, 3, word.size() == 4 ? "ie" : "i");

    if (ends_with(word, "eed")) {
        if (measure(drop_suffix(word, 3)) > 0) replace_suffix(word, 3, "ee");
        return;
    }

    size_t removed = 0;
    for (const string_view suffix : {string_view("ed"), string_view("ing")}) {
        if (ends_with(word, suffix) && contains_vowel(drop_suffix(word, suffix.size()))) {
            removed = suffix.size();
            break;
        }
    }
    if (removed == 0) return;
    word.resize(word.size() - removed);

    // The rule list applied to the shortened stem; `word` is never empty here (it contains a vowel).
    if (ends_with(word, "at")) return replace_suffix(word, 2, "ate");
    if (ends_with(word, "bl")) return replace_suffix(word, 2, "ble");
    if (ends_with(word, "iz")) return replace_suffix(word, 2, "ize");
    if (ends_double_consonant(word)) {
        const char last = word.back();
        if (last != 'l' && last != 's' && last != 'z') word.pop_back();
        return;
    }
    if (measure(word) == 1 && ends_cvc(word)) word.push_back('e');
}

void step1c(std::string& word) {
    // NLTK: y -> i only after a consonant that is not the first letter ('happy' -> 'happi', 'enjoy' and 'by' kept).
    if (!ends_with(word, "y")) return;
    const string_view stem = drop_suffix(word, 1);
    if (stem.size() > 1 && is_consonant(stem, stem.size() - 1)) word.back() = 'i';
}

void step2(std::string& word) {
    // NLTK applies ALLI -> AL first and runs step 2 again on the result.
    if (ends_with(word, "alli") && has_positive_measure(drop_suffix(word, 4))) {
        replace_suffix(word, 4, "al");
        return step2(word);
    }
    static const std::array<Rule, 22> rules{{
        {"ational", "ate", m_gt_0},
        {"tional", "tion", m_gt_0},
        {"enci", "ence", m_gt_0},
        {"anci", "ance", m_gt_0},
        {"izer", "ize", m_gt_0},
        {"bli", "ble", m_gt_0},
        {"alli", "al", m_gt_0},
        {"entli", "ent", m_gt_0},
        {"eli", "e", m_gt_0},
        {"ousli", "ous", m_gt_0},
        {"ization", "ize", m_gt_0},
        {"ation", "ate", m_gt_0},
        {"ator", "ate", m_gt_0},
        {"alism", "al", m_gt_0},
        {"iveness", "ive", m_gt_0},
        {"fulness", "ful", m_gt_0},
        {"ousness", "ous", m_gt_0},
        {"aliti", "al", m_gt_0},
        {"iviti", "ive", m_gt_0},
        {"biliti", "ble", m_gt_0},
        {"fulli", "ful", m_gt_0},
        // The 'l' of 'logi' stays with the stem for the measure, so 'geologi' -> 'geolog'.
        {"logi", "log", [](string_view, string_view w) { return has_positive_measure(drop_suffix(w, 3)); }},
    }};
    apply_rule_list(word, rules);
}

void step3(std::string& word) {
    static const std::array<Rule, 7> rules{{
        {"icate", "ic", m_gt_0},
        {"ative", "", m_gt_0},
        {"alize", "al", m_gt_0},
        {"iciti", "ic", m_gt_0},
        {"ical", "ic", m_gt_0},
        {"ful", "", m_gt_0},
        {"ness", "", m_gt_0},
    }};
    apply_rule_list(word, rules);
}

void step4(std::string& word) {
    static const std::array<Rule, 19> rules{{
        {"al", "", m_gt_1},
        {"ance", "", m_gt_1},
        {"ence", "", m_gt_1},
        {"er", "", m_gt_1},
        {"ic", "", m_gt_1},
        {"able", "", m_gt_1},
        {"ible", "", m_gt_1},
        {"ant", "", m_gt_1},
        {"ement", "", m_gt_1},
        {"ment", "", m_gt_1},
        {"ent", "", m_gt_1},
        {"ion", "", [](string_view s, string_view) { return measure(s) > 1 && (s.back() == 's' || s.back() == 't'); }},
        {"ou", "", m_gt_1},
        {"ism", "", m_gt_1},
        {"ate", "", m_gt_1},
        {"iti", "", m_gt_1},
        {"ous", "", m_gt_1},
        {"ive", "", m_gt_1},
        {"ize", "", m_gt_1},
    }};
    apply_rule_list(word, rules);
}

void step5a(std::string& word) {
    // Both conditions are tried (unlike the rule lists): (m>1) E -> ; (m=1 and not *o) E -> .
    if (!ends_with(word, "e")) return;
    const string_view stem = drop_suffix(word, 1);
    const int m = measure(stem);
    if (m > 1 || (m == 1 && !ends_cvc(stem))) word.pop_back();
}

void step5b(std::string& word) {
    // (m>1 and *d and *L) -> single letter; NLTK measures the word minus one 'l'.
    if (ends_with(word, "ll") && measure(drop_suffix(word, 1)) > 1) word.pop_back();
}

// NLTK's table of irregular forms, looked up before any rule.
const char* irregular_form(string_view word) {
    static const std::array<std::pair<string_view, const char*>, 16> pool{{
        {"sky", "sky"},         {"skies", "sky"},       {"dying", "die"},     {"lying", "lie"},
        {"tying", "tie"},       {"news", "news"},       {"innings", "inning"}, {"inning", "inning"},
        {"outings", "outing"},  {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
        {"howe", "howe"},       {"proceed", "proceed"}, {"exceed", "exceed"}, {"succeed", "succeed"},
    }};
    for (const auto& [form, stem] : pool) {
        if (form == word) return stem;
    }
    return nullptr;
}

}  // namespace

std::string porter_stem(std::string_view word) {
    if (const char* irregular = irregular_form(word)) return irregular;
    std::string stem(word);
    for (char& c : stem) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (word.size() <= 2) return stem;

    step1a(stem);
    step1b(stem);
    step1c(stem);
    step2(stem);
    step3(stem);
    step4(stem);
    step5a(stem);
    step5b(stem);
    return stem;
}

}  // namespace sumlab
