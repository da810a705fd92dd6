#include "ui/DataPage.h"

#include "ui/Accessible.h"
#include "ui/DownloadDialog.h"
#include "ui/DatasetSplitModel.h"
#include "ui/DatasetWorker.h"
#include "ui/DialogueFilterProxy.h"
#include "ui/DialogueFormatter.h"
#include "ui/DialogueTableModel.h"
#include "ui/LengthHistogramWidget.h"
#include "ui/ModelRegistry.h"

#include "engine/data/dialogsum.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QHash>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <optional>

namespace {

constexpr int kMaxRecent = 10;

QString recentKey() { return QStringLiteral("data/recentPaths"); }

}  // namespace

DataPage::DataPage(ModelRegistry* registry, QWidget* parent) : QWidget(parent), m_registry(registry) {
    setObjectName("dataPage");
    setAccessibleName(tr("Data page"));

    m_thread.setObjectName(QStringLiteral("DatasetWorker"));
    m_worker = new DatasetWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &DatasetWorker::loaded, this, &DataPage::onLoaded);
    connect(m_worker, &DatasetWorker::loadFailed, this, &DataPage::onLoadFailed);
    connect(m_worker, &DatasetWorker::statisticsReady, this, &DataPage::onStatisticsReady);
    connect(m_worker, &DatasetWorker::statisticsFailed, this, &DataPage::onStatisticsFailed);
    m_thread.start();

    auto* layout = new QVBoxLayout(this);

    // Where the data comes from.
    auto* pathRow = new QHBoxLayout;
    auto* pathLabel = new QLabel(tr("&Dataset:"), this);
    m_pathCombo = new QComboBox(this);
    m_pathCombo->setEditable(true);
    m_pathCombo->setInsertPolicy(QComboBox::NoInsert);
    m_pathCombo->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_pathCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_pathCombo->setMinimumContentsLength(20);
    m_pathCombo->lineEdit()->setPlaceholderText(tr("A DialogSum folder (train/validation/test .csv or .jsonl) or one file"));
    Accessible::describe(m_pathCombo, "dataPathCombo", tr("Dataset path"),
                         tr("A DialogSum folder or file; the list holds recently loaded ones. Press Enter to load."));
    m_pathCombo->lineEdit()->setObjectName("dataPathEdit");
    m_pathCombo->lineEdit()->setAccessibleName(tr("Dataset path"));
    pathLabel->setBuddy(m_pathCombo);
    m_browseFolderButton = new QPushButton(tr("Open &Folder…"), this);
    Accessible::describe(m_browseFolderButton, "browseDataFolderButton", tr("Open dataset folder"),
                         tr("Choose a folder with train, validation and test files"));
    m_browseFileButton = new QPushButton(tr("Open F&ile…"), this);
    Accessible::describe(m_browseFileButton, "browseDataFileButton", tr("Open dataset file"),
                         tr("Choose a single .csv, .jsonl or .txt file (its split comes from its name)"));
    m_loadButton = new QPushButton(tr("&Load"), this);
    Accessible::describe(m_loadButton, "loadDataButton", tr("Load dataset"), tr("Load the dataset at the path"));
    pathRow->addWidget(pathLabel);
    pathRow->addWidget(m_pathCombo, 1);
    pathRow->addWidget(m_browseFolderButton);
    pathRow->addWidget(m_browseFileButton);
    m_hubButton = new QPushButton(tr("Download from &Hub…"), this);
    Accessible::describe(m_hubButton, "downloadDataButton", tr("Download a dataset from the Hub"),
                         tr("Download a dataset (knkarthick/dialogsum, …) into the Hugging Face cache and load it"));
    pathRow->addWidget(m_loadButton);
    pathRow->addWidget(m_hubButton);
    layout->addLayout(pathRow);

    // Errors in the window, never as a crash: the loader's message names file and line.
    m_errorFrame = new QFrame(this);
    m_errorFrame->setObjectName("dataErrorFrame");
    m_errorFrame->setFrameShape(QFrame::StyledPanel);
    auto* errorLayout = new QHBoxLayout(m_errorFrame);
    auto* errorIcon = new QLabel(m_errorFrame);
    errorIcon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxCritical).pixmap(20, 20));
    errorIcon->setAlignment(Qt::AlignTop);
    m_errorLabel = new QLabel(m_errorFrame);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    Accessible::describe(m_errorLabel, "dataErrorLabel", tr("Dataset error"), tr("Why the dataset could not be loaded"));
    errorLayout->addWidget(errorIcon);
    errorLayout->addWidget(m_errorLabel, 1);
    m_errorFrame->hide();
    layout->addWidget(m_errorFrame);

    m_statusLabel = new QLabel(tr("No dataset loaded."), this);
    m_statusLabel->setWordWrap(true);
    Accessible::describe(m_statusLabel, "dataStatusLabel", tr("Dataset status"), tr("What is loaded, and how many rows were skipped"));
    layout->addWidget(m_statusLabel);

    m_tabs = new QTabWidget(this);
    Accessible::describe(m_tabs, "dataTabs", tr("Dataset views"), tr("Dialogues or length distributions"));
    m_tabs->addTab(buildDialoguesTab(), tr("Dialo&gues"));
    m_tabs->addTab(buildLengthsTab(), tr("Le&ngths"));
    layout->addWidget(m_tabs, 1);

    connect(m_browseFolderButton, &QPushButton::clicked, this, &DataPage::browseFolder);
    connect(m_browseFileButton, &QPushButton::clicked, this, &DataPage::browseFile);
    connect(m_hubButton, &QPushButton::clicked, this, &DataPage::downloadFromHub);
    connect(m_loadButton, &QPushButton::clicked, this, [this] { loadPath(m_pathCombo->currentText()); });
    connect(m_pathCombo->lineEdit(), &QLineEdit::returnPressed, this, [this] { loadPath(m_pathCombo->currentText()); });
    connect(m_pathCombo, qOverload<int>(&QComboBox::activated), this, [this](int index) { loadPath(m_pathCombo->itemText(index)); });

    setTabOrder(m_pathCombo, m_browseFolderButton);
    setTabOrder(m_browseFolderButton, m_browseFileButton);
    setTabOrder(m_browseFileButton, m_loadButton);
    setTabOrder(m_loadButton, m_hubButton);
    setTabOrder(m_hubButton, m_tabs);

    QSettings settings;
    const QStringList recent = settings.value(recentKey()).toStringList();
    m_pathCombo->addItems(recent);
    m_pathCombo->setCurrentText(settings.value(QStringLiteral("data/lastPath")).toString());
    m_maxSourceSpin->setValue(settings.value(QStringLiteral("data/maxSourceLength"), 512).toInt());
    m_maxTargetSpin->setValue(settings.value(QStringLiteral("data/maxTargetLength"), 128).toInt());
    if (m_registry) connect(m_registry, &ModelRegistry::entriesChanged, this, &DataPage::refreshCounterChoices);
    refreshCounterChoices();
}

