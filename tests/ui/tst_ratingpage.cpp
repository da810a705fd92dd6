// Tests for ui/RatingPage: rating by keyboard (1 / 2 / 3, arrows, Enter; digits typed into the note or a
// score box stay there), the JSONL file written as the rater goes with the order that was shown, closing and
// reopening resumes, re-rating appends, two raters' files merge into a report that shows Cohen's kappa, and
// the error paths (a results CSV without the human column, one without the chosen systems, a ratings file
// of another sample).
#include "engine/metrics/human_eval.h"
#include "engine/metrics/results_csv.h"
#include "ui/RatingMergeTab.h"
#include "ui/RatingPage.h"
#include "ui_test_support.h"

#include <nlohmann/json.hpp>

#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

namespace {

const QStringList kSystems{QStringLiteral("original_model"), QStringLiteral("instruct_model"), QStringLiteral("peft_model")};

// 12 rows; every summary names its system and row, so the test can tell which system a side shows.
sumlab::ResultsTable makeTable() {
    sumlab::ResultsTable t;
    for (const QString& s : kSystems) t.systems.push_back({s.toStdString(), {}});
    for (int i = 0; i < 12; ++i) {
        t.ids.push_back("test_" + std::to_string(i));
        t.dialogues.push_back("#Person1#: Hello " + std::to_string(i) + ".\n#Person2#: Hi, I need a ticket.");
        t.human_baseline.push_back("#Person2# needs ticket " + std::to_string(i) + ".");
        for (auto& s : t.systems) s.summaries.push_back(s.name + " summary of row " + std::to_string(i));
    }
    return t;
}

// "peft_model summary of row 3" -> ("peft_model", 3).
std::pair<QString, int> decode(const QString& summary) {
    const QStringList parts = summary.split(QLatin1Char(' '));
    return {parts.value(0), parts.value(4).toInt()};
}

QList<nlohmann::json> ratingLines(const QString& path) {
    QList<nlohmann::json> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return out;
    for (const QByteArray& line : f.readAll().split('\n')) {
        if (line.trimmed().isEmpty()) continue;
        nlohmann::json j = nlohmann::json::parse(line.toStdString());
        if (j["type"] == "rating") out << j;
    }
    return out;
}

}  // namespace

class TestRatingPage : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void ratesByKeyboardAndResumes();
    void mergeShowsKappaAndExports();
    void resultsWithoutHumanColumnIsAnError();
    void resultsWithoutChosenSystemsIsAnError();
    void ratingsFileOfAnotherSampleIsRefused();

private:
    bool openAndWait(RatingPage& page, const QString& path);
    void startSession(RatingPage& page, const QString& rater, const QString& ratingsPath);

    QTemporaryDir m_dir;
    QString m_results;
};

void TestRatingPage::initTestCase() {
    ui_test::isolateSettings();
    QVERIFY(m_dir.isValid());
    m_results = m_dir.filePath(QStringLiteral("results.csv"));
    sumlab::write_results_csv(m_results.toStdString(), makeTable());
}

void TestRatingPage::init() { QSettings().clear(); }

bool TestRatingPage::openAndWait(RatingPage& page, const QString& path) {
    QSignalSpy opened(&page, &RatingPage::resultsOpened);
    page.openResults(path);
    return opened.wait(10000);
}

void TestRatingPage::startSession(RatingPage& page, const QString& rater, const QString& ratingsPath) {
    QVERIFY(openAndWait(page, m_results));
    QCOMPARE(page.rateTab()->systems(), kSystems);
    QVERIFY(page.rateTab()->setSystems(QStringLiteral("original_model"), QStringLiteral("peft_model")));
    page.rateTab()->setSampleSize(5);
    page.rateTab()->setSeed(7);
    page.rateTab()->setRater(rater);
    page.rateTab()->setRatingsPath(ratingsPath);
    QVERIFY2(page.rateTab()->startSession(), qPrintable(page.rateTab()->errorText()));
}

