#include "engine/metrics/rouge.h"
#include "engine/metrics/summary_diagnostics.h"

#include "ui/ComparePage.h"

#include "ui/Accessible.h"
#include "ui/AttentionDialog.h"
#include "ui/CompareWorker.h"
#include "ui/GenerationSettingsWidget.h"
#include "ui/ModelRegistry.h"
#include "ui/SystemPicker.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QScrollArea>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>
#include <array>
#include <string>

namespace {

QString html(const QString& text) { return text.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>")); }

// Speaker tags in bold, one turn per line.
QString dialogueHtml(const QString& dialogue) {
    QString out = html(dialogue);
    out.replace(QRegularExpression(QStringLiteral("(#Person\\d+#)")), QStringLiteral("<b>\\1</b>"));
    return out;
}

sumlab::Stemming stemmingOf(bool on) { return on ? sumlab::Stemming::porter : sumlab::Stemming::none; }

std::vector<std::string> toStd(const QStringList& list) {
    std::vector<std::string> out;
    for (const QString& s : list) out.push_back(s.toStdString());
    return out;
}

QString scoreLine(const sumlab::RougeScores& s) {
    return QStringLiteral("ROUGE-1 %1 · ROUGE-2 %2 · ROUGE-L %3 · ROUGE-Lsum %4")
        .arg(100 * s.rouge1.fmeasure, 0, 'f', 2)
        .arg(100 * s.rouge2.fmeasure, 0, 'f', 2)
        .arg(100 * s.rougeL.fmeasure, 0, 'f', 2)
        .arg(100 * s.rougeLsum.fmeasure, 0, 'f', 2);
}

enum Flag : unsigned { MatchUnigram = 1, MatchBigram = 2, Tag = 4, Unsupported = 8, SpeakerProblem = 16 };

unsigned flagOf(sumlab::MarkKind kind) {
    switch (kind) {
        case sumlab::MarkKind::rouge1_match: return MatchUnigram;
        case sumlab::MarkKind::rouge2_match: return MatchBigram;
        case sumlab::MarkKind::speaker_tag: return Tag;
        case sumlab::MarkKind::unsupported_name:
        case sumlab::MarkKind::unsupported_number: return Unsupported;
        case sumlab::MarkKind::unknown_speaker:
        case sumlab::MarkKind::speaker_swap: return SpeakerProblem;
    }
    return 0;
}

// The summary as HTML: every run of bytes with the same marks becomes one span, styled by its strongest mark
// and carrying the marks' explanations as its tooltip. Colours are fixed (with black text), readable on light
// and dark palettes alike.
QString summaryHtml(const std::string& text, const sumlab::SummaryDiagnostics& d, bool showMatches, bool showFlags) {
    std::vector<unsigned> flags(text.size(), 0);
    std::vector<std::string> notes(text.size());
    for (const sumlab::SummaryMark& m : d.marks) {
        const unsigned f = flagOf(m.kind);
        if ((f & (MatchUnigram | MatchBigram)) && !showMatches) continue;
        if ((f & (Unsupported | SpeakerProblem)) && !showFlags) continue;
        for (size_t i = m.begin; i < m.end && i < text.size(); ++i) {
            flags[i] |= f;
            if (f & (Unsupported | SpeakerProblem)) notes[i] = m.detail;
        }
    }
    QString out;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = i + 1;
        while (j < text.size() && flags[j] == flags[i] && notes[j] == notes[i]) ++j;
        QString piece = html(QString::fromUtf8(text.data() + i, static_cast<int>(j - i)));
        const unsigned f = flags[i];
        QString style;
        if (f & SpeakerProblem) style = QStringLiteral("background-color:#f4a6a6; color:#000; text-decoration:underline;");
        else if (f & Unsupported) style = QStringLiteral("background-color:#ffcf8a; color:#000; text-decoration:underline;");
        else if (f & MatchBigram) style = QStringLiteral("background-color:#8fd19e; color:#000;");
        else if (f & MatchUnigram) style = QStringLiteral("background-color:#d4efd9; color:#000;");
        if (f & Tag) style += QStringLiteral("font-weight:bold;");
        if (style.isEmpty()) out += piece;
        else
            out += QStringLiteral("<span style=\"%1\"%2>%3</span>")
                       .arg(style, notes[i].empty() ? QString() : QStringLiteral(" title=\"%1\"").arg(QString::fromStdString(notes[i]).toHtmlEscaped()),
                            piece);
        i = j;
    }
    return out;
}

// The names and numbers of `summary` the dialogue never mentions (the orange marks), for the attention view.
QVector<AttentionView::Flag> inventedWords(const QString& summary, const QString& dialogue, const QStringList& references) {
    // Those marks depend on the dialogue only; without a reference an empty one stands in for ROUGE's side.
    const sumlab::SummaryDiagnostics d = sumlab::diagnose_summary(summary.toStdString(), references.isEmpty() ? std::vector<std::string>{""} : toStd(references),
                                                                  dialogue.toStdString(), sumlab::Stemming::porter);
    QVector<AttentionView::Flag> flags;
    for (const sumlab::SummaryMark& m : d.marks)
        if (m.kind == sumlab::MarkKind::unsupported_name || m.kind == sumlab::MarkKind::unsupported_number)
            flags.push_back({m.begin, m.end, QString::fromStdString(m.detail)});
    return flags;
}

}  // namespace

