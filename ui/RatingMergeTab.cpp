#include "ui/RatingMergeTab.h"

#include "base/file_util.h"
#include "ui/Accessible.h"
#include "ui/HumanEvalWorker.h"
#include "ui/RatingRateTab.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <cmath>
#include <exception>

namespace {

QString number(double x, int decimals = 3) {
    return std::isnan(x) ? QStringLiteral("–") : QString::number(x, 'f', decimals);
}

QString percent(double x) { return QString::number(100 * x, 'f', 1) + QLatin1Char('%'); }

}  // namespace

RatingMergeTab::RatingMergeTab(HumanEvalWorker* worker, const RatingRateTab* session, QWidget* parent)
    : QWidget(parent), m_worker(worker), m_session(session) {
    connect(m_worker, &HumanEvalWorker::merged, this, &RatingMergeTab::onMerged);
    connect(m_worker, &HumanEvalWorker::mergeFailed, this, &RatingMergeTab::onMergeFailed);
    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    auto* filesBox = new QVBoxLayout;
    auto* filesLabel = new QLabel(tr("Raters' &files (one per rater, same results CSV):"), this);
    m_filesList = new QListWidget(this);
    m_filesList->setMaximumHeight(110);
    Accessible::describe(m_filesList, "raterFilesList", tr("Raters' files"), tr("The ratings files to merge, one per rater"));
    filesLabel->setBuddy(m_filesList);
    filesBox->addWidget(filesLabel);
    filesBox->addWidget(m_filesList);
    top->addLayout(filesBox, 1);
    auto* fileButtons = new QVBoxLayout;
    m_addFilesButton = new QPushButton(tr("A&dd files…"), this);
    Accessible::describe(m_addFilesButton, "addRaterFilesButton", tr("Add raters' files"), tr("Add ratings files (JSONL) to merge"));
    m_removeFileButton = new QPushButton(tr("Re&move"), this);
    Accessible::describe(m_removeFileButton, "removeRaterFileButton", tr("Remove file"), tr("Remove the selected file from the merge"));
    fileButtons->addWidget(m_addFilesButton);
    fileButtons->addWidget(m_removeFileButton);
    fileButtons->addStretch(1);
    top->addLayout(fileButtons);
    layout->addLayout(top);

    auto* options = new QHBoxLayout;
    auto* rougeLabel = new QLabel(tr("Correlate with R&OUGE:"), this);
    m_rougeCombo = new QComboBox(this);
    m_rougeCombo->addItem(QStringLiteral("ROUGE-L"), int(sumlab::RougeType::rougeL));
    m_rougeCombo->addItem(QStringLiteral("ROUGE-1"), int(sumlab::RougeType::rouge1));
    Accessible::describe(m_rougeCombo, "ratingRougeCombo", tr("ROUGE for the correlation"),
                         tr("The per-dialogue ROUGE F-measure whose difference between the systems is correlated with the raters' preference"));
    rougeLabel->setBuddy(m_rougeCombo);
    m_stemCheck = new QCheckBox(tr("Porter s&temmer"), this);
    m_stemCheck->setChecked(true);
    Accessible::describe(m_stemCheck, "ratingStemmerCheck", tr("Porter stemmer"), tr("Stem words before matching (rouge_score's use_stemmer)"));
    m_mergeButton = new QPushButton(tr("Mer&ge"), this);
    Accessible::describe(m_mergeButton, "mergeRatingsButton", tr("Merge ratings"),
                         tr("Merge the files: win rates, agreement between raters, correlation with ROUGE"));
    options->addWidget(rougeLabel);
    options->addWidget(m_rougeCombo);
    options->addWidget(m_stemCheck);
    options->addStretch(1);
    options->addWidget(m_mergeButton);
    layout->addLayout(options);

    m_mergeErrorLabel = new QLabel(this);
    m_mergeErrorLabel->setWordWrap(true);
    m_mergeErrorLabel->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_mergeErrorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    Accessible::describe(m_mergeErrorLabel, "mergeErrorLabel", tr("Merge problem"), tr("Why the files could not be merged"));
    m_mergeErrorLabel->hide();
    layout->addWidget(m_mergeErrorLabel);

    m_reportView = new QTextBrowser(this);
    Accessible::describe(m_reportView, "ratingReportView", tr("Human evaluation results"),
                         tr("Win rates with 95% intervals, mean scores, agreement between raters and the correlation with ROUGE"));
    m_reportView->setPlaceholderText(tr("Add one or more raters' files and press Merge."));
    layout->addWidget(m_reportView, 1);

    auto* exports = new QHBoxLayout;
    m_exportCsvButton = new QPushButton(tr("Export &CSV…"), this);
    Accessible::describe(m_exportCsvButton, "exportRatingsCsvButton", tr("Export merged CSV"), tr("Save the merged ratings, with ROUGE per row, as CSV"));
    m_exportJsonlButton = new QPushButton(tr("Export &JSONL…"), this);
    Accessible::describe(m_exportJsonlButton, "exportRatingsJsonlButton", tr("Export merged JSONL"), tr("Save the merged ratings, with ROUGE per row, as JSON Lines"));
    m_exportCsvButton->setEnabled(false);
    m_exportJsonlButton->setEnabled(false);
    exports->addStretch(1);
    exports->addWidget(m_exportCsvButton);
    exports->addWidget(m_exportJsonlButton);
    layout->addLayout(exports);

    connect(m_addFilesButton, &QPushButton::clicked, this, &RatingMergeTab::browseRaterFiles);
    connect(m_removeFileButton, &QPushButton::clicked, this, [this] { delete m_filesList->currentItem(); });
    connect(m_mergeButton, &QPushButton::clicked, this, &RatingMergeTab::mergeRaters);
    connect(m_exportCsvButton, &QPushButton::clicked, this, [this] { exportWithDialog(true); });
    connect(m_exportJsonlButton, &QPushButton::clicked, this, [this] { exportWithDialog(false); });
}

