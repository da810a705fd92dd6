// ScreenshotTour: `sumlab --screenshot DIR` -- waits until the window has loaded what its settings name
// (dataset, models, runs), optionally trains once from the Train page, then saves a PNG of every page
// (QWidget::grab, so no screen grabber is needed) and quits. For the documentation's screenshots.
#pragma once

#include <QObject>
#include <QString>

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
    bool save(QWidget* widget, const QString& name, QString* error);

    MainWindow* m_window = nullptr;
    QString m_folder;
    bool m_trainFirst = false;
    bool m_trainingStarted = false;
    bool m_trainingDone = false;
    QTimer* m_timer = nullptr;
    int m_polls = 0;
};