DataPage::~DataPage() {
    m_worker->cancel();
    m_thread.quit();
    m_thread.wait();
}

QWidget* DataPage::buildDialoguesTab() {
    auto* splitter = new QSplitter(Qt::Horizontal);
    splitter->setObjectName("dataSplitter");
    splitter->setChildrenCollapsible(false);

    auto* left = new QWidget(splitter);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    m_splitModel = new DatasetSplitModel(this);
    m_splitsView = new QTableView(left);
    Accessible::describe(m_splitsView, "splitsView", tr("Splits"), tr("The splits found, with their dialogue, summary and skipped-row counts"));
    m_splitsView->setModel(m_splitModel);
    m_splitsView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_splitsView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_splitsView->verticalHeader()->hide();
    m_splitsView->verticalHeader()->setDefaultSectionSize(m_splitsView->fontMetrics().height() + 8);
    m_splitsView->horizontalHeader()->setStretchLastSection(true);
    m_splitsView->setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    // Room for the three DialogSum splits without scrolling.
    m_splitsView->setFixedHeight(m_splitsView->horizontalHeader()->sizeHint().height() + 3 * m_splitsView->verticalHeader()->defaultSectionSize() +
                                 2 * m_splitsView->frameWidth() + 2);
    m_splitsView->setAlternatingRowColors(true);
    leftLayout->addWidget(m_splitsView);

    auto* filterRow = new QHBoxLayout;
    auto* topicLabel = new QLabel(tr("&Topic:"), left);
    m_topicCombo = new QComboBox(left);
    m_topicCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_topicCombo->setMinimumContentsLength(12);
    m_topicCombo->setMaxVisibleItems(20);
    Accessible::describe(m_topicCombo, "topicCombo", tr("Topic filter"), tr("Show only dialogues of this topic (most frequent first)"));
    topicLabel->setBuddy(m_topicCombo);
    auto* searchLabel = new QLabel(tr("&Search:"), left);
    m_searchEdit = new QLineEdit(left);
    m_searchEdit->setClearButtonEnabled(true);
    m_searchEdit->setPlaceholderText(tr("Text in id, dialogue, summary or topic"));
    Accessible::describe(m_searchEdit, "dialogueSearchEdit", tr("Search dialogues"),
                         tr("Show only dialogues whose id, text, summaries or topics contain this text (case-insensitive)"));
    searchLabel->setBuddy(m_searchEdit);
    m_matchLabel = new QLabel(left);
    Accessible::describe(m_matchLabel, "matchCountLabel", tr("Matching dialogues"), tr("How many dialogues the filters show"));
    filterRow->addWidget(topicLabel);
    filterRow->addWidget(m_topicCombo, 1);
    filterRow->addWidget(searchLabel);
    filterRow->addWidget(m_searchEdit, 2);
    filterRow->addWidget(m_matchLabel);
    leftLayout->addLayout(filterRow);

    m_dialogueModel = new DialogueTableModel(this);
    m_proxy = new DialogueFilterProxy(this);
    m_proxy->setSourceModel(m_dialogueModel);
    m_dialoguesView = new QTableView(left);
    Accessible::describe(m_dialoguesView, "dialoguesView", tr("Dialogues"), tr("Dialogues of the selected split; click a header to sort"));
    m_dialoguesView->setModel(m_proxy);
    m_dialoguesView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_dialoguesView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_dialoguesView->setSortingEnabled(true);
    m_dialoguesView->sortByColumn(DialogueTableModel::IdColumn, Qt::AscendingOrder);
    m_dialoguesView->verticalHeader()->hide();
    m_dialoguesView->verticalHeader()->setDefaultSectionSize(m_dialoguesView->fontMetrics().height() + 6);
    m_dialoguesView->setWordWrap(false);
    m_dialoguesView->setAlternatingRowColors(true);
    QHeaderView* header = m_dialoguesView->horizontalHeader();
    header->setSectionResizeMode(DialogueTableModel::FirstLineColumn, QHeaderView::Stretch);
    header->resizeSection(DialogueTableModel::IdColumn, m_dialoguesView->fontMetrics().horizontalAdvance(QStringLiteral("validation_0000")));
    header->resizeSection(DialogueTableModel::TopicColumn, m_dialoguesView->fontMetrics().horizontalAdvance(QStringLiteral("a typical topic name")));
    header->resizeSection(DialogueTableModel::WordsColumn, m_dialoguesView->fontMetrics().horizontalAdvance(QStringLiteral("Words 000")));
    leftLayout->addWidget(m_dialoguesView, 1);

    auto* right = new QSplitter(Qt::Vertical, splitter);
    right->setChildrenCollapsible(false);
    m_dialogueBrowser = new QTextBrowser(right);
    Accessible::describe(m_dialogueBrowser, "dialogueBrowser", tr("Dialogue"), tr("The selected dialogue, one speaker turn per row"));
    m_dialogueBrowser->setOpenLinks(false);
    m_summaryBrowser = new QTextBrowser(right);
    Accessible::describe(m_summaryBrowser, "summaryBrowser", tr("Reference summaries"), tr("The selected dialogue's reference summaries and topics"));
    m_summaryBrowser->setOpenLinks(false);
    right->addWidget(m_dialogueBrowser);
    right->addWidget(m_summaryBrowser);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 1);

    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);

    m_searchTimer = new QTimer(this);
    m_searchTimer->setSingleShot(true);
    m_searchTimer->setInterval(200);
    connect(m_searchEdit, &QLineEdit::textChanged, m_searchTimer, qOverload<>(&QTimer::start));
    connect(m_searchTimer, &QTimer::timeout, this, [this] {
        m_proxy->setSearchText(m_searchEdit->text());
        updateMatchCount();
    });
    connect(m_topicCombo, qOverload<int>(&QComboBox::currentIndexChanged), this, &DataPage::onTopicChosen);
    connect(m_splitsView->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &DataPage::onSplitSelected);
    connect(m_dialoguesView->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &DataPage::onDialogueSelected);

    setTabOrder(m_splitsView, m_topicCombo);
    setTabOrder(m_topicCombo, m_searchEdit);
    setTabOrder(m_searchEdit, m_dialoguesView);
    setTabOrder(m_dialoguesView, m_dialogueBrowser);
    setTabOrder(m_dialogueBrowser, m_summaryBrowser);
    return splitter;
}