// --- Raters' files -----------------------------------------------------------------------------------

void RatingMergeTab::addRaterFiles(const QStringList& paths) {
    for (const QString& p : paths) {
        const QString path = QFileInfo(p).absoluteFilePath();
        if (raterFiles().contains(path)) continue;
        auto* item = new QListWidgetItem(path, m_filesList);
        item->setToolTip(path);
    }
}

QStringList RatingMergeTab::raterFiles() const {
    QStringList out;
    for (int i = 0; i < m_filesList->count(); ++i) out << m_filesList->item(i)->text();
    return out;
}

void RatingMergeTab::clearRaterFiles() { m_filesList->clear(); }

void RatingMergeTab::browseRaterFiles() {
    const QStringList paths = QFileDialog::getOpenFileNames(this, tr("Raters' Files"), QFileInfo(m_session->ratingsPath()).absolutePath(),
                                                            tr("JSON Lines (*.jsonl);;All files (*)"));
    addRaterFiles(paths);
}

// --- Merging ---------------------------------------------------------------------------------------

void RatingMergeTab::mergeRaters() {
    m_mergeErrorLabel->hide();
    const QStringList files = raterFiles();
    if (files.isEmpty()) {
        showMergeError(tr("Add at least one rater's file."));
        emit mergeFinished(false);
        return;
    }
    MergeRequest request;
    request.ratingsFiles = files;
    request.resultsPath = m_session->resultsPath();
    if (request.resultsPath.isEmpty()) {
        // No results CSV open on the Rate tab: use the one the first file names.
        try {
            const sumlab::RatingFile first = sumlab::read_rating_file(files.constFirst().toStdString());
            if (first.plan) request.resultsPath = QString::fromStdString(first.plan->results_path);
        } catch (const std::exception& e) {
            showMergeError(QString::fromUtf8(e.what()));
            emit mergeFinished(false);
            return;
        }
    }
    request.options.rouge_type = static_cast<sumlab::RougeType>(m_rougeCombo->currentData().toInt());
    request.options.stemming = m_stemCheck->isChecked() ? sumlab::Stemming::porter : sumlab::Stemming::none;
    m_mergeRequest = m_nextRequest++;
    m_mergeButton->setEnabled(false);
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, id = m_mergeRequest, request] { worker->merge(id, request); }, Qt::QueuedConnection);
}

