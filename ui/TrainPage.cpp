// LibTorch headers come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/training/run_folder.h"

#include "ui/TrainPage.h"

#include "ui/Accessible.h"
#include "ui/LossPlotWidget.h"
#include "ui/ModelRegistry.h"
#include "ui/TrainEstimatePanel.h"
#include "ui/TrainModelCombo.h"
#include "ui/TrainRunMonitor.h"
#include "ui/TrainWidgets.h"
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
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStyle>
#include <QVBoxLayout>

#include <optional>

namespace {

constexpr qint64 kQuickDemoEveryKth = 100;

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
    m_estimate->stopTimingStep();
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

    m_modelCombo = new TrainModelCombo(setup);
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

    m_estimate = new TrainEstimatePanel(column);
    layout->addWidget(m_estimate);
    connect(m_estimate, &TrainEstimatePanel::timeStepClicked, this, &TrainPage::timeStep);
    connect(m_estimate, &TrainEstimatePanel::probeChanged, this, &TrainPage::updateEstimate);
    // A probe running beside training would slow both and time neither.
    connect(this, &TrainPage::runStarted, m_estimate, &TrainEstimatePanel::runStarted);
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
    m_stateLabel = TrainWidgets::makeValueLabel(column, "runStateLabel", tr("Run state"), tr("What the run is doing"));
    m_stateLabel->setWordWrap(false);
    buttons->addWidget(m_stateLabel);
    layout->addLayout(buttons);

    m_monitor = new TrainRunMonitor(column);
    layout->addWidget(m_monitor, 1);

    connect(m_startButton, &QPushButton::clicked, this, &TrainPage::startTraining);
    connect(m_pauseButton, &QPushButton::clicked, this, &TrainPage::pauseTraining);
    connect(m_resumeButton, &QPushButton::clicked, this, &TrainPage::resumeTraining);
    connect(m_stopButton, &QPushButton::clicked, this, &TrainPage::stopTraining);

    QWidget::setTabOrder(m_startButton, m_pauseButton);
    QWidget::setTabOrder(m_pauseButton, m_resumeButton);
    QWidget::setTabOrder(m_resumeButton, m_stopButton);
    QWidget::setTabOrder(m_stopButton, m_monitor->lossPlot());
    QWidget::setTabOrder(m_monitor->lossPlot(), m_monitor->log());
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

void TrainPage::refreshModelChoices() {
    m_modelCombo->refresh(*m_registry, m_extraChoices);
    updateEstimate();
}

bool TrainPage::selectModel(const QString& path) { return m_modelCombo->selectPath(path); }

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
    QString model = QFileInfo(m_modelCombo->modelDir()).fileName();
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

    m_modelNote->setText(m_modelCombo->adapterDir().isEmpty() ? QString()
                                           : tr("Continues training this adapter: method lora, with the adapter's own r, lora_alpha and target_modules."));
    TrainEstimatePanel::Inputs inputs = estimateInputs();
    const bool knowData = m_trainDialogues >= 0 && QDir::cleanPath(m_dataCombo->currentText().trimmed()) == QDir::cleanPath(m_datasetPath);
    inputs.trainDialogues = knowData ? m_trainDialogues : -1;
    m_estimate->showEstimate(inputs);
}

TrainEstimatePanel::Inputs TrainPage::estimateInputs() const {
    TrainEstimatePanel::Inputs inputs;
    inputs.model = m_modelCombo->chosenModel(*m_registry, &inputs.adapter);
    inputs.modelPath = m_modelCombo->chosenPath();
    inputs.values = m_form->currentValues();
    inputs.isLora = inputs.adapter || m_form->isLora();
    inputs.isTraining = m_isTraining;
    return inputs;
}

bool TrainPage::isStepTimeCurrent() const {
    const TrainEstimatePanel::Inputs in = estimateInputs();
    return m_estimate->isStepTimeCurrent(TrainingEstimator::timingKey(in.modelPath, in.values, in.adapter));
}

const StepTimeEstimate& TrainPage::measuredStepTime() const { return m_estimate->measuredStepTime(); }

bool TrainPage::isTimingStep() const { return m_estimate->isTimingStep(); }

LossPlotWidget* TrainPage::lossPlot() const { return m_monitor->lossPlot(); }

RougePlotWidget* TrainPage::rougePlot() const { return m_monitor->rougePlot(); }

void TrainPage::timeStep() { m_estimate->timeStep(estimateInputs()); }

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
    const QString modelDir = m_modelCombo->modelDir();
    const QString adapterDir = m_modelCombo->adapterDir();
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
    m_pauseRequested = false;
    m_stopRequested = false;
    RunCurves curves = history;
    curves.name = runName;
    m_monitor->reset(curves);
    appendLog(tr("Run %1: %2 on %3%4").arg(runName, QFileInfo(request.modelDir).fileName(), request.dataPath,
                                          request.resumeFrom.isEmpty() ? QString() : tr(", resuming from its newest checkpoint")));
    m_state = sumlab::RunStatus::running;
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

std::optional<sumlab::RunConfig> TrainPage::readRunJson(const QString& runDir, QString* error) {
    try {
        return sumlab::read_run_config(runDir.toStdString());
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());  // names run.json (or the folder) and the problem
        return std::nullopt;
    }
}

std::optional<sumlab::RunConfig> TrainPage::loadRunIntoForm(const QString& runDir, const QString& whileTraining) {
    if (m_isTraining) {
        refuse(whileTraining);
        return std::nullopt;
    }
    clearRefusal();
    QString error;
    std::optional<sumlab::RunConfig> run = readRunJson(runDir, &error);
    if (!run) {
        refuse(error);
        return std::nullopt;
    }
    m_form->setValues(QJsonDocument::fromJson(QByteArray::fromStdString(run->arguments.to_json().dump())).object());
    return run;
}