void TestRatingPage::ratesByKeyboardAndResumes() {
    const QString ratings = m_dir.filePath(QStringLiteral("ann.jsonl"));
    QList<std::pair<QString, int>> shownLeft;  // (system, row) shown as A for each rated item
    {
        RatingPage page;
        page.resize(1100, 800);
        page.show();
        QVERIFY(QTest::qWaitForWindowActive(&page));
        QSignalSpy saved(&page, &RatingPage::ratingSaved);
        startSession(page, QStringLiteral("ann"), ratings);
        QCOMPARE(page.rateTab()->progressText(), QStringLiteral("0 / 5"));
        QCOMPARE(page.rateTab()->currentItem(), 0);

        // Item 0: scores by keyboard, then "1" (A better) while the summary has focus.
        auto [leftSystem, row] = decode(page.rateTab()->summaryText(RatingPage::Left));
        auto [rightSystem, rightRow] = decode(page.rateTab()->summaryText(RatingPage::Right));
        QCOMPARE(rightRow, row);
        QVERIFY(leftSystem != rightSystem);
        QVERIFY(page.rateTab()->sourceText().contains(QStringLiteral("Hello %1.").arg(row)));
        shownLeft << std::make_pair(leftSystem, row);
        auto* faithA = page.findChild<QSpinBox*>(QStringLiteral("faithfulnessASpin"));
        auto* coverageB = page.findChild<QSpinBox*>(QStringLiteral("coverageBSpin"));
        auto* note = page.findChild<QLineEdit*>(QStringLiteral("ratingNoteEdit"));
        auto* summaryA = page.findChild<QWidget*>(QStringLiteral("summaryAView"));
        QVERIFY(faithA && coverageB && note && summaryA);
        faithA->setFocus();
        QTRY_VERIFY(faithA->hasFocus());
        for (int i = 0; i < 4; ++i) QTest::keyClick(faithA, Qt::Key_Up);  // – -> 4, by keyboard
        coverageB->setFocus();
        QTest::keyClick(coverageB, Qt::Key_Up);
        QTest::keyClick(coverageB, Qt::Key_Up);
        // Digits typed into a score box set the score and rate nothing.
        QCOMPARE(page.rateTab()->ratedCount(), 0);
        note->setFocus();
        QTest::keyClicks(note, QStringLiteral("2 names invented"));
        QCOMPARE(note->text(), QStringLiteral("2 names invented"));
        QCOMPARE(page.rateTab()->ratedCount(), 0);
        summaryA->setFocus();
        QTRY_VERIFY(summaryA->hasFocus());
        QTest::keyClick(summaryA, Qt::Key_1);
        QCOMPARE(saved.count(), 1);
        QCOMPARE(page.rateTab()->ratedCount(), 1);
        QCOMPARE(page.rateTab()->progressText(), QStringLiteral("1 / 5"));
        QCOMPARE(page.rateTab()->currentItem(), 1);  // moved on
        QCOMPARE(note->text(), QString());  // the next item starts clean
        QCOMPARE(faithA->value(), 0);

        // Item 1: "2" (B better); item 2: "3" (tie) -- the keys work from the buttons too.
        shownLeft << decode(page.rateTab()->summaryText(RatingPage::Left));
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_2);
        shownLeft << decode(page.rateTab()->summaryText(RatingPage::Left));
        auto* tieButton = page.findChild<QPushButton*>(QStringLiteral("tieButton"));
        tieButton->setFocus();
        QTest::keyClick(tieButton, Qt::Key_3);
        QCOMPARE(page.rateTab()->ratedCount(), 3);
        QCOMPARE(page.rateTab()->currentItem(), 3);

        // Arrows and Enter move without rating.
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Left);
        QCOMPARE(page.rateTab()->currentItem(), 2);
        QVERIFY(page.findChild<QWidget*>(QStringLiteral("ratingItemLabel"))->property("text").toString().contains(QStringLiteral("tie")));
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Right);
        QCOMPARE(page.rateTab()->currentItem(), 3);
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Return);
        QCOMPARE(page.rateTab()->currentItem(), 4);
        QCOMPARE(page.rateTab()->ratedCount(), 3);

        // The file already holds every rating (nothing waits for the page to close).
        const QList<nlohmann::json> lines = ratingLines(ratings);
        QCOMPARE(lines.size(), 3);
        const char* choices[] = {"left", "right", "tie"};
        for (int i = 0; i < 3; ++i) {
            const nlohmann::json& j = lines[i];
            QCOMPARE(j["item"].get<int>(), i);
            QCOMPARE(QString::fromStdString(j["choice"].get<std::string>()), QString::fromLatin1(choices[i]));
            // The recorded order is the order that was shown.
            QCOMPARE(QString::fromStdString(j["left"].get<std::string>()), shownLeft[i].first);
            QCOMPARE(j["row"].get<int>(), shownLeft[i].second);
            QCOMPARE(j["rater"], "ann");
        }
        const std::string left0 = lines[0]["left"], right0 = lines[0]["right"];
        QCOMPARE(lines[0]["winner"].get<std::string>(), left0);            // "A better" stored as the system that won
        QCOMPARE(lines[1]["winner"].get<std::string>(), lines[1]["right"].get<std::string>());
        QCOMPARE(lines[2]["winner"], "tie");
        QCOMPARE(lines[0]["scores"][left0]["faithfulness"], 4);
        QCOMPARE(lines[0]["scores"][right0]["coverage"], 2);
        QCOMPARE(lines[0]["scores"][right0]["faithfulness"], 0);
        QCOMPARE(lines[0]["note"], "2 names invented");
    }

    // Reopen the file: the session resumes at the first unrated item, and a re-rating appends.
    RatingPage page;
    page.show();
    QVERIFY(QTest::qWaitForWindowActive(&page));
    QSignalSpy opened(&page, &RatingPage::resultsOpened);
    QVERIFY(page.rateTab()->resumeFromFile(ratings));
    QVERIFY(opened.wait(10000));
    QTRY_VERIFY(page.rateTab()->hasSession());
    QCOMPARE(page.rateTab()->ratedCount(), 3);
    QCOMPARE(page.rateTab()->sampleCount(), 5);
    QCOMPARE(page.rateTab()->currentItem(), 3);
    QCOMPARE(page.rateTab()->progressText(), QStringLiteral("3 / 5"));
    page.rateTab()->showItem(0);
    QCOMPARE(decode(page.rateTab()->summaryText(RatingPage::Left)), shownLeft[0]);  // same item, same order
    QCOMPARE(page.findChild<QSpinBox*>(QStringLiteral("faithfulnessASpin"))->value(), 4);  // its rating is shown
    QVERIFY(page.rateTab()->rate(sumlab::Choice::tie));
    QCOMPARE(page.rateTab()->ratedCount(), 3);
    QCOMPARE(page.rateTab()->currentItem(), 3);
    QCOMPARE(ratingLines(ratings).size(), 4);
    const sumlab::RatingFile file = sumlab::read_rating_file(ratings.toStdString());
    QCOMPARE(file.latest().at(0).winner, std::string("tie"));

    // Another results CSV ends the session: its items were rows of the old table.
    const QString other = m_dir.filePath(QStringLiteral("other.csv"));
    ui_test::writeFile(other, "human_baseline_summaries,original_model_summaries,peft_model_summaries\n\"H.\",\"A.\",\"B.\"\n");
    QVERIFY(openAndWait(page, other));
    QVERIFY(!page.rateTab()->hasSession());
    QCOMPARE(page.rateTab()->progressText(), QStringLiteral("0 / 0"));
    QVERIFY(!page.rateTab()->rate(sumlab::Choice::left));
    QCOMPARE(ratingLines(ratings).size(), 4);
}

