// LibTorch headers (through models/t5/t5_init.h) come before any Qt header: Qt's `slots` macro breaks them.
#include "models/t5/t5_init.h"
#include "base/errors.h"
#include "base/staged_folder.h"
#include "engine/text/tokenizer.h"
#include "engine/text/tokenizer_train.h"

#include <nlohmann/json.hpp>

#include "ui/NewModelDialog.h"

#include "ui/Accessible.h"
#include "ui/LongSpinBox.h"
#include "ui/ModelRegistry.h"
#include "ui/TrainingEstimate.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QVBoxLayout>

#include <exception>
#include <fstream>
#include <iterator>
#include <limits>

namespace {

// The config.json the fields describe (vocabulary and special ids from the tokenizer).
sumlab::T5Config configOf(const ModelShape& s, const QString& feedForwardProj, double dropoutRate) {
    sumlab::T5Config c = TrainingEstimator::configOf(s, feedForwardProj);
    c.dropout_rate = dropoutRate;
    return c;
}

// Shapes to start from: FLAN-T5 small's config.json (google/flan-t5-small) and tiny-flan's, which builds in a second.
struct Preset {
    const char* name;
    int dModel, dFf, dKv, numHeads, numLayers, numDecoderLayers;
    const char* feedForward;
    bool tie;
};
constexpr Preset kPresets[] = {
    {"FLAN-T5 small (77 M with its tokenizer)", 512, 1024, 64, 6, 8, 8, "gated-gelu", false},
    {"Tiny demo (tiny-flan's shape)", 64, 128, 16, 4, 2, 2, "gated-gelu", false},
};

constexpr qint64 kExtraIds = 100;  // <extra_id_*> tokens T5Tokenizer appends after the trained pieces

QSpinBox* spinBox(QWidget* parent, int lo, int hi, const char* objectName, const QString& name, const QString& tip) {
    auto* box = new QSpinBox(parent);
    box->setRange(lo, hi);
    Accessible::describe(box, objectName, name, tip);
    return box;
}

}  // namespace

void NewModelWorker::create(const NewModelRequest& request) {
    try {
        QString tokenizerDir = request.tokenizerDir;
        QTemporaryDir trained;  // a trained tokenizer lives here until create_initialized_model copies it
        if (request.trainTokenizer) {
            if (!trained.isValid()) throw sumlab::FileError(trained.path().toStdString(), "cannot create a temporary folder");
            emit progress(tr("Training a tokenizer of %1 pieces on %2 …").arg(request.tokenizerPieces).arg(request.dataPath));
            sumlab::TokenizerTrainOptions o;
            o.data_path = request.dataPath.toStdString();
            o.output_dir = trained.path().toStdString();
            o.vocab_size = request.tokenizerPieces;
            o.seed = static_cast<uint32_t>(request.seed);
            sumlab::train_t5_tokenizer(o);
            tokenizerDir = trained.path();
        }
        const sumlab::T5Tokenizer tokenizer = sumlab::T5Tokenizer::from_directory(tokenizerDir.toStdString());

        // The vocabulary follows the tokenizer, as `sumlab-cli init` expects of its config.
        ModelShape shape = request.shape;
        shape.vocabSize = tokenizer.vocab_size();
        sumlab::T5Config config = configOf(shape, request.feedForwardProj, request.dropoutRate);
        config.pad_token_id = tokenizer.pad_token_id();
        config.eos_token_id = tokenizer.eos_token_id();
        config.decoder_start_token_id = tokenizer.pad_token_id();
        QTemporaryDir configDir;
        if (!configDir.isValid()) throw sumlab::FileError(configDir.path().toStdString(), "cannot create a temporary folder");
        const std::string configPath = QDir(configDir.path()).filePath(QStringLiteral("config.json")).toStdString();
        {
            std::ofstream out(configPath);
            out << config.to_json().dump(2) << '\n';
            if (!out) throw sumlab::FileError(configPath, "cannot be written");
        }

        emit progress(tr("Initialising the weights and writing %1 …").arg(request.outputDir));
        sumlab::T5InitSpec spec;
        spec.config_path = configPath;
        spec.tokenizer_dir = tokenizerDir.toStdString();
        spec.tokenizer = {tokenizer.model_path(), tokenizer.vocab_size(), tokenizer.pad_token_id(), tokenizer.eos_token_id()};
        spec.output_dir = request.outputDir.toStdString();
        spec.seed = request.seed;
        const sumlab::T5InitResult r = sumlab::create_initialized_model(spec);
        emit finished(request.outputDir, r.parameters, r.config.vocab_size);
    } catch (const std::exception& e) {  // FileError / DataError / ConfigError name the file; LibTorch's c10::Error too
        emit failed(QString::fromStdString(e.what()));
    }
}

