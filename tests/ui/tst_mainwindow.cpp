// Tests for ui/MainWindow: every page is built and reachable through the sidebar and Ctrl+1..4, every
// control a user can reach has an accessible name and a tooltip, Help > About names the versions, and the
// window remembers its geometry and page.
#include "ui/AboutDialog.h"
#include "ui/DataPage.h"
#include "ui/MainWindow.h"
#include "ui/ModelRegistry.h"
#include "ui/ModelsPage.h"
#include "ui/RunsPage.h"
#include "ui/TrainPage.h"
#include "ui_test_support.h"

#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QAbstractItemView>
#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QAction>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QTextEdit>
#include <QtTest>

class TestMainWindow : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void pagesAreBuilt();
    void sidebarSwitchesPages();
    void shortcutsSwitchPages_data();
    void shortcutsSwitchPages();
    void controlsAreDescribed();
    void tabOrderVisitsPageControls();
    void aboutNamesVersions();
    void remembersGeometryAndPage();
    void sharesRegistryAndWorkspace();

private:
    QTemporaryDir m_dir;
};

void TestMainWindow::initTestCase() {
    ui_test::isolateSettings();
    QVERIFY(m_dir.isValid());
}

void TestMainWindow::init() {
    QSettings settings;
    settings.clear();
    settings.setValue(QStringLiteral("runs/workspace"), m_dir.filePath(QStringLiteral("runs")));
}

void TestMainWindow::pagesAreBuilt() {
    MainWindow window;
    auto* pages = window.findChild<QStackedWidget*>(QStringLiteral("pages"));
    QVERIFY(pages);
    QCOMPARE(pages->count(), int(MainWindow::PageCount));
    QCOMPARE(pages->widget(MainWindow::DataPageIndex), window.dataPage());
    QCOMPARE(pages->widget(MainWindow::ModelsPageIndex), window.modelsPage());
    QCOMPARE(pages->widget(MainWindow::TrainPageIndex), window.trainPage());
    QCOMPARE(pages->widget(MainWindow::RunsPageIndex), window.runsPage());
    for (const char* name : {"dataPage", "modelsPage", "trainPage", "runsPage"}) QVERIFY2(window.findChild<QWidget*>(name), name);
    QAbstractItemModelTester tester(window.modelRegistry(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(window.jobText(), QStringLiteral("No training running"));
    QCOMPARE(window.currentPage(), int(MainWindow::DataPageIndex));
}

void TestMainWindow::sidebarSwitchesPages() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* sidebar = window.findChild<QListWidget*>(QStringLiteral("sidebar"));
    QVERIFY(sidebar);
    QCOMPARE(sidebar->count(), int(MainWindow::PageCount));
    const QStringList names{QStringLiteral("Data"),  QStringLiteral("Models"),  QStringLiteral("Train"),
                            QStringLiteral("Runs"),  QStringLiteral("Compare"), QStringLiteral("Evaluate")};
    for (int i = MainWindow::PageCount - 1; i >= 0; --i) {
        if (i < names.size()) QCOMPARE(sidebar->item(i)->text(), names[i]);
        const QRect rect = sidebar->visualItemRect(sidebar->item(i));
        QTest::mouseClick(sidebar->viewport(), Qt::LeftButton, {}, rect.center());
        QCOMPARE(window.currentPage(), i);
        QVERIFY(window.findChild<QStackedWidget*>(QStringLiteral("pages"))->currentWidget()->isVisible());
    }
}

void TestMainWindow::shortcutsSwitchPages_data() {
    QTest::addColumn<int>("key");
    QTest::addColumn<int>("page");
    QTest::addRow("Ctrl+1 Data") << int(Qt::Key_1) << int(MainWindow::DataPageIndex);
    QTest::addRow("Ctrl+2 Models") << int(Qt::Key_2) << int(MainWindow::ModelsPageIndex);
    QTest::addRow("Ctrl+3 Train") << int(Qt::Key_3) << int(MainWindow::TrainPageIndex);
    QTest::addRow("Ctrl+4 Runs") << int(Qt::Key_4) << int(MainWindow::RunsPageIndex);
    QTest::addRow("Ctrl+5 Compare") << int(Qt::Key_5) << int(MainWindow::ComparePageIndex);
    QTest::addRow("Ctrl+6 Evaluate") << int(Qt::Key_6) << int(MainWindow::EvaluatePageIndex);
}

void TestMainWindow::shortcutsSwitchPages() {
    QFETCH(int, key);
    QFETCH(int, page);
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    // Start elsewhere so the shortcut has to move.
    window.showPage(page == MainWindow::RunsPageIndex ? MainWindow::DataPageIndex : MainWindow::RunsPageIndex);
    QTest::keyClick(&window, static_cast<Qt::Key>(key), Qt::ControlModifier);
    QCOMPARE(window.currentPage(), page);
    QCOMPARE(window.findChild<QListWidget*>(QStringLiteral("sidebar"))->currentRow(), page);
}

void TestMainWindow::controlsAreDescribed() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QStringList missing;
    int checked = 0;
    for (QWidget* w : window.findChildren<QWidget*>()) {
        const bool control = qobject_cast<QAbstractButton*>(w) || qobject_cast<QComboBox*>(w) || qobject_cast<QLineEdit*>(w) ||
                             qobject_cast<QAbstractSpinBox*>(w) || qobject_cast<QAbstractItemView*>(w) || qobject_cast<QAbstractSlider*>(w) ||
                             qobject_cast<QTextEdit*>(w) || qobject_cast<QPlainTextEdit*>(w);
        if (!control || w->focusPolicy() == Qt::NoFocus) continue;
        // Parts Qt builds inside composite widgets (a spin box's or combo box's line edit, scroll bars,
        // tab-bar scroll buttons, a combo's popup view) are described by their owner.
        QWidget* parent = w->parentWidget();
        if (qobject_cast<QAbstractSpinBox*>(parent) || qobject_cast<QComboBox*>(parent) || w->objectName().startsWith(QLatin1String("qt_")) ||
            (parent && parent->objectName().startsWith(QLatin1String("qt_"))) || w->inherits("QComboBoxListView") ||
            w->inherits("QScrollBar") || w->inherits("QToolButton"))
            continue;
        ++checked;
        if (w->accessibleName().isEmpty() || w->toolTip().isEmpty())
            missing << QStringLiteral("%1 \"%2\" (%3)").arg(QString::fromLatin1(w->metaObject()->className()), w->objectName(),
                                                             w->parentWidget() ? w->parentWidget()->objectName() : QString());
    }
    QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("without accessible name or tooltip: ") + missing.join(QStringLiteral(", "))));
    // Every page's controls were looked at (the form alone has more than thirty).
    QVERIFY2(checked > 80, qPrintable(QString::number(checked)));
}

