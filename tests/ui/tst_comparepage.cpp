// ComparePage: real summaries from the tiny FLAN-T5 model and its LoRA adapter on the worker thread, the lab's
// default systems, picking dialogues (index, search, random), per-example ROUGE that agrees with the engine,
// highlighting that follows its toggles, results-CSV rows shown as they are, and a system that fails to load
// while the others still run, and the attention view of a generated summary.
#include "engine/metrics/rouge.h"
#include "models/t5/quantized_linear.h"

#include "engine/text/tokenizer.h"
#include "ui/AttentionDialog.h"
#include "ui/AttentionMap.h"
#include "ui/ComparePage.h"
#include "ui/GenerationSettingsWidget.h"
#include "ui/ModelRegistry.h"
#include "ui/SystemPicker.h"
#include "tests/common/sanitizer.h"
#include "ui_test_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>

namespace {

DialogueRecord record(const QString& id, const QString& dialogue, const QStringList& references) {
    DialogueRecord r;
    r.id = id;
    r.dialogue = dialogue;
    r.references = references;
    return r;
}

DatasetSnapshot dataset() {
    SplitSnapshot test;
    test.name = QStringLiteral("test");
    test.dialogues << record(QStringLiteral("test_0"), QStringLiteral("#Person1#: Where is the train station?\n#Person2#: Turn left at the bank."),
                             {QStringLiteral("#Person2# tells #Person1# the way to the train station."),
                              QStringLiteral("#Person1# asks for directions."), QStringLiteral("They talk about the station.")})
                   << record(QStringLiteral("test_1"), QStringLiteral("#Person1#: I would like a coffee, please.\n#Person2#: Sure, that is 3 dollars."),
                             {QStringLiteral("#Person1# orders a coffee from #Person2#.")})
                   << record(QStringLiteral("test_2"), QStringLiteral("#Person1#: My passport is lost.\n#Person2#: Call the embassy."),
                             {QStringLiteral("#Person1# lost a passport.")});
    DatasetSnapshot d;
    d.path = QStringLiteral("/nowhere");
    d.splits << test;
    return d;
}

}  // namespace

class TestComparePage : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void defaultsToTheLabsSystems();
    void picksDialogues();
    void generatesAndScores();
    void generationSettingsApply();
    void generationFormFollowsTheTable();
    void showsResultsRowsAndHighlights();
    void refusesWithoutDialogueOrSystem();
    void failingSystemLeavesOthersRunning();
    void attentionOfAGeneratedSummary();

private:
    QTemporaryDir m_tmp;
    ModelRegistry* m_registry = nullptr;
};

void TestComparePage::generationFormFollowsTheTable() {
    // One field per is_form row of the table, with its range, its HF name and help; values go in and out unchanged.
    GenerationSettingsWidget widget(QStringLiteral("t"));
    int rows = 0;
    for (const sumlab::GenerationSettingSpec& s : sumlab::generation_settings()) {
        if (!s.is_form) continue;
        ++rows;
        const QString key = QString::fromStdString(s.key);
        QWidget* field = nullptr;
        for (QWidget* w : widget.findChildren<QWidget*>())
            if (w->accessibleName() == key) field = w;
        QVERIFY2(field, qPrintable(key));
        QCOMPARE(field->toolTip(), key + QStringLiteral(": ") + QString::fromStdString(s.help));
        if (auto* spin = qobject_cast<QSpinBox*>(field)) {
            QCOMPARE(spin->minimum(), static_cast<int>(s.min));
            QCOMPARE(spin->maximum(), static_cast<int>(s.max));
        } else if (auto* real = qobject_cast<QDoubleSpinBox*>(field)) {
            QCOMPARE(real->minimum(), sumlab::generation_lowest_value(s, 0.001));  // an excluded minimum: one step above
            QCOMPARE(real->maximum(), s.max);
        }
    }
    QVERIFY(rows >= 4);
    GenerationSettings settings;
    settings.set("max_new_tokens", 77).set("num_beams", 3).set("no_repeat_ngram_size", 2).set("repetition_penalty", 1.25);
    settings.dtype = "bfloat16";
    widget.setSettings(settings);
    QCOMPARE(QString::fromStdString(widget.settings().values.dump()), QString::fromStdString(settings.values.dump()));
    QCOMPARE(widget.settings().dtype, std::string("bfloat16"));  // the precision the workers load the systems in
    // int8 quantizes float32 weights only: with bfloat16 the choice is off and stays none.
    auto* quantize = widget.findChild<QComboBox*>(QStringLiteral("tQuantizeCombo"));
    QVERIFY(quantize);
    QVERIFY(!quantize->isEnabled());
    QCOMPARE(widget.settings().quantize, std::string("none"));
    if (sumlab::int8_supported()) {
        settings.dtype = "float32";
        settings.quantize = "int8";
        widget.setSettings(settings);
        QVERIFY(quantize->isEnabled());
        QCOMPARE(widget.settings().quantize, std::string("int8"));  // what CompareWorker / EvaluationWorker pass to load_system
        QVERIFY2(widget.settings().describe().contains(QStringLiteral("quantize=int8")), qPrintable(widget.settings().describe()));
        settings.dtype = "bfloat16";
        widget.setSettings(settings);
        QCOMPARE(widget.settings().quantize, std::string("none"));
    }
    // The lab's defaults: max_new_tokens 200, the rest as transformers.
    QCOMPARE(GenerationSettingsWidget(QStringLiteral("u")).settings().maxNewTokens(), 200);
    QCOMPARE(settings.appliedTo(sumlab::GenerationConfig{}).num_beams, int64_t{3});
}

