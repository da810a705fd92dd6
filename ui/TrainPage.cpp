#include "ui/TrainPage.h"

#include "ui/Accessible.h"
#include "ui/LossPlotWidget.h"
#include "ui/ModelRegistry.h"
#include "ui/RougePlotWidget.h"
#include "ui/TrainingEstimate.h"
#include "ui/TrainingSettingsForm.h"
#include "ui/TrainingWorker.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStyle>
#include <QVBoxLayout>

#include <climits>
#include <cmath>
#include <optional>

namespace {

constexpr qint64 kQuickDemoEveryKth = 100;

QLabel* makeValueLabel(QWidget* parent, const char* objectName, const QString& name, const QString& tip) {
    auto* label = new QLabel(parent);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    label->setWordWrap(true);
    Accessible::describe(label, objectName, name, tip);
    return label;
}

}  // namespace

TrainPage::TrainPage(ModelRegistry* registry, QWidget* parent) : QWidget(parent), m_registry(registry) {
    setObjectName("trainPage");
    setAccessibleName(tr("Train page"));

    m_thread.setObjectName(QStringLiteral("TrainingWorker"));
    m_worker = new TrainingWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &TrainingWorker::started, this, &TrainPage::onWorkerStarted);
    connect(m_worker, &TrainingWorker::stepLogged, this, &TrainPage::onStep);
    connect(m_worker, &TrainingWorker::evaluated, this, &TrainPage::onEval);
    connect(m_worker, &TrainingWorker::checkpointSaved, this, &TrainPage::onCheckpoint);
    connect(m_worker, &TrainingWorker::stateChanged, this, &TrainPage::onStateChanged);
    connect(m_worker, &TrainingWorker::message, this, &TrainPage::onMessage);
    connect(m_worker, &TrainingWorker::finished, this, &TrainPage::onFinished);
    connect(m_worker, &TrainingWorker::failed, this, &TrainPage::onFailed);
    m_thread.start();

    auto* layout = new QHBoxLayout(this);
    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName("trainSplitter");
    splitter->setChildrenCollapsible(false);
    splitter->addWidget(buildSetupColumn());
    splitter->addWidget(buildRunColumn());
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    layout->addWidget(splitter);

    QSettings settings;
    const QByteArray saved = settings.value(QStringLiteral("train/lastValues")).toByteArray();
    if (!saved.isEmpty()) m_form->setValues(QJsonDocument::fromJson(saved).object());
    const QStringList recent = settings.value(QStringLiteral("data/recentPaths")).toStringList();
    m_dataCombo->addItems(recent);
    m_dataCombo->setCurrentText(settings.value(QStringLiteral("train/data"), recent.value(0)).toString());

    connect(m_registry, &ModelRegistry::entriesChanged, this, &TrainPage::refreshModelChoices);
    connect(m_form, &TrainingSettingsForm::changed, this, &TrainPage::updateEstimate);
    connect(m_form, &TrainingSettingsForm::changed, this, &TrainPage::syncPresetChoice);
    connect(m_form, &TrainingSettingsForm::changed, this, [this] {
        QSignalBlocker blocker(m_quickDemoCheck);
        m_quickDemoCheck->setChecked(m_form->currentValues().value(QStringLiteral("every_kth")).toInteger() == kQuickDemoEveryKth);
        clearRefusal();
    });
    refreshModelChoices();
    setRunning(false);
    updateEstimate();
    syncPresetChoice();
    m_quickDemoCheck->setChecked(m_form->currentValues().value(QStringLiteral("every_kth")).toInteger() == kQuickDemoEveryKth);
}

TrainPage::~TrainPage() {
    stopTimingStep(/*refresh=*/false);
    // A run still going gets a stop (it saves a checkpoint) before the thread ends.
    m_worker->requestStop();
    m_thread.quit();
    m_thread.wait();
}

