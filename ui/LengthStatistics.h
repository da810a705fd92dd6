// Length statistics of a dataset's prompts and summaries as the Data page gets them: the engine's own
// sumlab::SplitStatistics (engine/data/dataset_statistics.h, computed on the DatasetWorker thread) plus what the UI
// asked for and how the lengths were counted.
#pragma once

#include "engine/data/dataset_statistics.h"

#include <QMetaType>
#include <QString>
#include <QVector>

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
    QVector<sumlab::SplitStatistics> splits;  // in the dataset's split order
};

Q_DECLARE_METATYPE(LengthStatisticsRequest)
Q_DECLARE_METATYPE(LengthStatisticsResult)