QGroupBox* NewModelDialog::buildShapeBox() {
    auto* shapeBox = new QGroupBox(tr("Shape (config.json)"), this);
    auto* shapeForm = new QFormLayout(shapeBox);
    m_presetCombo = new QComboBox(shapeBox);
    for (const Preset& p : kPresets) m_presetCombo->addItem(tr(p.name));
    Accessible::describe(m_presetCombo, "newModelPresetCombo", tr("Shape preset"), tr("Fill the shape fields from a known model"));
    m_dModel = spinBox(shapeBox, 8, 8192, "newModelDModel", tr("d_model"), tr("d_model: the hidden size"));
    m_dFf = spinBox(shapeBox, 8, 32768, "newModelDFf", tr("d_ff"), tr("d_ff: the feed-forward inner size"));
    m_dKv = spinBox(shapeBox, 4, 1024, "newModelDKv", tr("d_kv"), tr("d_kv: the size of one attention head"));
    m_numHeads = spinBox(shapeBox, 1, 128, "newModelNumHeads", tr("num_heads"), tr("num_heads: attention heads per layer"));
    m_numLayers = spinBox(shapeBox, 1, 64, "newModelNumLayers", tr("num_layers"), tr("num_layers: encoder blocks"));
    m_numDecoderLayers = spinBox(shapeBox, 1, 64, "newModelNumDecoderLayers", tr("num_decoder_layers"), tr("num_decoder_layers: decoder blocks"));
    m_feedForward = new QComboBox(shapeBox);
    m_feedForward->addItem(QStringLiteral("gated-gelu"));
    m_feedForward->addItem(QStringLiteral("relu"));
    Accessible::describe(m_feedForward, "newModelFeedForward", tr("feed_forward_proj"),
                         tr("gated-gelu (T5 v1.1 / FLAN-T5: wi_0, wi_1, wo) or relu (the original T5: wi, wo)"));
    m_tie = new QCheckBox(tr("Tie the input and output embeddings"), shapeBox);
    Accessible::describe(m_tie, "newModelTie", tr("tie_word_embeddings"),
                         tr("tie_word_embeddings: one vocabulary × d_model matrix for input and output (the original T5), or two (FLAN-T5)"));
    m_dropout = new QDoubleSpinBox(shapeBox);
    m_dropout->setRange(0.0, 0.9);
    m_dropout->setDecimals(2);
    m_dropout->setSingleStep(0.05);
    m_dropout->setValue(0.1);
    Accessible::describe(m_dropout, "newModelDropout", tr("dropout_rate"), tr("dropout_rate: every dropout in the model (FLAN-T5: 0.1)"));
    shapeForm->addRow(tr("&Preset:"), m_presetCombo);
    shapeForm->addRow(tr("d_&model:"), m_dModel);
    shapeForm->addRow(tr("d_&ff:"), m_dFf);
    shapeForm->addRow(tr("d_&kv:"), m_dKv);
    shapeForm->addRow(tr("num_&heads:"), m_numHeads);
    shapeForm->addRow(tr("num_&layers:"), m_numLayers);
    shapeForm->addRow(tr("num_&decoder_layers:"), m_numDecoderLayers);
    shapeForm->addRow(tr("feed_forward_&proj:"), m_feedForward);
    shapeForm->addRow(QString(), m_tie);
    shapeForm->addRow(tr("dr&opout_rate:"), m_dropout);

    return shapeBox;
}