QWidget* TrainPage::buildSetupColumn() {
    m_setupArea = new QScrollArea;
    m_setupArea->setObjectName("trainSetupArea");
    m_setupArea->setWidgetResizable(true);
    m_setupArea->setFrameShape(QFrame::NoFrame);
    m_setupArea->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto* content = new QWidget(m_setupArea);
    auto* layout = new QVBoxLayout(content);

    auto* setup = new QGroupBox(tr("Run"), content);
    auto* form = new QFormLayout(setup);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setRowWrapPolicy(QFormLayout::WrapLongRows);

    m_presetCombo = new QComboBox(setup);
    m_presetCombo->addItem(tr("Custom settings"), -1);
    const QStringList presets = TrainingSettingsForm::presetNames();
    for (int i = 0; i < presets.size(); ++i) m_presetCombo->addItem(presets[i], i);
    Accessible::describe(m_presetCombo, "presetCombo", tr("Preset"), tr("Fill the form with the values a lab uses"));
    m_presetDescription = new QLabel(setup);
    m_presetDescription->setWordWrap(true);
    Accessible::describe(m_presetDescription, "presetDescription", tr("Preset description"), tr("What the chosen preset sets"));
    auto* presetLabel = new QLabel(tr("&Preset:"), setup);
    presetLabel->setBuddy(m_presetCombo);
    form->addRow(presetLabel, m_presetCombo);
    form->addRow(QString(), m_presetDescription);

    m_modelCombo = new QComboBox(setup);
    m_modelCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_modelCombo->setMinimumContentsLength(20);
    Accessible::describe(m_modelCombo, "trainModelCombo", tr("Model"),
                         tr("The base model to fine-tune, or a LoRA adapter to continue (register folders on the Models page)"));
    auto* modelLabel = new QLabel(tr("&Model:"), setup);
    modelLabel->setBuddy(m_modelCombo);
    form->addRow(modelLabel, m_modelCombo);
    m_modelNote = new QLabel(setup);
    m_modelNote->setWordWrap(true);
    Accessible::describe(m_modelNote, "trainModelNote", tr("Model note"), tr("What starting from the chosen model means"));
    form->addRow(QString(), m_modelNote);

    auto* dataRow = new QHBoxLayout;
    m_dataCombo = new QComboBox(setup);
    m_dataCombo->setEditable(true);
    m_dataCombo->setInsertPolicy(QComboBox::NoInsert);
    m_dataCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_dataCombo->setMinimumContentsLength(20);
    Accessible::describe(m_dataCombo, "trainDataCombo", tr("Training data"),
                         tr("A DialogSum folder or file: training uses its train split, evaluation its validation split"));
    m_dataCombo->lineEdit()->setAccessibleName(tr("Training data path"));
    m_dataBrowseButton = new QPushButton(tr("&Browse…"), setup);
    Accessible::describe(m_dataBrowseButton, "trainDataBrowseButton", tr("Browse for training data"), tr("Choose a DialogSum folder"));
    dataRow->addWidget(m_dataCombo, 1);
    dataRow->addWidget(m_dataBrowseButton);
    auto* dataLabel = new QLabel(tr("&Data:"), setup);
    dataLabel->setBuddy(m_dataCombo);
    form->addRow(dataLabel, dataRow);

    m_quickDemoCheck = new QCheckBox(tr("&Quick demo: every 100th training example"), setup);
    Accessible::describe(m_quickDemoCheck, "quickDemoCheck", tr("Quick demo"),
                         tr("Train on every 100th example, as the lab's quick demo does (sets every_kth to 100)"));
    form->addRow(QString(), m_quickDemoCheck);

    m_runNameEdit = new QLineEdit(setup);
    Accessible::describe(m_runNameEdit, "runNameEdit", tr("Run name"), tr("The run folder's name inside the workspace (empty: model, method and time)"));
    auto* runLabel = new QLabel(tr("R&un name:"), setup);
    runLabel->setBuddy(m_runNameEdit);
    form->addRow(runLabel, m_runNameEdit);
    m_runFolderLabel = new QLabel(setup);
    m_runFolderLabel->setWordWrap(true);
    Accessible::describe(m_runFolderLabel, "runFolderLabel", tr("Run folder"), tr("Where the run's files will be written"));
    form->addRow(QString(), m_runFolderLabel);
    layout->addWidget(setup);

    m_form = new TrainingSettingsForm(content);
    layout->addWidget(m_form);
    m_setupArea->setWidget(content);
    // The whole form fits across; only vertical scrolling.
    m_setupArea->setMinimumWidth(content->minimumSizeHint().width() + m_setupArea->verticalScrollBar()->sizeHint().width() + 4);

    connect(m_presetCombo, qOverload<int>(&QComboBox::activated), this, [this](int) {
        const int preset = m_presetCombo->currentData().toInt();
        if (preset >= 0) applyPreset(preset);
        else syncPresetChoice();
    });
    connect(m_modelCombo, qOverload<int>(&QComboBox::currentIndexChanged), this, &TrainPage::updateEstimate);
    connect(m_dataCombo, &QComboBox::currentTextChanged, this, &TrainPage::updateEstimate);
    connect(m_runNameEdit, &QLineEdit::textChanged, this, &TrainPage::updateEstimate);
    connect(m_dataBrowseButton, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Training Data Folder"), m_dataCombo->currentText());
        if (!dir.isEmpty()) setDataPath(dir);
    });
    connect(m_quickDemoCheck, &QCheckBox::toggled, this, [this](bool on) {
        QJsonObject v;
        v.insert(QStringLiteral("every_kth"), on ? kQuickDemoEveryKth : qint64{1});
        m_form->setValues(v);
    });

    QWidget::setTabOrder(m_presetCombo, m_modelCombo);
    QWidget::setTabOrder(m_modelCombo, m_dataCombo);
    QWidget::setTabOrder(m_dataCombo, m_dataBrowseButton);
    QWidget::setTabOrder(m_dataBrowseButton, m_quickDemoCheck);
    QWidget::setTabOrder(m_quickDemoCheck, m_runNameEdit);
    return m_setupArea;
}

