// NewModelDialog: the Models page's "New model…" -- a fresh, randomly initialised T5 (models/t5/t5_init.h, as
// `sumlab-cli init`) with its shape typed in, and its tokenizer either taken from a folder with spiece.model or
// trained first from a DialogSum folder (engine/text/tokenizer_train.h, as `sumlab-cli tokenizer train`). Before
// anything is written it shows the parameter count and memory of that shape, from the Train page's estimator
// (ui/TrainingEstimate), live as the fields change. Create runs on a worker thread; the new folder is then
// registered in the ModelRegistry.
#pragma once

#include "ui/ModelInfo.h"

#include <QDialog>
#include <QMetaType>
#include <QString>
#include <QThread>

class LongSpinBox;
class ModelRegistry;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QSpinBox;

// Everything the worker needs, as plain values (copied into the queued call).
struct NewModelRequest {
    ModelShape shape;                 // vocabSize is ignored: the tokenizer's size is used
    QString feedForwardProj;          // "gated-gelu" or "relu"
    double dropoutRate = 0.1;
    bool trainTokenizer = false;      // true: train from dataPath first; false: use tokenizerDir
    QString tokenizerDir;             // a folder with spiece.model
    QString dataPath;                 // a DialogSum folder or file (its training split)
    qint64 tokenizerPieces = 8000;    // SentencePiece pieces to train (100 extra ids come on top)
    quint64 seed = 42;                // initial weights (and the tokenizer trainer's sampling)
    QString outputDir;                // must not exist, or be empty
};
Q_DECLARE_METATYPE(NewModelRequest)

// Runs tokenizer training (when asked) and create_initialized_model on its thread; signals carry plain values,
// errors one sentence naming the file.
class NewModelWorker : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

public slots:
    void create(const NewModelRequest& request);

signals:
    void progress(const QString& message);
    void finished(const QString& outputDir, qint64 parameters, qint64 vocabSize);
    void failed(const QString& message);
};

class NewModelDialog : public QDialog {
    Q_OBJECT
public:
    explicit NewModelDialog(ModelRegistry* registry, QWidget* parent = nullptr);
    ~NewModelDialog() override;

    // The shape the fields describe, with the tokenizer's vocabulary (0 while it is unknown).
    ModelShape shape() const;
    // TrainingEstimator::parameterCount of shape(), or -1 while the fields do not describe a model.
    qint64 estimatedParameters() const { return m_estimatedParameters; }
    QString estimateText() const;
    QString statusText() const;
    bool isRunning() const { return m_running; }

public slots:
    // The Create button: checks the output folder and the tokenizer, then starts the worker.
    void accept() override;
    void reject() override;

signals:
    // The folder was written and handed to the registry.
    void created(const QString& outputDir);
    void requestCreate(const NewModelRequest& request);

private slots:
    void updateEstimate();
    void tokenizerChanged();
    void applyPreset(int index);
    void onProgress(const QString& message);
    void onFinished(const QString& outputDir, qint64 parameters, qint64 vocabSize);
    void onFailed(const QString& message);

private:
    class QGroupBox* buildShapeBox();
    class QGroupBox* buildTokenizerBox();
    void buildOutputAndStatus(class QVBoxLayout* layout);
    void connectFields();
    void setRunning(bool running);
    void showError(const QString& message);
    QString browseFolder(QLineEdit* edit, const QString& title);

    ModelRegistry* m_registry = nullptr;
    QThread m_thread;
    NewModelWorker* m_worker = nullptr;
    bool m_running = false;
    qint64 m_estimatedParameters = -1;
    qint64 m_existingVocab = 0;  // HF's len(tokenizer) of the chosen folder; 0 when it did not load
    QString m_tokenizerError;    // why the chosen folder's tokenizer did not load

    QComboBox* m_presetCombo = nullptr;
    QSpinBox* m_dModel = nullptr;
    QSpinBox* m_dFf = nullptr;
    QSpinBox* m_dKv = nullptr;
    QSpinBox* m_numHeads = nullptr;
    QSpinBox* m_numLayers = nullptr;
    QSpinBox* m_numDecoderLayers = nullptr;
    QComboBox* m_feedForward = nullptr;
    QCheckBox* m_tie = nullptr;
    QDoubleSpinBox* m_dropout = nullptr;
    QRadioButton* m_useExisting = nullptr;
    QRadioButton* m_trainNew = nullptr;
    QLineEdit* m_tokenizerEdit = nullptr;
    QPushButton* m_tokenizerBrowse = nullptr;
    QLineEdit* m_dataEdit = nullptr;
    QPushButton* m_dataBrowse = nullptr;
    QSpinBox* m_pieces = nullptr;
    LongSpinBox* m_seed = nullptr;
    QLineEdit* m_outputEdit = nullptr;
    QPushButton* m_outputBrowse = nullptr;
    QLabel* m_estimateLabel = nullptr;
    QProgressBar* m_progressBar = nullptr;
    QLabel* m_statusLabel = nullptr;
    QPushButton* m_createButton = nullptr;
    QPushButton* m_cancelButton = nullptr;
};