void TestComparePage::initTestCase() {
    ui_test::isolateSettings();
    QVERIFY(m_tmp.isValid());
    m_registry = new ModelRegistry(this);
    ui_test::registerFolder(*m_registry, ui_test::tinyFlan());
    ui_test::registerFolder(*m_registry, ui_test::tinyFlanAdapter(), ui_test::tinyFlan());
}

void TestComparePage::defaultsToTheLabsSystems() {
    ComparePage page(m_registry);
    const QVector<SystemSpec> systems = page.systemPicker()->systems();
    // The pre-trained model is "original", the adapter "PEFT"; no fine-tuned model is registered.
    QCOMPARE(systems.size(), 2);
    QCOMPARE(systems[0].column, QStringLiteral("original_model"));
    QCOMPARE(systems[0].adapterDir, QString());
    QCOMPARE(systems[1].column, QStringLiteral("peft_model"));
    QCOMPARE(QFileInfo(systems[1].adapterDir).fileName(), QFileInfo(ui_test::tinyFlanAdapter()).fileName());
    QCOMPARE(QFileInfo(systems[1].modelDir).fileName(), QFileInfo(ui_test::tinyFlan()).fileName());
}

void TestComparePage::picksDialogues() {
    ComparePage page(m_registry);
    page.setDataset(dataset());
    QCOMPARE(page.currentDialogue(), dataset().splits[0].dialogues[0].dialogue);
    QCOMPARE(page.currentReferences().size(), 3);
    QVERIFY(page.selectExample(QStringLiteral("test"), 2));
    QVERIFY(page.currentDialogue().contains(QStringLiteral("passport")));
    QVERIFY(!page.selectExample(QStringLiteral("test"), 3));
    QVERIFY(!page.selectExample(QStringLiteral("train"), 0));
    // Search looks after the shown dialogue and wraps; references count too.
    QVERIFY(page.findNext(QStringLiteral("COFFEE")));
    QVERIFY(page.currentDialogue().contains(QStringLiteral("coffee")));
    QVERIFY(page.findNext(QStringLiteral("directions")));
    QCOMPARE(page.currentDialogue(), dataset().splits[0].dialogues[0].dialogue);
    QVERIFY(!page.findNext(QStringLiteral("zebra")));
    QVERIFY(page.statusText().contains(QStringLiteral("zebra")));
    for (int i = 0; i < 5; ++i) {
        page.selectRandom();
        QVERIFY(!page.currentDialogue().isEmpty());
    }
    // The controls drive the same selection.
    auto* index = page.findChild<QSpinBox*>(QStringLiteral("compareIndexSpin"));
    QCOMPARE(index->maximum(), 2);
    index->setValue(1);
    QVERIFY(page.currentDialogue().contains(QStringLiteral("coffee")));
}

void TestComparePage::generatesAndScores() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // generation tokenizes the dialogues
    ComparePage page(m_registry);
    page.show();
    page.setDataset(dataset());
    GenerationSettings settings;
    settings.set("max_new_tokens", 20);
    page.generationSettings()->setSettings(settings);
    QSignalSpy finished(&page, &ComparePage::generationFinished);
    QVERIFY(page.generate());
    QVERIFY(page.isGenerating());
    QVERIFY(!page.findChild<QPushButton*>(QStringLiteral("compareGenerateButton"))->isEnabled());
    QVERIFY(finished.wait(120000));
    QCOMPARE(finished.first().at(0).toBool(), false);
    QCOMPARE(page.summaryCount(), 2);
    const sumlab::RougeScorer scorer(sumlab::Stemming::porter);
    std::vector<std::string> references;
    for (const QString& r : page.currentReferences()) references.push_back(r.toStdString());
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(page.summaryState(i), ComparePage::SummaryState::Done);
        QVERIFY2(!page.summaryText(i).trimmed().isEmpty(), qPrintable(QString::number(i)));
        // The per-example score is rouge_score's score_multi over the three references.
        const sumlab::RougeScores s = scorer.score_multi(references, page.summaryText(i).toStdString());
        const QString expected = QStringLiteral("ROUGE-1 %1 · ROUGE-2 %2").arg(100 * s.rouge1.fmeasure, 0, 'f', 2).arg(100 * s.rouge2.fmeasure, 0, 'f', 2);
        QVERIFY2(page.scoreText(i).startsWith(expected), qPrintable(page.scoreText(i) + " vs " + expected));
        QVERIFY(page.scoreText(i).contains(QStringLiteral("best of 3 references")));
    }
    // The adapter changes the model, so its summary differs from the base model's.
    QVERIFY2(page.summaryText(0) != page.summaryText(1), qPrintable(page.summaryText(0)));
    QCOMPARE(page.statusText(), QStringLiteral("Done"));
    QVERIFY(page.findChild<QPushButton*>(QStringLiteral("compareGenerateButton"))->isEnabled());
}