void TestMainWindow::tabOrderVisitsPageControls() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    window.showPage(MainWindow::DataPageIndex);
    auto* path = window.dataPage()->findChild<QComboBox*>(QStringLiteral("dataPathCombo"));
    path->setFocus();
    QTRY_VERIFY(path->hasFocus() || path->lineEdit()->hasFocus());
    // Tab moves along the path row in reading order.
    const QStringList expected{QStringLiteral("browseDataFolderButton"), QStringLiteral("browseDataFileButton"), QStringLiteral("loadDataButton")};
    for (const QString& name : expected) {
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
        QCOMPARE(QApplication::focusWidget()->objectName(), name);
    }
}

void TestMainWindow::aboutNamesVersions() {
    AboutDialog about;
    const QString text = about.versionText();
    QVERIFY2(text.startsWith(QStringLiteral("SumLab ") + QCoreApplication::applicationVersion()) || text.contains(QStringLiteral("SumLab 0.")),
             qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("LibTorch")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("BLAS")), qPrintable(text));
    QVERIFY2(text.contains(QString::fromLatin1(qVersion())), qPrintable(text));
    auto* label = about.findChild<QLabel*>(QStringLiteral("aboutText"));
    QVERIFY(label->text().contains(QStringLiteral("LibTorch")));

    MainWindow window;
    auto* action = window.findChild<QAction*>(QStringLiteral("aboutAction"));
    QVERIFY(action);
    // The action opens the dialog (modal); close it as soon as it shows.
    QTimer::singleShot(0, [] {
        QTRY_VERIFY(qobject_cast<AboutDialog*>(QApplication::activeModalWidget()));
        QApplication::activeModalWidget()->close();
    });
    action->trigger();
}

void TestMainWindow::remembersGeometryAndPage() {
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.resize(1180, 760);
        window.showPage(MainWindow::RunsPageIndex);
        QVERIFY(window.close());
    }
    QSettings settings;
    QVERIFY(!settings.value(QStringLiteral("window/geometry")).toByteArray().isEmpty());
    QCOMPARE(settings.value(QStringLiteral("window/page")).toInt(), int(MainWindow::RunsPageIndex));
    MainWindow again;
    QCOMPARE(again.currentPage(), int(MainWindow::RunsPageIndex));
    QCOMPARE(again.size(), QSize(1180, 760));
}

void TestMainWindow::sharesRegistryAndWorkspace() {
    MainWindow window;
    QCOMPARE(window.trainPage()->workspace(), QDir::cleanPath(m_dir.filePath(QStringLiteral("runs"))));
    window.runsPage()->setWorkspace(m_dir.filePath(QStringLiteral("other-runs")));
    QCOMPARE(window.trainPage()->workspace(), QDir::cleanPath(m_dir.filePath(QStringLiteral("other-runs"))));
    if (!QFileInfo::exists(ui_test::tinyFlan())) return;
    // A model registered on the Models page is offered on the Train page.
    QSignalSpy registered(window.modelRegistry(), &ModelRegistry::registered);
    window.modelsPage()->registerFolder(ui_test::tinyFlan());
    QVERIFY(registered.wait(60000));
    QVERIFY(window.trainPage()->selectModel(ui_test::tinyFlan()));
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
