// LibTorch headers (through run_folder.h) come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/training/run_folder.h"

#include "ui/LabGuide.h"

#include "ui/Accessible.h"
#include "ui/ModelRegistry.h"
#include "ui/TrainingSettingsForm.h"

#include <QCheckBox>
#include <QDir>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <optional>

namespace {

QString settingsKey(LabGuide::Step step, const char* what) {
    return QStringLiteral("labGuide/%1/%2").arg(LabGuide::stepKey(step), QString::fromLatin1(what));
}

// The last two parts of a path ("dialogsum/csv"): enough to recognise it in a narrow dock.
QString shortPath(const QString& path) {
    const QStringList parts = QDir::cleanPath(path).split(QLatin1Char('/'), Qt::SkipEmptyParts);
    return parts.mid(std::max<qsizetype>(0, parts.size() - 2)).join(QLatin1Char('/'));
}

// The training method of a run folder, from run.json as the engine reads it (read_run_config);
// nullopt when run.json is missing or the engine refuses it.
std::optional<sumlab::TrainingMethod> runMethod(const QString& runDir) {
    try {
        return sumlab::read_run_config(runDir.toStdString()).arguments.method;
    } catch (const std::exception&) {
        return std::nullopt;  // nothing to tick: the Runs page shows why the folder is unreadable
    }
}

}  // namespace

LabGuide::LabGuide(QWidget* parent) : QDockWidget(tr("Lab guide"), parent) {
    setObjectName("labGuideDock");
    setAccessibleName(tr("Lab guide"));
    setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);

    auto* content = new QWidget;
    content->setObjectName("labGuide");
    auto* layout = new QVBoxLayout(content);
    auto* intro = new QLabel(tr("The lab's steps, in order. Each button opens the page with the lab's settings; a step ticks "
                                "itself when its result appears. Models or adapters trained elsewhere can stand in for the "
                                "training steps: register them on the Models page, or tick the step by hand."),
                             content);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    m_summary = new QLabel(content);
    Accessible::describe(m_summary, "labGuideSummary", tr("Lab progress"), tr("How many of the lab's steps are done"));
    QFont bold = m_summary->font();
    bold.setBold(true);
    m_summary->setFont(bold);
    layout->addWidget(m_summary);

    for (int i = 0; i < StepCount; ++i) {
        const auto step = static_cast<Step>(i);
        auto* frame = new QFrame(content);
        frame->setFrameShape(QFrame::StyledPanel);
        frame->setObjectName(QStringLiteral("step_%1").arg(stepKey(step)));
        auto* box = new QVBoxLayout(frame);
        auto* title = new QLabel(QStringLiteral("%1. %2").arg(i + 1).arg(stepTitle(step)), frame);
        title->setFont(bold);
        auto* text = new QLabel(stepDescription(step), frame);
        text->setWordWrap(true);
        box->addWidget(title);
        box->addWidget(text);
        auto* row = new QHBoxLayout;
        m_openButtons[i] = new QPushButton(tr("Open"), frame);
        const QByteArray buttonName = QStringLiteral("openStep_%1Button").arg(stepKey(step)).toLatin1();
        Accessible::describe(m_openButtons[i], buttonName.constData(), tr("Open: %1").arg(stepTitle(step)),
                             tr("Show the page for \"%1\"").arg(stepTitle(step)));
        m_checks[i] = new QCheckBox(tr("Done"), frame);
        const QByteArray checkName = QStringLiteral("stepDone_%1Check").arg(stepKey(step)).toLatin1();
        Accessible::describe(m_checks[i], checkName.constData(), tr("Done: %1").arg(stepTitle(step)),
                             tr("Ticks itself when the step's result appears; tick it by hand when a model or file from elsewhere stands in"));
        m_reasons[i] = new QLabel(frame);
        m_reasons[i]->setWordWrap(true);
        m_reasons[i]->setObjectName(QStringLiteral("stepReason_%1Label").arg(stepKey(step)));
        QFont italic = m_reasons[i]->font();
        italic.setItalic(true);
        m_reasons[i]->setFont(italic);
        row->addWidget(m_openButtons[i]);
        row->addWidget(m_checks[i]);
        row->addStretch(1);
        box->addLayout(row);
        box->addWidget(m_reasons[i]);
        layout->addWidget(frame);
        connect(m_openButtons[i], &QPushButton::clicked, this, [this, step] { emit openStepRequested(step); });
        connect(m_checks[i], &QCheckBox::toggled, this, [this, step](bool on) { setDone(step, on, on ? tr("Ticked by hand") : QString()); });
    }
    m_resetButton = new QPushButton(tr("Start over"), content);
    Accessible::describe(m_resetButton, "resetLabGuideButton", tr("Start the lab over"), tr("Untick every step"));
    connect(m_resetButton, &QPushButton::clicked, this, &LabGuide::resetProgress);
    layout->addWidget(m_resetButton, 0, Qt::AlignLeft);
    layout->addStretch(1);

    auto* scroll = new QScrollArea(this);
    scroll->setObjectName("labGuideScroll");
    scroll->setWidgetResizable(true);
    scroll->setWidget(content);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setWidget(scroll);
    setMinimumWidth(280);

    for (int i = 0; i < StepCount; ++i) updateStep(static_cast<Step>(i));
    updateSummary();
}

