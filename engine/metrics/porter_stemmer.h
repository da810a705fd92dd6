// The Porter stemmer that rouge_score's `use_stemmer=True` runs: NLTK 3.8's
// `nltk.stem.porter.PorterStemmer()` in its default mode NLTK_EXTENSIONS, ported branch for branch
// (irregular-form pool, 4-letter *ies/*ied rules, NLTK's Step 1c y-rule, alli/fulli/logi rules,
// the two-letter *o condition). It is neither Snowball `porter` nor Martin Porter's C version:
// those disagree on about 2% of DialogSum's vocabulary (`they`, `days`, `used`, `dying`, ...).
//
// Intended use: one word at a time, as produced by rouge_tokenize() (lowercase ASCII letters and digits).
#pragma once

#include <string>
#include <string_view>

namespace sumlab {

// Returns exactly what `PorterStemmer().stem(word)` returns in NLTK 3.8 for an ASCII `word`.
// ASCII letters are lowercased first (NLTK's to_lowercase=True); as in NLTK, the irregular-form pool is
// looked up with the word as given, so "Skies" stems to "ski" while "skies" stems to "sky".
// Words of one or two characters come back lowercased and otherwise unchanged.
// Bytes outside ASCII are treated as consonants, one per byte (the result then need not match NLTK,
// which counts code points); rouge_tokenize() never passes such bytes.
std::string porter_stem(std::string_view word);

}  // namespace sumlab