void TestRatingPage::mergeShowsKappaAndExports() {
    // Two raters of the same sample, written through the engine: winners by position a, a, b, tie, b and
    // a, b, b, tie, a (a = original_model). By hand: p_o = 3/5, p_e = (2*2 + 2*2 + 1*1)/25 = 9/25,
    // kappa = (15 - 9) / (25 - 9) = 0.375.
    const sumlab::ResultsTable table = makeTable();
    const auto write = [&](const QString& rater, const QString& winners) {
        const QString path = m_dir.filePath(rater + QStringLiteral("-merge.jsonl"));
        QFile::remove(path);
        const sumlab::RatingPlan plan = sumlab::make_rating_plan(table, m_results.toStdString(), "original_model", "peft_model", 5, 3);
        sumlab::RatingSession s(path.toStdString(), rater.toStdString(), plan);
        for (std::size_t p = 0; p < 5; ++p) {
            const QChar w = winners.at(static_cast<int>(p));
            const std::string system = w == 'a' ? "original_model" : "peft_model";
            const sumlab::Choice c = w == 't' ? sumlab::Choice::tie
                                              : plan.items[p].left_system == system ? sumlab::Choice::left : sumlab::Choice::right;
            s.record(s.make_rating(p, c));
        }
        return path;
    };
    const QString ann = write(QStringLiteral("ann"), QStringLiteral("aabtb"));
    const QString bob = write(QStringLiteral("bob"), QStringLiteral("abbta"));

    RatingPage page;
    page.mergeTab()->clearRaterFiles();
    page.mergeTab()->addRaterFiles({ann, bob});
    QCOMPARE(page.mergeTab()->raterFiles().size(), 2);
    QString error;
    QVERIFY(!page.mergeTab()->exportMergedCsv(m_dir.filePath(QStringLiteral("early.csv")), &error));  // nothing merged yet
    QVERIFY(!error.isEmpty());
    QSignalSpy finished(&page, &RatingPage::mergeFinished);
    page.mergeTab()->mergeRaters();  // no results CSV open: the files' session line names it
    QVERIFY(finished.wait(20000));
    QCOMPARE(finished.at(0).at(0).toBool(), true);
    const QString report = page.mergeTab()->reportText();
    QVERIFY2(report.contains(QStringLiteral("Cohen's κ")), qPrintable(report));
    // The preference row of the agreement table carries kappa = 0.375.
    QVERIFY2(report.contains(QStringLiteral("0.375")), qPrintable(report));
    QVERIFY2(report.contains(QStringLiteral("ann, bob")), qPrintable(report));
    QVERIFY2(report.contains(QStringLiteral("Spearman")), qPrintable(report));
    auto* exportCsv = page.findChild<QPushButton*>(QStringLiteral("exportRatingsCsvButton"));
    QVERIFY(exportCsv->isEnabled());
    const QString csv = m_dir.filePath(QStringLiteral("merged.csv"));
    QVERIFY2(page.mergeTab()->exportMergedCsv(csv, &error), qPrintable(error));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> csvLines = f.readAll().trimmed().split('\n');
    QCOMPARE(csvLines.size(), 11);  // header and 2 x 5 ratings
    QVERIFY(csvLines[0].startsWith("rater,time,item,row,id,left,right,choice,winner"));
    const QString jsonl = m_dir.filePath(QStringLiteral("merged.jsonl"));
    QVERIFY2(page.mergeTab()->exportMergedJsonl(jsonl, &error), qPrintable(error));
    QFile g(jsonl);
    QVERIFY(g.open(QIODevice::ReadOnly));
    QCOMPARE(g.readAll().trimmed().split('\n').size(), 10);
}