QString LabGuide::stepKey(Step step) {
    switch (step) {
        case LoadData: return QStringLiteral("loadData");
        case ZeroShot: return QStringLiteral("zeroShot");
        case FullFineTune: return QStringLiteral("fullFineTune");
        case TrainLora: return QStringLiteral("trainLora");
        case Compare: return QStringLiteral("compare");
        case Evaluate: return QStringLiteral("evaluate");
        case Rate: return QStringLiteral("rate");
        case StepCount: break;
    }
    return {};
}

QString LabGuide::stepTitle(Step step) {
    switch (step) {
        case LoadData: return tr("Load DialogSum");
        case ZeroShot: return tr("Try zero-shot");
        case FullFineTune: return tr("Fine-tune fully");
        case TrainLora: return tr("Train LoRA");
        case Compare: return tr("Compare");
        case Evaluate: return tr("Evaluate");
        case Rate: return tr("Rate");
        case StepCount: break;
    }
    return {};
}

QString LabGuide::stepDescription(Step step) {
    switch (step) {
        case LoadData:
            return tr("Load the DialogSum splits (12,460 training, 500 validation and 1,500 test dialogues, each with a human "
                      "summary). The Data page shows the dialogues and their token lengths, which set the input and output "
                      "lengths used later.");
        case ZeroShot:
            return tr("Register FLAN-T5 (base in the lab) and summarize a test dialogue with the lab's prompt, without any training. "
                      "It shows what instruction tuning alone gives: fluent but often generic summaries that miss who did what.");
        case FullFineTune:
            return tr("Train every weight on DialogSum with the lab's settings (learning_rate 1e-5, weight_decay 0.01, one epoch): "
                      "this makes the \"instruct\" model. It shows the loss falling, and takes hours on a laptop, so a fine-tuned "
                      "model from elsewhere can stand in.");
        case TrainLora:
            return tr("Train a LoRA adapter on q and v (r 32, alpha 32, dropout 0.05, learning_rate 1e-3) with the base model frozen. "
                      "It shows that about 1.4% of FLAN-T5-base's parameters reach most of full fine-tuning's quality, saved in "
                      "an adapter of a few megabytes.");
        case Compare:
            return tr("Read the human summary and each system's summary of one dialogue side by side (test 200 in the lab). It "
                      "shows what ROUGE cannot: invented names, missing facts, who said what.");
        case Evaluate:
            return tr("Score the original, instruct and PEFT models with ROUGE on test dialogues and write the lab's results CSV. "
                      "It shows each gain with a confidence interval, so you can tell which differences are real.");
        case Rate:
            return tr("Rate two systems' summaries blind, side by side, and merge several raters. It shows whether people agree "
                      "with ROUGE, and how much they agree with each other (κ, α).");
        case StepCount: break;
    }
    return {};
}

