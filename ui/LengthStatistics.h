// Length statistics of a dataset's prompts and summaries as plain Qt values (from the engine's
// split_statistics), computed on the DatasetWorker thread for the Data page's histograms.
#pragma once

#include <QMetaType>
#include <QString>
#include <QVector>

struct LengthHistogram {
    int count = 0;
    qint64 min = 0;
    double mean = 0;
    double median = 0;
    double p95 = 0;
    qint64 max = 0;
    QVector<qint64> binEdges;  // ascending, binEdges[0] == 0; the last bin is open
    QVector<qint64> counts;    // counts[i] counts [binEdges[i], binEdges[i+1])
    qint64 maxLength = 0;      // the truncation limit
    qint64 truncated = 0;      // lengths above maxLength
    double truncatedFraction = 0;
};

struct SplitLengthStatistics {
    QString split;        // "train", ...
    int examples = 0;
    int references = 0;
    int distinctTopics = 0;
    LengthHistogram prompts;    // one per dialogue, of the rendered prompt, against max_source_length
    LengthHistogram summaries;  // one per reference summary, against max_target_length
};

// What the lengths are counted with.
struct LengthStatisticsRequest {
    int id = 0;                // echoed in the result; the UI keeps only the newest
    QString tokenizerDir;      // a model folder with spiece.model; empty = whitespace words
    QString tokenizerName;     // how the UI names that model
    int maxSourceLength = 512;
    int maxTargetLength = 128;
};

struct LengthStatisticsResult {
    int requestId = 0;
    bool isTokens = false;     // false: whitespace words
    QString unitDescription;   // "T5 tokens (tiny-flan's tokenizer, including </s>)" or "whitespace words"
    QString warning;           // why tokens were asked for but words were counted, else empty
    QVector<SplitLengthStatistics> splits;
};

Q_DECLARE_METATYPE(LengthStatisticsRequest)
Q_DECLARE_METATYPE(LengthStatisticsResult)
