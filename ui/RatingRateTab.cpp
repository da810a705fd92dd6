#include "ui/RatingRateTab.h"

#include "ui/Accessible.h"
#include "ui/HumanEvalWorker.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <exception>

using sumlab::Choice;

namespace {

const char* const kCriterionKeys[] = {"faithfulness", "coverage", "fluency"};

QString criterionName(int c) {
    switch (c) {
        case RatingRateTab::Faithfulness: return RatingRateTab::tr("Faithfulness");
        case RatingRateTab::Coverage: return RatingRateTab::tr("Coverage");
        default: return RatingRateTab::tr("Fluency");
    }
}

QString criterionHelp(int c) {
    switch (c) {
        case RatingRateTab::Faithfulness:
            return RatingRateTab::tr("Is everything in the summary supported by the dialogue? 1 = invents or contradicts facts, "
                                     "5 = fully supported. \"–\" leaves it unscored.");
        case RatingRateTab::Coverage:
            return RatingRateTab::tr("Does the summary say what matters in the dialogue? 1 = misses the point, 5 = nothing important "
                                     "missing. \"–\" leaves it unscored.");
        default:
            return RatingRateTab::tr("Is the summary well-formed, readable English? 1 = broken, 5 = fluent. \"–\" leaves it unscored.");
    }
}

}  // namespace

RatingRateTab::RatingRateTab(HumanEvalWorker* worker, QWidget* parent) : QWidget(parent), m_worker(worker) {
    connect(m_worker, &HumanEvalWorker::resultsLoaded, this, &RatingRateTab::onResultsLoaded);
    connect(m_worker, &HumanEvalWorker::loadFailed, this, &RatingRateTab::onLoadFailed);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(buildSessionBox());
    layout->addWidget(buildRatingPanel(), 1);
    connectControls();
}

