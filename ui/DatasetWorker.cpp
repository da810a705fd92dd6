#include "ui/DatasetWorker.h"

#include "engine/data/dialogsum.h"
#include "engine/text/tokenizer.h"
#include "base/errors.h"

#include <QFileInfo>

#include <optional>
#include <string>
#include <unordered_map>

struct DatasetWorker::State {
    std::optional<sumlab::DialogSumDataset> dataset;
    // The tokenizer of the last statistics request and the lengths it gave, by text hash: moving a
    // spin box recomputes the truncated share without encoding 25,000 texts again.
    QString tokenizerDir;
    std::unique_ptr<sumlab::T5Tokenizer> tokenizer;
    std::unordered_map<size_t, size_t> tokenCounts;
};

namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QStringList fromStd(const std::vector<std::string>& list) {
    QStringList out;
    out.reserve(static_cast<int>(list.size()));
    for (const std::string& s : list) out << fromStd(s);
    return out;
}

QString firstLineOf(const std::string& dialogue) {
    size_t begin = 0;
    while (begin < dialogue.size()) {
        size_t end = dialogue.find('\n', begin);
        if (end == std::string::npos) end = dialogue.size();
        QString line = QString::fromUtf8(dialogue.data() + begin, static_cast<qsizetype>(end - begin)).trimmed();
        if (!line.isEmpty()) return line;
        begin = end + 1;
    }
    return {};
}

SplitSnapshot snapshotOf(const sumlab::DialogSumSplit& split) {
    SplitSnapshot s;
    s.name = fromStd(std::string(sumlab::split_name(split.split)));
    s.path = fromStd(split.path);
    s.format = fromStd(std::string(sumlab::format_name(split.format)));
    s.referenceCount = static_cast<int>(split.reference_count());
    s.skippedCount = static_cast<int>(split.skipped.size());
    for (const sumlab::SkippedRow& row : split.skipped) {
        if (s.skippedDetails.size() >= 50) break;
        QString where = QFileInfo(fromStd(row.path)).fileName() + ':' + QString::number(row.line);
        if (!row.id.empty()) where += QStringLiteral(" (%1)").arg(fromStd(row.id));
        s.skippedDetails << where + QStringLiteral(": ") + fromStd(row.reason);
    }
    s.dialogues.reserve(static_cast<int>(split.examples.size()));
    for (const sumlab::DialogSumExample& e : split.examples) {
        DialogueRecord r;
        r.id = fromStd(e.id);
        r.topics = fromStd(e.topics);
        r.dialogue = fromStd(e.dialogue);
        r.references = fromStd(e.references);
        r.firstLine = firstLineOf(e.dialogue);
        r.wordCount = static_cast<int>(sumlab::count_whitespace_words(e.dialogue));
        r.line = e.line;
        s.dialogues.push_back(std::move(r));
    }
    return s;
}

}  // namespace

DatasetWorker::DatasetWorker(QObject* parent) : QObject(parent), m_state(std::make_unique<State>()) {
    qRegisterMetaType<DatasetSnapshot>();
    qRegisterMetaType<LengthStatisticsRequest>();
    qRegisterMetaType<LengthStatisticsResult>();
}

DatasetWorker::~DatasetWorker() = default;

void DatasetWorker::load(int requestId, const QString& path) {
    try {
        sumlab::LoadOptions options;
        options.on_bad_row = sumlab::BadRowPolicy::skip;
        sumlab::DialogSumDataset dataset = sumlab::load_dialogsum(path.toStdString(), options);
        DatasetSnapshot snapshot;
        snapshot.path = path;
        for (const sumlab::DialogSumSplit& split : dataset.splits) snapshot.splits << snapshotOf(split);
        m_state->dataset = std::move(dataset);
        emit loaded(requestId, snapshot);
    } catch (const std::exception& e) {
        // sumlab::Error messages name the file and line; anything else (bad_alloc) is still reported, not fatal.
        emit loadFailed(requestId, path, QString::fromStdString(e.what()));
    }
}

void DatasetWorker::computeStatistics(const LengthStatisticsRequest& request) {
    if (m_latestStatistics.load() != request.id) return;  // superseded while queued
    if (!m_state->dataset) {
        emit statisticsFailed(request.id, tr("No dataset is loaded."));
        return;
    }
    LengthStatisticsResult result;
    result.requestId = request.id;
    try {
        State& st = *m_state;
        if (!request.tokenizerDir.isEmpty() && st.tokenizerDir != request.tokenizerDir) {
            st.tokenizer.reset();
            st.tokenCounts.clear();
            st.tokenizerDir.clear();
            try {
                st.tokenizer = std::make_unique<sumlab::T5Tokenizer>(sumlab::T5Tokenizer::from_directory(request.tokenizerDir.toStdString()));
                st.tokenizerDir = request.tokenizerDir;
            } catch (const std::exception& e) {
                result.warning = tr("Counting whitespace words: the tokenizer of %1 could not be loaded (%2).")
                                     .arg(request.tokenizerName, QString::fromStdString(e.what()));
            }
        }
        const bool useTokens = !request.tokenizerDir.isEmpty() && st.tokenizer && st.tokenizerDir == request.tokenizerDir;
        sumlab::StatisticsOptions options;
        options.max_source_length = static_cast<size_t>(request.maxSourceLength);
        options.max_target_length = static_cast<size_t>(request.maxTargetLength);
        const int id = request.id;
        if (useTokens) {
            result.isTokens = true;
            result.unitDescription = tr("T5 tokens (%1's tokenizer, including </s>)").arg(request.tokenizerName);
            options.count_tokens = [this, id, &st](const std::string& text) -> size_t {
                if (m_latestStatistics.load() != id) throw sumlab::Cancelled();
                const size_t key = std::hash<std::string>{}(text);
                auto it = st.tokenCounts.find(key);
                if (it != st.tokenCounts.end()) return it->second;
                const size_t n = st.tokenizer->encode(text).size();
                st.tokenCounts.emplace(key, n);
                return n;
            };
        } else {
            result.unitDescription = tr("whitespace words");
        }
        for (const sumlab::DialogSumSplit& split : st.dataset->splits) {
            if (m_latestStatistics.load() != id) return;
            // A first pass finds the longest text; the second bins finely up to it (lengths come from the cache).
            sumlab::SplitStatistics coarse = sumlab::split_statistics(split, options);
            sumlab::StatisticsOptions fine = options;
            fine.prompt_bin_edges = sumlab::automatic_bin_edges(coarse.prompt_lengths.max, 40);
            fine.summary_bin_edges = sumlab::automatic_bin_edges(coarse.summary_lengths.max, 30);
            result.splits << sumlab::split_statistics(split, fine);
        }
        emit statisticsReady(result);
    } catch (const sumlab::Cancelled&) {
        // A newer request replaced this one; its result is on the way.
    } catch (const std::exception& e) {
        emit statisticsFailed(request.id, QString::fromStdString(e.what()));
    }
}