void RatingMergeTab::onMerged(int requestId, const sumlab::HumanEvalReport& report, const sumlab::ResultsTable&) {
    if (requestId != m_mergeRequest) return;
    m_mergeRequest = 0;
    m_mergeButton->setEnabled(true);
    m_report = report;
    m_reportView->setHtml(formatReport(report));
    m_exportCsvButton->setEnabled(true);
    m_exportJsonlButton->setEnabled(true);
    emit statusMessage(tr("Merged %1 ratings by %n rater(s)", nullptr, static_cast<int>(report.raters.size())).arg(report.ratings));
    emit mergeFinished(true);
}

void RatingMergeTab::onMergeFailed(int requestId, const QString& message) {
    if (requestId != m_mergeRequest) return;
    m_mergeRequest = 0;
    m_mergeButton->setEnabled(true);
    showMergeError(message);
    emit mergeFinished(false);
}

void RatingMergeTab::showMergeError(const QString& message) {
    m_mergeErrorLabel->setText(message);
    m_mergeErrorLabel->show();
}

QString RatingMergeTab::reportText() const { return m_reportView->toPlainText(); }

QString RatingMergeTab::formatReport(const sumlab::HumanEvalReport& r) const {
    const QString a = QString::fromStdString(r.system_a).toHtmlEscaped(), b = QString::fromStdString(r.system_b).toHtmlEscaped();
    QStringList raters;
    for (const auto& name : r.raters) raters << QString::fromStdString(name).toHtmlEscaped();
    QString html;
    html += tr("<h3>%1 against %2</h3>").arg(a, b);
    html += tr("<p>%1 ratings of %2 dialogues by %3 rater(s): %4.</p>").arg(r.ratings).arg(r.items).arg(r.raters.size()).arg(raters.join(QStringLiteral(", ")));
    html += QStringLiteral("<table border='1' cellspacing='0' cellpadding='4'><tr><th>%1</th><th>%2</th><th>%3</th><th>%4</th><th>%5</th><th>%6</th></tr>")
                .arg(tr("System"), tr("Wins"), tr("Win rate [95% Wilson CI]"), tr("Faithfulness"), tr("Coverage"), tr("Fluency"));
    const auto mean = [](const sumlab::SystemTally::Mean& m) {
        if (m.count == 0) return QStringLiteral("–");
        return QStringLiteral("%1 [%2, %3] (n=%4)").arg(number(m.ci.mid, 2), number(m.ci.low, 2), number(m.ci.high, 2)).arg(m.count);
    };
    const auto rate = [](const sumlab::ConfidenceInterval& ci) {
        return QStringLiteral("%1 [%2, %3]").arg(percent(ci.mid), percent(ci.low), percent(ci.high));
    };
    for (const sumlab::SystemTally* t : {&r.a, &r.b})
        html += QStringLiteral("<tr><td>%1</td><td align='right'>%2</td><td>%3</td><td>%4</td><td>%5</td><td>%6</td></tr>")
                    .arg(QString::fromStdString(t->system).toHtmlEscaped())
                    .arg(t->wins)
                    .arg(rate(t->win_rate), mean(t->faithfulness), mean(t->coverage), mean(t->fluency));
    html += QStringLiteral("<tr><td>%1</td><td align='right'>%2</td><td>%3</td><td></td><td></td><td></td></tr></table>")
                .arg(tr("Tie"))
                .arg(r.ties)
                .arg(rate(r.tie_rate));

    html += tr("<h3>Agreement between raters</h3>");
    html += QStringLiteral("<table border='1' cellspacing='0' cellpadding='4'><tr><th>%1</th><th>%2</th><th>%3</th><th>%4</th><th>%5</th><th>%6</th><th>%7</th></tr>")
                .arg(tr("Judgement"), tr("Units"), tr("Cohen's κ"), tr("Fleiss' κ"), tr("Krippendorff's α nominal"), tr("α ordinal"),
                     tr("α interval"));
    for (const auto& ag : r.agreement)
        html += QStringLiteral("<tr><td>%1</td><td align='right'>%2</td><td>%3</td><td>%4</td><td>%5</td><td>%6</td><td>%7</td></tr>")
                    .arg(QString::fromStdString(ag.name))
                    .arg(ag.units)
                    .arg(number(ag.cohen_kappa), number(ag.fleiss_kappa), number(ag.alpha_nominal), number(ag.alpha_ordinal),
                         number(ag.alpha_interval));
    html += QStringLiteral("</table>");
    html += tr("<p>Units: dialogues rated by at least two raters (for the scores, dialogue-system pairs). Cohen's κ needs exactly "
               "two raters; Fleiss' κ uses the dialogues every rater rated; Krippendorff's α allows missing ratings. The preference "
               "is nominal (%1 / tie / %2; ordinal in that order); the 1–5 scores read best as ordinal or interval. "
               "\"–\": undefined (one rater, or no variation).</p>")
                .arg(a, b);

    html += tr("<h3>Human preference and ROUGE</h3>");
    html += tr("<p>Spearman ρ = <b>%1</b>, Pearson r = <b>%2</b> over %3 dialogues.</p>")
                .arg(number(r.spearman), number(r.pearson))
                .arg(r.correlation_points);
    html += tr("<p>Preference for %1 per dialogue: +1 when it won, −1 when %2 won, 0 for a tie, averaged over raters; against "
               "the per-dialogue ROUGE delta %1 − %2 (%3, against human_baseline_summaries). Win-rate intervals: Wilson 95%; "
               "mean-score intervals: percentile bootstrap, 1000 resamples, seed 0.</p>")
                .arg(b, a, QString::fromStdString(r.rouge_name).toHtmlEscaped());
    if (!r.warnings.empty()) {
        html += tr("<h3>Warnings</h3><ul>");
        for (const auto& w : r.warnings) html += QStringLiteral("<li>%1</li>").arg(QString::fromStdString(w).toHtmlEscaped());
        html += QStringLiteral("</ul>");
    }
    return html;
}