void TestComparePage::generationSettingsApply() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    ComparePage page(m_registry);
    page.setDataset(dataset());
    page.selectExample(QStringLiteral("test"), 1);
    QSignalSpy finished(&page, &ComparePage::generationFinished);
    GenerationSettings settings;
    settings.set("max_new_tokens", 40);
    page.generationSettings()->setSettings(settings);
    QVERIFY(page.generate());
    QVERIFY(finished.wait(120000));
    const QString longer = page.summaryText(0);
    settings.set("max_new_tokens", 2);
    page.generationSettings()->setSettings(settings);
    QVERIFY(page.generate());
    QVERIFY(finished.wait(120000));
    const QString shorter = page.summaryText(0);
    // Greedy search: two tokens are the start of the forty-token summary.
    QVERIFY2(shorter.size() < longer.size() && longer.startsWith(shorter.trimmed()), qPrintable(shorter + " / " + longer));
    QVERIFY(page.scoreText(0).contains(QStringLiteral("Stopped at max_new_tokens")));
}

void TestComparePage::showsResultsRowsAndHighlights() {
    ComparePage page(m_registry);
    CompareExample example;
    example.title = QStringLiteral("results.csv row 0");
    example.dialogue = QStringLiteral("#Person1#: I paid 20 dollars.\n#Person2#: Thanks.");
    example.references = {QStringLiteral("#Person1# paid 20 dollars.")};
    example.systemNames = {QStringLiteral("copy"), QStringLiteral("made_up")};
    example.summaries = {QStringLiteral("#Person1# paid 20 dollars."), QStringLiteral("#Person1# paid 50 dollars to Mister Brown.")};
    page.showExample(example);
    QCOMPARE(page.summaryCount(), 2);
    QCOMPARE(page.summaryText(1), example.summaries[1]);
    QVERIFY(page.scoreText(0).startsWith(QStringLiteral("ROUGE-1 100.00 · ROUGE-2 100.00")));
    QVERIFY2(page.scoreText(1).contains(QStringLiteral("Not in the dialogue: 50, Mister, Brown")), qPrintable(page.scoreText(1)));
    auto* first = page.findChild<QTextBrowser*>(QStringLiteral("compareSummaryView1"));
    auto* second = page.findChild<QTextBrowser*>(QStringLiteral("compareSummaryView2"));
    QVERIFY(first->toHtml().contains(QStringLiteral("#8fd19e")));   // bigram matches
    QVERIFY(second->toHtml().contains(QStringLiteral("#ffcf8a")));  // unsupported number and name
    page.findChild<QCheckBox*>(QStringLiteral("compareMatchesCheck"))->setChecked(false);
    QVERIFY(!first->toHtml().contains(QStringLiteral("#8fd19e")));
    QVERIFY(second->toHtml().contains(QStringLiteral("#ffcf8a")));
    page.findChild<QCheckBox*>(QStringLiteral("compareFlagsCheck"))->setChecked(false);
    QVERIFY(!second->toHtml().contains(QStringLiteral("#ffcf8a")));
    // The stemmer decides what matches: "dollar" matches "dollars" only stemmed (P 1, R 1/4, F 0.4).
    example.summaries = {QStringLiteral("dollar")};
    example.systemNames = {QStringLiteral("stem")};
    page.showExample(example);
    QVERIFY2(page.scoreText(0).startsWith(QStringLiteral("ROUGE-1 40.00")), qPrintable(page.scoreText(0)));
    page.findChild<QCheckBox*>(QStringLiteral("compareStemmerCheck"))->setChecked(false);
    QVERIFY2(page.scoreText(0).startsWith(QStringLiteral("ROUGE-1 0.00")), qPrintable(page.scoreText(0)));
}

void TestComparePage::refusesWithoutDialogueOrSystem() {
    ComparePage page(m_registry);
    QVERIFY(!page.generate());
    QVERIFY(page.statusText().contains(QStringLiteral("No dialogue")));
    page.setDataset(dataset());
    page.systemPicker()->setSystems({});
    QVERIFY(!page.generate());
    QVERIFY(page.statusText().contains(QStringLiteral("No system")));
}