QWidget* DataPage::buildLengthsTab() {
    auto* tab = new QWidget;
    auto* layout = new QVBoxLayout(tab);
    auto* controls = new QHBoxLayout;

    auto* splitLabel = new QLabel(tr("S&plit:"), tab);
    m_histogramSplitCombo = new QComboBox(tab);
    Accessible::describe(m_histogramSplitCombo, "histogramSplitCombo", tr("Histogram split"), tr("The split whose lengths are plotted"));
    splitLabel->setBuddy(m_histogramSplitCombo);

    auto* counterLabel = new QLabel(tr("&Count with:"), tab);
    m_counterCombo = new QComboBox(tab);
    m_counterCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_counterCombo->setMinimumContentsLength(18);
    Accessible::describe(m_counterCombo, "lengthCounterCombo", tr("Length unit"),
                         tr("Count T5 tokens with a registered model's tokenizer (as training truncates), or whitespace words when no model is registered"));
    counterLabel->setBuddy(m_counterCombo);

    auto* sourceLabel = new QLabel(tr("max_&source_length:"), tab);
    m_maxSourceSpin = new QSpinBox(tab);
    m_maxSourceSpin->setRange(1, 1 << 20);
    Accessible::describe(m_maxSourceSpin, "maxSourceLengthSpin", tr("Maximum source length"),
                         tr("Prompts longer than this are truncated in training (Hugging Face: max_source_length; the lab: 512)"));
    sourceLabel->setBuddy(m_maxSourceSpin);
    auto* targetLabel = new QLabel(tr("max_&target_length:"), tab);
    m_maxTargetSpin = new QSpinBox(tab);
    m_maxTargetSpin->setRange(1, 1 << 20);
    Accessible::describe(m_maxTargetSpin, "maxTargetLengthSpin", tr("Maximum target length"),
                         tr("Summaries longer than this are truncated in training (Hugging Face: max_target_length; default 128)"));
    targetLabel->setBuddy(m_maxTargetSpin);

    controls->addWidget(splitLabel);
    controls->addWidget(m_histogramSplitCombo);
    controls->addSpacing(12);
    controls->addWidget(counterLabel);
    controls->addWidget(m_counterCombo);
    controls->addStretch(1);
    layout->addLayout(controls);
    auto* limits = new QHBoxLayout;
    limits->addWidget(sourceLabel);
    limits->addWidget(m_maxSourceSpin);
    limits->addSpacing(12);
    limits->addWidget(targetLabel);
    limits->addWidget(m_maxTargetSpin);
    limits->addStretch(1);
    layout->addLayout(limits);

    m_unitLabel = new QLabel(tab);
    m_unitLabel->setWordWrap(true);
    Accessible::describe(m_unitLabel, "lengthUnitLabel", tr("Length unit in use"), tr("What the lengths are counted in"));
    layout->addWidget(m_unitLabel);

    m_histogram = new LengthHistogramWidget(tab);
    m_histogram->setObjectName("lengthHistogram");
    layout->addWidget(m_histogram, 1);

    m_statisticsTimer = new QTimer(this);
    m_statisticsTimer->setSingleShot(true);
    m_statisticsTimer->setInterval(250);
    connect(m_statisticsTimer, &QTimer::timeout, this, &DataPage::requestStatistics);
    connect(m_maxSourceSpin, qOverload<int>(&QSpinBox::valueChanged), m_statisticsTimer, qOverload<>(&QTimer::start));
    connect(m_maxTargetSpin, qOverload<int>(&QSpinBox::valueChanged), m_statisticsTimer, qOverload<>(&QTimer::start));
    connect(m_counterCombo, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        QSettings().setValue(QStringLiteral("data/lengthCounter"), m_counterCombo->currentData().toString());
        requestStatistics();
    });
    connect(m_histogramSplitCombo, qOverload<int>(&QComboBox::currentIndexChanged), this, &DataPage::showHistogram);

    setTabOrder(m_histogramSplitCombo, m_counterCombo);
    setTabOrder(m_counterCombo, m_maxSourceSpin);
    setTabOrder(m_maxSourceSpin, m_maxTargetSpin);
    return tab;
}