int LabGuide::presetFor(Step step) {
    if (step != FullFineTune && step != TrainLora) return -1;
    const int n = static_cast<int>(TrainingSettingsForm::presetNames().size());
    for (int i = 0; i < n; ++i) {
        const QJsonObject v = TrainingSettingsForm::presetValues(i);
        const QString method = v.value(QStringLiteral("method")).toString();
        const double lr = v.value(QStringLiteral("learning_rate")).toDouble();
        // The lab's two runs: full at 1e-5, LoRA r=32 at 1e-3.
        if (step == FullFineTune && method == QLatin1String("full") && std::abs(lr - 1e-5) < 1e-12) return i;
        if (step == TrainLora && method == QLatin1String("lora") && v.value(QStringLiteral("r")).toInt() == 32 &&
            std::abs(lr - 1e-3) < 1e-12)
            return i;
    }
    return -1;
}

bool LabGuide::isDone(Step step) const { return m_checks[step]->isChecked(); }

QString LabGuide::doneReason(Step step) const { return QSettings().value(settingsKey(step, "reason")).toString(); }

int LabGuide::doneCount() const {
    int n = 0;
    for (auto* c : m_checks) n += c->isChecked() ? 1 : 0;
    return n;
}

void LabGuide::setDone(Step step, bool done, const QString& reason) {
    if (step < 0 || step >= StepCount) return;
    QSettings settings;
    const bool was = settings.value(settingsKey(step, "done"), false).toBool();
    settings.setValue(settingsKey(step, "done"), done);
    settings.setValue(settingsKey(step, "reason"), done ? reason : QString());
    updateStep(step);
    updateSummary();
    if (was != done) emit stepDoneChanged(step, done);
}

void LabGuide::updateStep(Step step) {
    QSettings settings;
    const bool done = settings.value(settingsKey(step, "done"), false).toBool();
    const QSignalBlocker block(m_checks[step]);
    m_checks[step]->setChecked(done);
    const QString reason = settings.value(settingsKey(step, "reason")).toString();
    m_reasons[step]->setText(reason);
    m_reasons[step]->setVisible(done && !reason.isEmpty());
}

void LabGuide::updateSummary() {
    m_summary->setText(tr("%1 of %2 steps done").arg(doneCount()).arg(int(StepCount)));
}

void LabGuide::watchRegistry(ModelRegistry* registry) {
    connect(registry, &ModelRegistry::registered, this, [this, registry](const QString& path) {
        const int row = registry->rowOfPath(path);
        if (row >= 0) onModelRegistered(registry->info(row));
    });
}

void LabGuide::onDatasetLoaded(const QString& path, int trainDialogues) {
    setDone(LoadData, true, tr("Loaded %1 (%2 training dialogues)").arg(shortPath(path)).arg(trainDialogues));
}

void LabGuide::onModelRegistered(const ModelInfo& info) {
    if (!info.ok) return;
    if (info.kind == ModelKind::Adapter) {
        setDone(TrainLora, true, tr("Adapter %1 registered").arg(info.name));
        return;
    }
    if (info.origin.startsWith(QLatin1String("Pre-trained"))) setDone(ZeroShot, true, tr("Model %1 registered").arg(info.name));
    else if (info.origin.startsWith(QLatin1String("Fine-tuned"))) setDone(FullFineTune, true, tr("Fine-tuned model %1 registered").arg(info.name));
}

void LabGuide::onRunEnded(const QString& runDir, sumlab::RunStatus state) {
    if (state != sumlab::RunStatus::finished) return;
    const std::optional<sumlab::TrainingMethod> method = runMethod(runDir);
    if (!method) return;
    const QString name = QFileInfo(runDir).fileName();
    if (*method == sumlab::TrainingMethod::lora) setDone(TrainLora, true, tr("Run %1 finished (LoRA)").arg(name));
    else setDone(FullFineTune, true, tr("Run %1 finished (full fine-tuning)").arg(name));
}

void LabGuide::onCompared() { setDone(Compare, true, tr("Summaries compared")); }

void LabGuide::onResultsCsv(const QString& path) { setDone(Evaluate, true, tr("Results CSV %1").arg(QFileInfo(path).fileName())); }

void LabGuide::onRatingSaved(const QString& ratingsPath, int rated, int total) {
    setDone(Rate, true, tr("%1 of %2 rated in %3").arg(rated).arg(total).arg(QFileInfo(ratingsPath).fileName()));
}

void LabGuide::resetProgress() {
    for (int i = 0; i < StepCount; ++i) setDone(static_cast<Step>(i), false);
}
