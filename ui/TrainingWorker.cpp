// LibTorch headers come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/training/trainer.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include "ui/TrainingWorker.h"

TrainingWorker::TrainingWorker(QObject* parent) : QObject(parent), m_control(std::make_unique<sumlab::TrainerControl>()) {
    qRegisterMetaType<TrainingRequest>();
    qRegisterMetaType<sumlab::StepMetrics>();
    qRegisterMetaType<sumlab::EvalMetrics>();
    qRegisterMetaType<sumlab::RunStatus>();
    qRegisterMetaType<TrainingOutcome>();
}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::requestStop() { m_control->stop.store(true); }

void TrainingWorker::setPaused(bool paused) { m_control->pause.store(paused); }

bool TrainingWorker::isPaused() const { return m_control->pause.load(); }

void TrainingWorker::run(const TrainingRequest& request) {
    m_running.store(true);
    // A stop or pause asked for before this run started belongs to no run; each run starts clear.
    m_control->stop.store(false);
    m_control->pause.store(false);
    try {
        sumlab::TrainerSetup setup;
        setup.model_dir = request.modelDir.toStdString();
        setup.data = request.dataPath.toStdString();
        setup.output_dir = request.outputDir.toStdString();
        setup.init_adapter = request.initAdapter.toStdString();
        setup.resume_from = request.resumeFrom.toStdString();
        nlohmann::json arguments;
        try {
            arguments = nlohmann::json::parse(request.argumentsJson.toStdString());
        } catch (const nlohmann::json::exception& e) {
            throw sumlab::ConfigError("training settings", "", std::string("invalid JSON: ") + e.what());
        }
        setup.args = sumlab::TrainingArguments::from_json(arguments, "training settings");

        // The callbacks run on this thread; emitting copies the values into queued events for the UI thread.
        sumlab::TrainerCallbacks callbacks;
        callbacks.on_log = [this](const sumlab::StepMetrics& m) { emit stepLogged(m); };
        callbacks.on_evaluate = [this](const sumlab::EvalMetrics& m) { emit evaluated(m); };
        callbacks.on_save = [this](const std::string& dir, int64_t step) { emit checkpointSaved(QString::fromStdString(dir), step); };
        callbacks.on_status = [this](sumlab::RunStatus s) { emit stateChanged(s); };
        callbacks.on_message = [this](const std::string& text) { emit message(QString::fromStdString(text)); };

        emit started(request.outputDir);
        sumlab::Trainer trainer(setup, callbacks, m_control.get());
        const sumlab::TrainResult result = trainer.run();
        TrainingOutcome outcome;
        outcome.state = result.status;
        outcome.globalStep = result.global_step;
        outcome.finalLoss = result.final_loss;
        outcome.finalDir = QString::fromStdString(result.final_dir);
        outcome.lastCheckpoint = QString::fromStdString(result.last_checkpoint);
        outcome.message = QString::fromStdString(result.message);
        outcome.bestCheckpoint = QString::fromStdString(result.best_model_checkpoint);
        m_running.store(false);
        emit finished(outcome);
    } catch (const c10::Error& e) {
        m_running.store(false);
        emit failed(QString::fromStdString(e.what_without_backtrace()));
    } catch (const std::exception& e) {
        // sumlab::Error names the file, key or line; anything else is reported the same way, never fatal.
        m_running.store(false);
        emit failed(QString::fromStdString(e.what()));
    }
}