// Results CSV, the two systems, sample and seed, rater and ratings file, and Start.
QWidget* RatingRateTab::buildSessionBox() {
    auto* setup = new QGroupBox(tr("Session"), this);
    auto* grid = new QGridLayout(setup);
    int row = 0;
    auto* resultsLabel = new QLabel(tr("Results &CSV:"), setup);
    m_resultsEdit = new QLineEdit(setup);
    Accessible::describe(m_resultsEdit, "ratingResultsEdit", tr("Results CSV"),
                         tr("A results CSV in the lab's layout (human_baseline_summaries and one <system>_summaries column per "
                            "system). Press Enter to read it."));
    resultsLabel->setBuddy(m_resultsEdit);
    m_resultsBrowse = new QPushButton(tr("&Open…"), setup);
    Accessible::describe(m_resultsBrowse, "ratingResultsBrowseButton", tr("Open results CSV"), tr("Choose the results CSV to rate"));
    grid->addWidget(resultsLabel, row, 0);
    grid->addWidget(m_resultsEdit, row, 1, 1, 5);
    grid->addWidget(m_resultsBrowse, row, 6);
    ++row;
    auto* aLabel = new QLabel(tr("System &1:"), setup);
    m_systemA = new QComboBox(setup);
    Accessible::describe(m_systemA, "systemACombo", tr("First system"),
                         tr("One of the two systems to compare; raters never see which one is shown as A or B"));
    aLabel->setBuddy(m_systemA);
    auto* bLabel = new QLabel(tr("System &2:"), setup);
    m_systemB = new QComboBox(setup);
    Accessible::describe(m_systemB, "systemBCombo", tr("Second system"), tr("The other system to compare"));
    bLabel->setBuddy(m_systemB);
    auto* sampleLabel = new QLabel(tr("Sam&ple:"), setup);
    m_sampleSpin = new QSpinBox(setup);
    m_sampleSpin->setRange(1, 100000);
    Accessible::describe(m_sampleSpin, "sampleSizeSpin", tr("Sample size"), tr("How many dialogues to rate, drawn at random from the results CSV"));
    sampleLabel->setBuddy(m_sampleSpin);
    auto* seedLabel = new QLabel(tr("S&eed:"), setup);
    m_seedSpin = new QSpinBox(setup);
    m_seedSpin->setRange(0, 2147483647);
    Accessible::describe(m_seedSpin, "seedSpin", tr("Sample seed"),
                         tr("Seed of the sample and of the A/B order: raters who use the same seed rate the same dialogues"));
    seedLabel->setBuddy(m_seedSpin);
    grid->addWidget(aLabel, row, 0);
    grid->addWidget(m_systemA, row, 1);
    grid->addWidget(bLabel, row, 2);
    grid->addWidget(m_systemB, row, 3);
    grid->addWidget(sampleLabel, row, 4);
    auto* numbers = new QHBoxLayout;
    numbers->addWidget(m_sampleSpin);
    numbers->addWidget(seedLabel);
    numbers->addWidget(m_seedSpin);
    grid->addLayout(numbers, row, 5, 1, 2);
    ++row;
    auto* raterLabel = new QLabel(tr("Rater na&me:"), setup);
    m_raterEdit = new QLineEdit(setup);
    m_raterEdit->setPlaceholderText(tr("your name or initials"));
    Accessible::describe(m_raterEdit, "raterEdit", tr("Rater"), tr("Who rates; each rater keeps a ratings file of their own"));
    raterLabel->setBuddy(m_raterEdit);
    auto* ratingsLabel = new QLabel(tr("Ratings &file:"), setup);
    m_ratingsEdit = new QLineEdit(setup);
    Accessible::describe(m_ratingsEdit, "ratingsPathEdit", tr("Ratings file"),
                         tr("The rater's JSONL file: every rating is appended and synced at once; an existing file resumes"));
    ratingsLabel->setBuddy(m_ratingsEdit);
    m_ratingsBrowse = new QPushButton(tr("C&hoose…"), setup);
    Accessible::describe(m_ratingsBrowse, "ratingsBrowseButton", tr("Choose ratings file"),
                         tr("Choose a ratings file: a new one, or an existing one to resume it with its own settings"));
    grid->addWidget(raterLabel, row, 0);
    grid->addWidget(m_raterEdit, row, 1);
    grid->addWidget(ratingsLabel, row, 2);
    grid->addWidget(m_ratingsEdit, row, 3, 1, 3);
    grid->addWidget(m_ratingsBrowse, row, 6);
    ++row;
    m_startButton = new QPushButton(tr("&Start rating"), setup);
    Accessible::describe(m_startButton, "startRatingButton", tr("Start rating"),
                         tr("Draw the sample and show the first unrated dialogue (resumes an existing ratings file)"));
    m_errorLabel = new QLabel(setup);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_errorLabel->setStyleSheet(QStringLiteral("color: #b00020;"));
    Accessible::describe(m_errorLabel, "ratingErrorLabel", tr("Rating setup problem"), tr("Why the session cannot start"));
    m_errorLabel->hide();
    auto* startRow = new QHBoxLayout;
    m_startButton->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    startRow->addWidget(m_startButton);
    startRow->addWidget(m_errorLabel, 1);
    startRow->addStretch(0);  // keeps the button at the left while the error label is hidden
    grid->addLayout(startRow, row, 0, 1, 7);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);
    return setup;
}

