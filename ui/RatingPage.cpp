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
bool RatingPage::isLoading() const { return m_rateTab->isLoading(); }
QString RatingPage::resultsPath() const { return m_rateTab->resultsPath(); }
QStringList RatingPage::systems() const { return m_rateTab->systems(); }
bool RatingPage::setSystems(const QString& systemA, const QString& systemB) { return m_rateTab->setSystems(systemA, systemB); }
void RatingPage::setSampleSize(int size) { m_rateTab->setSampleSize(size); }
void RatingPage::setSeed(int seed) { m_rateTab->setSeed(seed); }
void RatingPage::setRater(const QString& rater) { m_rateTab->setRater(rater); }
void RatingPage::setRatingsPath(const QString& path) { m_rateTab->setRatingsPath(path); }
QString RatingPage::ratingsPath() const { return m_rateTab->ratingsPath(); }
bool RatingPage::startSession() { return m_rateTab->startSession(); }
bool RatingPage::resumeFromFile(const QString& ratingsPath) { return m_rateTab->resumeFromFile(ratingsPath); }
QString RatingPage::errorText() const { return m_rateTab->errorText(); }

bool RatingPage::hasSession() const { return m_rateTab->hasSession(); }
int RatingPage::currentItem() const { return m_rateTab->currentItem(); }
int RatingPage::sampleCount() const { return m_rateTab->sampleCount(); }
int RatingPage::ratedCount() const { return m_rateTab->ratedCount(); }
QString RatingPage::progressText() const { return m_rateTab->progressText(); }
QString RatingPage::sourceText() const { return m_rateTab->sourceText(); }
QString RatingPage::summaryText(Side side) const { return m_rateTab->summaryText(side); }
void RatingPage::setScore(Side side, Criterion criterion, int score) { m_rateTab->setScore(side, criterion, score); }
bool RatingPage::rate(sumlab::Choice choice) { return m_rateTab->rate(choice); }
void RatingPage::showItem(int position) { m_rateTab->showItem(position); }
void RatingPage::nextItem() { m_rateTab->nextItem(); }
void RatingPage::previousItem() { m_rateTab->previousItem(); }

void RatingPage::addRaterFiles(const QStringList& paths) { m_mergeTab->addRaterFiles(paths); }
QStringList RatingPage::raterFiles() const { return m_mergeTab->raterFiles(); }
void RatingPage::clearRaterFiles() { m_mergeTab->clearRaterFiles(); }
void RatingPage::mergeRaters() { m_mergeTab->mergeRaters(); }
QString RatingPage::reportText() const { return m_mergeTab->reportText(); }
bool RatingPage::exportMergedCsv(const QString& path, QString* error) const { return m_mergeTab->exportMergedCsv(path, error); }
bool RatingPage::exportMergedJsonl(const QString& path, QString* error) const { return m_mergeTab->exportMergedJsonl(path, error); }

void RatingPage::saveSettings() const { m_rateTab->saveSettings(); }