ComparePage::ComparePage(ModelRegistry* registry, QWidget* parent) : QWidget(parent), m_registry(registry) {
    setObjectName(QStringLiteral("comparePage"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(buildSetupPanel(registry));
    layout->addLayout(buildPickRow());
    layout->addLayout(buildStatusRow());
    layout->addWidget(buildColumnSplitter(), 1);
    startWorker();
    connectControls();

    setTabOrder(m_searchEdit, m_findButton);
    setTabOrder(m_findButton, m_randomButton);
    setTabOrder(m_randomButton, m_generateButton);
    setTabOrder(m_generateButton, m_stopButton);
    setStatus(tr("Load DialogSum on the Data page, pick a dialogue and press Generate."));
    buildColumns();
    render();
    updateButtons();
}

// Systems and generation settings, and what the columns highlight (with its legend).
QWidget* ComparePage::buildSetupPanel(ModelRegistry* registry) {
    auto* setup = new QGroupBox(tr("Systems and generation"), this);
    auto* setupLayout = new QVBoxLayout(setup);
    m_picker = new SystemPicker(registry, QStringLiteral("compare"), false, setup);
    setupLayout->addWidget(m_picker);
    m_settings = new GenerationSettingsWidget(QStringLiteral("compare"), setup);
    setupLayout->addWidget(m_settings);
    auto* viewRow = new QHBoxLayout;
    m_stemmerCheck = new QCheckBox(tr("Porter &stemmer"), setup);
    m_stemmerCheck->setChecked(true);
    Accessible::describe(m_stemmerCheck, "compareStemmerCheck", tr("Porter stemmer"),
                         tr("Score and match words stemmed, as rouge_score's use_stemmer=True (the lab's setting)"));
    m_matchesCheck = new QCheckBox(tr("Show ROUGE &matches"), setup);
    m_matchesCheck->setChecked(true);
    Accessible::describe(m_matchesCheck, "compareMatchesCheck", tr("Show ROUGE matches"),
                         tr("Pale green: a word ROUGE-1 matches in a reference; green: part of a matching bigram (ROUGE-2)"));
    m_flagsCheck = new QCheckBox(tr("Mark &unsupported facts"), setup);
    m_flagsCheck->setChecked(true);
    Accessible::describe(m_flagsCheck, "compareFlagsCheck", tr("Mark unsupported facts"),
                         tr("Orange: a name or number the dialogue never mentions; red: a speaker tag the dialogue contradicts "
                            "or that names nobody in it"));
    viewRow->addWidget(m_stemmerCheck);
    viewRow->addWidget(m_matchesCheck);
    viewRow->addWidget(m_flagsCheck);
    viewRow->addStretch(1);
    auto* legend = new QLabel(
        tr("<span style=\"background-color:#d4efd9;color:#000\">&nbsp;ROUGE-1 match&nbsp;</span> "
           "<span style=\"background-color:#8fd19e;color:#000\">&nbsp;ROUGE-2 match&nbsp;</span> "
           "<span style=\"background-color:#ffcf8a;color:#000\">&nbsp;not in the dialogue&nbsp;</span> "
           "<span style=\"background-color:#f4a6a6;color:#000\">&nbsp;speaker tag in doubt&nbsp;</span>"),
        setup);
    legend->setObjectName(QStringLiteral("compareLegend"));
    legend->setAccessibleName(tr("Highlight legend"));
    viewRow->addWidget(legend);
    setupLayout->addLayout(viewRow);
    return setup;
}

// Which dialogue: split, index, search, random; and Generate / Stop.
QLayout* ComparePage::buildPickRow() {
    auto* pickRow = new QHBoxLayout;
    auto* splitLabel = new QLabel(tr("S&plit"), this);
    m_splitCombo = new QComboBox(this);
    Accessible::describe(m_splitCombo, "compareSplitCombo", tr("Split"), tr("The DialogSum split to take the dialogue from (load it on the Data page)"));
    splitLabel->setBuddy(m_splitCombo);
    auto* indexLabel = new QLabel(tr("&Index"), this);
    m_indexSpin = new QSpinBox(this);
    m_indexSpin->setRange(0, 0);
    Accessible::describe(m_indexSpin, "compareIndexSpin", tr("Dialogue index"), tr("The dialogue's 0-based index in the split (the lab shows test 200)"));
    indexLabel->setBuddy(m_indexSpin);
    m_searchEdit = new QLineEdit(this);
    m_searchEdit->setPlaceholderText(tr("Search dialogues, ids and references"));
    m_searchEdit->setClearButtonEnabled(true);
    Accessible::describe(m_searchEdit, "compareSearchEdit", tr("Search"), tr("Text to look for; Enter finds the next dialogue that contains it"));
    m_findButton = new QPushButton(tr("&Find next"), this);
    Accessible::describe(m_findButton, "compareFindButton", tr("Find next"), tr("Show the next dialogue of the split that contains the search text"));
    m_randomButton = new QPushButton(tr("&Random"), this);
    Accessible::describe(m_randomButton, "compareRandomButton", tr("Random dialogue"), tr("Show a dialogue of the split chosen at random"));
    m_generateButton = new QPushButton(tr("&Generate"), this);
    m_generateButton->setDefault(true);
    Accessible::describe(m_generateButton, "compareGenerateButton", tr("Generate summaries"),
                         tr("Summarise the shown dialogue with every chosen system (Ctrl+Return)"));
    m_stopButton = new QPushButton(tr("Sto&p"), this);
    Accessible::describe(m_stopButton, "compareStopButton", tr("Stop generating"), tr("Stop the generation in progress (Esc)"));
    pickRow->addWidget(splitLabel);
    pickRow->addWidget(m_splitCombo);
    pickRow->addWidget(indexLabel);
    pickRow->addWidget(m_indexSpin);
    pickRow->addWidget(m_searchEdit, 1);
    pickRow->addWidget(m_findButton);
    pickRow->addWidget(m_randomButton);
    pickRow->addSpacing(12);
    pickRow->addWidget(m_generateButton);
    pickRow->addWidget(m_stopButton);
    return pickRow;
}

// The shown example's title, the generation status and its progress.
QLayout* ComparePage::buildStatusRow() {
    auto* statusRow = new QHBoxLayout;
    m_titleLabel = new QLabel(this);
    m_titleLabel->setObjectName(QStringLiteral("compareTitleLabel"));
    m_titleLabel->setAccessibleName(tr("Shown example"));
    QFont titleFont = m_titleLabel->font();
    titleFont.setBold(true);
    m_titleLabel->setFont(titleFont);
    m_statusLabel = new QLabel(this);
    m_statusLabel->setObjectName(QStringLiteral("compareStatusLabel"));
    m_statusLabel->setAccessibleName(tr("Generation status"));
    m_progress = new QProgressBar(this);
    Accessible::describe(m_progress, "compareProgressBar", tr("Generation progress"), tr("Decoding steps of every system, in order"));
    m_progress->setMaximumWidth(220);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    statusRow->addWidget(m_titleLabel);
    statusRow->addStretch(1);
    statusRow->addWidget(m_statusLabel);
    statusRow->addWidget(m_progress);
    return statusRow;
}

// The aligned columns: the dialogue, the reference(s) and one column per possible system.
QWidget* ComparePage::buildColumnSplitter() {
    m_columns = new QSplitter(Qt::Horizontal, this);
    m_columns->setObjectName(QStringLiteral("compareColumns"));
    m_columns->setChildrenCollapsible(false);
    auto makeColumn = [this](const QString& title, QTextBrowser** view, QLabel** titleLabel, QLabel** scoreLabel) {
        auto* column = new QWidget(m_columns);
        auto* v = new QVBoxLayout(column);
        v->setContentsMargins(2, 0, 2, 0);
        auto* label = new QLabel(title, column);
        QFont f = label->font();
        f.setBold(true);
        label->setFont(f);
        // One line each (clipped when narrow, the full name in the tooltip), so the text views start level.
        label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
        label->setToolTip(title);
        *view = new QTextBrowser(column);
        (*view)->setOpenLinks(false);
        label->setBuddy(*view);
        v->addWidget(label);
        v->addWidget(*view, 1);
        if (titleLabel) *titleLabel = label;
        if (scoreLabel) {
            *scoreLabel = new QLabel(column);
            (*scoreLabel)->setWordWrap(true);
            // A fixed height keeps the summaries' bottoms level whatever the notes under them.
            (*scoreLabel)->setFixedHeight(5 * (*scoreLabel)->fontMetrics().lineSpacing());
            (*scoreLabel)->setAlignment(Qt::AlignLeft | Qt::AlignTop);
            (*scoreLabel)->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
            v->addWidget(*scoreLabel);
        }
        m_columns->addWidget(column);
        return column;
    };
    makeColumn(tr("&Dialogue"), &m_dialogueView, nullptr, nullptr);
    Accessible::describe(m_dialogueView, "compareDialogueView", tr("Dialogue"), tr("The dialogue being summarised"));
    makeColumn(tr("Human r&eference"), &m_referencesView, nullptr, nullptr);
    Accessible::describe(m_referencesView, "compareReferencesView", tr("Human references"),
                         tr("The human reference summaries (DialogSum's test split has three)"));
    for (int i = 0; i < SystemPicker::MaxSystems; ++i) {
        QTextBrowser* view = nullptr;
        QLabel* title = nullptr;
        QLabel* score = nullptr;
        m_summaryColumns << makeColumn(tr("System %1").arg(i + 1), &view, &title, &score);
        Accessible::describe(view, QStringLiteral("compareSummaryView%1").arg(i + 1).toLatin1().constData(), tr("Summary %1").arg(i + 1),
                             tr("This system's summary; hover a marked word for why it is marked"));
        score->setObjectName(QStringLiteral("compareScoreLabel%1").arg(i + 1));
        score->setAccessibleName(tr("Scores of summary %1").arg(i + 1));
        score->setToolTip(tr("ROUGE F-measures (points) of this summary against the shown reference(s); several references: the best, as score_multi"));
        m_summaryViews << view;
        m_summaryTitles << title;
        m_scoreLabels << score;
        auto* attention = new QPushButton(tr("Attention…"), m_summaryColumns.back());
        Accessible::describe(attention, QStringLiteral("compareAttentionButton%1").arg(i + 1).toLatin1().constData(), tr("Attention of summary %1").arg(i + 1),
                             tr("Which words of the dialogue each token of this summary attended to (the decoder's cross-attention)"));
        attention->setEnabled(false);
        m_summaryColumns.back()->layout()->addWidget(attention);
        connect(attention, &QPushButton::clicked, this, [this, i] { showAttention(i); });
        m_attentionButtons << attention;
    }
    return m_columns;
}

// The generation worker on its thread, and what the page does with its signals.
void ComparePage::startWorker() {
    m_worker = new CompareWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.setObjectName(QStringLiteral("CompareWorker"));
    m_thread.start();
    connect(m_worker, &CompareWorker::systemStarted, this, [this](int id, int i) {
        if (id != m_requestId || i >= m_summaries.size()) return;
        m_summaries[i].state = SummaryState::Running;
        m_progress->setValue(i * m_maxSteps);
        setStatus(tr("Generating with %1 (%2 of %3) …").arg(m_summaries[i].name).arg(i + 1).arg(m_summaries.size()));
        renderSummary(i);
    });
    connect(m_worker, &CompareWorker::stepDone, this, [this](int id, int i, int step, int) {
        if (id == m_requestId) m_progress->setValue(i * m_maxSteps + std::min(step, m_maxSteps));
    });
    connect(m_worker, &CompareWorker::summaryReady, this, [this](int id, int i, const QString& text, bool hitMax, double seconds) {
        if (id != m_requestId || i >= m_summaries.size()) return;
        m_summaries[i].text = text;
        m_summaries[i].state = SummaryState::Done;
        m_summaries[i].hitMaxNewTokens = hitMax;
        m_summaries[i].seconds = seconds;
        m_progress->setValue((i + 1) * m_maxSteps);
        renderSummary(i);
    });
    connect(m_worker, &CompareWorker::systemFailed, this, [this](int id, int i, const QString& error) {
        if (id != m_requestId || i >= m_summaries.size()) return;
        m_summaries[i].state = SummaryState::Failed;
        m_summaries[i].error = error;
        renderSummary(i);
        emit statusMessage(tr("%1 failed: %2").arg(m_summaries[i].name, error));
    });
    connect(m_worker, &CompareWorker::finished, this, [this](int id, bool stopped) {
        if (id != m_requestId) return;
        m_generating = false;
        int failed = 0;
        for (const Summary& s : m_summaries) failed += s.state == SummaryState::Failed;
        setStatus(stopped ? tr("Stopped") : failed ? tr("Done; %n system(s) failed", nullptr, failed) : tr("Done"));
        m_progress->setValue(m_progress->maximum());
        updateButtons();
        emit generationFinished(stopped);
    });
}

void ComparePage::connectControls() {
    connect(m_splitCombo, &QComboBox::currentIndexChanged, this, [this] {
        const SplitSnapshot* split = currentSplit();
        m_indexSpin->setRange(0, split && !split->dialogues.isEmpty() ? split->dialogues.size() - 1 : 0);
        if (split) selectExample(split->name, m_indexSpin->value());
    });
    connect(m_indexSpin, &QSpinBox::valueChanged, this, [this](int index) {
        if (const SplitSnapshot* split = currentSplit()) selectExample(split->name, index);
    });
    connect(m_searchEdit, &QLineEdit::returnPressed, this, [this] { findNext(m_searchEdit->text()); });
    connect(m_findButton, &QPushButton::clicked, this, [this] { findNext(m_searchEdit->text()); });
    connect(m_randomButton, &QPushButton::clicked, this, &ComparePage::selectRandom);
    connect(m_generateButton, &QPushButton::clicked, this, &ComparePage::generate);
    connect(m_stopButton, &QPushButton::clicked, this, &ComparePage::stop);
    for (QCheckBox* check : {m_stemmerCheck, m_matchesCheck, m_flagsCheck}) connect(check, &QCheckBox::toggled, this, &ComparePage::render);
    // Only while this page is shown: the other pages have their own Escape and Ctrl+Return.
    auto* generateShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
    generateShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(generateShortcut, &QShortcut::activated, this, &ComparePage::generate);
    auto* stopShortcut = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    stopShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(stopShortcut, &QShortcut::activated, this, &ComparePage::stop);
    connect(m_picker, &SystemPicker::systemsChanged, this, [this] {
        if (!m_generating && m_summaries.isEmpty()) buildColumns();
        updateButtons();
    });
}

bool ComparePage::selectSystem(const SystemSpec& system) { return m_picker->selectSystem(system); }

ComparePage::~ComparePage() {
    m_worker->requestStop();
    m_thread.quit();
    m_thread.wait();
}

const SplitSnapshot* ComparePage::currentSplit() const { return m_dataset.find(m_splitCombo->currentText()); }

void ComparePage::setDataset(const DatasetSnapshot& dataset) {
    m_dataset = dataset;
    const QString previous = m_splitCombo->currentText();
    {
        const QSignalBlocker block(m_splitCombo);
        m_splitCombo->clear();
        for (const SplitSnapshot& split : dataset.splits) m_splitCombo->addItem(split.name);
        // The lab compares on the test split.
        int index = m_splitCombo->findText(previous.isEmpty() ? QStringLiteral("test") : previous);
        m_splitCombo->setCurrentIndex(index >= 0 ? index : 0);
    }
    const SplitSnapshot* split = currentSplit();
    {
        const QSignalBlocker block(m_indexSpin);
        m_indexSpin->setRange(0, split && !split->dialogues.isEmpty() ? split->dialogues.size() - 1 : 0);
    }
    if (split) selectExample(split->name, m_indexSpin->value());
    updateButtons();
}

bool ComparePage::selectExample(const QString& splitName, int index) {
    const SplitSnapshot* split = m_dataset.find(splitName);
    if (!split || index < 0 || index >= split->dialogues.size()) return false;
    if (m_splitCombo->currentText() != splitName) {
        const QSignalBlocker block(m_splitCombo);
        m_splitCombo->setCurrentIndex(m_splitCombo->findText(splitName));
        const QSignalBlocker blockSpin(m_indexSpin);
        m_indexSpin->setRange(0, split->dialogues.size() - 1);
    }
    if (m_indexSpin->value() != index) {
        const QSignalBlocker block(m_indexSpin);
        m_indexSpin->setValue(index);
    }
    const DialogueRecord& record = split->dialogues.at(index);
    m_titleLabel->setText(tr("%1 %2 (%3)").arg(splitName).arg(index).arg(record.id));
    m_dialogue = record.dialogue;
    m_references = record.references;
    if (!m_generating) m_summaries.clear();
    buildColumns();
    render();
    updateButtons();
    return true;
}

bool ComparePage::findNext(const QString& text) {
    const SplitSnapshot* split = currentSplit();
    if (!split || text.trimmed().isEmpty() || split->dialogues.isEmpty()) return false;
    const int n = split->dialogues.size();
    for (int k = 1; k <= n; ++k) {
        const int i = (m_indexSpin->value() + k) % n;
        const DialogueRecord& r = split->dialogues.at(i);
        const bool hit = r.dialogue.contains(text, Qt::CaseInsensitive) || r.id.contains(text, Qt::CaseInsensitive) ||
                         std::any_of(r.references.begin(), r.references.end(), [&](const QString& s) { return s.contains(text, Qt::CaseInsensitive); });
        if (hit) return selectExample(split->name, i);
    }
    setStatus(tr("No dialogue of %1 contains “%2”").arg(split->name, text));
    return false;
}

void ComparePage::selectRandom() {
    const SplitSnapshot* split = currentSplit();
    if (!split || split->dialogues.isEmpty()) return;
    selectExample(split->name, static_cast<int>(QRandomGenerator::global()->bounded(split->dialogues.size())));
}

bool ComparePage::generate() {
    if (m_generating) {
        setStatus(tr("A generation is running; stop it first"));
        return false;
    }
    if (m_dialogue.isEmpty()) {
        setStatus(tr("No dialogue: load DialogSum on the Data page and pick one"));
        return false;
    }
    const QVector<SystemSpec> systems = m_picker->systems();
    if (systems.isEmpty()) {
        setStatus(tr("No system chosen: register a model on the Models page"));
        return false;
    }
    CompareRequest request;
    request.requestId = ++m_requestId;
    request.systems = systems;
    request.dialogue = m_dialogue;
    request.generation = m_settings->settings();
    m_summaries.clear();
    // Several samples share one column: no single summary to attend over.
    const bool oneSample = request.generation.values.value("num_return_sequences", 1) <= 1;
    for (const SystemSpec& s : systems)
        m_summaries.push_back({s.label, QString(), SummaryState::Pending, QString(), 0, false, oneSample ? s : SystemSpec()});
    m_maxSourceLength = request.generation.maxSourceLength;
    m_maxSteps = std::max(1, request.generation.maxNewTokens());
    m_progress->setRange(0, m_maxSteps * systems.size());
    m_progress->setValue(0);
    m_generating = true;
    m_worker->resetStop();
    buildColumns();
    render();
    updateButtons();
    setStatus(tr("Generating (%1) …").arg(request.generation.describe()));
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, request] { worker->generate(request); }, Qt::QueuedConnection);
    return true;
}