// The rating panel: the dialogue on top, the two anonymous summaries side by side below it, the note and
// the choice buttons.
QWidget* RatingRateTab::buildRatingPanel() {
    m_ratingPanel = new QWidget(this);
    auto* panel = new QVBoxLayout(m_ratingPanel);
    panel->setContentsMargins(0, 0, 0, 0);
    auto* progressRow = new QHBoxLayout;
    m_progressLabel = new QLabel(tr("0 / 0"), m_ratingPanel);
    QFont big = m_progressLabel->font();
    big.setBold(true);
    m_progressLabel->setFont(big);
    Accessible::describe(m_progressLabel, "ratingProgressLabel", tr("Items rated"), tr("Items rated so far, of the sample"));
    m_progressBar = new QProgressBar(m_ratingPanel);
    m_progressBar->setTextVisible(false);
    m_progressBar->setMaximumWidth(220);
    Accessible::describe(m_progressBar, "ratingProgressBar", tr("Rating progress"), tr("Items rated so far, of the sample"));
    m_itemLabel = new QLabel(m_ratingPanel);
    Accessible::describe(m_itemLabel, "ratingItemLabel", tr("Current item"), tr("Which item of the sample is shown, and its rating so far"));
    progressRow->addWidget(m_progressLabel);
    progressRow->addWidget(m_progressBar);
    progressRow->addWidget(m_itemLabel, 1);
    panel->addLayout(progressRow);

    auto* splitter = new QSplitter(Qt::Vertical, m_ratingPanel);
    splitter->setChildrenCollapsible(false);
    auto* sourceBox = new QWidget(splitter);
    auto* sourceLayout = new QVBoxLayout(sourceBox);
    sourceLayout->setContentsMargins(0, 0, 0, 0);
    m_sourceTitle = new QLabel(tr("Dialogue"), sourceBox);
    m_sourceTitle->setFont(big);
    m_sourceView = new QPlainTextEdit(sourceBox);
    m_sourceView->setReadOnly(true);
    Accessible::describe(m_sourceView, "ratingDialogueView", tr("Dialogue"), tr("The dialogue both summaries summarize"));
    m_sourceTitle->setBuddy(m_sourceView);
    sourceLayout->addWidget(m_sourceTitle);
    sourceLayout->addWidget(m_sourceView);

    QWidget* sides = buildSummarySides(splitter);
    splitter->addWidget(sourceBox);
    splitter->addWidget(sides);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    panel->addWidget(splitter, 1);

    auto* noteRow = new QHBoxLayout;
    auto* noteLabel = new QLabel(tr("&Note:"), m_ratingPanel);
    m_noteEdit = new QLineEdit(m_ratingPanel);
    m_noteEdit->setPlaceholderText(tr("optional, e.g. \"B invents a name\""));
    Accessible::describe(m_noteEdit, "ratingNoteEdit", tr("Note"), tr("An optional note saved with the rating"));
    noteLabel->setBuddy(m_noteEdit);
    noteRow->addWidget(noteLabel);
    noteRow->addWidget(m_noteEdit, 1);
    panel->addLayout(noteRow);

    auto* buttons = new QHBoxLayout;
    m_previousButton = new QPushButton(tr("← Pre&vious"), m_ratingPanel);
    Accessible::describe(m_previousButton, "previousItemButton", tr("Previous item"), tr("Show the previous dialogue of the sample (Left arrow)"));
    m_preferA = new QPushButton(tr("&A better   [1]"), m_ratingPanel);
    Accessible::describe(m_preferA, "preferAButton", tr("Summary A is better"), tr("Record that summary A is better, with the scores and note (key 1)"));
    m_tie = new QPushButton(tr("&Tie   [3]"), m_ratingPanel);
    Accessible::describe(m_tie, "tieButton", tr("Tie"), tr("Record that neither summary is better (key 3)"));
    m_preferB = new QPushButton(tr("&B better   [2]"), m_ratingPanel);
    Accessible::describe(m_preferB, "preferBButton", tr("Summary B is better"), tr("Record that summary B is better, with the scores and note (key 2)"));
    m_nextButton = new QPushButton(tr("Ne&xt →"), m_ratingPanel);
    Accessible::describe(m_nextButton, "nextItemButton", tr("Next item"), tr("Show the next dialogue of the sample (Right arrow or Enter)"));
    buttons->addWidget(m_previousButton);
    buttons->addStretch(1);
    buttons->addWidget(m_preferA);
    buttons->addWidget(m_tie);
    buttons->addWidget(m_preferB);
    buttons->addStretch(1);
    buttons->addWidget(m_nextButton);
    panel->addLayout(buttons);
    return m_ratingPanel;
}

