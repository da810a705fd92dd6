// Tests for ui/DataPage: loading a DialogSum folder on the worker thread, the split and dialogue tables,
// topic and text filters, the readable dialogue, skipped rows, bad files shown as errors, the length
// histograms in words and in tokens, and the real dataset when ../shared has it.
#include "engine/data/dialogsum.h"

#include "ui/DataPage.h"
#include "ui/DatasetSplitModel.h"
#include "ui/DialogueFilterProxy.h"
#include "ui/DialogueTableModel.h"
#include "ui/LengthHistogramWidget.h"
#include "ui/ModelRegistry.h"
#include "tests/common/sanitizer.h"
#include "ui_test_support.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTextBlock>
#include <QtTest>

class TestDataPage : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void loadsFolder();
    void filtersByTopicAndText();
    void showsDialogueReadably();
    void reportsSkippedRows();
    void badCsvShowsError();
    void missingPathShowsError();
    void wordHistogram();
    void tokenHistogram();
    void realDialogSum();
    void rememberedPaths();

private:
    bool load(DataPage& page, const QString& path);

    QTemporaryDir m_dir;
    QString m_data;
};

void TestDataPage::initTestCase() {
    ui_test::isolateSettings();
    QVERIFY(m_dir.isValid());
    m_data = m_dir.filePath(QStringLiteral("dialogsum"));
    ui_test::writeDialogSum(m_data, 12, /*withBadRow=*/true);
}

void TestDataPage::init() { QSettings().clear(); }

bool TestDataPage::load(DataPage& page, const QString& path) {
    QSignalSpy finished(&page, &DataPage::loadFinished);
    page.loadPath(path);
    if (!finished.wait(60000)) return false;
    return finished.first().first().toBool();
}