void TestRatingPage::resultsWithoutHumanColumnIsAnError() {
    const QString path = m_dir.filePath(QStringLiteral("no-human.csv"));
    ui_test::writeFile(path, "original_model_summaries,peft_model_summaries\n\"A.\",\"B.\"\n");
    RatingPage page;
    QSignalSpy failed(&page, &RatingPage::loadFailed);
    page.openResults(path);
    QVERIFY(failed.wait(10000));
    QVERIFY2(page.rateTab()->errorText().contains(QStringLiteral("human_baseline_summaries")), qPrintable(page.rateTab()->errorText()));
    QVERIFY2(page.rateTab()->errorText().contains(QStringLiteral("no-human.csv")), qPrintable(page.rateTab()->errorText()));
    QVERIFY(page.findChild<QWidget*>(QStringLiteral("ratingErrorLabel"))->isVisibleTo(&page));
    page.rateTab()->setRater(QStringLiteral("ann"));
    QVERIFY(!page.rateTab()->startSession());
    QVERIFY(!page.rateTab()->hasSession());
}

void TestRatingPage::resultsWithoutChosenSystemsIsAnError() {
    const QString path = m_dir.filePath(QStringLiteral("one-system.csv"));
    ui_test::writeFile(path, "human_baseline_summaries,original_model_summaries\n\"H.\",\"A.\"\n\"H2.\",\"A2.\"\n");
    RatingPage page;
    QVERIFY(openAndWait(page, path));
    QCOMPARE(page.rateTab()->systems(), QStringList{QStringLiteral("original_model")});
    QVERIFY(!page.rateTab()->setSystems(QStringLiteral("original_model"), QStringLiteral("peft_model")));
    QVERIFY2(page.rateTab()->errorText().contains(QStringLiteral("peft_model_summaries")) && page.rateTab()->errorText().contains(QStringLiteral("one-system.csv")),
             qPrintable(page.rateTab()->errorText()));
    page.rateTab()->setRater(QStringLiteral("ann"));
    page.rateTab()->setRatingsPath(m_dir.filePath(QStringLiteral("one.jsonl")));
    QVERIFY(!page.rateTab()->startSession());
    QVERIFY2(page.rateTab()->errorText().contains(QStringLiteral("only one system")), qPrintable(page.rateTab()->errorText()));
    QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("one.jsonl"))));
}

void TestRatingPage::ratingsFileOfAnotherSampleIsRefused() {
    const QString ratings = m_dir.filePath(QStringLiteral("cy.jsonl"));
    {
        RatingPage page;
        startSession(page, QStringLiteral("cy"), ratings);
    }
    RatingPage page;
    QVERIFY(openAndWait(page, m_results));
    QVERIFY(page.rateTab()->setSystems(QStringLiteral("original_model"), QStringLiteral("peft_model")));
    page.rateTab()->setSampleSize(5);
    page.rateTab()->setSeed(8);  // not the file's seed
    page.rateTab()->setRater(QStringLiteral("cy"));
    page.rateTab()->setRatingsPath(ratings);
    QVERIFY(!page.rateTab()->startSession());
    QVERIFY2(page.rateTab()->errorText().contains(QStringLiteral("seed")), qPrintable(page.rateTab()->errorText()));
    QVERIFY(!page.rateTab()->hasSession());
}

QTEST_MAIN(TestRatingPage)
#include "tst_ratingpage.moc"
