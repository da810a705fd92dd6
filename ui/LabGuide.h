// LabGuide: a dock with the lab's steps as a checklist for demos -- load DialogSum, try zero-shot,
// fine-tune fully, train LoRA, compare, evaluate, rate. Each step says in two sentences what it shows, has a
// button that asks MainWindow (openStepRequested) to open its page with the lab's settings, and a check that
// ticks itself when what the step produces is observed (the slots below, which MainWindow connects to the
// pages' signals) or by hand: a model or adapter trained elsewhere can stand in for hours of training.
// Ticks and why they were set persist in QSettings ("labGuide/<step>/...").
#pragma once

#include "ui/ModelInfo.h"
#include "ui/TrainingMetrics.h"

#include <QDockWidget>
#include <QString>

class ModelRegistry;
class QCheckBox;
class QLabel;
class QPushButton;

class LabGuide : public QDockWidget {
    Q_OBJECT
public:
    enum Step { LoadData, ZeroShot, FullFineTune, TrainLora, Compare, Evaluate, Rate, StepCount };
    Q_ENUM(Step)

    explicit LabGuide(QWidget* parent = nullptr);

    static QString stepKey(Step step);  // "loadData", "zeroShot", ... (object names and settings keys)
    static QString stepTitle(Step step);
    static QString stepDescription(Step step);
    // The Train page preset with the lab's settings for FullFineTune and TrainLora (an index into
    // training_presets()), -1 for other steps or when no preset matches.
    static int presetFor(Step step);

    bool isDone(Step step) const;
    QString doneReason(Step step) const;
    int doneCount() const;
    // Ticks or unticks a step, saying why (shown under the step and kept in QSettings).
    void setDone(Step step, bool done, const QString& reason = QString());
    // Follows a ModelRegistry: every newly registered folder goes to onModelRegistered.
    void watchRegistry(ModelRegistry* registry);

public slots:
    // DataPage::datasetLoaded: DialogSum (or any dataset) is loaded.
    void onDatasetLoaded(const QString& path, int trainDialogues);
    // A model registered: a pre-trained one is ready for zero-shot; a fine-tuned model stands in for full
    // fine-tuning and an adapter for LoRA training.
    void onModelRegistered(const ModelInfo& info);
    // TrainPage::runEnded: a finished run ticks full fine-tuning or LoRA, by its run.json's method.
    void onRunEnded(const QString& runDir, sumlab::RunStatus state);
    // The Compare page showed systems' summaries of a dialogue.
    void onCompared();
    // A results CSV was written by an evaluation or opened (Evaluate or Rating page).
    void onResultsCsv(const QString& path);
    // RatingPage::ratingSaved.
    void onRatingSaved(const QString& ratingsPath, int rated, int total);
    // Unticks every step.
    void resetProgress();

signals:
    // The step's button was pressed: show its page (with the lab's settings for the training steps).
    void openStepRequested(LabGuide::Step step);
    void stepDoneChanged(LabGuide::Step step, bool done);

private:
    void updateStep(Step step);
    void updateSummary();

    QCheckBox* m_checks[StepCount] = {};
    QLabel* m_reasons[StepCount] = {};
    QPushButton* m_openButtons[StepCount] = {};
    QLabel* m_summary = nullptr;
    QPushButton* m_resetButton = nullptr;
};