void DataPage::refreshCounterChoices() {
    const QString wanted = m_counterCombo->count() > 0 ? m_counterCombo->currentData().toString()
                                                       : QSettings().value(QStringLiteral("data/lengthCounter")).toString();
    QSignalBlocker blocker(m_counterCombo);
    m_counterCombo->clear();
    m_counterCombo->addItem(tr("Whitespace words (no tokenizer)"), QString());
    if (m_registry) {
        for (const ModelInfo& info : m_registry->readyEntries(ModelKind::Model))
            if (info.hasTokenizer) m_counterCombo->addItem(tr("T5 tokens – %1").arg(info.name), info.path);
    }
    int index = m_counterCombo->findData(wanted);
    // Until the user chooses, a registered tokenizer counts what training will see.
    if (wanted.isEmpty() && m_counterCombo->count() > 1 && !QSettings().contains(QStringLiteral("data/lengthCounter"))) index = 1;
    m_counterCombo->setCurrentIndex(std::max(0, index));
    blocker.unblock();
    if (m_counterCombo->currentData().toString() != wanted) requestStatistics();
}

void DataPage::browseFolder() {
    const QString start = m_pathCombo->currentText().isEmpty() ? QDir::homePath() : m_pathCombo->currentText();
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open DialogSum Folder"), start);
    if (dir.isEmpty()) return;
    m_pathCombo->setCurrentText(dir);
    loadPath(dir);
}