QWidget* TrainPage::buildRunColumn() {
    auto* column = new QWidget;
    auto* layout = new QVBoxLayout(column);
    layout->setContentsMargins(0, 0, 0, 0);

    auto* estimate = new QGroupBox(tr("Estimate"), column);
    estimate->setObjectName("estimatePanel");
    auto* estimateForm = new QFormLayout(estimate);
    m_trainableLabel = makeValueLabel(estimate, "trainableLabel", tr("Trainable parameters"), tr("Parameters AdamW updates, and their share of all parameters"));
    m_savedSizeLabel = makeValueLabel(estimate, "savedSizeLabel", tr("Saved size"), tr("Size of the final model or adapter (fp32)"));
    m_checkpointSizeLabel = makeValueLabel(estimate, "checkpointSizeLabel", tr("Checkpoint size"), tr("Size of each checkpoint: weights plus AdamW's two moments"));
    m_memoryLabel = makeValueLabel(
        estimate, "memoryLabel", tr("Training memory"),
        tr("The peak of a training step in fp32: weights, gradients and AdamW's moments, the activations one batch keeps for "
           "backward (every batch padded to the maximum lengths) and the temporaries at that moment. The process holds "
           "10-20 %% more (its heap) plus the program itself (docs/BENCHMARKS.md)"));
    m_stepsEstimateLabel = makeValueLabel(estimate, "stepsEstimateLabel", tr("Optimizer steps"), tr("How many optimizer steps the run will take"));
    m_timeEstimateLabel = makeValueLabel(estimate, "timeEstimateLabel", tr("Training time"),
                                         tr("Seconds per optimizer step and for the run, from one step timed on this machine"));
    m_timeStepButton = new QPushButton(tr("T&ime a step"), estimate);
    Accessible::describe(m_timeStepButton, "timeStepButton", tr("Time a step"),
                         tr("Run one training step of this model at these settings (random weights, batches padded to the maximum "
                            "lengths) after a warm-up step, and estimate the run's time from it"));
    estimateForm->addRow(tr("Trainable:"), m_trainableLabel);
    estimateForm->addRow(tr("Saved model:"), m_savedSizeLabel);
    estimateForm->addRow(tr("Checkpoint:"), m_checkpointSizeLabel);
    estimateForm->addRow(tr("Memory:"), m_memoryLabel);
    estimateForm->addRow(tr("Steps:"), m_stepsEstimateLabel);
    estimateForm->addRow(tr("Time:"), m_timeEstimateLabel);
    estimateForm->addRow(QString(), m_timeStepButton);
    layout->addWidget(estimate);
    connect(m_timeStepButton, &QPushButton::clicked, this, &TrainPage::timeStep);
    // A probe running beside training would slow both and time neither.
    connect(this, &TrainPage::runStarted, this, [this] {
        stopTimingStep();
        m_timeStepButton->setEnabled(false);
    });
    connect(this, &TrainPage::runEnded, this, &TrainPage::updateEstimate);

    m_refusalFrame = new QFrame(column);
    m_refusalFrame->setFrameShape(QFrame::StyledPanel);
    auto* refusalLayout = new QHBoxLayout(m_refusalFrame);
    auto* icon = new QLabel(m_refusalFrame);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(20, 20));
    icon->setAlignment(Qt::AlignTop);
    m_refusalLabel = new QLabel(m_refusalFrame);
    m_refusalLabel->setWordWrap(true);
    m_refusalLabel->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    Accessible::describe(m_refusalLabel, "trainValidationLabel", tr("Training problem"), tr("Why the run was refused or failed"));
    refusalLayout->addWidget(icon);
    refusalLayout->addWidget(m_refusalLabel, 1);
    m_refusalFrame->hide();
    layout->addWidget(m_refusalFrame);

    auto* buttons = new QHBoxLayout;
    m_startButton = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Start"), column);
    Accessible::describe(m_startButton, "startButton", tr("Start training"), tr("Check the settings and start a new run (Ctrl+Return)"));
    m_startButton->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    m_pauseButton = new QPushButton(style()->standardIcon(QStyle::SP_MediaPause), tr("&Pause"), column);
    Accessible::describe(m_pauseButton, "pauseButton", tr("Pause training"), tr("Hold the run after the current step"));
    m_resumeButton = new QPushButton(style()->standardIcon(QStyle::SP_MediaSeekForward), tr("&Resume"), column);
    Accessible::describe(m_resumeButton, "resumeButton", tr("Resume training"), tr("Continue the paused run"));
    m_stopButton = new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("S&top"), column);
    Accessible::describe(m_stopButton, "stopButton", tr("Stop training"), tr("End the run after the current step; a checkpoint is saved so it can be resumed"));
    buttons->addWidget(m_startButton);
    buttons->addWidget(m_pauseButton);
    buttons->addWidget(m_resumeButton);
    buttons->addWidget(m_stopButton);
    buttons->addStretch(1);
    m_stateLabel = makeValueLabel(column, "runStateLabel", tr("Run state"), tr("What the run is doing"));
    m_stateLabel->setWordWrap(false);
    buttons->addWidget(m_stateLabel);
    layout->addLayout(buttons);

    m_progress = new QProgressBar(column);
    Accessible::describe(m_progress, "trainProgressBar", tr("Training progress"), tr("Optimizer steps done of all steps"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    layout->addWidget(m_progress);

    auto* live = new QGridLayout;
    m_stepLabel = makeValueLabel(column, "stepLabel", tr("Step and epoch"), tr("Optimizer step and epoch of the latest log line"));
    m_lossLabel = makeValueLabel(column, "lossLabel", tr("Latest loss"), tr("Training loss of the latest log line, and the latest eval loss"));
    m_speedLabel = makeValueLabel(column, "tokensPerSecondLabel", tr("Tokens per second"), tr("Training tokens (prompt + summary) processed per second"));
    m_elapsedLabel = makeValueLabel(column, "elapsedLabel", tr("Elapsed time"), tr("Training time so far"));
    m_etaLabel = makeValueLabel(column, "etaLabel", tr("Estimated time left"), tr("Time to the last step at the current speed"));
    live->addWidget(m_stepLabel, 0, 0);
    live->addWidget(m_lossLabel, 0, 1);
    live->addWidget(m_speedLabel, 1, 0);
    live->addWidget(m_elapsedLabel, 1, 1);
    live->addWidget(m_etaLabel, 1, 2);
    live->setColumnStretch(0, 1);
    live->setColumnStretch(1, 1);
    live->setColumnStretch(2, 1);
    layout->addLayout(live);

    auto* plots = new QSplitter(Qt::Horizontal, column);
    plots->setObjectName("trainPlotsSplitter");
    plots->setChildrenCollapsible(false);
    m_plot = new LossPlotWidget(plots);
    m_plot->setObjectName("trainLossPlot");
    m_rougePlot = new RougePlotWidget(plots);
    m_rougePlot->setObjectName("trainRougePlot");
    m_rougePlot->hide();
    plots->addWidget(m_plot);
    plots->addWidget(m_rougePlot);
    plots->setStretchFactor(0, 3);
    plots->setStretchFactor(1, 2);
    layout->addWidget(plots, 1);

    m_log = new QPlainTextEdit(column);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setMaximumHeight(m_log->fontMetrics().height() * 6);
    Accessible::describe(m_log, "trainLog", tr("Training log"), tr("Checkpoints, warnings and errors of the run"));
    layout->addWidget(m_log);

    connect(m_startButton, &QPushButton::clicked, this, &TrainPage::startTraining);
    connect(m_pauseButton, &QPushButton::clicked, this, &TrainPage::pauseTraining);
    connect(m_resumeButton, &QPushButton::clicked, this, &TrainPage::resumeTraining);
    connect(m_stopButton, &QPushButton::clicked, this, &TrainPage::stopTraining);

    QWidget::setTabOrder(m_startButton, m_pauseButton);
    QWidget::setTabOrder(m_pauseButton, m_resumeButton);
    QWidget::setTabOrder(m_resumeButton, m_stopButton);
    QWidget::setTabOrder(m_stopButton, m_plot);
    QWidget::setTabOrder(m_plot, m_log);
    return column;
}

void TrainPage::applyPreset(int index) {
    m_form->applyPreset(index);
    syncPresetChoice();
    emit statusMessage(tr("Preset applied: %1").arg(m_presetCombo->currentText()));
}

void TrainPage::syncPresetChoice() {
    QJsonObject values;
    int match = -1;
    if (m_form->collect(&values, nullptr))
        for (int i = 0; i < TrainingSettingsForm::presetNames().size() && match < 0; ++i)
            if (values == TrainingSettingsForm::presetValues(i)) match = i;
    QSignalBlocker blocker(m_presetCombo);
    m_presetCombo->setCurrentIndex(std::max(0, m_presetCombo->findData(match)));
    m_presetDescription->setText(match >= 0 ? TrainingSettingsForm::presetDescription(match)
                                            : tr("The form matches no preset; choose one to fill it with a lab's values."));
}

int TrainPage::addModelChoice(const QString& modelDir, const QString& adapterDir, const QString& label) {
    QVariantMap choice;
    choice.insert(QStringLiteral("model"), modelDir);
    choice.insert(QStringLiteral("adapter"), adapterDir);
    m_modelCombo->addItem(label, choice);
    return m_modelCombo->count() - 1;
}

void TrainPage::refreshModelChoices() {
    const QVariantMap current = m_modelCombo->currentData().toMap();
    QString wanted = current.value(QStringLiteral("adapter")).toString();
    if (wanted.isEmpty()) wanted = current.value(QStringLiteral("model")).toString();
    if (wanted.isEmpty()) wanted = QSettings().value(QStringLiteral("train/model")).toString();
    {
        QSignalBlocker blocker(m_modelCombo);
        m_modelCombo->clear();
        const QLocale locale;
        for (const ModelInfo& info : m_registry->readyEntries(ModelKind::Model))
            addModelChoice(info.path, QString(), tr("%1 (%2 M parameters)").arg(info.name, locale.toString(static_cast<double>(info.parameters) / 1e6, 'f', 1)));
        for (const ModelInfo& info : m_registry->readyEntries(ModelKind::Adapter))
            if (!info.basePath.isEmpty())
                addModelChoice(info.basePath, info.path, tr("%1 (LoRA adapter on %2)").arg(info.name, QFileInfo(info.basePath).fileName()));
        for (const QVariantMap& extra : m_extraChoices) {
            m_modelCombo->addItem(extra.value(QStringLiteral("label")).toString(), extra);
        }
        if (m_modelCombo->count() == 0) m_modelCombo->addItem(tr("No model registered: add one on the Models page"), QVariantMap());
        int index = 0;
        for (int i = 0; i < m_modelCombo->count(); ++i) {
            const QVariantMap d = m_modelCombo->itemData(i).toMap();
            const QString key = d.value(QStringLiteral("adapter")).toString().isEmpty() ? d.value(QStringLiteral("model")).toString()
                                                                                         : d.value(QStringLiteral("adapter")).toString();
            if (!wanted.isEmpty() && key == wanted) index = i;
        }
        m_modelCombo->setCurrentIndex(index);
    }
    updateEstimate();
}

bool TrainPage::selectModel(const QString& path) {
    const QString clean = QDir::cleanPath(path);
    for (int i = 0; i < m_modelCombo->count(); ++i) {
        const QVariantMap d = m_modelCombo->itemData(i).toMap();
        if (d.value(QStringLiteral("adapter")).toString() == clean ||
            (d.value(QStringLiteral("adapter")).toString().isEmpty() && d.value(QStringLiteral("model")).toString() == clean)) {
            m_modelCombo->setCurrentIndex(i);
            return true;
        }
    }
    return false;
}

void TrainPage::setDataPath(const QString& path) {
    if (m_dataCombo->findText(path) < 0) m_dataCombo->insertItem(0, path);
    m_dataCombo->setCurrentText(path);
}

void TrainPage::setRunName(const QString& name) { m_runNameEdit->setText(name); }

void TrainPage::setWorkspace(const QString& folder) {
    m_workspace = folder;
    updateEstimate();
}

void TrainPage::setDatasetInfo(const QString& path, int trainDialogues) {
    m_datasetPath = path;
    m_trainDialogues = trainDialogues;
    if (!m_isTraining) setDataPath(path);
    updateEstimate();
}

QString TrainPage::defaultRunName() const {
    const QVariantMap d = m_modelCombo->currentData().toMap();
    QString model = QFileInfo(d.value(QStringLiteral("model")).toString()).fileName();
    if (model.isEmpty()) model = QStringLiteral("run");
    return QStringLiteral("%1-%2-%3").arg(model, m_form->isLora() ? QStringLiteral("lora") : QStringLiteral("full"),
                                          QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
}

QString TrainPage::uniqueRunName(const QString& base) const {
    if (m_workspace.isEmpty() || !QFileInfo::exists(QDir(m_workspace).filePath(base))) return base;
    for (int i = 2;; ++i) {
        const QString candidate = QStringLiteral("%1-%2").arg(base).arg(i);
        if (!QFileInfo::exists(QDir(m_workspace).filePath(candidate))) return candidate;
    }
}

void TrainPage::updateEstimate() {
    const QString name = m_runNameEdit->text().trimmed().isEmpty() ? tr("(automatic name)") : m_runNameEdit->text().trimmed();
    m_runFolderLabel->setText(m_workspace.isEmpty() ? tr("Choose a workspace folder on the Runs page.")
                                                    : tr("Run folder: %1").arg(QDir(m_workspace).filePath(name)));

    const QVariantMap choice = m_modelCombo->currentData().toMap();
    const QString adapter = choice.value(QStringLiteral("adapter")).toString();
    m_modelNote->setText(adapter.isEmpty() ? QString()
                                           : tr("Continues training this adapter: method lora, with the adapter's own r, lora_alpha and target_modules."));
    const AdapterSummary* adapterSummary = nullptr;
    QString modelPath;
    const ModelInfo* info = chosenModel(&adapterSummary, &modelPath);
    const QJsonObject v = m_form->currentValues();
    const bool isLora = adapterSummary || m_form->isLora();
    const QLocale locale;
    const TrainingEstimate e = info ? TrainingEstimator::estimate(*info, v, adapterSummary) : TrainingEstimate{};
    if (!e.ok) {
        const QString why = info ? e.error : tr("choose a registered model");
        for (QLabel* l : {m_trainableLabel, m_savedSizeLabel, m_checkpointSizeLabel, m_memoryLabel}) l->setText(tr("– (%1)").arg(why));
    } else {
        m_trainableLabel->setText(tr("%1 of %2 parameters (%3%)")
                                      .arg(locale.toString(e.trainable), locale.toString(e.all), locale.toString(e.trainablePercent, 'f', e.trainablePercent < 10 ? 3 : 1)));
        m_savedSizeLabel->setText(isLora ? tr("%1 (adapter_model.safetensors)").arg(ModelRegistry::formatBytes(e.savedBytes))
                                         : tr("%1 (model.safetensors)").arg(ModelRegistry::formatBytes(e.savedBytes)));
        m_checkpointSizeLabel->setText(tr("≈ %1 each (weights + AdamW moments)").arg(ModelRegistry::formatBytes(e.checkpointBytes)));
        m_memoryLabel->setText(tr("≈ %1 at a step's peak: weights %2 + gradients %3 + AdamW %4 + activations %5 (batch %6 × %7 + %8 tokens) + "
                                  "temporaries %9")
                                   .arg(ModelRegistry::formatBytes(e.peakBytes), ModelRegistry::formatBytes(e.weightBytes),
                                        ModelRegistry::formatBytes(e.gradientBytes), ModelRegistry::formatBytes(e.optimizerBytes),
                                        ModelRegistry::formatBytes(e.activationBytes), locale.toString(e.batch), locale.toString(e.sourceLength),
                                        locale.toString(e.targetLength), ModelRegistry::formatBytes(e.workingBytes)));
    }
    const qint64 maxSteps = v.value(QStringLiteral("max_steps")).toInteger();
    const qint64 accumulation = v.value(QStringLiteral("gradient_accumulation_steps")).toInteger();
    const bool knowData = m_trainDialogues >= 0 && QDir::cleanPath(m_dataCombo->currentText().trimmed()) == QDir::cleanPath(m_datasetPath);
    qint64 steps = -1;  // unknown
    if (maxSteps > 0) {
        steps = maxSteps;
        m_stepsEstimateLabel->setText(tr("%1 (max_steps)").arg(locale.toString(maxSteps)));
    } else if (knowData) {
        steps = TrainingEstimator::optimizerSteps(
            m_trainDialogues, v.value(QStringLiteral("every_kth")).toInteger(), v.value(QStringLiteral("limit")).toInteger(),
            v.value(QStringLiteral("per_device_train_batch_size")).toInteger(), accumulation,
            v.value(QStringLiteral("num_train_epochs")).toDouble(), maxSteps);
        m_stepsEstimateLabel->setText(tr("%1 (from %2 training dialogues)").arg(locale.toString(steps), locale.toString(m_trainDialogues)));
    } else {
        m_stepsEstimateLabel->setText(tr("unknown until this dataset is loaded on the Data page"));
    }
    updateTimeEstimate(steps, accumulation);
}

const ModelInfo* TrainPage::chosenModel(const AdapterSummary** adapter, QString* path) const {
    const QVariantMap choice = m_modelCombo->currentData().toMap();
    const QString adapterDir = choice.value(QStringLiteral("adapter")).toString();
    *path = adapterDir.isEmpty() ? choice.value(QStringLiteral("model")).toString() : adapterDir;
    *adapter = nullptr;
    const int row = m_registry->rowOfPath(*path);
    if (row < 0 || m_registry->state(row) != ModelRegistry::State::Ready) return nullptr;
    const ModelInfo& info = m_registry->info(row);
    if (!adapterDir.isEmpty()) *adapter = &info.adapter;
    return &info;
}

bool TrainPage::isStepTimeCurrent() const {
    const AdapterSummary* adapter = nullptr;
    QString path;
    chosenModel(&adapter, &path);
    return m_stepTime.ok && m_stepTimeKey == TrainingEstimator::timingKey(path, m_form->currentValues(), adapter);
}

void TrainPage::updateTimeEstimate(qint64 steps, qint64 accumulation) {
    const QLocale locale;
    const AdapterSummary* adapter = nullptr;
    QString path;
    m_timeStepButton->setEnabled(!m_probeThread && !m_isTraining && chosenModel(&adapter, &path) != nullptr);
    if (m_probeThread) {
        m_timeEstimateLabel->setText(tr("Timing a step of this model on this machine …"));
    } else if (!m_stepTime.ok) {
        m_timeEstimateLabel->setText(m_stepTime.error.isEmpty() ? tr("not measured: Time a step runs one on this machine")
                                                                : tr("– (the probe step failed: %1)").arg(m_stepTime.error));
    } else if (!isStepTimeCurrent()) {
        m_timeEstimateLabel->setText(tr("measured for other settings: time a step again"));
    } else {
        const double perStep = TrainingEstimator::secondsPerStep(m_stepTime, accumulation);
        QString text = tr("%1 s per optimizer step (%2 × %3 s forward and backward + %4 s update)")
                           .arg(locale.toString(perStep, 'g', 3), locale.toString(std::max<qint64>(accumulation, 1)),
                                locale.toString(m_stepTime.forwardBackwardS, 'g', 3), locale.toString(m_stepTime.optimizerS, 'g', 3));
        if (steps >= 0)
            text += tr("; %1 steps ≈ %2").arg(locale.toString(steps), formatDuration(perStep * static_cast<double>(steps)));
        m_timeEstimateLabel->setText(text + tr(", at most: batches padded to the maximum lengths"));
    }
}

void TrainPage::timeStep() {
    if (m_probeThread || m_isTraining) return;
    const AdapterSummary* adapter = nullptr;
    QString path;
    const ModelInfo* info = chosenModel(&adapter, &path);
    if (!info) return;
    const QJsonObject values = m_form->currentValues();
    const QJsonObject key = TrainingEstimator::timingKey(path, values, adapter);
    // Copies: the thread must not read the registry's entries or the form.
    const ModelInfo model = *info;
    const std::optional<AdapterSummary> adapterCopy = adapter ? std::optional<AdapterSummary>(*adapter) : std::nullopt;
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    m_probeCancel = cancel;
    m_probeThread = QThread::create([this, model, values, adapterCopy, cancel, key] {
        const StepTimeEstimate t = TrainingEstimator::timeStep(model, values, adapterCopy ? &*adapterCopy : nullptr, cancel.get());
        if (!cancel->load()) QMetaObject::invokeMethod(this, [this, t, key] { onStepTimed(t, key); }, Qt::QueuedConnection);
    });
    m_probeThread->setObjectName(QStringLiteral("StepTimeProbe"));
    connect(m_probeThread, &QThread::finished, this, [this, thread = m_probeThread] {
        if (m_probeThread != thread) return;  // stopTimingStep() already let it go
        m_probeThread = nullptr;
        thread->deleteLater();
        updateEstimate();
    });
    m_probeThread->start(QThread::LowPriority);
    updateEstimate();
}

void TrainPage::onStepTimed(const StepTimeEstimate& timing, const QJsonObject& key) {
    m_stepTime = timing;
    m_stepTimeKey = key;
    updateEstimate();
}

void TrainPage::stopTimingStep(bool refresh) {
    if (!m_probeThread) return;
    m_probeCancel->store(true);  // honoured between the probe's passes
    QThread* thread = m_probeThread;
    m_probeThread = nullptr;
    thread->wait();
    thread->deleteLater();
    if (refresh) updateEstimate();
}

void TrainPage::refuse(const QString& message, QWidget* focus) {
    m_refusalLabel->setText(message);
    m_refusalFrame->show();
    appendLog(tr("Refused: %1").arg(message));
    emit statusMessage(tr("Training not started: %1").arg(message));
    if (focus) {
        m_setupArea->ensureWidgetVisible(focus);
        focus->setFocus(Qt::OtherFocusReason);
    }
}

void TrainPage::clearRefusal() {
    if (m_isTraining) return;
    m_refusalLabel->clear();
    m_refusalFrame->hide();
}

QString TrainPage::validationText() const { return m_refusalFrame->isHidden() ? QString() : m_refusalLabel->text(); }

bool TrainPage::startTraining() {
    if (m_isTraining) return false;
    clearRefusal();
    QJsonObject values;
    QString error, errorKey;
    if (!m_form->collect(&values, &error, &errorKey)) {
        refuse(error, m_form->editor(errorKey));
        return false;
    }
    const QVariantMap choice = m_modelCombo->currentData().toMap();
    const QString modelDir = choice.value(QStringLiteral("model")).toString();
    const QString adapterDir = choice.value(QStringLiteral("adapter")).toString();
    if (modelDir.isEmpty()) {
        refuse(tr("Choose a model: register one on the Models page first."), m_modelCombo);
        return false;
    }
    const QString dataPath = m_dataCombo->currentText().trimmed();
    if (dataPath.isEmpty() || !QFileInfo::exists(dataPath)) {
        refuse(dataPath.isEmpty() ? tr("Choose the training data (a DialogSum folder or file).")
                                  : tr("The data path %1 does not exist.").arg(dataPath),
               m_dataCombo);
        return false;
    }
    if (m_workspace.isEmpty()) {
        refuse(tr("Choose a workspace folder for runs on the Runs page."));
        return false;
    }
    QString name = m_runNameEdit->text().trimmed();
    if (name.isEmpty()) {
        name = uniqueRunName(defaultRunName());
    } else if (name.contains('/') || name.contains('\\') || name == QLatin1String(".") || name == QLatin1String("..")) {
        refuse(tr("A run name cannot contain / or \\, and cannot be . or .."), m_runNameEdit);
        return false;
    } else if (QFileInfo::exists(QDir(m_workspace).filePath(name))) {
        refuse(tr("A run folder named %1 already exists in %2: choose another name, or resume it from the Runs page.").arg(name, m_workspace),
               m_runNameEdit);
        return false;
    }
    if (!adapterDir.isEmpty()) values.insert(QStringLiteral("method"), QStringLiteral("lora"));

    TrainingRequest request;
    request.modelDir = modelDir;
    request.dataPath = dataPath;
    request.outputDir = QDir(m_workspace).filePath(name);
    request.initAdapter = adapterDir;
    request.argumentsJson = QJsonDocument(values).toJson(QJsonDocument::Compact);
    return launch(request, name, RunCurves{name, {}, {}});
}

bool TrainPage::launch(const TrainingRequest& request, const QString& runName, const RunCurves& history) {
    if (!QDir().mkpath(m_workspace)) {
        refuse(tr("The workspace folder %1 cannot be created.").arg(m_workspace));
        return false;
    }
    m_runDir = request.outputDir;
    m_runName = runName;
    m_hasStep = false;
    m_lastEvalLoss = -1;
    m_pauseRequested = false;
    m_stopRequested = false;
    RunCurves curves = history;
    curves.name = runName;
    m_plot->setRuns({curves});
    m_rougePlot->setRuns({curves});
    m_rougePlot->setVisible(m_rougePlot->hasData());
    if (!history.steps.isEmpty()) {
        m_lastStep = history.steps.last();
        m_hasStep = true;
    }
    m_log->clear();
    appendLog(tr("Run %1: %2 on %3%4").arg(runName, QFileInfo(request.modelDir).fileName(), request.dataPath,
                                          request.resumeFrom.isEmpty() ? QString() : tr(", resuming from its newest checkpoint")));
    m_state = RunState::Running;
    setRunning(true);
    m_stateLabel->setText(tr("Loading the model and data …"));
    saveSettings();
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, request] { worker->run(request); }, Qt::QueuedConnection);
    publishJob();
    return true;
}