void ComparePage::stop() {
    if (!m_generating) return;
    m_worker->requestStop();
    setStatus(tr("Stopping …"));
}

void ComparePage::showExample(const CompareExample& example) {
    if (m_generating) stop();
    ++m_requestId;  // whatever is still generating belongs to the previous example
    m_generating = false;
    m_titleLabel->setText(example.title);
    m_dialogue = example.dialogue;
    m_references = example.references;
    m_summaries.clear();
    for (int i = 0; i < example.summaries.size() && i < SystemPicker::MaxSystems; ++i)
        m_summaries.push_back({example.systemNames.value(i), example.summaries.at(i), SummaryState::Done, QString(), 0, false});
    buildColumns();
    render();
    updateButtons();
    setStatus(tr("Summaries from the results file"));
}

void ComparePage::buildColumns() {
    // With no summaries yet, the chosen systems' columns stand ready (titles only).
    QStringList names;
    if (!m_summaries.isEmpty()) {
        for (const Summary& s : m_summaries) names << s.name;
    } else {
        for (const SystemSpec& s : m_picker->systems()) names << s.label;
    }
    for (int i = 0; i < m_summaryColumns.size(); ++i) {
        m_summaryColumns[i]->setVisible(i < names.size());
        if (i < names.size()) {
            m_summaryTitles[i]->setText(names[i]);
            m_summaryTitles[i]->setToolTip(names[i]);
            m_summaryViews[i]->setAccessibleName(tr("Summary by %1").arg(names[i]));
        }
    }
}