QGroupBox* NewModelDialog::buildTokenizerBox() {
    auto* tokenizerBox = new QGroupBox(tr("Tokenizer (vocab_size follows it)"), this);
    auto* tokenizerForm = new QFormLayout(tokenizerBox);
    m_useExisting = new QRadioButton(tr("&Use an existing tokenizer folder (spiece.model)"), tokenizerBox);
    Accessible::describe(m_useExisting, "newModelUseExisting", tr("Use an existing tokenizer"),
                         tr("Copy spiece.model, tokenizer_config.json and special_tokens_map.json from a folder (a model folder will do)"));
    m_trainNew = new QRadioButton(tr("&Train a new one on DialogSum's training split"), tokenizerBox);
    Accessible::describe(m_trainNew, "newModelTrainNew", tr("Train a new tokenizer"),
                         tr("Train a SentencePiece unigram tokenizer (T5's ids, 100 extra ids) first, as sumlab-cli tokenizer train does"));
    m_useExisting->setChecked(true);
    auto* tokenizerRow = new QHBoxLayout;
    m_tokenizerEdit = new QLineEdit(tokenizerBox);
    m_tokenizerEdit->setPlaceholderText(tr("A folder with spiece.model"));
    Accessible::describe(m_tokenizerEdit, "newModelTokenizerEdit", tr("Tokenizer folder"), tr("A folder with spiece.model (for example a FLAN-T5 model folder)"));
    m_tokenizerBrowse = new QPushButton(tr("Browse…"), tokenizerBox);
    Accessible::describe(m_tokenizerBrowse, "newModelTokenizerBrowse", tr("Browse for a tokenizer folder"), tr("Choose a folder with spiece.model"));
    tokenizerRow->addWidget(m_tokenizerEdit, 1);
    tokenizerRow->addWidget(m_tokenizerBrowse);
    auto* dataRow = new QHBoxLayout;
    m_dataEdit = new QLineEdit(tokenizerBox);
    m_dataEdit->setPlaceholderText(tr("A DialogSum folder (train.csv …) or file"));
    Accessible::describe(m_dataEdit, "newModelDataEdit", tr("DialogSum data for the tokenizer"), tr("A DialogSum folder or file; its training split is used"));
    m_dataBrowse = new QPushButton(tr("Browse…"), tokenizerBox);
    Accessible::describe(m_dataBrowse, "newModelDataBrowse", tr("Browse for DialogSum data"), tr("Choose a DialogSum folder"));
    dataRow->addWidget(m_dataEdit, 1);
    dataRow->addWidget(m_dataBrowse);
    m_pieces = spinBox(tokenizerBox, 32, 1000000, "newModelPieces", tr("Tokenizer pieces"),
                       tr("SentencePiece pieces (special tokens and speaker tags included); 100 extra ids come on top"));
    m_pieces->setValue(8000);
    tokenizerForm->addRow(m_useExisting);
    tokenizerForm->addRow(tr("Fo&lder:"), tokenizerRow);
    tokenizerForm->addRow(m_trainNew);
    tokenizerForm->addRow(tr("D&ata:"), dataRow);
    tokenizerForm->addRow(tr("P&ieces:"), m_pieces);

    return tokenizerBox;
}

// Seed and output folder, then what the dialog reports: the estimate, progress, status and the buttons.
void NewModelDialog::buildOutputAndStatus(QVBoxLayout* layout) {
    auto* outputForm = new QFormLayout;
    m_seed = new LongSpinBox(this);
    m_seed->setRange(0, std::numeric_limits<qint64>::max());
    m_seed->setValue(42);
    Accessible::describe(m_seed, "newModelSeed", tr("Seed"), tr("Seed of the initial weights: the same seed gives the same model"));
    auto* outputRow = new QHBoxLayout;
    m_outputEdit = new QLineEdit(this);
    m_outputEdit->setPlaceholderText(tr("A new folder (must not exist, or be empty)"));
    Accessible::describe(m_outputEdit, "newModelOutputEdit", tr("Output folder"), tr("The new model folder; it must not exist, or be empty"));
    m_outputBrowse = new QPushButton(tr("Browse…"), this);
    Accessible::describe(m_outputBrowse, "newModelOutputBrowse", tr("Browse for the output folder"), tr("Choose where the new model folder goes"));
    outputRow->addWidget(m_outputEdit, 1);
    outputRow->addWidget(m_outputBrowse);
    outputForm->addRow(tr("&Seed:"), m_seed);
    outputForm->addRow(tr("O&utput folder:"), outputRow);
    layout->addLayout(outputForm);

    m_estimateLabel = new QLabel(this);
    m_estimateLabel->setWordWrap(true);
    m_estimateLabel->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    Accessible::describe(m_estimateLabel, "newModelEstimateLabel", tr("Estimate"),
                         tr("Parameters and memory of this shape, as the Train page estimates them"));
    layout->addWidget(m_estimateLabel);
    m_progressBar = new QProgressBar(this);
    m_progressBar->setRange(0, 1);
    m_progressBar->setValue(0);
    m_progressBar->setTextVisible(false);
    Accessible::describe(m_progressBar, "newModelProgressBar", tr("Progress"), tr("Busy while the tokenizer trains and the model is written"));
    layout->addWidget(m_progressBar);
    m_statusLabel = new QLabel(this);
    m_statusLabel->setWordWrap(true);
    m_statusLabel->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    Accessible::describe(m_statusLabel, "newModelStatusLabel", tr("Status"), tr("What is being done, or what went wrong"));
    layout->addWidget(m_statusLabel);

    auto* buttons = new QHBoxLayout;
    m_createButton = new QPushButton(tr("&Create"), this);
    m_createButton->setDefault(true);
    Accessible::describe(m_createButton, "newModelCreateButton", tr("Create the model"),
                         tr("Write the new model folder (training the tokenizer first when asked) and register it"));
    m_cancelButton = new QPushButton(tr("Cl&ose"), this);
    Accessible::describe(m_cancelButton, "newModelCloseButton", tr("Close"), tr("Close this dialog without creating a model"));
    buttons->addStretch(1);
    buttons->addWidget(m_createButton);
    buttons->addWidget(m_cancelButton);
    layout->addLayout(buttons);

}