void TrainPage::pauseTraining() {
    if (!m_isTraining || m_stopRequested) return;
    m_worker->setPaused(true);
    m_pauseRequested = true;
    m_stateLabel->setText(tr("Pausing after this step …"));
    updateButtons();
}

void TrainPage::resumeTraining() {
    if (!m_isTraining) return;
    m_worker->setPaused(false);
    m_pauseRequested = false;
    m_stateLabel->setText(tr("Running"));
    updateButtons();
}

void TrainPage::stopTraining() {
    if (!m_isTraining) return;
    m_worker->requestStop();
    m_stopRequested = true;
    m_stateLabel->setText(tr("Stopping: finishing the step and saving a checkpoint …"));
    appendLog(tr("Stop requested."));
    updateButtons();
    publishJob();
}

QJsonObject TrainPage::readRunJson(const QString& runDir, QString* error) {
    QFile file(QDir(runDir).filePath(QStringLiteral("run.json")));
    if (!file.open(QIODevice::ReadOnly)) {
        *error = tr("%1 has no readable run.json.").arg(runDir);
        return {};
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!doc.isObject()) {
        *error = tr("%1: run.json is not valid JSON (%2).").arg(runDir, parseError.errorString());
        return {};
    }
    return doc.object();
}

bool TrainPage::resumeRun(const QString& runDir, const RunCurves& history) {
    if (m_isTraining) {
        refuse(tr("A run is training; stop it before resuming another."));
        return false;
    }
    clearRefusal();
    QString error;
    const QJsonObject run = readRunJson(runDir, &error);
    if (run.isEmpty()) {
        refuse(error);
        return false;
    }
    m_form->setValues(run.value(QStringLiteral("arguments")).toObject());
    TrainingRequest request;
    request.modelDir = run.value(QStringLiteral("model")).toString();
    request.dataPath = run.value(QStringLiteral("data")).toString();
    request.initAdapter = run.value(QStringLiteral("init_adapter")).toString();
    request.outputDir = runDir;
    request.resumeFrom = QStringLiteral("last");
    request.argumentsJson = QJsonDocument(run.value(QStringLiteral("arguments")).toObject()).toJson(QJsonDocument::Compact);
    const QFileInfo dir(runDir);
    if (m_workspace.isEmpty()) m_workspace = dir.absolutePath();
    return launch(request, dir.fileName(), history);
}