void TestComparePage::failingSystemLeavesOthersRunning() {
    SUMLAB_REQUIRE_SENTENCEPIECE();  // with the tokenizer refused, every system fails
    // A model folder that passes registration and then loses its weights.
    const QString broken = m_tmp.filePath(QStringLiteral("broken-model"));
    ui_test::registerBrokenModel(*m_registry, broken);
    if (QTest::currentTestFailed()) return;

    ComparePage page(m_registry);
    page.setDataset(dataset());
    QVector<SystemSpec> chosen;
    for (const SystemSpec& s : page.systemPicker()->available())
        if (s.modelDir == QFileInfo(broken).absoluteFilePath() || s.column == QStringLiteral("original_model")) chosen << s;
    QCOMPARE(chosen.size(), 2);
    if (chosen[0].column == QStringLiteral("original_model")) std::swap(chosen[0], chosen[1]);
    page.systemPicker()->setSystems(chosen);
    QSignalSpy finished(&page, &ComparePage::generationFinished);
    QVERIFY(page.generate());
    QVERIFY(finished.wait(120000));
    QCOMPARE(page.summaryState(0), ComparePage::SummaryState::Failed);
    QVERIFY2(page.summaryError(0).contains(QStringLiteral("model.safetensors")), qPrintable(page.summaryError(0)));
    QCOMPARE(page.summaryState(1), ComparePage::SummaryState::Done);
    QVERIFY(!page.summaryText(1).isEmpty());
    QVERIFY(page.statusText().contains(QStringLiteral("1 system(s) failed")));
    m_registry->removeFolder(m_registry->rowOfPath(QFileInfo(broken).absoluteFilePath()));
}

void TestComparePage::attentionOfAGeneratedSummary() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    ComparePage page(m_registry);
    page.setDataset(dataset());
    page.selectExample(QStringLiteral("test"), 1);
    auto* button = page.findChild<QPushButton*>(QStringLiteral("compareAttentionButton1"));
    QVERIFY(button);
    QVERIFY(!button->isEnabled());  // nothing generated yet
    QVERIFY(!page.showAttention(0));
    GenerationSettings settings;
    settings.set("max_new_tokens", 20);
    page.generationSettings()->setSettings(settings);
    QSignalSpy finished(&page, &ComparePage::generationFinished);
    QVERIFY(page.generate());
    QVERIFY(finished.wait(120000));
    QVERIFY(button->isEnabled());
    button->click();
    AttentionDialog* dialog = page.attentionDialog();
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    QSignalSpy shown(dialog, &AttentionDialog::attentionShown);
    QVERIFY(dialog->isComputing());
    QVERIFY(shown.wait(60000));
    AttentionView* view = dialog->view();
    QVERIFY(view->hasAttention());
    QCOMPARE(view->findChild<QLabel*>(QStringLiteral("attentionTitleLabel"))->text(), page.systemPicker()->systems()[0].label);
    QCOMPARE(view->findChild<QComboBox*>(QStringLiteral("attentionLayerCombo"))->count(), 1 + 2);  // tiny-flan: 2 decoder layers
    // One map token per token of the summary, its </s> included, and each row's mass all on the source.
    const sumlab::T5Tokenizer tokenizer = sumlab::T5Tokenizer::from_directory(ui_test::tinyFlan().toStdString());
    const int tokens = static_cast<int>(tokenizer.encode(page.summaryText(0).toStdString(), true).size());
    QVERIFY(view->map()->tokenRect(tokens - 1).isValid());
    QVERIFY(!view->map()->tokenRect(tokens).isValid());
    double total = view->map()->shares().end_of_source;
    for (double w : view->map()->shares().words) total += w;
    QVERIFY2(std::abs(total - 1) < 1e-5, qPrintable(QString::number(total, 'g', 10)));
    // The adapter's summary opens in the same window, replacing the first.
    QVERIFY(page.showAttention(1));
    QVERIFY(shown.wait(60000));
    QCOMPARE(view->findChild<QLabel*>(QStringLiteral("attentionTitleLabel"))->text(), page.systemPicker()->systems()[1].label);
    // Results-file rows name no system of this page: no attention.
    CompareExample example;
    example.title = QStringLiteral("results.csv row 0");
    example.dialogue = page.currentDialogue();
    example.references = {QStringLiteral("A reference.")};
    example.systemNames = {QStringLiteral("made_up")};
    example.summaries = {QStringLiteral("Some summary.")};
    page.showExample(example);
    QVERIFY(!button->isEnabled());
    QVERIFY(!page.showAttention(0));
}

QTEST_MAIN(TestComparePage)
#include "tst_comparepage.moc"