void NewModelDialog::connectFields() {
    for (QSpinBox* box : {m_dModel, m_dFf, m_dKv, m_numHeads, m_numLayers, m_numDecoderLayers, m_pieces})
        connect(box, qOverload<int>(&QSpinBox::valueChanged), this, &NewModelDialog::updateEstimate);
    connect(m_feedForward, qOverload<int>(&QComboBox::currentIndexChanged), this, &NewModelDialog::updateEstimate);
    connect(m_tie, &QCheckBox::toggled, this, &NewModelDialog::updateEstimate);
    connect(m_dropout, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &NewModelDialog::updateEstimate);
    connect(m_trainNew, &QRadioButton::toggled, this, &NewModelDialog::updateEstimate);
    connect(m_tokenizerEdit, &QLineEdit::textChanged, this, &NewModelDialog::tokenizerChanged);
    connect(m_presetCombo, qOverload<int>(&QComboBox::activated), this, &NewModelDialog::applyPreset);
    connect(m_tokenizerBrowse, &QPushButton::clicked, this, [this] { browseFolder(m_tokenizerEdit, tr("Tokenizer Folder (spiece.model)")); });
    connect(m_dataBrowse, &QPushButton::clicked, this, [this] {
        if (!browseFolder(m_dataEdit, tr("DialogSum Folder")).isEmpty()) m_trainNew->setChecked(true);
    });
    connect(m_outputBrowse, &QPushButton::clicked, this, [this] { browseFolder(m_outputEdit, tr("New Model Folder")); });
    connect(m_createButton, &QPushButton::clicked, this, &NewModelDialog::accept);
    connect(m_cancelButton, &QPushButton::clicked, this, &NewModelDialog::reject);

}

NewModelDialog::NewModelDialog(ModelRegistry* registry, QWidget* parent) : QDialog(parent), m_registry(registry) {
    qRegisterMetaType<NewModelRequest>();
    setObjectName("newModelDialog");
    setWindowTitle(tr("New Model"));
    setAccessibleName(tr("New model"));
    auto* layout = new QVBoxLayout(this);

    layout->addWidget(buildShapeBox());
    layout->addWidget(buildTokenizerBox());
    buildOutputAndStatus(layout);

    m_worker = new NewModelWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &NewModelDialog::requestCreate, m_worker, &NewModelWorker::create);
    connect(m_worker, &NewModelWorker::progress, this, &NewModelDialog::onProgress);
    connect(m_worker, &NewModelWorker::finished, this, &NewModelDialog::onFinished);
    connect(m_worker, &NewModelWorker::failed, this, &NewModelDialog::onFailed);
    m_thread.start();

    connectFields();

    tokenizerChanged();
    applyPreset(0);
    setRunning(false);
}

NewModelDialog::~NewModelDialog() {
    m_thread.quit();
    m_thread.wait();  // a running creation finishes first: the engine has no cancel, and the folder is published whole
}

QString NewModelDialog::browseFolder(QLineEdit* edit, const QString& title) {
    const QString start = edit->text().isEmpty() ? QSettings().value(QStringLiteral("models/lastFolder"), QDir::homePath()).toString() : edit->text();
    const QString dir = QFileDialog::getExistingDirectory(this, title, start);
    if (!dir.isEmpty()) edit->setText(dir);
    return dir;
}

