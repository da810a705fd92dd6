#include "engine/metrics/bootstrap.h"
#include "engine/metrics/results_csv.h"
#include "base/file_util.h"
#include "models/t5/generation_config.h"

#include <nlohmann/json.hpp>

#include "ui/ScoreWorker.h"

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

MetricInterval interval(double mean, const sumlab::ConfidenceInterval& ci, bool hasCi) {
    return {mean, hasCi ? ci.low : mean, hasCi ? ci.high : mean};
}

// One line per column of <csv>.provenance.json: how its summaries were made.
QStringList readProvenance(const std::string& csvPath) {
    QStringList lines;
    const std::string path = csvPath + ".provenance.json";
    if (!sumlab::is_file(path)) return lines;
    try {
        const nlohmann::json j = nlohmann::json::parse(sumlab::read_file(path));
        for (const auto& [column, facts] : j.at("columns").items()) {
            QStringList parts;
            auto add = [&](const char* key, const QString& label) {
                if (facts.contains(key) && !facts[key].is_null())
                    parts << label + QStringLiteral(": ") + qs(facts[key].is_string() ? facts[key].get<std::string>() : facts[key].dump());
            };
            add("model", QStringLiteral("model"));
            add("adapter", QStringLiteral("adapter"));
            add("reference", QStringLiteral("reference"));
            add("split", QStringLiteral("split"));
            add("examples", QStringLiteral("examples"));
            if (facts.contains("generation")) {
                // The settings people vary (the form's), not the token ids.
                nlohmann::json shown = nlohmann::json::object();
                for (const auto& s : sumlab::generation_settings())
                    if (s.is_form && facts["generation"].is_object() && facts["generation"].contains(s.key)) shown[s.key] = facts["generation"][s.key];
                parts << qs(sumlab::describe_generation(shown));
            }
            add("date", QStringLiteral("date"));
            lines << qs(column) + QStringLiteral(" — ") + parts.join(QStringLiteral("; "));
        }
    } catch (const std::exception& e) {
        lines << QObject::tr("%1 could not be read: %2").arg(qs(path), qs(e.what()));
    }
    return lines;
}

// The results CSV scored as the request asks, as Qt values (throws the engine's errors).
ScoreResult score(const ScoreRequest& request) {
    const std::string path = request.path.toStdString();
    const sumlab::ResultsTable table = sumlab::read_results_csv(path);
    const sumlab::BootstrapOptions bootstrap{request.resamples, 0.95, request.seed};
    const sumlab::Stemming stemming = request.stemmer ? sumlab::Stemming::porter : sumlab::Stemming::none;
    const sumlab::ReferenceMode mode = request.multiReference ? sumlab::ReferenceMode::all : sumlab::ReferenceMode::first;
    const sumlab::ResultsScores scores = sumlab::score_results(table, stemming, bootstrap, mode);

    ScoreResult out;
    out.request = request;
    out.examples = static_cast<int>(table.size());
    out.maxReferences = static_cast<int>(table.max_references());
    sumlab::RougeProvenance rouge;
    rouge.stemming = stemming;
    rouge.examples = static_cast<std::int64_t>(table.size());
    rouge.min_references = 1;
    rouge.max_references = request.multiReference ? out.maxReferences : 1;
    if (request.multiReference) {
        int fewest = out.maxReferences;
        for (size_t r = 0; r < table.size(); ++r) fewest = std::min(fewest, static_cast<int>(table.references(r).size()));
        rouge.min_references = fewest;
    }
    rouge.bootstrap_resamples = request.resamples;
    rouge.confidence = 0.95;
    rouge.seed = request.seed;
    out.rougeDescription = qs(rouge.describe());
    out.provenance = readProvenance(path);

    const bool hasCi = request.resamples > 0;
    for (const sumlab::SystemScores& s : scores.systems) {
        SystemScore system;
        system.name = qs(s.name);
        for (int m = 0; m < RougeMetricCount; ++m) {
            const sumlab::RougeType type = sumlab::all_rouge_types[m];
            system.metrics[m] = interval(s.mean[type].fmeasure, s.ci[type].fmeasure, hasCi);
            system.perExample[m].reserve(static_cast<int>(s.per_example.size()));
            for (const sumlab::RougeScores& e : s.per_example) system.perExample[m] << e[type].fmeasure;
        }
        out.systems << system;
    }
    for (const sumlab::SystemComparison& c : scores.comparisons) {
        PairDelta d;
        d.baseline = static_cast<int>(c.baseline);
        d.candidate = static_cast<int>(c.candidate);
        for (int m = 0; m < RougeMetricCount; ++m) {
            const sumlab::PairedDelta& p = c.deltas[sumlab::all_rouge_types[m]].fmeasure;
            d.baselineMean[m] = p.baseline_mean;
            d.candidateMean[m] = p.candidate_mean;
            d.delta[m] = p.delta;
            d.low[m] = hasCi ? p.ci.low : p.delta;
            d.high[m] = hasCi ? p.ci.high : p.delta;
            d.pValue[m] = p.p_value;
        }
        out.deltas << d;
    }
    for (size_t r = 0; r < table.size(); ++r) {
        ResultRow row;
        if (!table.ids.empty()) row.id = qs(table.ids[r]);
        if (!table.dialogues.empty()) row.dialogue = qs(table.dialogues[r]);
        for (const std::string& reference : table.references(r)) row.references << qs(reference);
        for (const sumlab::SystemSummaries& s : table.systems) row.summaries << qs(s.summaries[r]);
        out.rows << row;
    }
    return out;
}

}  // namespace

ScoreWorker::ScoreWorker(QObject* parent) : QObject(parent) {
    qRegisterMetaType<ScoreRequest>();
    qRegisterMetaType<ScoreResult>();
}

void ScoreWorker::run(const ScoreRequest& request) {
    try {
        emit scored(score(request));
    } catch (const std::exception& e) {
        emit failed(request.requestId, QString::fromStdString(e.what()));
    }
}