bool TrainPage::rerun(const QString& runDir) {
    if (m_isTraining) {
        refuse(tr("A run is training; stop it before starting another."));
        return false;
    }
    clearRefusal();
    QString error;
    const QJsonObject run = readRunJson(runDir, &error);
    if (run.isEmpty()) {
        refuse(error);
        return false;
    }
    m_form->setValues(run.value(QStringLiteral("arguments")).toObject());
    const QString model = QDir::cleanPath(run.value(QStringLiteral("model")).toString());
    const QString adapter = run.value(QStringLiteral("init_adapter")).toString();
    if (!selectModel(adapter.isEmpty() ? model : QDir::cleanPath(adapter))) {
        QVariantMap extra;
        extra.insert(QStringLiteral("model"), model);
        extra.insert(QStringLiteral("adapter"), adapter.isEmpty() ? QString() : QDir::cleanPath(adapter));
        extra.insert(QStringLiteral("label"), tr("%1 (from run %2)").arg(QFileInfo(adapter.isEmpty() ? model : adapter).fileName(), QFileInfo(runDir).fileName()));
        m_extraChoices << extra;
        refreshModelChoices();
        selectModel(adapter.isEmpty() ? model : QDir::cleanPath(adapter));
    }
    setDataPath(run.value(QStringLiteral("data")).toString());
    m_runNameEdit->setText(uniqueRunName(QFileInfo(runDir).fileName() + QStringLiteral("-rerun")));
    const bool ok = startTraining();
    m_runNameEdit->clear();
    return ok;
}

