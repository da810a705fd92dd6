// ScreenshotTour: `sumlab --screenshot DIR` -- waits until the window has loaded what its settings name
// (dataset, models, runs), optionally trains once from the Train page, then saves a PNG of every page
// (QWidget::grab, so no screen grabber is needed) and quits. For the documentation's screenshots.
// Compare and Evaluate are shown with real output: the registered systems summarise test dialogue 200 (or the
// first), then evaluate the first test examples into a results CSV in a temporary folder; without a dataset
// or a registered model those two pictures are skipped (the message says so).
#pragma once

#include <QObject>
#include <QString>
#include <QTemporaryDir>

class MainWindow;
class QTimer;

class ScreenshotTour : public QObject {
    Q_OBJECT
public:
    // `trainFirst`: press Start on the Train page and wait for the run to end before the pictures.
    ScreenshotTour(MainWindow* window, const QString& folder, bool trainFirst, QObject* parent = nullptr);

    void start();

signals:
    // All pictures written (ok) or not (the message says why).
    void done(bool ok, const QString& message);

private:
    bool isSettled() const;
    void poll();
    void takePictures();
    void takeComparePicture();
    void takeEvaluatePicture();
    void finish();
    bool save(QWidget* widget, const QString& name, QString* error);

    MainWindow* m_window = nullptr;
    QString m_folder;
    bool m_trainFirst = false;
    bool m_trainingStarted = false;
    bool m_trainingDone = false;
    QTimer* m_timer = nullptr;
    int m_polls = 0;
    bool m_ok = true;
    QString m_error;
    QStringList m_skipped;
    QTemporaryDir m_resultsDir;
};
