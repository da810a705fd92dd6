// ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum, bit-identical to Google's rouge_score 0.1.2
// (`RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer).score()` and `.score_multi()`),
// which is what Hugging Face `evaluate.load("rouge")` runs. The exact algorithm and its golden cases are
// in shared/golden/rouge/README.md; corpus means and bootstrap statistics are in engine/metrics/bootstrap.h.
//
// Intended use:
//     RougeScorer scorer(Stemming::porter);
//     RougeScores s = scorer.score_multi(references, prediction);   // s.rougeL.fmeasure, s[RougeType::rouge1]
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sumlab {

// rouge_score's `use_stemmer`: Stemming::porter stems every token longer than 3 characters with
// porter_stem() (NLTK 3.8, NLTK_EXTENSIONS).
enum class Stemming { none, porter };

enum class RougeType { rouge1, rouge2, rougeL, rougeLsum };
enum class RougeMeasure { precision, recall, fmeasure };

inline constexpr std::array<RougeType, 4> all_rouge_types{RougeType::rouge1, RougeType::rouge2, RougeType::rougeL,
                                                          RougeType::rougeLsum};
inline constexpr std::array<RougeMeasure, 3> all_rouge_measures{RougeMeasure::precision, RougeMeasure::recall,
                                                                RougeMeasure::fmeasure};

// "rouge1", "rouge2", "rougeL", "rougeLsum" / "precision", "recall", "fmeasure" (rouge_score's keys).
const char* rouge_type_name(RougeType type);
const char* rouge_measure_name(RougeMeasure measure);

// One value per measure, in rouge_score's Score field order.
template <class T>
struct PerMeasure {
    T precision{};
    T recall{};
    T fmeasure{};

    T& operator[](RougeMeasure m) { return m == RougeMeasure::precision ? precision : m == RougeMeasure::recall ? recall : fmeasure; }
    const T& operator[](RougeMeasure m) const { return const_cast<PerMeasure&>(*this)[m]; }
};

// One PerMeasure per ROUGE type.
template <class T>
struct PerRougeType {
    PerMeasure<T> rouge1;
    PerMeasure<T> rouge2;
    PerMeasure<T> rougeL;
    PerMeasure<T> rougeLsum;

    PerMeasure<T>& operator[](RougeType t) {
        switch (t) {
            case RougeType::rouge1: return rouge1;
            case RougeType::rouge2: return rouge2;
            case RougeType::rougeL: return rougeL;
            case RougeType::rougeLsum: break;
        }
        return rougeLsum;
    }
    const PerMeasure<T>& operator[](RougeType t) const { return const_cast<PerRougeType&>(*this)[t]; }
};

using RougeScore = PerMeasure<double>;     // rouge_score.scoring.Score
using RougeScores = PerRougeType<double>;  // the dict RougeScorer.score() returns

// scoring.fmeasure: 2*p*r/(p+r) evaluated left to right, 0.0 when p + r == 0.
double rouge_fmeasure(double precision, double recall);

// rouge_score's default tokenizer (tokenize.tokenize): Python's str.lower(), every maximal run of characters
// outside [a-z0-9] becomes one separator, empty tokens dropped, and with Stemming::porter each token of more
// than 3 characters is stemmed. Python's full-Unicode lower() yields [a-z0-9] from only three sources:
// ASCII A-Z/a-z/0-9, U+0130 (lowercases to "i" + U+0307, so it gives "i" and then ends the token) and
// U+212A KELVIN SIGN ("k"); every other code point is a separator (Unicode 14 case tables; fullwidth and
// other compatibility letters lowercase to themselves or to other non-ASCII letters).
// `text` is UTF-8. Invalid UTF-8: each maximal ill-formed subsequence (Unicode 3.9, the same units
// Python's `decode("utf-8", "replace")` turns into U+FFFD) is one separator, so invalid bytes never form
// or join token characters and the ASCII bytes around them are read normally.
std::vector<std::string> rouge_tokenize(std::string_view text, Stemming stemming);

class RougeScorer {
public:
    explicit RougeScorer(Stemming stemming = Stemming::none) : stemming_(stemming) {}

    Stemming stemming() const { return stemming_; }

    // rouge_tokenize(text, stemming()).
    std::vector<std::string> tokenize(std::string_view text) const;

    // RougeScorer.score(target, prediction): the target (reference) comes first.
    // rougeLsum splits both texts on "\n" only and drops empty lines (rouge_score's split_summaries=False).
    RougeScores score(std::string_view target, std::string_view prediction) const;

    // RougeScorer.score_multi: each target scored separately; per ROUGE type, the scores of the target with
    // the highest fmeasure (the first one on ties, as np.argmax). Throws std::invalid_argument when
    // `targets` is empty.
    RougeScores score_multi(const std::vector<std::string>& targets, std::string_view prediction) const;

    // The human-vs-human ceiling of one multi-reference example: each reference scored as the prediction
    // against the others with score_multi(), averaged over the references (each P/R/F separately).
    // Throws std::invalid_argument for fewer than two references.
    RougeScores human_ceiling(const std::vector<std::string>& references) const;

private:
    Stemming stemming_;
};

// How a score was produced; printed with every table so numbers from different settings are not compared.
enum class Aggregation {
    mean,              // arithmetic mean of the per-example scores (exactly rounded sum / n)
    bootstrap_median,  // BootstrapAggregator's mid (evaluate's use_aggregator=True)
};

struct RougeProvenance {
    Stemming stemming = Stemming::none;
    std::string tokenizer = "rouge_score default";  // rouge_score 0.1.2 tokenize.tokenize
    std::string lsum_split = "\n";                  // rougeLsum sentence separator (split_summaries=False)
    int min_references = 1;                         // references per example; more than one: score_multi
    int max_references = 1;
    std::int64_t examples = 0;
    Aggregation aggregation = Aggregation::mean;
    int bootstrap_resamples = 0;  // 0: no confidence intervals
    double confidence = 0.95;     // two-sided level of the bootstrap intervals
    std::uint64_t seed = 0;       // bootstrap PRNG seed

    // One line, e.g. "ROUGE: rouge_score 0.1.2 default tokenizer, Porter stemmer (NLTK 3.8) on, rougeLsum
    // split on \n, 1 reference, mean over 500 examples, 95% CI: percentile bootstrap, 1000 resamples, seed 0".
    std::string describe() const;
    nlohmann::json to_json() const;
};

// {"rouge1": {"precision": p, "recall": r, "fmeasure": f}, "rouge2": ..., "rougeL": ..., "rougeLsum": ...}
nlohmann::json rouge_scores_to_json(const RougeScores& scores);

}  // namespace sumlab