// Summary A and Summary B, each with its faithfulness, coverage and fluency scores.
QWidget* RatingRateTab::buildSummarySides(QWidget* splitter) {
    auto* sides = new QWidget(splitter);
    auto* sidesLayout = new QHBoxLayout(sides);
    sidesLayout->setContentsMargins(0, 0, 0, 0);
    for (int s = 0; s < 2; ++s) {
        const QString letter = s == Left ? QStringLiteral("A") : QStringLiteral("B");
        auto* box = new QGroupBox(tr("Summary %1 (scores 1–5, \"–\" = not scored)").arg(letter), sides);
        box->setObjectName(QStringLiteral("summary%1Box").arg(letter));
        auto* boxLayout = new QVBoxLayout(box);
        m_summaryView[s] = new QPlainTextEdit(box);
        m_summaryView[s]->setReadOnly(true);
        QFont summaryFont = m_summaryView[s]->font();
        if (summaryFont.pointSizeF() > 0) summaryFont.setPointSizeF(summaryFont.pointSizeF() * 1.15);
        m_summaryView[s]->setFont(summaryFont);
        const QByteArray viewName = QStringLiteral("summary%1View").arg(letter).toLatin1();
        Accessible::describe(m_summaryView[s], viewName.constData(), tr("Summary %1").arg(letter),
                             tr("Summary %1; which system wrote it is not shown").arg(letter));
        m_summaryView[s]->setMinimumHeight(60);
        boxLayout->addWidget(m_summaryView[s], 1);
        auto* scores = new QHBoxLayout;
        for (int c = 0; c < CriterionCount; ++c) {
            auto* spin = new QSpinBox(box);
            spin->setRange(0, sumlab::max_score);
            spin->setSpecialValueText(QStringLiteral("–"));
            const QByteArray spinName = QStringLiteral("%1%2Spin").arg(QString::fromLatin1(kCriterionKeys[c]), letter).toLatin1();
            Accessible::describe(spin, spinName.constData(), tr("%1 of summary %2").arg(criterionName(c), letter), criterionHelp(c));
            auto* label = new QLabel(QStringLiteral("%1:").arg(criterionName(c)), box);
            label->setBuddy(spin);
            scores->addWidget(label);
            scores->addWidget(spin);
            scores->addSpacing(6);
            m_scoreSpin[s][c] = spin;
        }
        scores->addStretch(1);
        boxLayout->addLayout(scores);
        sidesLayout->addWidget(box);
    }
    return sides;
}

void RatingRateTab::connectControls() {
    // Keys act on the panel; text fields (note, score boxes) keep their digits and arrows because they
    // claim those keys first (ShortcutOverride).
    const auto shortcut = [this](const QKeySequence& key, auto slot) {
        auto* s = new QShortcut(key, m_ratingPanel);
        s->setContext(Qt::WidgetWithChildrenShortcut);
        connect(s, &QShortcut::activated, this, slot);
    };
    shortcut(QKeySequence(Qt::Key_1), [this] { rate(Choice::left); });
    shortcut(QKeySequence(Qt::Key_2), [this] { rate(Choice::right); });
    shortcut(QKeySequence(Qt::Key_3), [this] { rate(Choice::tie); });
    shortcut(QKeySequence(Qt::Key_Right), [this] { nextItem(); });
    shortcut(QKeySequence(Qt::Key_Return), [this] { nextItem(); });
    shortcut(QKeySequence(Qt::Key_Enter), [this] { nextItem(); });
    shortcut(QKeySequence(Qt::Key_Left), [this] { previousItem(); });

    connect(m_preferA, &QPushButton::clicked, this, [this] { rate(Choice::left); });
    connect(m_preferB, &QPushButton::clicked, this, [this] { rate(Choice::right); });
    connect(m_tie, &QPushButton::clicked, this, [this] { rate(Choice::tie); });
    connect(m_previousButton, &QPushButton::clicked, this, &RatingRateTab::previousItem);
    connect(m_nextButton, &QPushButton::clicked, this, &RatingRateTab::nextItem);
    connect(m_noteEdit, &QLineEdit::returnPressed, this, &RatingRateTab::nextItem);
    connect(m_resultsBrowse, &QPushButton::clicked, this, &RatingRateTab::browseResults);
    connect(m_resultsEdit, &QLineEdit::returnPressed, this, [this] { openResults(m_resultsEdit->text().trimmed()); });
    connect(m_ratingsBrowse, &QPushButton::clicked, this, &RatingRateTab::browseRatings);
    connect(m_ratingsEdit, &QLineEdit::textEdited, this, [this] {
        m_ratingsPathIsSuggested = false;
        updateStartButton();
    });
    connect(m_raterEdit, &QLineEdit::textChanged, this, &RatingRateTab::suggestRatingsPath);
    connect(m_startButton, &QPushButton::clicked, this, [this] { startSession(); });
}

void RatingRateTab::restoreSettings() {
    QSettings settings;
    m_sampleSpin->setValue(settings.value(QStringLiteral("rating/sampleSize"), 50).toInt());
    m_seedSpin->setValue(settings.value(QStringLiteral("rating/seed"), 42).toInt());
    m_raterEdit->setText(settings.value(QStringLiteral("rating/rater")).toString());
    const QString ratings = settings.value(QStringLiteral("rating/ratingsPath")).toString();
    if (!ratings.isEmpty()) setRatingsPath(ratings);
    m_wantedSystemA = settings.value(QStringLiteral("rating/systemA")).toString();
    m_wantedSystemB = settings.value(QStringLiteral("rating/systemB")).toString();
    const QString results = settings.value(QStringLiteral("rating/resultsPath")).toString();
    if (!results.isEmpty() && QFileInfo::exists(results)) openResults(results);
    setRatingEnabled(false);
    updateStartButton();
}

