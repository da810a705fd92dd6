// Tests for ui/NewModelDialog (the Models page's "New model…"): the live estimate's parameter count against
// count_parameters of the folder it then writes (gated-gelu tied, relu untied, encoder and decoder depths
// different), a folder written with an existing tokenizer that load_model reads and the registry lists as
// Ready, a non-empty output folder refused up front with nothing written, and a tokenizer trained first
// from a small DialogSum folder.
#include "models/checkpoint.h"
#include "engine/text/tokenizer.h"

#include "tests/common/sanitizer.h"
#include "ui/ModelRegistry.h"
#include "ui/ModelsPage.h"
#include "ui/NewModelDialog.h"
#include "ui_test_support.h"

#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

class TestNewModelDialog : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void estimateMatchesWrittenModel_data();
    void estimateMatchesWrittenModel();
    void refusesNonEmptyOutput();
    void trainsTokenizerFirst();
    void modelsPageOpensDialog();

private:
    QTemporaryDir m_dir;
};

namespace {

struct Shape {
    int dModel, dFf, dKv, numHeads, numLayers, numDecoderLayers;
    QString feedForward;
    bool tie;
};

}  // namespace
Q_DECLARE_METATYPE(Shape)
namespace {

void setShape(NewModelDialog& dialog, const Shape& s) {
    const std::pair<const char*, int> fields[] = {{"newModelDModel", s.dModel},       {"newModelDFf", s.dFf},
                                                  {"newModelDKv", s.dKv},             {"newModelNumHeads", s.numHeads},
                                                  {"newModelNumLayers", s.numLayers}, {"newModelNumDecoderLayers", s.numDecoderLayers}};
    for (const auto& [name, value] : fields) {
        auto* box = dialog.findChild<QSpinBox*>(QLatin1String(name));
        QVERIFY2(box, name);
        box->setValue(value);
    }
    auto* ff = dialog.findChild<QComboBox*>(QStringLiteral("newModelFeedForward"));
    auto* tie = dialog.findChild<QCheckBox*>(QStringLiteral("newModelTie"));
    QVERIFY(ff && tie);
    ff->setCurrentText(s.feedForward);
    QCOMPARE(ff->currentText(), s.feedForward);
    tie->setChecked(s.tie);
}

void setText(NewModelDialog& dialog, const char* objectName, const QString& text) {
    auto* edit = dialog.findChild<QLineEdit*>(QLatin1String(objectName));
    QVERIFY2(edit, objectName);
    edit->setText(text);
}

QPushButton* createButton(NewModelDialog& dialog) { return dialog.findChild<QPushButton*>(QStringLiteral("newModelCreateButton")); }

// Clicks Create and waits for the registry to have checked the new folder.
void createAndRegister(NewModelDialog& dialog, ModelRegistry& registry, const QString& output) {
    QSignalSpy created(&dialog, &NewModelDialog::created);
    QSignalSpy registered(&registry, &ModelRegistry::registered);
    QVERIFY(createButton(dialog));
    createButton(dialog)->click();
    QVERIFY2(dialog.isRunning(), qPrintable(dialog.statusText()));
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.isRunning(), 120000);
    QVERIFY2(created.count() == 1, qPrintable(dialog.statusText()));
    QCOMPARE(created.at(0).at(0).toString(), output);
    QVERIFY(registered.count() == 1 || registered.wait(60000));
    const int row = registry.rowOfPath(output);
    QVERIFY2(row >= 0, qPrintable(output));
    QCOMPARE(registry.state(row), ModelRegistry::State::Ready);
}