void TrainPage::setRunning(bool running) {
    m_isTraining = running;
    m_setupArea->setEnabled(!running);
    updateButtons();
}

void TrainPage::updateButtons() {
    const bool paused = m_state == RunState::Paused;
    m_startButton->setEnabled(!m_isTraining);
    m_pauseButton->setEnabled(m_isTraining && !m_stopRequested && !m_pauseRequested && !paused);
    m_resumeButton->setEnabled(m_isTraining && !m_stopRequested && (m_pauseRequested || paused));
    m_stopButton->setEnabled(m_isTraining && !m_stopRequested);
    if (!m_isTraining && m_stateLabel->text().isEmpty()) m_stateLabel->setText(tr("Idle"));
}

void TrainPage::appendLog(const QString& line) {
    m_log->appendPlainText(QStringLiteral("%1  %2").arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), line));
}

QString TrainPage::formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("–");
    const qint64 s = static_cast<qint64>(std::llround(seconds));
    return QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
}

void TrainPage::publishJob() {
    if (!m_isTraining) {
        emit jobStatusChanged(tr("No training running"), -1, false);
        return;
    }
    QString text = tr("Training %1").arg(m_runName);
    int percent = -1;
    if (m_hasStep && m_lastStep.maxSteps > 0) {
        percent = static_cast<int>(100 * m_lastStep.step / m_lastStep.maxSteps);
        text += tr(": step %1/%2, loss %3, ETA %4")
                    .arg(m_lastStep.step)
                    .arg(m_lastStep.maxSteps)
                    .arg(QLocale().toString(m_lastStep.loss, 'f', 4), formatDuration(m_lastStep.etaS));
    }
    if (m_state == RunState::Paused) text += tr(" (paused)");
    if (m_stopRequested) text += tr(" (stopping)");
    emit jobStatusChanged(text, percent, true);
}