void DataPage::browseFile() {
    const QString start = m_pathCombo->currentText().isEmpty() ? QDir::homePath() : QFileInfo(m_pathCombo->currentText()).absolutePath();
    const QString file = QFileDialog::getOpenFileName(this, tr("Open DialogSum File"), start,
                                                      tr("DialogSum files (*.csv *.jsonl *.json *.txt);;All files (*)"));
    if (file.isEmpty()) return;
    m_pathCombo->setCurrentText(file);
    loadPath(file);
}

void DataPage::downloadFromHub() {
    auto* dialog = new DownloadDialog(DownloadDialog::Kind::Dataset, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &DownloadDialog::downloaded, this, [this](const QString& folder) { loadPath(folder); });
    dialog->open();
}

void DataPage::loadPath(const QString& path) {
    const QString trimmed = path.trimmed();
    if (trimmed.isEmpty()) {
        showError(tr("Enter or choose a DialogSum folder or file first."));
        return;
    }
    clearError();
    m_pathCombo->setCurrentText(trimmed);
    m_isLoading = true;
    const int id = ++m_loadRequest;
    m_statusLabel->setText(tr("Loading %1 …").arg(trimmed));
    emit statusMessage(tr("Loading DialogSum from %1 …").arg(trimmed));
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, id, trimmed] { worker->load(id, trimmed); }, Qt::QueuedConnection);
}