void TestDataPage::loadsFolder() {
    DataPage page(nullptr);
    QAbstractItemModelTester splitTester(page.splitModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester dialogueTester(page.dialogueModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(page.dialogueProxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(load(page, m_data));
    QVERIFY(!page.isLoading());
    QCOMPARE(page.errorText(), QString());

    DatasetSplitModel* splits = page.splitModel();
    QCOMPARE(splits->rowCount(), 3);
    QCOMPARE(splits->index(0, DatasetSplitModel::SplitColumn).data().toString(), QStringLiteral("train"));
    QCOMPARE(splits->index(0, DatasetSplitModel::DialoguesColumn).data().toString(), QStringLiteral("12"));
    QCOMPARE(splits->index(1, DatasetSplitModel::SplitColumn).data().toString(), QStringLiteral("validation"));
    QCOMPARE(splits->index(2, DatasetSplitModel::DialoguesColumn).data().toString(), QStringLiteral("4"));
    QCOMPARE(splits->index(0, DatasetSplitModel::TopicsColumn).data().toString(), QStringLiteral("3"));
    QCOMPARE(splits->index(0, DatasetSplitModel::FormatColumn).data().toString(), QStringLiteral("csv"));

    // The train split is shown first, in file order.
    QCOMPARE(page.dialogueModel()->rowCount(), 12);
    QCOMPARE(page.dialogueProxy()->rowCount(), 12);
    QCOMPARE(page.dialogueProxy()->index(0, DialogueTableModel::IdColumn).data().toString(), QStringLiteral("train_0"));
    QCOMPARE(page.dialogueProxy()->index(11, DialogueTableModel::IdColumn).data().toString(), QStringLiteral("train_11"));
    QCOMPARE(page.dialogueProxy()->index(1, DialogueTableModel::TopicColumn).data().toString(), QStringLiteral("shopping"));
    QCOMPARE(page.dialogueProxy()->index(0, DialogueTableModel::FirstLineColumn).data().toString(),
             QStringLiteral("#Person1#: Hello number 0, how are you today?"));
    // "#Person1#: Hello number 0, how are you today? #Person2#: Fine, thanks. I need a ticket. #Person1#: Sure, let me help you with that."
    QCOMPARE(page.dialogueProxy()->index(0, DialogueTableModel::WordsColumn).data().toString(), QStringLiteral("23"));

    // Choosing another split shows its dialogues.
    auto* splitsView = page.findChild<QTableView*>(QStringLiteral("splitsView"));
    QVERIFY(splitsView);
    splitsView->setCurrentIndex(splits->index(1, 0));
    QCOMPARE(page.dialogueModel()->rowCount(), 4);
    QCOMPARE(page.dialogueProxy()->index(0, DialogueTableModel::IdColumn).data().toString(), QStringLiteral("validation_0"));
}

void TestDataPage::filtersByTopicAndText() {
    DataPage page(nullptr);
    QAbstractItemModelTester proxyTester(page.dialogueProxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(load(page, m_data));
    auto* topic = page.findChild<QComboBox*>(QStringLiteral("topicCombo"));
    auto* search = page.findChild<QLineEdit*>(QStringLiteral("dialogueSearchEdit"));
    auto* matches = page.findChild<QLabel*>(QStringLiteral("matchCountLabel"));
    QVERIFY(topic && search && matches);
    // "All topics" plus three topics, four dialogues each.
    QCOMPARE(topic->count(), 4);
    const int shopping = topic->findData(QStringLiteral("shopping"));
    QVERIFY(shopping > 0);
    topic->setCurrentIndex(shopping);
    QCOMPARE(page.dialogueProxy()->rowCount(), 4);
    for (int row = 0; row < 4; ++row)
        QCOMPARE(page.dialogueProxy()->index(row, DialogueTableModel::TopicColumn).data().toString(), QStringLiteral("shopping"));
    QCOMPARE(matches->text(), QStringLiteral("4 of 12"));

    // Text search (debounced) narrows within the topic: shopping dialogues are 1, 4, 7, 10; the even ones mention a ticket.
    search->setText(QStringLiteral("TICKET"));
    QTRY_COMPARE(page.dialogueProxy()->rowCount(), 2);
    QStringList ids;
    for (int row = 0; row < 2; ++row) ids << page.dialogueProxy()->index(row, DialogueTableModel::IdColumn).data().toString();
    QCOMPARE(ids, (QStringList{QStringLiteral("train_4"), QStringLiteral("train_10")}));

    topic->setCurrentIndex(0);
    QTRY_COMPARE(page.dialogueProxy()->rowCount(), 6);
    search->setText(QStringLiteral("train_11"));
    QTRY_COMPARE(page.dialogueProxy()->rowCount(), 1);
    search->clear();
    QTRY_COMPARE(page.dialogueProxy()->rowCount(), 12);

    // Ids sort in file order (train_2 before train_10), not as text.
    page.dialogueProxy()->sort(DialogueTableModel::IdColumn, Qt::AscendingOrder);
    QCOMPARE(page.dialogueProxy()->index(2, DialogueTableModel::IdColumn).data().toString(), QStringLiteral("train_2"));
    page.dialogueProxy()->sort(DialogueTableModel::IdColumn, Qt::DescendingOrder);
    QCOMPARE(page.dialogueProxy()->rowCount(), 12);
    QCOMPARE(page.dialogueProxy()->index(0, DialogueTableModel::IdColumn).data().toString(), QStringLiteral("train_11"));
}

void TestDataPage::showsDialogueReadably() {
    DataPage page(nullptr);
    QVERIFY(load(page, m_data));
    auto* dialogue = page.findChild<QTextBrowser*>(QStringLiteral("dialogueBrowser"));
    auto* summary = page.findChild<QTextBrowser*>(QStringLiteral("summaryBrowser"));
    QVERIFY(dialogue && summary);
    // The first dialogue is selected after loading.
    QVERIFY(dialogue->toPlainText().contains(QStringLiteral("Hello number 0, how are you today?")));
    QVERIFY(summary->toPlainText().contains(QStringLiteral("#Person2# asks #Person1# for a ticket.")));
    QVERIFY(summary->toPlainText().contains(QStringLiteral("Reference summary")));
    // Speaker labels are bold, the turns are not.
    bool sawBoldLabel = false, sawPlainTurn = false;
    for (QTextBlock block = dialogue->document()->begin(); block.isValid(); block = block.next()) {
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QTextFragment f = it.fragment();
            if (f.text().contains(QStringLiteral("#Person2#:"))) sawBoldLabel = sawBoldLabel || f.charFormat().fontWeight() >= QFont::Bold;
            if (f.text().contains(QStringLiteral("Fine, thanks"))) sawPlainTurn = sawPlainTurn || f.charFormat().fontWeight() < QFont::Bold;
        }
    }
    QVERIFY(sawBoldLabel);
    QVERIFY(sawPlainTurn);

    auto* view = page.findChild<QTableView*>(QStringLiteral("dialoguesView"));
    view->setCurrentIndex(page.dialogueProxy()->index(3, 0));
    QVERIFY(dialogue->toPlainText().contains(QStringLiteral("Hello number 3,")));
    QVERIFY(summary->toPlainText().contains(QStringLiteral("for a coffee.")));
}

void TestDataPage::reportsSkippedRows() {
    DataPage page(nullptr);
    QVERIFY(load(page, m_data));
    const QModelIndex skipped = page.splitModel()->index(0, DatasetSplitModel::SkippedColumn);
    QCOMPARE(skipped.data().toString(), QStringLiteral("1"));
    const QString reasons = skipped.data(Qt::ToolTipRole).toString();
    QVERIFY2(reasons.contains(QStringLiteral("train.csv:")) && reasons.contains(QStringLiteral("train_bad")), qPrintable(reasons));
    auto* status = page.findChild<QLabel*>(QStringLiteral("dataStatusLabel"));
    QVERIFY2(status->text().contains(QStringLiteral("1 row skipped")), qPrintable(status->text()));
}

void TestDataPage::badCsvShowsError() {
    const QString bad = m_dir.filePath(QStringLiteral("bad"));
    QDir().mkpath(bad);
    // No summary column.
    ui_test::writeFile(QDir(bad).filePath(QStringLiteral("train.csv")), "id,dialogue,topic\ntrain_0,\"#Person1#: Hi.\",greeting\n");
    DataPage page(nullptr);
    QVERIFY(load(page, m_data));
    QVERIFY(!load(page, bad));
    const QString error = page.errorText();
    QVERIFY2(error.contains(QStringLiteral("train.csv")), qPrintable(error));
    QVERIFY2(error.contains(QStringLiteral("summary")), qPrintable(error));
    auto* label = page.findChild<QLabel*>(QStringLiteral("dataErrorLabel"));
    QCOMPARE(label->text(), error);
    // Nothing of the earlier dataset is left on display.
    QCOMPARE(page.splitModel()->rowCount(), 0);
    QCOMPARE(page.dialogueModel()->rowCount(), 0);

    // Loading a good folder afterwards clears the error.
    QVERIFY(load(page, m_data));
    QCOMPARE(page.errorText(), QString());
}

void TestDataPage::missingPathShowsError() {
    DataPage page(nullptr);
    QVERIFY(!load(page, m_dir.filePath(QStringLiteral("no-such-folder"))));
    QVERIFY2(page.errorText().contains(QStringLiteral("no-such-folder")), qPrintable(page.errorText()));
    page.loadPath(QStringLiteral("   "));
    QVERIFY2(page.errorText().contains(QStringLiteral("choose")), qPrintable(page.errorText()));
}

void TestDataPage::wordHistogram() {
    DataPage page(nullptr);
    QSignalSpy updated(&page, &DataPage::statisticsUpdated);
    QVERIFY(load(page, m_data));
    QTRY_VERIFY_WITH_TIMEOUT(updated.count() > 0, 30000);
    const LengthStatisticsResult& stats = page.lengthStatistics();
    QVERIFY(!stats.isTokens);
    QCOMPARE(stats.splits.size(), 3);
    const sumlab::SplitStatistics& train = stats.splits.front();
    QCOMPARE(train.split, sumlab::Split::train);
    QCOMPARE(train.prompt_lengths.count, size_t{12});
    QCOMPARE(train.summary_lengths.count, size_t{12});
    // The engine's own statistics for the same split agree.
    const sumlab::DialogSumDataset dataset = sumlab::load_dialogsum(m_data.toStdString(), {std::nullopt, sumlab::BadRowPolicy::skip});
    const sumlab::SplitStatistics expected = sumlab::split_statistics(dataset.at(sumlab::Split::train));
    QCOMPARE(train.prompt_lengths.max, expected.prompt_lengths.max);
    QCOMPARE(train.prompt_lengths.mean, expected.prompt_lengths.mean);
    QCOMPARE(train.summary_lengths.max, expected.summary_lengths.max);
    size_t binned = 0;
    for (size_t c : train.prompt_lengths.histogram) binned += c;
    QCOMPARE(binned, size_t{12});

    auto* unit = page.findChild<QLabel*>(QStringLiteral("lengthUnitLabel"));
    QVERIFY2(unit->text().contains(QStringLiteral("whitespace words")), qPrintable(unit->text()));

    // A limit below every prompt truncates them all; the share shows in the summary.
    auto* source = page.findChild<QSpinBox*>(QStringLiteral("maxSourceLengthSpin"));
    source->setValue(static_cast<int>(expected.prompt_lengths.min) - 1);
    QTRY_COMPARE(page.lengthStatistics().splits.value(0).prompt_lengths.truncated, size_t{12});
    QCOMPARE(page.lengthStatistics().splits.value(0).prompt_lengths.truncated_fraction, 1.0);
    auto* histogram = page.findChild<LengthHistogramWidget*>(QStringLiteral("lengthHistogram"));
    QVERIFY2(histogram->summaryText().contains(QStringLiteral("100.0%")), qPrintable(histogram->summaryText()));
}

void TestDataPage::tokenHistogram() {
    ModelRegistry registry;
    QSignalSpy registered(&registry, &ModelRegistry::registered);
    QVERIFY(registry.addFolder(ui_test::tinyFlan()));
    QVERIFY(registered.wait(60000));

    DataPage page(&registry);
    auto* counter = page.findChild<QComboBox*>(QStringLiteral("lengthCounterCombo"));
    QCOMPARE(counter->count(), 2);
    // With no choice made, the registered tokenizer counts.
    QCOMPARE(counter->currentIndex(), 1);
    SUMLAB_REQUIRE_SENTENCEPIECE();  // the page counts words, with a warning, when the tokenizer cannot load
    QSignalSpy updated(&page, &DataPage::statisticsUpdated);
    QVERIFY(load(page, m_data));
    QTRY_VERIFY_WITH_TIMEOUT(updated.count() > 0, 30000);
    QTRY_VERIFY(page.lengthStatistics().isTokens);
    const sumlab::SplitStatistics train = page.lengthStatistics().splits.front();
    QCOMPARE(train.prompt_lengths.count, size_t{12});
    auto* unit = page.findChild<QLabel*>(QStringLiteral("lengthUnitLabel"));
    QVERIFY2(unit->text().contains(QStringLiteral("tiny-flan")), qPrintable(unit->text()));
    // Token counts include the prompt template and </s>: more units than the dialogue's words.
    QVERIFY(train.prompt_lengths.min > 23);

    // Back to words: the lengths change unit and the label says so.
    counter->setCurrentIndex(0);
    QTRY_VERIFY(!page.lengthStatistics().isTokens);
    QVERIFY2(unit->text().contains(QStringLiteral("whitespace words")), qPrintable(unit->text()));
    QVERIFY(page.lengthStatistics().splits.front().prompt_lengths.max != train.prompt_lengths.max);
}

void TestDataPage::realDialogSum() {
    const QString csv = ui_test::sharedDir() + QStringLiteral("/dialogsum/csv");
    if (!QFileInfo(QDir(csv).filePath(QStringLiteral("train.csv"))).exists())
        QSKIP(qPrintable(QStringLiteral("DialogSum not found at %1").arg(csv)));
    DataPage page(nullptr);
    QAbstractItemModelTester proxyTester(page.dialogueProxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(load(page, csv));
    const sumlab::DialogSumDataset expected = sumlab::load_dialogsum(csv.toStdString(), {std::nullopt, sumlab::BadRowPolicy::skip});
    QCOMPARE(page.splitModel()->rowCount(), static_cast<int>(expected.splits.size()));
    const sumlab::DialogSumSplit& train = expected.at(sumlab::Split::train);
    QCOMPARE(page.dialogueModel()->rowCount(), static_cast<int>(train.examples.size()));
    QCOMPARE(page.dialogueProxy()->index(0, 0).data().toString(), QString::fromStdString(train.examples.front().id));

    // The most frequent topic filter keeps exactly the dialogues with that topic.
    auto* topic = page.findChild<QComboBox*>(QStringLiteral("topicCombo"));
    QVERIFY(topic->count() > 1);
    const QString top = topic->itemData(1).toString();
    int withTopic = 0;
    for (const auto& e : train.examples) withTopic += std::find(e.topics.begin(), e.topics.end(), top.toStdString()) != e.topics.end();
    topic->setCurrentIndex(1);
    QCOMPARE(page.dialogueProxy()->rowCount(), withTopic);
    QVERIFY(withTopic > 1);
}

void TestDataPage::rememberedPaths() {
    {
        DataPage page(nullptr);
        QVERIFY(load(page, m_data));
        page.saveSettings();
    }
    QCOMPARE(QSettings().value(QStringLiteral("data/lastPath")).toString(), m_data);
    QCOMPARE(QSettings().value(QStringLiteral("data/recentPaths")).toStringList(), QStringList{m_data});
    DataPage again(nullptr);
    auto* path = again.findChild<QComboBox*>(QStringLiteral("dataPathCombo"));
    QCOMPARE(path->currentText(), m_data);
    QCOMPARE(path->count(), 1);
}

QTEST_MAIN(TestDataPage)
#include "tst_datapage.moc"
