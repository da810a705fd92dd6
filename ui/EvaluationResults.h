// EvaluationResults: a scored results CSV as plain Qt values -- per system ROUGE-1/2/L/Lsum F-measures with
// bootstrap intervals, the paired-bootstrap deltas between systems, every row's texts and per-example scores
// (for the ranked wins and losses), and where the numbers came from. Made by ScoreWorker, shown by the Evaluate
// page's models and chart.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include <array>

inline constexpr int RougeMetricCount = 4;  // rouge1, rouge2, rougeL, rougeLsum (the engine's order)

struct MetricInterval {
    double mean = 0;  // fmeasure, 0..1
    double low = 0;   // bootstrap interval (equal to mean without resamples)
    double high = 0;
};

struct SystemScore {
    QString name;  // column name without "_summaries"
    std::array<MetricInterval, RougeMetricCount> metrics;
    std::array<QVector<double>, RougeMetricCount> perExample;  // fmeasure per row
};

// systems[candidate] - systems[baseline], F-measures.
struct PairDelta {
    int baseline = 0;
    int candidate = 0;
    std::array<double, RougeMetricCount> baselineMean{};
    std::array<double, RougeMetricCount> candidateMean{};
    std::array<double, RougeMetricCount> delta{};
    std::array<double, RougeMetricCount> low{};
    std::array<double, RougeMetricCount> high{};
    std::array<double, RougeMetricCount> pValue{};

    // The same comparison the other way round (baseline and candidate swapped; the interval mirrors).
    PairDelta reversed() const {
        PairDelta r = *this;
        std::swap(r.baseline, r.candidate);
        std::swap(r.baselineMean, r.candidateMean);
        for (int m = 0; m < RougeMetricCount; ++m) {
            r.delta[m] = -delta[m];
            r.low[m] = -high[m];
            r.high[m] = -low[m];
        }
        return r;
    }
};

struct ResultRow {
    QString id;          // empty when the file has none
    QString dialogue;    // empty when the file has none
    QStringList references;
    QStringList summaries;  // one per system, in system order
};

struct ScoreRequest {
    int requestId = 0;
    QString path;
    bool stemmer = true;          // rouge_score use_stemmer (the lab: True)
    bool multiReference = false;  // score_multi over every reference column
    int resamples = 1000;         // 0: no intervals
    quint64 seed = 0;
};

struct ScoreResult {
    ScoreRequest request;
    int examples = 0;
    int maxReferences = 1;
    QString rougeDescription;  // RougeProvenance::describe(): tokenizer, stemmer, references, resamples, seed
    QStringList provenance;    // one line per column of <csv>.provenance.json (empty when there is none)
    QVector<SystemScore> systems;
    QVector<PairDelta> deltas;  // every later system minus every earlier one
    QVector<ResultRow> rows;

    // The comparison candidate - baseline (any two systems), or nullptr-like empty when out of range.
    PairDelta delta(int baseline, int candidate) const {
        for (const PairDelta& d : deltas) {
            if (d.baseline == baseline && d.candidate == candidate) return d;
            if (d.baseline == candidate && d.candidate == baseline) return d.reversed();
        }
        return PairDelta{};
    }
};

Q_DECLARE_METATYPE(ScoreRequest)
Q_DECLARE_METATYPE(ScoreResult)