bool TrainPage::resumeRun(const QString& runDir, const RunCurves& history) {
    const std::optional<sumlab::RunConfig> run = loadRunIntoForm(runDir, tr("A run is training; stop it before resuming another."));
    if (!run) return false;
    const QByteArray arguments = QByteArray::fromStdString(run->arguments.to_json().dump());
    TrainingRequest request;
    request.modelDir = QString::fromStdString(run->model);
    request.dataPath = QString::fromStdString(run->data);
    request.initAdapter = QString::fromStdString(run->init_adapter);
    request.outputDir = runDir;
    request.resumeFrom = QStringLiteral("last");
    request.argumentsJson = arguments;
    const QFileInfo dir(runDir);
    if (m_workspace.isEmpty()) m_workspace = dir.absolutePath();
    return launch(request, dir.fileName(), history);
}

bool TrainPage::rerun(const QString& runDir) {
    const std::optional<sumlab::RunConfig> run = loadRunIntoForm(runDir, tr("A run is training; stop it before starting another."));
    if (!run) return false;
    const QString model = QDir::cleanPath(QString::fromStdString(run->model));
    const QString adapter = QString::fromStdString(run->init_adapter);
    if (!selectModel(adapter.isEmpty() ? model : QDir::cleanPath(adapter))) {
        QVariantMap extra;
        extra.insert(QStringLiteral("model"), model);
        extra.insert(QStringLiteral("adapter"), adapter.isEmpty() ? QString() : QDir::cleanPath(adapter));
        extra.insert(QStringLiteral("label"), tr("%1 (from run %2)").arg(QFileInfo(adapter.isEmpty() ? model : adapter).fileName(), QFileInfo(runDir).fileName()));
        m_extraChoices << extra;
        refreshModelChoices();
        selectModel(adapter.isEmpty() ? model : QDir::cleanPath(adapter));
    }
    setDataPath(QString::fromStdString(run->data));
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
    const bool paused = m_state == sumlab::RunStatus::paused;
    m_startButton->setEnabled(!m_isTraining);
    m_pauseButton->setEnabled(m_isTraining && !m_stopRequested && !m_pauseRequested && !paused);
    m_resumeButton->setEnabled(m_isTraining && !m_stopRequested && (m_pauseRequested || paused));
    m_stopButton->setEnabled(m_isTraining && !m_stopRequested);
    if (!m_isTraining && m_stateLabel->text().isEmpty()) m_stateLabel->setText(tr("Idle"));
}

void TrainPage::appendLog(const QString& line) { m_monitor->appendLog(line); }

void TrainPage::publishJob() {
    if (!m_isTraining) {
        emit jobStatusChanged(tr("No training running"), -1, false);
        return;
    }
    QString text = tr("Training %1").arg(m_runName);
    int percent = -1;
    const sumlab::StepMetrics& last = m_monitor->lastStep();
    if (m_monitor->hasStep() && last.max_steps > 0) {
        percent = static_cast<int>(100 * last.step / last.max_steps);
        text += tr(": step %1/%2, loss %3, ETA %4")
                    .arg(last.step)
                    .arg(last.max_steps)
                    .arg(QLocale().toString(last.loss, 'f', 4), TrainWidgets::formatDuration(last.eta_s));
    }
    if (m_state == sumlab::RunStatus::paused) text += tr(" (paused)");
    if (m_stopRequested) text += tr(" (stopping)");
    emit jobStatusChanged(text, percent, true);
}

void TrainPage::onWorkerStarted(const QString& runDir) {
    emit runStarted(runDir);
    emit statusMessage(tr("Training started: %1").arg(runDir));
}

void TrainPage::onStep(const sumlab::StepMetrics& p) {
    m_monitor->showStep(p);
    publishJob();
}

void TrainPage::onEval(const sumlab::EvalMetrics& p) { m_monitor->showEval(p); }

void TrainPage::onCheckpoint(const QString& dir, qint64 step) { appendLog(tr("Step %1: checkpoint saved in %2").arg(step).arg(dir)); }

void TrainPage::onStateChanged(sumlab::RunStatus state) {
    m_state = state;
    switch (state) {
        case sumlab::RunStatus::running:
            m_pauseRequested = false;
            m_stateLabel->setText(m_stopRequested ? m_stateLabel->text() : tr("Running"));
            break;
        case sumlab::RunStatus::paused:
            m_stateLabel->setText(tr("Paused at step %1").arg(m_monitor->hasStep() ? m_monitor->lastStep().step : 0));
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
    if (outcome.state == sumlab::RunStatus::finished) {
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
    m_state = sumlab::RunStatus::failed;
    m_stateLabel->setText(tr("Failed"));
    setRunning(false);
    m_pauseRequested = false;
    m_stopRequested = false;
    m_refusalLabel->setText(tr("The run failed: %1").arg(error));
    m_refusalFrame->show();
    appendLog(tr("Failed: %1").arg(error));
    publishJob();
    emit statusMessage(tr("Training failed: %1").arg(error));
    emit runEnded(m_runDir, sumlab::RunStatus::failed);
}

void TrainPage::saveSettings() const {
    QSettings settings;
    settings.setValue(QStringLiteral("train/lastValues"), QJsonDocument(m_form->currentValues()).toJson(QJsonDocument::Compact));
    settings.setValue(QStringLiteral("train/data"), m_dataCombo->currentText());
    const QString model = m_modelCombo->chosenPath();
    if (!model.isEmpty()) settings.setValue(QStringLiteral("train/model"), model);
}