// --- Export ----------------------------------------------------------------------------------------

bool RatingMergeTab::exportMergedCsv(const QString& path, QString* error) const {
    return exportMerged(path, sumlab::format_merged_csv, error);
}

bool RatingMergeTab::exportMergedJsonl(const QString& path, QString* error) const {
    return exportMerged(path, sumlab::format_merged_jsonl, error);
}

bool RatingMergeTab::exportMerged(const QString& path, std::string (*format)(const sumlab::HumanEvalReport&), QString* error) const {
    if (!m_report) {
        if (error) *error = tr("Merge the raters' files first.");
        return false;
    }
    try {
        sumlab::write_atomically(path.toStdString(), format(*m_report));
    } catch (const std::exception& e) {
        if (error) *error = QString::fromUtf8(e.what());
        return false;
    }
    return true;
}

void RatingMergeTab::exportWithDialog(bool csv) {
    const QString beside = m_session->resultsPath().isEmpty() ? m_session->ratingsPath() : m_session->resultsPath();
    const QString suggested =
        QFileInfo(beside).absoluteDir().filePath(csv ? QStringLiteral("ratings-merged.csv") : QStringLiteral("ratings-merged.jsonl"));
    const QString path = QFileDialog::getSaveFileName(this, csv ? tr("Export Merged CSV") : tr("Export Merged JSONL"), suggested,
                                                      csv ? tr("CSV files (*.csv)") : tr("JSON Lines (*.jsonl)"));
    if (path.isEmpty()) return;
    QString error;
    const bool ok = csv ? exportMergedCsv(path, &error) : exportMergedJsonl(path, &error);
    if (ok) {
        emit statusMessage(tr("Wrote %1").arg(path));
    } else {
        showMergeError(error);
    }
}