void TrainPage::onWorkerStarted(const QString& runDir) {
    emit runStarted(runDir);
    emit statusMessage(tr("Training started: %1").arg(runDir));
}

void TrainPage::onStep(const StepPoint& p) {
    m_lastStep = p;
    m_hasStep = true;
    m_plot->addStep(p);
    const QLocale locale;
    m_progress->setRange(0, static_cast<int>(std::min<qint64>(p.maxSteps, INT_MAX)));
    m_progress->setValue(static_cast<int>(std::min<qint64>(p.step, INT_MAX)));
    m_stepLabel->setText(tr("Step %1 / %2 · epoch %3").arg(locale.toString(p.step), locale.toString(p.maxSteps), locale.toString(p.epoch, 'f', 2)));
    m_lossLabel->setText(m_lastEvalLoss >= 0 ? tr("Loss %1 · eval %2").arg(locale.toString(p.loss, 'f', 4), locale.toString(m_lastEvalLoss, 'f', 4))
                                             : tr("Loss %1").arg(locale.toString(p.loss, 'f', 4)));
    m_speedLabel->setText(tr("%1 tokens/s").arg(locale.toString(p.tokensPerSecond, 'f', 0)));
    m_elapsedLabel->setText(tr("Elapsed %1").arg(formatDuration(p.elapsedS)));
    m_etaLabel->setText(tr("ETA %1").arg(formatDuration(p.etaS)));
    publishJob();
}