void NewModelDialog::applyPreset(int index) {
    if (index < 0 || index >= static_cast<int>(std::size(kPresets))) return;
    const Preset& p = kPresets[index];
    const QSignalBlocker b1(m_dModel), b2(m_dFf), b3(m_dKv), b4(m_numHeads), b5(m_numLayers), b6(m_numDecoderLayers), b7(m_feedForward),
        b8(m_tie);
    m_dModel->setValue(p.dModel);
    m_dFf->setValue(p.dFf);
    m_dKv->setValue(p.dKv);
    m_numHeads->setValue(p.numHeads);
    m_numLayers->setValue(p.numLayers);
    m_numDecoderLayers->setValue(p.numDecoderLayers);
    m_feedForward->setCurrentText(QString::fromLatin1(p.feedForward));
    m_tie->setChecked(p.tie);
    updateEstimate();
}

void NewModelDialog::tokenizerChanged() {
    // Loading spiece.model takes milliseconds: done here, so the estimate has the real vocabulary at once.
    m_existingVocab = 0;
    m_tokenizerError.clear();
    const QString dir = m_tokenizerEdit->text().trimmed();
    if (dir.isEmpty()) {
        m_tokenizerError = tr("Choose a tokenizer folder.");
    } else if (!QFileInfo(QDir(dir).filePath(QStringLiteral("spiece.model"))).isFile()) {
        m_tokenizerError = tr("%1 has no spiece.model.").arg(QDir(dir).filePath(QStringLiteral("spiece.model")));
    } else {
        try {
            m_existingVocab = sumlab::T5Tokenizer::from_directory(dir.toStdString()).vocab_size();
        } catch (const std::exception& e) {
            m_tokenizerError = QString::fromStdString(e.what());
        }
    }
    if (!m_tokenizerEdit->text().isEmpty()) m_useExisting->setChecked(true);
    updateEstimate();
}

ModelShape NewModelDialog::shape() const {
    ModelShape s;
    s.vocabSize = m_trainNew->isChecked() ? m_pieces->value() + kExtraIds : m_existingVocab;
    s.dModel = m_dModel->value();
    s.dKv = m_dKv->value();
    s.dFf = m_dFf->value();
    s.numLayers = m_numLayers->value();
    s.numDecoderLayers = m_numDecoderLayers->value();
    s.numHeads = m_numHeads->value();
    s.isGated = m_feedForward->currentText().startsWith(QLatin1String("gated-"));
    s.tieWordEmbeddings = m_tie->isChecked();
    return s;
}

QString NewModelDialog::estimateText() const { return m_estimateLabel->text(); }

QString NewModelDialog::statusText() const { return m_statusLabel->text(); }

void NewModelDialog::updateEstimate() {
    m_tokenizerEdit->setEnabled(!m_running && m_useExisting->isChecked());
    m_tokenizerBrowse->setEnabled(!m_running && m_useExisting->isChecked());
    m_dataEdit->setEnabled(!m_running && m_trainNew->isChecked());
    m_dataBrowse->setEnabled(!m_running && m_trainNew->isChecked());
    m_pieces->setEnabled(!m_running && m_trainNew->isChecked());
    m_estimatedParameters = -1;
    const ModelShape s = shape();
    if (s.vocabSize <= 0) {
        m_estimateLabel->setText(tr("Parameters: unknown until the tokenizer is known (%1)").arg(m_tokenizerError));
        return;
    }
    try {
        // The engine's own validation (the 16-billion-parameter cap, id ranges), as `sumlab-cli init` would apply it.
        const sumlab::T5Config c = configOf(s, m_feedForward->currentText(), m_dropout->value());
        sumlab::T5Config::from_json(c.to_json(), "new model");
    } catch (const std::exception& e) {
        m_estimateLabel->setText(QString::fromStdString(e.what()));
        return;
    }
    // The Train page's arithmetic: its parameter count and its memory estimate for full fine-tuning at the
    // Train form's defaults (TrainingArguments' defaults).
    ModelInfo model;
    model.shape = TrainingEstimator::shapeOf(configOf(s, m_feedForward->currentText(), m_dropout->value()));
    model.feedForwardProj = m_feedForward->currentText();
    m_estimatedParameters = TrainingEstimator::parameterCount(model.shape);
    const QLocale locale;
    QString text = tr("Parameters: %1 (vocab_size %2) · weights %3 in fp32 (model.safetensors)")
                       .arg(locale.toString(m_estimatedParameters), locale.toString(s.vocabSize),
                            ModelRegistry::formatBytes(m_estimatedParameters * TrainingEstimator::kBytesPerParameter));
    const TrainingEstimate e = TrainingEstimator::estimate(model, QJsonObject{});
    if (e.ok)
        text += tr("\nFull fine-tuning at batch %1, %2/%3 tokens: ≈ %4 at a step's peak (weights %5, gradients %6, AdamW %7, "
                   "activations %8)")
                    .arg(locale.toString(e.batch), locale.toString(e.sourceLength), locale.toString(e.targetLength),
                         ModelRegistry::formatBytes(e.peakBytes), ModelRegistry::formatBytes(e.weightBytes),
                         ModelRegistry::formatBytes(e.gradientBytes), ModelRegistry::formatBytes(e.optimizerBytes),
                         ModelRegistry::formatBytes(e.activationBytes));
    m_estimateLabel->setText(text);
}

