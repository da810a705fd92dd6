#include "ui/RatingPage.h"

#include "ui/Accessible.h"
#include "ui/HumanEvalWorker.h"
#include "ui/RatingMergeTab.h"

#include <QTabWidget>
#include <QVBoxLayout>

RatingPage::RatingPage(QWidget* parent) : QWidget(parent) {
    setObjectName("ratingPage");
    setAccessibleName(tr("Rating page"));

    m_thread.setObjectName(QStringLiteral("HumanEvalWorker"));
    m_worker = new HumanEvalWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();

    auto* layout = new QVBoxLayout(this);
    m_tabs = new QTabWidget(this);
    Accessible::describe(m_tabs, "ratingTabs", tr("Rating"), tr("Rate summaries blind, or merge raters' files into results"));
    m_rateTab = new RatingRateTab(m_worker, this);
    m_mergeTab = new RatingMergeTab(m_worker, m_rateTab, this);
    m_tabs->addTab(m_rateTab, tr("&Rate"));
    m_tabs->addTab(m_mergeTab, tr("Res&ults"));
    layout->addWidget(m_tabs);

    connect(m_rateTab, &RatingRateTab::resultsOpened, this, &RatingPage::resultsOpened);
    connect(m_rateTab, &RatingRateTab::loadFailed, this, &RatingPage::loadFailed);
    connect(m_rateTab, &RatingRateTab::ratingSaved, this, &RatingPage::ratingSaved);
    connect(m_rateTab, &RatingRateTab::statusMessage, this, &RatingPage::statusMessage);
    connect(m_rateTab, &RatingRateTab::ratingsFileOpened, m_mergeTab, [this](const QString& path) { m_mergeTab->addRaterFiles({path}); });
    connect(m_mergeTab, &RatingMergeTab::mergeFinished, this, &RatingPage::mergeFinished);
    connect(m_mergeTab, &RatingMergeTab::statusMessage, this, &RatingPage::statusMessage);
    m_rateTab->restoreSettings();
}

RatingPage::~RatingPage() {
    m_thread.quit();
    m_thread.wait();
}

void RatingPage::openResults(const QString& path) { m_rateTab->openResults(path); }
QString RatingPage::resultsPath() const { return m_rateTab->resultsPath(); }
void RatingPage::saveSettings() const { m_rateTab->saveSettings(); }
