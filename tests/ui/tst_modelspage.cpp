// Tests for ui/ModelsPage and ui/ModelRegistry: registering a model folder (checked on the inspector thread),
// its parameter count and format, refusing folders that are not models with the reason, adapters with
// their base, and the list remembered in QSettings.
#include "base/install_paths.h"
#include "models/checkpoint.h"

#include "ui/ModelRegistry.h"
#include "ui/ModelsPage.h"
#include "ui/TrainingEstimate.h"
#include "ui_test_support.h"

#include <QAbstractItemModelTester>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>

class TestModelsPage : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void registersModel();
    void refusesNonModelFolder_data();
    void refusesNonModelFolder();
    void refusesDuplicate();
    void registersAdapterWithBase();
    void remembersFolders();
    void removesAndRechecks();
    void listsBuiltInModels();

private:
    QTemporaryDir m_dir;
};

void TestModelsPage::initTestCase() {
    ui_test::isolateSettings();
    QVERIFY(m_dir.isValid());
    if (!QFileInfo::exists(ui_test::tinyFlan())) QSKIP(qPrintable(QStringLiteral("tiny-flan not found at %1").arg(ui_test::tinyFlan())));
}

void TestModelsPage::init() { QSettings().clear(); }

void TestModelsPage::registersModel() {
    ModelRegistry registry;
    QAbstractItemModelTester tester(&registry, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ModelsPage page(&registry);
    QSignalSpy registered(&registry, &ModelRegistry::registered);
    auto* path = page.findChild<QLineEdit*>(QStringLiteral("modelPathEdit"));
    auto* button = page.findChild<QPushButton*>(QStringLiteral("registerModelButton"));
    QVERIFY(path && button);
    path->setText(ui_test::tinyFlan());
    button->click();
    QCOMPARE(registry.rowCount(), 1);
    QCOMPARE(registry.state(0), ModelRegistry::State::Checking);
    QVERIFY(registered.wait(60000));
    QCOMPARE(registry.state(0), ModelRegistry::State::Ready);
    QCOMPARE(page.errorText(), QString());

    // The count is the engine's: load the model and count, as HF's num_parameters() does.
    const sumlab::LoadedModel loaded = sumlab::load_model(ui_test::tinyFlan().toStdString());
    const qint64 expected = sumlab::count_parameters(*loaded.model);
    const ModelInfo& info = registry.info(0);
    QCOMPARE(info.parameters, expected);
    QCOMPARE(registry.index(0, ModelRegistry::ParametersColumn).data().toString(), QLocale().toString(expected));
    QCOMPARE(registry.index(0, ModelRegistry::FormatColumn).data().toString(), QStringLiteral("safetensors"));
    QCOMPARE(registry.index(0, ModelRegistry::NameColumn).data().toString(), QStringLiteral("tiny-flan"));
    QCOMPARE(info.shape.dModel, qint64{64});
    QCOMPARE(info.shape.numHeads, qint64{4});
    QVERIFY(info.shape.isGated);
    QVERIFY(!info.shape.tieWordEmbeddings);
    QVERIFY(info.hasTokenizer);
    QCOMPARE(info.weightsBytes, QFileInfo(ui_test::tinyFlan() + QStringLiteral("/model.safetensors")).size());
    // The config arithmetic of the Train page's estimate gives the same count.
    QCOMPARE(TrainingEstimator::parameterCount(info.shape), expected);

    auto* details = page.findChild<QTextBrowser*>(QStringLiteral("modelDetails"));
    const QString text = details->toPlainText();
    QVERIFY2(text.contains(QLocale().toString(expected)), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("gated-gelu")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("model.safetensors")), qPrintable(text));
}

void TestModelsPage::refusesNonModelFolder_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QString>("reason");
    const QString empty = m_dir.filePath(QStringLiteral("not-a-model"));
    QDir().mkpath(empty);
    ui_test::writeFile(QDir(empty).filePath(QStringLiteral("notes.txt")), "hello\n");
    QTest::addRow("no weights") << empty << QStringLiteral("no weights");
    const QString noConfig = m_dir.filePath(QStringLiteral("weights-only"));
    QDir().mkpath(noConfig);
    QVERIFY(QFile::copy(ui_test::tinyFlan() + QStringLiteral("/model.safetensors"), QDir(noConfig).filePath(QStringLiteral("model.safetensors"))));
    QTest::addRow("no config") << noConfig << QStringLiteral("config.json");
    QTest::addRow("missing folder") << m_dir.filePath(QStringLiteral("nowhere")) << QStringLiteral("no such folder");
}