QByteArray fileBytes(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

void TestNewModelDialog::initTestCase() {
    ui_test::isolateSettings();
    QVERIFY(m_dir.isValid());
}

void TestNewModelDialog::init() { QSettings().clear(); }

void TestNewModelDialog::estimateMatchesWrittenModel_data() {
    QTest::addColumn<Shape>("shape");
    // Encoder and decoder depths differ, so an estimate that took one for the other would be off.
    QTest::addRow("gated-gelu/tied") << Shape{32, 64, 8, 4, 2, 3, QStringLiteral("gated-gelu"), true};
    QTest::addRow("relu/untied") << Shape{48, 96, 12, 2, 3, 1, QStringLiteral("relu"), false};
}

void TestNewModelDialog::estimateMatchesWrittenModel() {
    QFETCH(Shape, shape);
    const QString tokenizer = ui_test::tinyFlan();
    if (!QFileInfo::exists(tokenizer + QStringLiteral("/spiece.model")))
        QSKIP(qPrintable(QStringLiteral("tokenizer not found at %1/spiece.model").arg(tokenizer)));
    SUMLAB_REQUIRE_SENTENCEPIECE();  // the dialog reads the tokenizer's vocabulary
    ModelRegistry registry;
    QAbstractItemModelTester tester(&registry, QAbstractItemModelTester::FailureReportingMode::QtTest);
    NewModelDialog dialog(&registry);
    setShape(dialog, shape);
    if (QTest::currentTestFailed()) return;  // a helper's QVERIFY returns from the helper only
    setText(dialog, "newModelTokenizerEdit", tokenizer);
    const QString output = m_dir.filePath(QStringLiteral("model-") + QString::fromLatin1(QTest::currentDataTag()).replace('/', '-'));
    setText(dialog, "newModelOutputEdit", output);

    const qint64 estimate = dialog.estimatedParameters();
    QVERIFY(estimate > 0);
    QCOMPARE(dialog.shape().vocabSize, sumlab::T5Tokenizer::from_directory(tokenizer.toStdString()).vocab_size());
    createAndRegister(dialog, registry, output);
    if (QTest::currentTestFailed()) return;  // a helper's QVERIFY returns from the helper only

    // What was written, counted as HF's num_parameters() does; the label shown before writing names the same number.
    const sumlab::LoadedModel loaded = sumlab::load_model(output.toStdString());
    const qint64 written = sumlab::count_parameters(*loaded.model);
    QCOMPARE(estimate, written);
    QVERIFY2(dialog.estimateText().contains(QLocale().toString(written)), qPrintable(dialog.estimateText()));
    QCOMPARE(registry.info(registry.rowOfPath(output)).parameters, written);
    QCOMPARE(loaded.config.d_model, qint64{shape.dModel});
    QCOMPARE(loaded.config.num_decoder_layers, qint64{shape.numDecoderLayers});
    QCOMPARE(QString::fromStdString(loaded.config.feed_forward_proj), shape.feedForward);
    QCOMPARE(loaded.config.tie_word_embeddings, shape.tie);
    QCOMPARE(loaded.config.vocab_size, dialog.shape().vocabSize);
    // The tokenizer travelled with the model.
    QVERIFY(registry.info(registry.rowOfPath(output)).hasTokenizer);
    QCOMPARE(fileBytes(output + QStringLiteral("/spiece.model")), fileBytes(tokenizer + QStringLiteral("/spiece.model")));
}

void TestNewModelDialog::refusesNonEmptyOutput() {
    // Tokenizer training is chosen so the case needs no SentencePiece: nothing may start, so nothing loads it.
    const QString data = m_dir.filePath(QStringLiteral("refuse-data"));
    ui_test::writeDialogSum(data, 8);
    const QString output = m_dir.filePath(QStringLiteral("occupied"));
    QVERIFY(QDir().mkpath(output));
    ui_test::writeFile(output + QStringLiteral("/keep.txt"), "mine");
    const QStringList before = QDir(m_dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);

    ModelRegistry registry;
    NewModelDialog dialog(&registry);
    QSignalSpy requested(&dialog, &NewModelDialog::requestCreate);
    dialog.findChild<QRadioButton*>(QStringLiteral("newModelTrainNew"))->setChecked(true);
    setText(dialog, "newModelDataEdit", data);
    setText(dialog, "newModelOutputEdit", output);
    createButton(dialog)->click();
    QVERIFY(!dialog.isRunning());
    QCOMPARE(requested.count(), 0);
    QVERIFY2(dialog.statusText().contains(output), qPrintable(dialog.statusText()));
    QTest::qWait(200);  // anything queued would have run by now
    QCOMPARE(QDir(output).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{QStringLiteral("keep.txt")});
    QCOMPARE(fileBytes(output + QStringLiteral("/keep.txt")), QByteArray("mine"));
    QCOMPARE(QDir(m_dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), before);  // no staging sibling
    QCOMPARE(registry.rowCount(), 0);
}

void TestNewModelDialog::trainsTokenizerFirst() {
    SUMLAB_REQUIRE_SENTENCEPIECE();
    const QString data = m_dir.filePath(QStringLiteral("train-data"));
    ui_test::writeDialogSum(data, 40);
    const int pieces = 64;  // what 40 near-identical dialogues support (SentencePiece refuses a vocabulary the text cannot fill)
    ModelRegistry registry;
    NewModelDialog dialog(&registry);
    setShape(dialog, Shape{32, 64, 8, 4, 2, 2, QStringLiteral("gated-gelu"), false});
    if (QTest::currentTestFailed()) return;  // a helper's QVERIFY returns from the helper only
    dialog.findChild<QRadioButton*>(QStringLiteral("newModelTrainNew"))->setChecked(true);
    setText(dialog, "newModelDataEdit", data);
    dialog.findChild<QSpinBox*>(QStringLiteral("newModelPieces"))->setValue(pieces);
    const QString output = m_dir.filePath(QStringLiteral("model-trained-tokenizer"));
    setText(dialog, "newModelOutputEdit", output);
    QCOMPARE(dialog.shape().vocabSize, qint64{pieces + 100});  // the pieces and T5's 100 extra ids
    const qint64 estimate = dialog.estimatedParameters();

    QElapsedTimer timer;
    timer.start();
    createAndRegister(dialog, registry, output);
    if (QTest::currentTestFailed()) return;  // a helper's QVERIFY returns from the helper only
    qInfo("tokenizer training and model creation: %lld ms", static_cast<long long>(timer.elapsed()));

    const sumlab::T5Tokenizer tokenizer = sumlab::T5Tokenizer::from_directory(output.toStdString());
    QCOMPARE(tokenizer.vocab_size(), qint64{pieces + 100});
    QCOMPARE(tokenizer.decode(tokenizer.encode("#Person1#: Hello, how are you?")), std::string("#Person1#: Hello, how are you?"));
    for (const char* file : {"tokenizer_config.json", "special_tokens_map.json"})
        QVERIFY2(QFileInfo(output + "/" + file).isFile(), file);
    const sumlab::LoadedModel loaded = sumlab::load_model(output.toStdString());
    QCOMPARE(loaded.config.vocab_size, qint64{pieces + 100});
    QCOMPARE(estimate, static_cast<qint64>(sumlab::count_parameters(*loaded.model)));
}

void TestNewModelDialog::modelsPageOpensDialog() {
    ModelRegistry registry;
    ModelsPage page(&registry);
    auto* button = page.findChild<QPushButton*>(QStringLiteral("newModelButton"));
    QVERIFY(button);
    QVERIFY(!button->accessibleName().isEmpty());
    button->click();
    auto* dialog = page.findChild<NewModelDialog*>(QStringLiteral("newModelDialog"));
    QVERIFY(dialog);
    QTRY_VERIFY(dialog->isVisible());
    // Starts from FLAN-T5 small's shape; its count needs the tokenizer, which is not chosen yet.
    QCOMPARE(dialog->findChild<QSpinBox*>(QStringLiteral("newModelDModel"))->value(), 512);
    QCOMPARE(dialog->estimatedParameters(), qint64{-1});
    // Every control a user reaches has an object name, an accessible name and a tooltip (Qt's inner parts excepted).
    QStringList missing;
    for (QWidget* w : dialog->findChildren<QWidget*>()) {
        const bool control = qobject_cast<QAbstractButton*>(w) || qobject_cast<QComboBox*>(w) || qobject_cast<QLineEdit*>(w) ||
                             qobject_cast<QAbstractSpinBox*>(w);
        if (!control || qobject_cast<QAbstractSpinBox*>(w->parentWidget()) || qobject_cast<QComboBox*>(w->parentWidget())) continue;
        if (w->objectName().isEmpty() || w->accessibleName().isEmpty() || w->toolTip().isEmpty())
            missing << QStringLiteral("%1 \"%2\"").arg(QString::fromLatin1(w->metaObject()->className()), w->objectName());
    }
    QVERIFY2(missing.isEmpty(), qPrintable(missing.join(QStringLiteral(", "))));
    dialog->reject();
}

QTEST_MAIN(TestNewModelDialog)
#include "tst_newmodeldialog.moc"