void TrainPage::onEval(const EvalPoint& p) {
    m_lastEvalLoss = p.evalLoss;
    m_plot->addEval(p);
    const QLocale locale;
    m_lossLabel->setText(m_hasStep ? tr("Loss %1 · eval %2").arg(locale.toString(m_lastStep.loss, 'f', 4), locale.toString(p.evalLoss, 'f', 4))
                                   : tr("Eval loss %1").arg(locale.toString(p.evalLoss, 'f', 4)));
    if (!p.hasRouge) {
        appendLog(tr("Step %1: eval loss %2").arg(p.step).arg(locale.toString(p.evalLoss, 'f', 4)));
        return;
    }
    m_rougePlot->addEval(p);
    m_rougePlot->show();
    m_lossLabel->setText(m_lossLabel->text() + tr(" · ROUGE-L %1").arg(locale.toString(p.rougeL, 'f', 4)));
    appendLog(tr("Step %1: eval loss %2, ROUGE-1 %3, ROUGE-2 %4, ROUGE-L %5, ROUGE-Lsum %6 (%7 summaries, %8 tokens on average)")
                  .arg(p.step)
                  .arg(locale.toString(p.evalLoss, 'f', 4), locale.toString(p.rouge1, 'f', 4), locale.toString(p.rouge2, 'f', 4),
                       locale.toString(p.rougeL, 'f', 4), locale.toString(p.rougeLsum, 'f', 4), locale.toString(p.generated),
                       locale.toString(p.genLen, 'f', 1)));
}

void TrainPage::onCheckpoint(const QString& dir, qint64 step) { appendLog(tr("Step %1: checkpoint saved in %2").arg(step).arg(dir)); }

void TrainPage::onStateChanged(RunState state) {
    m_state = state;
    switch (state) {
        case RunState::Running:
            m_pauseRequested = false;
            m_stateLabel->setText(m_stopRequested ? m_stateLabel->text() : tr("Running"));
            break;
        case RunState::Paused:
            m_stateLabel->setText(tr("Paused at step %1").arg(m_hasStep ? m_lastStep.step : 0));
            appendLog(tr("Paused."));
            break;
        default: break;
    }
    updateButtons();
    publishJob();
}

void TrainPage::onMessage(const QString& text) { appendLog(text); }

void TrainPage::onFinished(const TrainingOutcome& outcome) {
    m_state = outcome.state;
    const QLocale locale;
    if (outcome.state == RunState::Finished) {
        m_stateLabel->setText(outcome.message.isEmpty() ? tr("Finished at step %1").arg(locale.toString(outcome.globalStep))
                                                        : tr("Finished at step %1 (early stopping)").arg(locale.toString(outcome.globalStep)));
        m_stateLabel->setToolTip(outcome.message.isEmpty() ? tr("What the run is doing") : outcome.message);
        if (!outcome.message.isEmpty()) appendLog(tr("Finished early: %1.").arg(outcome.message));
        if (!outcome.bestCheckpoint.isEmpty()) appendLog(tr("Best checkpoint: %1.").arg(outcome.bestCheckpoint));
        appendLog(tr("Finished at step %1 (loss %2). The trained %3 is in %4.")
                      .arg(locale.toString(outcome.globalStep), locale.toString(outcome.finalLoss, 'f', 4),
                           m_form->isLora() ? tr("adapter") : tr("model"), outcome.finalDir));
        if (!outcome.finalDir.isEmpty() && m_registry->rowOfPath(outcome.finalDir) < 0) m_registry->addFolder(outcome.finalDir);
    } else {
        m_stateLabel->setText(tr("Stopped at step %1").arg(locale.toString(outcome.globalStep)));
        appendLog(tr("Stopped at step %1; resume it from the Runs page (checkpoint %2).").arg(locale.toString(outcome.globalStep), outcome.lastCheckpoint));
    }
    setRunning(false);
    m_pauseRequested = false;
    m_stopRequested = false;
    publishJob();
    emit statusMessage(m_stateLabel->text());
    emit runEnded(m_runDir, outcome.state);
}

void TrainPage::onFailed(const QString& error) {
    m_state = RunState::Failed;
    m_stateLabel->setText(tr("Failed"));
    setRunning(false);
    m_pauseRequested = false;
    m_stopRequested = false;
    m_refusalLabel->setText(tr("The run failed: %1").arg(error));
    m_refusalFrame->show();
    appendLog(tr("Failed: %1").arg(error));
    publishJob();
    emit statusMessage(tr("Training failed: %1").arg(error));
    emit runEnded(m_runDir, RunState::Failed);
}

void TrainPage::saveSettings() const {
    QSettings settings;
    settings.setValue(QStringLiteral("train/lastValues"), QJsonDocument(m_form->currentValues()).toJson(QJsonDocument::Compact));
    settings.setValue(QStringLiteral("train/data"), m_dataCombo->currentText());
    const QVariantMap choice = m_modelCombo->currentData().toMap();
    const QString adapter = choice.value(QStringLiteral("adapter")).toString();
    const QString model = adapter.isEmpty() ? choice.value(QStringLiteral("model")).toString() : adapter;
    if (!model.isEmpty()) settings.setValue(QStringLiteral("train/model"), model);
}
