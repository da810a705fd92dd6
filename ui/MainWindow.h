// The SumLab main window: a sidebar of pages and a status bar. Pages are their own widget classes.
#pragma once

#include <QMainWindow>

class QListWidget;
class QStackedWidget;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

private:
    QListWidget* m_sidebar = nullptr;
    QStackedWidget* m_pages = nullptr;
};