void RatingRateTab::saveSettings() const {
    QSettings settings;
    settings.setValue(QStringLiteral("rating/resultsPath"), m_tablePath);
    settings.setValue(QStringLiteral("rating/rater"), m_raterEdit->text().trimmed());
    settings.setValue(QStringLiteral("rating/ratingsPath"), ratingsPath());
    settings.setValue(QStringLiteral("rating/sampleSize"), m_sampleSpin->value());
    settings.setValue(QStringLiteral("rating/seed"), m_seedSpin->value());
    settings.setValue(QStringLiteral("rating/systemA"), m_systemA->currentText());
    settings.setValue(QStringLiteral("rating/systemB"), m_systemB->currentText());
}

// --- Setup ------------------------------------------------------------------------------------------

void RatingRateTab::openResults(const QString& path) {
    if (path.isEmpty()) return;
    m_resultsEdit->setText(path);
    clearError();
    m_loadRequest = m_nextRequest++;
    m_startButton->setEnabled(false);
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, id = m_loadRequest, path] { worker->loadResults(id, path); }, Qt::QueuedConnection);
}

void RatingRateTab::onResultsLoaded(int requestId, const QString& path, const sumlab::ResultsTable& table) {
    if (requestId != m_loadRequest) return;
    m_loadRequest = 0;
    // A session's items are rows of the table it was drawn from: a new table ends it.
    m_session.reset();
    setRatingEnabled(false);
    updateProgress();
    m_table = table;
    m_tablePath = path;
    const QString keepA = m_wantedSystemA.isEmpty() ? m_systemA->currentText() : m_wantedSystemA;
    const QString keepB = m_wantedSystemB.isEmpty() ? m_systemB->currentText() : m_wantedSystemB;
    m_systemA->clear();
    m_systemB->clear();
    const QStringList names = systems();
    m_systemA->addItems(names);
    m_systemB->addItems(names);
    // The lab's comparison by default: the original model against the PEFT one.
    const auto pick = [&](QComboBox* combo, const QString& wanted, const QString& fallback, int fallbackIndex) {
        int i = combo->findText(wanted);
        if (i < 0) i = combo->findText(fallback);
        if (i < 0) i = fallbackIndex;
        combo->setCurrentIndex(i);
    };
    pick(m_systemA, keepA, QStringLiteral("original_model"), 0);
    pick(m_systemB, keepB, QStringLiteral("peft_model"), static_cast<int>(names.size()) - 1);
    m_wantedSystemA.clear();
    m_wantedSystemB.clear();
    suggestRatingsPath();
    updateStartButton();
    if (names.size() < 2) {
        showError(tr("%1 has only one system (%2); blind rating compares two.").arg(QFileInfo(path).fileName(), names.join(QString())));
    }
    emit resultsOpened(path);
    emit statusMessage(tr("Read %1: %2 dialogues, systems %3").arg(QFileInfo(path).fileName()).arg(table.size()).arg(names.join(QStringLiteral(", "))));
    if (m_startAfterLoad) {
        m_startAfterLoad = false;
        startSession();
    }
}

void RatingRateTab::onLoadFailed(int requestId, const QString& message) {
    if (requestId != m_loadRequest) return;
    m_loadRequest = 0;
    m_startAfterLoad = false;
    m_session.reset();
    setRatingEnabled(false);
    updateProgress();
    m_table = {};
    m_tablePath.clear();
    m_systemA->clear();
    m_systemB->clear();
    showError(message);
    updateStartButton();
    emit loadFailed(message);
}

QStringList RatingRateTab::systems() const {
    QStringList out;
    for (const auto& s : m_table.systems) out << QString::fromStdString(s.name);
    return out;
}

bool RatingRateTab::setSystems(const QString& systemA, const QString& systemB) {
    const int a = m_systemA->findText(systemA), b = m_systemB->findText(systemB);
    if (a < 0 || b < 0) {
        const QString missing = a < 0 ? systemA : systemB;
        showError(tr("%1 has no column %2_summaries (its systems: %3).")
                      .arg(m_tablePath.isEmpty() ? tr("The results CSV") : QFileInfo(m_tablePath).fileName(), missing,
                           systems().isEmpty() ? tr("none read yet") : systems().join(QStringLiteral(", "))));
        return false;
    }
    m_systemA->setCurrentIndex(a);
    m_systemB->setCurrentIndex(b);
    clearError();
    return true;
}