void ComparePage::render() {
    m_dialogueView->setHtml(dialogueHtml(m_dialogue));
    QString refs;
    for (int i = 0; i < m_references.size(); ++i) {
        if (m_references.size() > 1) refs += QStringLiteral("<p><b>%1</b><br>").arg(tr("Reference %1").arg(i + 1));
        else refs += QStringLiteral("<p>");
        refs += html(m_references[i]) + QStringLiteral("</p>");
    }
    m_referencesView->setHtml(refs);
    for (int i = 0; i < m_summaryViews.size(); ++i) {
        if (i < m_summaries.size()) renderSummary(i);
        else {
            m_summaryViews[i]->clear();
            m_scoreLabels[i]->clear();
            m_attentionButtons[i]->setEnabled(false);
        }
    }
}

void ComparePage::renderSummary(int i) {
    if (i < 0 || i >= m_summaries.size() || i >= m_summaryViews.size()) return;
    const Summary& s = m_summaries[i];
    QTextBrowser* view = m_summaryViews[i];
    QLabel* score = m_scoreLabels[i];
    m_attentionButtons[i]->setEnabled(s.state == SummaryState::Done && s.system.isValid());
    switch (s.state) {
        case SummaryState::Pending:
            view->setHtml(QStringLiteral("<i>%1</i>").arg(tr("Waiting …")));
            score->clear();
            return;
        case SummaryState::Running:
            view->setHtml(QStringLiteral("<i>%1</i>").arg(tr("Generating …")));
            score->clear();
            return;
        case SummaryState::Failed:
            view->setHtml(QStringLiteral("<p style=\"color:#c0392b\"><b>%1</b><br>%2</p>").arg(tr("Could not generate:"), html(s.error)));
            score->setText(tr("No scores: the system failed"));
            return;
        case SummaryState::Done: break;
    }
    if (m_references.isEmpty()) {
        view->setHtml(html(s.text));
        score->setText(tr("No reference to score against"));
        return;
    }
    const std::string text = s.text.toStdString();
    const sumlab::SummaryDiagnostics d =
        sumlab::diagnose_summary(text, toStd(m_references), m_dialogue.toStdString(), stemmingOf(m_stemmerCheck->isChecked()));
    view->setHtml(summaryHtml(text, d, m_matchesCheck->isChecked(), m_flagsCheck->isChecked()));
    QStringList notes;
    QStringList unsupported, speakers;
    for (const sumlab::SummaryMark& m : d.marks) {
        const QString piece = QString::fromUtf8(text.data() + m.begin, static_cast<int>(m.end - m.begin));
        if (m.kind == sumlab::MarkKind::unsupported_name || m.kind == sumlab::MarkKind::unsupported_number) unsupported << piece;
        if (m.kind == sumlab::MarkKind::unknown_speaker || m.kind == sumlab::MarkKind::speaker_swap) speakers << QString::fromStdString(m.detail);
    }
    unsupported.removeDuplicates();
    speakers.removeDuplicates();
    if (!unsupported.isEmpty()) notes << tr("Not in the dialogue: %1").arg(unsupported.join(QStringLiteral(", ")));
    if (!speakers.isEmpty()) notes << tr("Speaker check: %1").arg(speakers.join(QStringLiteral("; ")));
    if (s.hitMaxNewTokens) notes << tr("Stopped at max_new_tokens before </s>");
    if (s.seconds > 0) notes << tr("%1 s").arg(s.seconds, 0, 'f', 2);
    const QString refs = m_references.size() > 1 ? tr(" (best of %1 references)").arg(m_references.size()) : QString();
    score->setText(scoreLine(d.scores) + refs + (notes.isEmpty() ? QString() : QStringLiteral("\n") + notes.join(QStringLiteral(" · "))));
}

bool ComparePage::showAttention(int i) {
    if (i < 0 || i >= m_summaries.size() || m_summaries[i].state != SummaryState::Done || !m_summaries[i].system.isValid()) return false;
    const Summary& s = m_summaries[i];
    if (!m_attentionDialog) m_attentionDialog = new AttentionDialog(this);
    AttentionRequest request;
    request.system = s.system;
    request.dialogue = m_dialogue;
    request.summary = s.text;
    request.maxSourceLength = m_maxSourceLength;
    m_attentionDialog->showFor(request, inventedWords(s.text, m_dialogue, m_references), s.name);
    return true;
}

QString ComparePage::scoreText(int i) const { return m_scoreLabels.value(i) ? m_scoreLabels[i]->text() : QString(); }

QString ComparePage::statusText() const { return m_statusLabel->text(); }

void ComparePage::setStatus(const QString& text) { m_statusLabel->setText(text); }

void ComparePage::updateButtons() {
    m_generateButton->setEnabled(!m_generating);
    m_stopButton->setEnabled(m_generating);
    const bool haveSplit = currentSplit() != nullptr;
    m_findButton->setEnabled(haveSplit);
    m_randomButton->setEnabled(haveSplit);
    m_indexSpin->setEnabled(haveSplit);
}