void DataPage::onLoaded(int requestId, const DatasetSnapshot& snapshot) {
    if (requestId != m_loadRequest) return;  // a newer load is on its way
    m_isLoading = false;
    m_dataset = snapshot;
    m_statistics = {};
    m_splitModel->setDataset(snapshot);

    const QLocale locale;
    QStringList splits;
    QString format;
    for (const SplitSnapshot& s : snapshot.splits) {
        splits << QStringLiteral("%1 %2").arg(locale.toString(s.dialogues.size()), s.name);
        if (format.isEmpty()) format = s.format;
        else if (format != s.format) format = tr("mixed formats");
    }
    QString status = tr("Loaded %1 (%2) from %3.").arg(splits.join(QStringLiteral(", ")), format, snapshot.path);
    const int skipped = snapshot.totalSkipped();
    status += ' ' + (skipped == 0 ? tr("No rows skipped.") : (skipped == 1 ? tr("1 row skipped (hover the Skipped column for the reason).")
                                                                      : tr("%1 rows skipped (hover the Skipped column for the reasons).").arg(QLocale().toString(skipped))));
    m_statusLabel->setText(status);

    {
        QSignalBlocker blocker(m_histogramSplitCombo);
        m_histogramSplitCombo->clear();
        for (const SplitSnapshot& s : snapshot.splits) m_histogramSplitCombo->addItem(s.name, s.name);
        const int wanted = m_histogramSplitCombo->findData(QSettings().value(QStringLiteral("data/histogramSplit"), QStringLiteral("train")));
        m_histogramSplitCombo->setCurrentIndex(std::max(0, wanted));
    }
    const int trainRow = std::max(0, m_splitModel->rowOfSplit(QStringLiteral("train")));
    if (m_splitModel->rowCount() > 0) m_splitsView->setCurrentIndex(m_splitModel->index(trainRow, 0));
    m_histogram->clear(tr("Counting lengths …"));

    rememberRecent(snapshot.path);
    const SplitSnapshot* train = snapshot.find(QStringLiteral("train"));
    emit statusMessage(tr("Loaded %1 dialogues.").arg(QLocale().toString(snapshot.totalDialogues())));
    emit datasetLoaded(snapshot.path, train ? train->dialogues.size() : 0);
    emit loadFinished(true);
    requestStatistics();
}

void DataPage::onLoadFailed(int requestId, const QString& path, const QString& message) {
    if (requestId != m_loadRequest) return;
    m_isLoading = false;
    m_dataset = {};
    m_statistics = {};
    m_splitModel->clear();
    m_dialogueModel->clear();
    m_topicCombo->clear();
    m_histogramSplitCombo->clear();
    m_dialogueBrowser->clear();
    m_summaryBrowser->clear();
    m_histogram->clear(tr("No dataset loaded."));
    m_statusLabel->setText(tr("No dataset loaded."));
    updateMatchCount();
    showError(tr("Could not load %1:\n%2").arg(path, message));
    emit statusMessage(tr("Could not load %1").arg(path));
    emit loadFinished(false);
}

void DataPage::showError(const QString& message) {
    m_errorLabel->setText(message);
    m_errorFrame->show();
}

void DataPage::clearError() {
    m_errorLabel->clear();
    m_errorFrame->hide();
}

QString DataPage::errorText() const { return m_errorFrame->isHidden() ? QString() : m_errorLabel->text(); }

void DataPage::rememberRecent(const QString& path) {
    QSettings settings;
    QStringList recent = settings.value(recentKey()).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent) recent.removeLast();
    settings.setValue(recentKey(), recent);
    settings.setValue(QStringLiteral("data/lastPath"), path);
    QSignalBlocker blocker(m_pathCombo);
    m_pathCombo->clear();
    m_pathCombo->addItems(recent);
    m_pathCombo->setCurrentIndex(0);
}

void DataPage::onSplitSelected() {
    const QModelIndex current = m_splitsView->currentIndex();
    if (!current.isValid()) return;
    showSplit(current.data(DatasetSplitModel::SplitNameRole).toString());
}