void RatingRateTab::setSampleSize(int size) { m_sampleSpin->setValue(size); }
void RatingRateTab::setSeed(int seed) { m_seedSpin->setValue(seed); }
void RatingRateTab::setRater(const QString& rater) { m_raterEdit->setText(rater); }

void RatingRateTab::setRatingsPath(const QString& path) {
    m_ratingsEdit->setText(path);
    m_ratingsPathIsSuggested = false;
    updateStartButton();
}

QString RatingRateTab::ratingsPath() const { return m_ratingsEdit->text().trimmed(); }

void RatingRateTab::suggestRatingsPath() {
    if (!m_ratingsPathIsSuggested || m_tablePath.isEmpty()) return;
    const QString rater = m_raterEdit->text().trimmed();
    QString safe;
    for (const QChar c : rater) safe += c.isLetterOrNumber() || c == QLatin1Char('-') || c == QLatin1Char('_') ? c : QLatin1Char('_');
    m_ratingsEdit->setText(safe.isEmpty() ? QString()
                                          : QFileInfo(m_tablePath).absoluteDir().filePath(QStringLiteral("ratings-%1.jsonl").arg(safe)));
    updateStartButton();
}

void RatingRateTab::updateStartButton() {
    const QString path = ratingsPath();
    m_startButton->setText(!path.isEmpty() && QFileInfo(path).size() > 0 ? tr("Re&sume rating") : tr("&Start rating"));
    m_startButton->setEnabled(!isLoading() && !m_tablePath.isEmpty());
}

void RatingRateTab::showError(const QString& message) {
    m_errorLabel->setText(message);
    m_errorLabel->show();
    emit statusMessage(message);
}

void RatingRateTab::clearError() {
    m_errorLabel->clear();
    m_errorLabel->hide();
}

QString RatingRateTab::errorText() const { return m_errorLabel->text(); }

bool RatingRateTab::startSession() {
    clearError();
    if (isLoading()) {
        m_startAfterLoad = true;
        return false;
    }
    const QString resultsText = m_resultsEdit->text().trimmed();
    if (!resultsText.isEmpty() && (m_tablePath.isEmpty() || QFileInfo(resultsText) != QFileInfo(m_tablePath))) {
        m_startAfterLoad = true;  // read the file named in the field first
        openResults(resultsText);
        return false;
    }
    if (m_tablePath.isEmpty()) {
        showError(tr("Open a results CSV first (choose Open… or type its path and press Enter)."));
        return false;
    }
    const QString a = m_systemA->currentText(), b = m_systemB->currentText();
    if (systems().size() < 2) {
        showError(tr("%1 has only one system; blind rating compares two.").arg(QFileInfo(m_tablePath).fileName()));
        return false;
    }
    if (a == b) {
        showError(tr("Choose two different systems to compare."));
        m_systemB->setFocus();
        return false;
    }
    const QString rater = m_raterEdit->text().trimmed();
    if (rater.isEmpty()) {
        showError(tr("Enter the rater's name: every ratings file belongs to one rater."));
        m_raterEdit->setFocus();
        return false;
    }
    suggestRatingsPath();
    const QString path = ratingsPath();
    if (path.isEmpty()) {
        showError(tr("Choose a ratings file."));
        m_ratingsEdit->setFocus();
        return false;
    }
    std::unique_ptr<sumlab::RatingSession> session;
    try {
        sumlab::RatingPlan plan = sumlab::make_rating_plan(m_table, m_tablePath.toStdString(), a.toStdString(), b.toStdString(),
                                                           static_cast<std::size_t>(m_sampleSpin->value()),
                                                           static_cast<std::uint64_t>(m_seedSpin->value()));
        session = std::make_unique<sumlab::RatingSession>(path.toStdString(), rater.toStdString(), std::move(plan));
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
    m_session = std::move(session);
    for (const std::string& w : m_session->warnings()) emit statusMessage(QString::fromStdString(w));
    if (!m_session->warnings().empty()) {
        m_errorLabel->setText(QString::fromStdString(m_session->warnings().front()));
        m_errorLabel->show();
    }
    emit ratingsFileOpened(QFileInfo(path).absoluteFilePath());
    setRatingEnabled(true);
    updateStartButton();
    const std::size_t next = m_session->next_unrated(0);
    showItem(next < m_session->size() ? static_cast<int>(next) : 0);
    emit statusMessage(next < m_session->size()
                           ? tr("Rating %1 dialogues; %2 rated so far").arg(m_session->size()).arg(m_session->rated_count())
                           : tr("All %1 dialogues are rated; any of them can be rated again").arg(m_session->size()));
    saveSettings();
    m_summaryView[Left]->setFocus();
    return true;
}

bool RatingRateTab::resumeFromFile(const QString& ratingsPath) {
    clearError();
    sumlab::RatingFile file;
    try {
        file = sumlab::read_rating_file(ratingsPath.toStdString());
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
    if (!file.plan) {
        showError(tr("%1 has no session line: it is not a SumLab ratings file.").arg(ratingsPath));
        return false;
    }
    QString results = QString::fromStdString(file.plan->results_path);
    if (!QFileInfo::exists(results)) {
        // The folder moved: look for the results CSV beside the ratings file.
        const QString beside = QFileInfo(ratingsPath).absoluteDir().filePath(QFileInfo(results).fileName());
        if (QFileInfo::exists(beside)) results = beside;
    }
    m_sampleSpin->setValue(static_cast<int>(file.plan->sample_size));
    m_seedSpin->setValue(static_cast<int>(file.plan->seed));
    m_raterEdit->setText(QString::fromStdString(file.rater));
    setRatingsPath(ratingsPath);
    m_wantedSystemA = QString::fromStdString(file.plan->system_a);
    m_wantedSystemB = QString::fromStdString(file.plan->system_b);
    m_startAfterLoad = true;
    openResults(results);
    return true;
}

void RatingRateTab::browseResults() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Results CSV"), QFileInfo(m_resultsEdit->text()).absolutePath(),
                                                      tr("CSV files (*.csv);;All files (*)"));
    if (!path.isEmpty()) openResults(path);
}

