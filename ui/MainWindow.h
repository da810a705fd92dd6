// MainWindow: the shell only -- a sidebar of pages (Data, Models, Train, Runs; Ctrl+1..4), menus, the status
// bar with the running job, and window geometry in QSettings. Pages are their own classes and talk to each
// other through the signals wired here.
#pragma once

#include <QMainWindow>

class DataPage;
class ModelRegistry;
class ModelsPage;
class QLabel;
class QListWidget;
class QProgressBar;
class QStackedWidget;
class RunsPage;
class TrainPage;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    enum Page { DataPageIndex, ModelsPageIndex, TrainPageIndex, RunsPageIndex, PageCount };

    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void showPage(int page);
    int currentPage() const;

    ModelRegistry* modelRegistry() const { return m_registry; }
    DataPage* dataPage() const { return m_dataPage; }
    ModelsPage* modelsPage() const { return m_modelsPage; }
    TrainPage* trainPage() const { return m_trainPage; }
    RunsPage* runsPage() const { return m_runsPage; }
    QString jobText() const;

public slots:
    void showAbout();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void saveSettings() const;
    void onJobStatus(const QString& text, int percent, bool active);

    ModelRegistry* m_registry = nullptr;
    QListWidget* m_sidebar = nullptr;
    QStackedWidget* m_pages = nullptr;
    DataPage* m_dataPage = nullptr;
    ModelsPage* m_modelsPage = nullptr;
    TrainPage* m_trainPage = nullptr;
    RunsPage* m_runsPage = nullptr;
    QLabel* m_jobLabel = nullptr;
    QProgressBar* m_jobProgress = nullptr;
    bool m_closeAfterStop = false;
};