void DataPage::showSplit(const QString& name) {
    const SplitSnapshot* split = m_dataset.find(name);
    if (!split) return;
    m_dialogueModel->setSplit(*split);

    QHash<QString, int> counts;
    for (const DialogueRecord& r : split->dialogues)
        for (const QString& t : r.topics) ++counts[t];
    QVector<QPair<QString, int>> topics;
    topics.reserve(counts.size());
    for (auto it = counts.cbegin(); it != counts.cend(); ++it) topics.append({it.key(), it.value()});
    std::sort(topics.begin(), topics.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    {
        QSignalBlocker blocker(m_topicCombo);
        m_topicCombo->clear();
        m_topicCombo->addItem(tr("All topics (%1)").arg(QLocale().toString(topics.size())), QString());
        for (const auto& [topic, n] : topics) m_topicCombo->addItem(QStringLiteral("%1 (%2)").arg(topic).arg(n), topic);
    }
    m_proxy->setTopic(QString());
    updateMatchCount();
    if (m_proxy->rowCount() > 0) m_dialoguesView->setCurrentIndex(m_proxy->index(0, 0));
    else {
        m_dialogueBrowser->clear();
        m_summaryBrowser->clear();
    }
}

void DataPage::onTopicChosen() {
    m_proxy->setTopic(m_topicCombo->currentData().toString());
    updateMatchCount();
}

void DataPage::updateMatchCount() {
    const QLocale locale;
    m_matchLabel->setText(tr("%1 of %2").arg(locale.toString(m_proxy->rowCount()), locale.toString(m_dialogueModel->rowCount())));
    if (!m_dialoguesView->currentIndex().isValid() && m_proxy->rowCount() > 0) m_dialoguesView->setCurrentIndex(m_proxy->index(0, 0));
}

void DataPage::onDialogueSelected() {
    const QModelIndex current = m_dialoguesView->currentIndex();
    if (!current.isValid()) {
        m_dialogueBrowser->clear();
        m_summaryBrowser->clear();
        return;
    }
    const DialogueRecord& r = m_dialogueModel->record(m_proxy->mapToSource(current).row());
    m_dialogueBrowser->setHtml(QStringLiteral("<p><b>%1</b></p>").arg(r.id.toHtmlEscaped()) + DialogueFormatter::dialogueHtml(r.dialogue));
    m_summaryBrowser->setHtml(DialogueFormatter::summariesHtml(r.references, r.topics));
}

void DataPage::requestStatistics() {
    if (m_dataset.splits.isEmpty()) return;
    LengthStatisticsRequest request;
    request.id = ++m_statisticsRequest;
    request.tokenizerDir = m_counterCombo->currentData().toString();
    request.tokenizerName = request.tokenizerDir.isEmpty() ? QString() : QFileInfo(request.tokenizerDir).fileName();
    request.maxSourceLength = m_maxSourceSpin->value();
    request.maxTargetLength = m_maxTargetSpin->value();
    m_worker->announceStatisticsRequest(request.id);
    m_unitLabel->setText(request.tokenizerDir.isEmpty() ? tr("Counting whitespace words …")
                                                        : tr("Counting tokens with %1's tokenizer …").arg(request.tokenizerName));
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, request] { worker->computeStatistics(request); }, Qt::QueuedConnection);
}

void DataPage::onStatisticsReady(const LengthStatisticsResult& result) {
    if (result.requestId != m_statisticsRequest) return;
    m_statistics = result;
    QString text = tr("Lengths in %1; prompts use the lab's template (\"Summarize the following conversation. … Summary: \").")
                       .arg(result.unitDescription);
    if (!result.isTokens && result.warning.isEmpty()) text += ' ' + tr("Register a model on the Models page to count T5 tokens.");
    if (!result.warning.isEmpty()) text += ' ' + result.warning;
    m_unitLabel->setText(text);
    showHistogram();
    emit statisticsUpdated();
}

void DataPage::onStatisticsFailed(int requestId, const QString& message) {
    if (requestId != m_statisticsRequest) return;
    m_unitLabel->setText(tr("Lengths could not be counted: %1").arg(message));
    m_histogram->clear(tr("No length statistics."));
}

void DataPage::showHistogram() {
    const QString split = m_histogramSplitCombo->currentData().toString();
    if (!split.isEmpty()) QSettings().setValue(QStringLiteral("data/histogramSplit"), split);
    const std::optional<sumlab::Split> wanted = sumlab::parse_split(split.toStdString());
    for (const sumlab::SplitStatistics& s : m_statistics.splits) {
        if (s.split == wanted) {
            m_histogram->setStatistics(s, m_statistics.isTokens ? tr("tokens") : tr("words"));
            return;
        }
    }
}

void DataPage::saveSettings() const {
    QSettings settings;
    settings.setValue(QStringLiteral("data/maxSourceLength"), m_maxSourceSpin->value());
    settings.setValue(QStringLiteral("data/maxTargetLength"), m_maxTargetSpin->value());
    settings.setValue(QStringLiteral("data/lastPath"), m_pathCombo->currentText());
}