void RatingRateTab::browseRatings() {
    QFileDialog dialog(this, tr("Ratings File"), QFileInfo(ratingsPath()).absolutePath(), tr("JSON Lines (*.jsonl);;All files (*)"));
    dialog.setAcceptMode(QFileDialog::AcceptSave);
    dialog.setOption(QFileDialog::DontConfirmOverwrite);  // an existing file is resumed, never overwritten
    dialog.setDefaultSuffix(QStringLiteral("jsonl"));
    if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty()) return;
    const QString path = dialog.selectedFiles().constFirst();
    if (QFileInfo(path).size() > 0) resumeFromFile(path);
    else setRatingsPath(path);
}

// --- Rating -----------------------------------------------------------------------------------------

void RatingRateTab::setRatingEnabled(bool enabled) { m_ratingPanel->setEnabled(enabled); }

int RatingRateTab::sampleCount() const { return m_session ? static_cast<int>(m_session->size()) : 0; }
int RatingRateTab::ratedCount() const { return m_session ? static_cast<int>(m_session->rated_count()) : 0; }
QString RatingRateTab::progressText() const { return m_progressLabel->text(); }
QString RatingRateTab::sourceText() const { return m_sourceView->toPlainText(); }
QString RatingRateTab::summaryText(Side side) const { return m_summaryView[side]->toPlainText(); }

void RatingRateTab::setScore(Side side, Criterion criterion, int score) { m_scoreSpin[side][criterion]->setValue(score); }

void RatingRateTab::updateProgress() {
    const int total = sampleCount(), rated = ratedCount();
    m_progressLabel->setText(QStringLiteral("%1 / %2").arg(rated).arg(total));
    m_progressLabel->setAccessibleDescription(tr("%1 of %2 dialogues rated").arg(rated).arg(total));
    m_progressBar->setRange(0, std::max(1, total));
    m_progressBar->setValue(rated);
}

QString RatingRateTab::choiceText(const sumlab::Rating& rating) const {
    switch (rating.choice) {
        case Choice::left: return tr("A better");
        case Choice::right: return tr("B better");
        case Choice::tie: break;
    }
    return tr("tie");
}