void NewModelDialog::showError(const QString& message) { m_statusLabel->setText(message); }

void NewModelDialog::setRunning(bool running) {
    m_running = running;
    for (QWidget* w : std::initializer_list<QWidget*>{m_presetCombo, m_dModel, m_dFf, m_dKv, m_numHeads, m_numLayers, m_numDecoderLayers,
                                                      m_feedForward, m_tie, m_dropout, m_useExisting, m_trainNew, m_seed, m_outputEdit,
                                                      m_outputBrowse, m_createButton, m_cancelButton})
        w->setEnabled(!running);
    m_progressBar->setRange(0, running ? 0 : 1);  // busy: neither engine call reports a fraction done
    updateEstimate();
}

void NewModelDialog::accept() {
    if (m_running) return;
    const QString output = m_outputEdit->text().trimmed();
    if (output.isEmpty()) {
        showError(tr("Choose an output folder."));
        return;
    }
    try {
        sumlab::require_free_output_folder(output.toStdString());  // refused here, before a tokenizer trains for minutes
    } catch (const std::exception& e) {
        showError(QString::fromStdString(e.what()));
        return;
    }
    NewModelRequest request;
    request.shape = shape();
    request.feedForwardProj = m_feedForward->currentText();
    request.dropoutRate = m_dropout->value();
    request.trainTokenizer = m_trainNew->isChecked();
    request.tokenizerDir = m_tokenizerEdit->text().trimmed();
    request.dataPath = m_dataEdit->text().trimmed();
    request.tokenizerPieces = m_pieces->value();
    request.seed = static_cast<quint64>(m_seed->value());
    request.outputDir = QDir::cleanPath(QFileInfo(output).absoluteFilePath());
    if (request.trainTokenizer) {
        if (request.dataPath.isEmpty()) {
            showError(tr("Choose a DialogSum folder to train the tokenizer on."));
            return;
        }
        if (!QFileInfo::exists(request.dataPath)) {
            showError(tr("%1 does not exist.").arg(request.dataPath));
            return;
        }
    } else if (m_existingVocab <= 0) {
        showError(m_tokenizerError);
        return;
    }
    if (m_estimatedParameters < 0) {
        showError(m_estimateLabel->text());
        return;
    }
    setRunning(true);
    m_statusLabel->setText(tr("Starting …"));
    emit requestCreate(request);
}

void NewModelDialog::reject() {
    if (m_running) return;  // the folder is published whole at the end; closing now would only hide that
    QDialog::reject();
}

void NewModelDialog::onProgress(const QString& message) { m_statusLabel->setText(message); }

void NewModelDialog::onFinished(const QString& outputDir, qint64 parameters, qint64 vocabSize) {
    setRunning(false);
    m_statusLabel->setText(tr("Created %1: %2 parameters, vocab_size %3.")
                               .arg(outputDir, QLocale().toString(parameters), QLocale().toString(vocabSize)));
    QSettings().setValue(QStringLiteral("models/lastFolder"), QFileInfo(outputDir).absolutePath());
    if (m_registry) m_registry->addFolder(outputDir);
    emit created(outputDir);
    QDialog::accept();
}

void NewModelDialog::onFailed(const QString& message) {
    setRunning(false);
    m_statusLabel->setText(tr("Not created: %1").arg(message));
}