void TestModelsPage::refusesNonModelFolder() {
    QFETCH(QString, folder);
    QFETCH(QString, reason);
    ModelRegistry registry;
    QAbstractItemModelTester tester(&registry, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ModelsPage page(&registry);
    QSignalSpy failed(&registry, &ModelRegistry::registrationFailed);
    page.registerFolder(folder);
    QVERIFY(failed.wait(60000));
    QCOMPARE(registry.rowCount(), 0);
    const QString error = page.errorText();
    QVERIFY2(error.contains(reason), qPrintable(error));
    QVERIFY2(error.contains(QFileInfo(folder).fileName()), qPrintable(error));
    QCOMPARE(page.findChild<QLabel*>(QStringLiteral("modelErrorLabel"))->text(), error);
    // Not remembered either.
    QCOMPARE(QSettings().beginReadArray(QStringLiteral("models/entries")), 0);
}

void TestModelsPage::refusesDuplicate() {
    ModelRegistry registry;
    QSignalSpy registered(&registry, &ModelRegistry::registered);
    QVERIFY(registry.addFolder(ui_test::tinyFlan()));
    QVERIFY(registered.wait(60000));
    QSignalSpy failed(&registry, &ModelRegistry::registrationFailed);
    QVERIFY(!registry.addFolder(ui_test::tinyFlan() + QStringLiteral("/")));
    QCOMPARE(failed.count(), 1);
    QVERIFY(failed.first().at(1).toString().contains(QStringLiteral("already registered")));
    QCOMPARE(registry.rowCount(), 1);
}

void TestModelsPage::registersAdapterWithBase() {
    if (!QFileInfo::exists(ui_test::tinyFlanAdapter())) QSKIP(qPrintable(QStringLiteral("adapter not found at %1").arg(ui_test::tinyFlanAdapter())));
    ModelRegistry registry;
    QAbstractItemModelTester tester(&registry, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ModelsPage page(&registry);
    QSignalSpy registered(&registry, &ModelRegistry::registered);
    page.registerFolder(ui_test::tinyFlanAdapter());
    QVERIFY(registered.wait(60000));
    const ModelInfo& info = registry.info(0);
    QCOMPARE(info.kind, ModelKind::Adapter);
    QCOMPARE(registry.index(0, ModelRegistry::KindColumn).data().toString(), QStringLiteral("LoRA adapter"));
    QCOMPARE(info.adapter.r, qint64{4});
    QCOMPARE(info.adapter.loraAlpha, 8.0);
    QCOMPARE(info.adapter.targetModules, (QStringList{QStringLiteral("q"), QStringLiteral("v")}));
    // base_model_name_or_path "tiny-flan" names the sibling folder.
    QCOMPARE(info.basePath, QDir::cleanPath(ui_test::tinyFlan()));
    // PEFT's numbers from the attached adapter equal the config arithmetic.
    QCOMPARE(info.adapterParameters, TrainingEstimator::loraParameterCount(info.shape, 4, {QStringLiteral("q"), QStringLiteral("v")}));
    QCOMPARE(info.allParameters, info.parameters + info.adapterParameters);
    QVERIFY2(info.peftText.startsWith(QStringLiteral("trainable params: ")), qPrintable(info.peftText));
    const QString details = page.findChild<QTextBrowser*>(QStringLiteral("modelDetails"))->toPlainText();
    QVERIFY2(details.contains(QStringLiteral("q, v")), qPrintable(details));
    QVERIFY2(details.contains(info.peftText), qPrintable(details));
}

void TestModelsPage::remembersFolders() {
    {
        ModelRegistry registry;
        QSignalSpy registered(&registry, &ModelRegistry::registered);
        QVERIFY(registry.addFolder(ui_test::tinyFlan()));
        QVERIFY(registered.wait(60000));
    }
    ModelRegistry again;
    QAbstractItemModelTester tester(&again, QAbstractItemModelTester::FailureReportingMode::QtTest);
    again.restore();
    QCOMPARE(again.rowCount(), 1);
    QCOMPARE(again.info(0).path, QDir::cleanPath(ui_test::tinyFlan()));
    QTRY_COMPARE_WITH_TIMEOUT(again.state(0), ModelRegistry::State::Ready, 60000);
    QCOMPARE(again.readyEntries(ModelKind::Model).size(), 1);
}

// The models SumLab ships are listed first without being registered, cannot be removed, and are never
// written to QSettings (a later install's folder is found again, not a stale path).
void TestModelsPage::listsBuiltInModels() {
    const QString root = m_dir.filePath(QStringLiteral("share/models"));
    const QString shipped = root + QStringLiteral("/demo");
    QDir().mkpath(shipped);
    for (const QString& f : QDir(ui_test::tinyFlan()).entryList(QDir::Files)) QVERIFY(QFile::copy(ui_test::tinyFlan() + '/' + f, shipped + '/' + f));
    QDir().mkpath(root + QStringLiteral("/not-a-model"));  // no config.json: not listed
    QStringList found;
    for (const std::string& d : sumlab::builtin_model_dirs(root.toStdString())) found << QString::fromStdString(d);
    QCOMPARE(found, QStringList{shipped});
    {
        ModelRegistry registry;
        QAbstractItemModelTester tester(&registry, QAbstractItemModelTester::FailureReportingMode::QtTest);
        registry.setBuiltInFolders(found);
        ModelsPage page(&registry);
        registry.restore();
        QCOMPARE(registry.rowCount(), 1);
        QVERIFY(registry.isBuiltIn(0));
        QTRY_COMPARE_WITH_TIMEOUT(registry.state(0), ModelRegistry::State::Ready, 60000);
        QVERIFY2(registry.index(0, ModelRegistry::StatusColumn).data().toString().contains(QStringLiteral("built in")),
                 qPrintable(registry.index(0, ModelRegistry::StatusColumn).data().toString()));
        page.findChild<QTableView*>()->selectRow(0);
        QVERIFY(!page.findChild<QPushButton*>(QStringLiteral("removeModelButton"))->isEnabled());
        registry.removeFolder(0);
        QCOMPARE(registry.rowCount(), 1);
        QSignalSpy registered(&registry, &ModelRegistry::registered);
        QVERIFY(registry.addFolder(ui_test::tinyFlan()));  // a user folder, saved beside
        QVERIFY(registered.wait(60000));
        QCOMPARE(registry.readyEntries(ModelKind::Model).size(), 2);
    }
    ModelRegistry again;  // this install ships nothing: only the user's folder comes back
    again.setBuiltInFolders({});
    again.restore();
    QCOMPARE(again.rowCount(), 1);
    QCOMPARE(again.info(0).path, QDir::cleanPath(ui_test::tinyFlan()));
    QVERIFY(!again.isBuiltIn(0));
}

void TestModelsPage::removesAndRechecks() {
    // A remembered folder that stops being a model stays listed as unavailable, with the reason.
    const QString copy = m_dir.filePath(QStringLiteral("copy-of-tiny-flan"));
    QDir().mkpath(copy);
    for (const QString& f : QDir(ui_test::tinyFlan()).entryList(QDir::Files)) QVERIFY(QFile::copy(ui_test::tinyFlan() + '/' + f, copy + '/' + f));
    ModelRegistry registry;
    QAbstractItemModelTester tester(&registry, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ModelsPage page(&registry);
    QSignalSpy registered(&registry, &ModelRegistry::registered);
    page.registerFolder(copy);
    QVERIFY(registered.wait(60000));
    QVERIFY(QFile::remove(copy + QStringLiteral("/model.safetensors")));
    QVERIFY(QFile::remove(copy + QStringLiteral("/pytorch_model.bin")));
    auto* view = page.findChild<QTableView*>(QStringLiteral("modelsView"));
    view->setCurrentIndex(registry.index(0, 0));
    page.findChild<QPushButton*>(QStringLiteral("recheckModelButton"))->click();
    QTRY_COMPARE_WITH_TIMEOUT(registry.state(0), ModelRegistry::State::Unavailable, 60000);
    QVERIFY2(registry.index(0, ModelRegistry::StatusColumn).data().toString().contains(QStringLiteral("no weights")),
             qPrintable(registry.index(0, ModelRegistry::StatusColumn).data().toString()));
    page.findChild<QPushButton*>(QStringLiteral("removeModelButton"))->click();
    QCOMPARE(registry.rowCount(), 0);
}

QTEST_MAIN(TestModelsPage)
#include "tst_modelspage.moc"
