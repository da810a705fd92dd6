// MainWindow: the shell only -- a sidebar of pages (Data, Models, Train, Runs, Compare, Evaluate, Rate; Ctrl+1..),
// the Lab guide dock (F1),
// menus, the status bar with the running job, and window geometry in QSettings. Pages are their own classes
// and talk to each other through the signals wired here. A new page: one Page value before PageCount and one
// row of the page table in the constructor (sidebar, View menu and shortcut follow from it).
#pragma once

#include <QMainWindow>
#include <QVector>

class ComparePage;
class DataPage;
class EvaluatePage;
class LabGuide;
class ModelRegistry;
class ModelsPage;
class QLabel;
class QListWidget;
class QProgressBar;
class QStackedWidget;
class RatingPage;
class RunsPage;
class TrainPage;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    enum Page { DataPageIndex, ModelsPageIndex, TrainPageIndex, RunsPageIndex, ComparePageIndex, EvaluatePageIndex, RatePageIndex, PageCount };

    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void showPage(int page);
    int currentPage() const;

    ModelRegistry* modelRegistry() const { return m_registry; }
    DataPage* dataPage() const { return m_dataPage; }
    ModelsPage* modelsPage() const { return m_modelsPage; }
    TrainPage* trainPage() const { return m_trainPage; }
    RunsPage* runsPage() const { return m_runsPage; }
    ComparePage* comparePage() const { return m_comparePage; }
    EvaluatePage* evaluatePage() const { return m_evaluatePage; }
    RatingPage* ratingPage() const { return m_ratingPage; }
    LabGuide* labGuide() const { return m_labGuide; }
    QString jobText() const;

public slots:
    void showAbout();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    // One row per page, in Page order: the sidebar, the View menu and the Ctrl+N shortcuts are made from it.
    struct PageEntry {
        QString name;       // sidebar text
        QString menuText;   // View menu text, with its mnemonic
        int icon;           // QStyle::StandardPixmap
        QString toolTip;
        QWidget* page;
    };
    // The sidebar and the stacked pages (the central widget), made from m_pageEntries.
    void buildPageStack();
    // The permanent job label and progress bar of the status bar.
    void buildStatusBar();
    void buildMenus();
    // Pages speak through signals; this is the only place that knows them all.
    void connectPages();
    void saveSettings() const;
    void onJobStatus(const QString& text, int percent, bool active);
    // A Lab guide step's button: its page, with the lab's preset for the training steps.
    void openLabStep(int step);

    ModelRegistry* m_registry = nullptr;
    QListWidget* m_sidebar = nullptr;
    QStackedWidget* m_pages = nullptr;
    DataPage* m_dataPage = nullptr;
    ModelsPage* m_modelsPage = nullptr;
    TrainPage* m_trainPage = nullptr;
    RunsPage* m_runsPage = nullptr;
    ComparePage* m_comparePage = nullptr;
    EvaluatePage* m_evaluatePage = nullptr;
    RatingPage* m_ratingPage = nullptr;
    LabGuide* m_labGuide = nullptr;
    QVector<PageEntry> m_pageEntries;
    QLabel* m_jobLabel = nullptr;
    QProgressBar* m_jobProgress = nullptr;
    bool m_closeAfterStop = false;
};
