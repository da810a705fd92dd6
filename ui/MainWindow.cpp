#include "ui/MainWindow.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QStackedWidget>
#include <QStatusBar>

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("SumLab"));
    setObjectName("mainWindow");
    auto* central = new QWidget(this);
    auto* layout = new QHBoxLayout(central);
    m_sidebar = new QListWidget(central);
    m_sidebar->setObjectName("sidebar");
    m_sidebar->setAccessibleName(tr("Pages"));
    m_sidebar->setMaximumWidth(180);
    m_pages = new QStackedWidget(central);
    m_pages->setObjectName("pages");
    for (const QString& name : {tr("Data"), tr("Models"), tr("Train"), tr("Runs")}) {
        m_sidebar->addItem(name);
        auto* page = new QLabel(tr("%1 page").arg(name), m_pages);
        page->setAlignment(Qt::AlignCenter);
        m_pages->addWidget(page);
    }
    connect(m_sidebar, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);
    m_sidebar->setCurrentRow(0);
    layout->addWidget(m_sidebar);
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);
    statusBar()->showMessage(tr("Ready"));
    resize(1100, 720);
}