void RatingRateTab::showItem(int position) {
    if (!m_session || position < 0 || position >= sampleCount()) return;
    m_position = position;
    const sumlab::RatingItem& item = m_session->plan().items[static_cast<std::size_t>(position)];
    const std::size_t row = item.row;
    if (!m_table.dialogues.empty() && !m_table.dialogues[row].empty()) {
        m_sourceTitle->setText(tr("&Dialogue"));
        m_sourceView->setPlainText(QString::fromStdString(m_table.dialogues[row]));
        m_sourceView->setAccessibleName(tr("Dialogue"));
    } else {
        // The lab's results CSV has no dialogue column: the human summary is what the raters can check against.
        m_sourceTitle->setText(tr("Human reference summary (this results CSV has no dialogue column)"));
        m_sourceView->setPlainText(QString::fromStdString(m_table.human_baseline[row]));
        m_sourceView->setAccessibleName(tr("Human reference summary"));
    }
    const auto summaryOf = [&](const std::string& system) {
        for (const auto& s : m_table.systems)
            if (s.name == system) return QString::fromStdString(s.summaries[row]);
        return QString();
    };
    m_summaryView[Left]->setPlainText(summaryOf(item.left_system));
    m_summaryView[Right]->setPlainText(summaryOf(item.right_system));
    const std::optional<sumlab::Rating> previous = m_session->rating(static_cast<std::size_t>(position));
    const sumlab::QualityScores none;
    for (int s = 0; s < 2; ++s) {
        const sumlab::QualityScores& scores = previous ? (s == Left ? previous->left : previous->right) : none;
        m_scoreSpin[s][Faithfulness]->setValue(scores.faithfulness);
        m_scoreSpin[s][Coverage]->setValue(scores.coverage);
        m_scoreSpin[s][Fluency]->setValue(scores.fluency);
    }
    m_noteEdit->setText(previous ? QString::fromStdString(previous->note) : QString());
    const QString id = QString::fromStdString(item.id);
    m_itemLabel->setText(previous ? tr("Item %1 of %2 (dialogue %3) — rated: %4").arg(position + 1).arg(sampleCount()).arg(id, choiceText(*previous))
                                  : tr("Item %1 of %2 (dialogue %3) — not rated yet").arg(position + 1).arg(sampleCount()).arg(id));
    m_previousButton->setEnabled(position > 0);
    m_nextButton->setEnabled(position + 1 < sampleCount());
    updateProgress();
}

bool RatingRateTab::rate(Choice choice) {
    if (!m_session) return false;
    sumlab::Rating rating = m_session->make_rating(static_cast<std::size_t>(m_position), choice);
    const auto read = [&](int side) {
        return sumlab::QualityScores{m_scoreSpin[side][Faithfulness]->value(), m_scoreSpin[side][Coverage]->value(),
                                     m_scoreSpin[side][Fluency]->value()};
    };
    rating.left = read(Left);
    rating.right = read(Right);
    rating.note = m_noteEdit->text().trimmed().toStdString();
    try {
        m_session->record(rating);
    } catch (const std::exception& e) {
        showError(tr("The rating was not saved: %1").arg(QString::fromUtf8(e.what())));
        return false;
    }
    emit ratingSaved(ratingsPath(), ratedCount(), sampleCount());
    emit statusMessage(tr("Saved item %1: %2 (%3 / %4 rated)").arg(m_position + 1).arg(choiceText(rating)).arg(ratedCount()).arg(sampleCount()));
    const std::size_t next = m_session->next_unrated(static_cast<std::size_t>(m_position) + 1);
    if (next < m_session->size()) {
        showItem(static_cast<int>(next));
    } else {
        showItem(m_position);  // all rated: stay, showing the rating just made
        emit statusMessage(tr("All %1 dialogues are rated. Merge the raters' files on the Results tab.").arg(sampleCount()));
    }
    // Back to the panel, so the next key press is a rating and not a score.
    if (QWidget* focus = focusWidget(); focus == m_noteEdit || qobject_cast<QSpinBox*>(focus) || (focus && focus->parentWidget() &&
                                                                                                    qobject_cast<QSpinBox*>(focus->parentWidget())))
        m_summaryView[Left]->setFocus();
    return true;
}

void RatingRateTab::nextItem() {
    if (m_session && m_position + 1 < sampleCount()) showItem(m_position + 1);
}

void RatingRateTab::previousItem() {
    if (m_session && m_position > 0) showItem(m_position - 1);
}
