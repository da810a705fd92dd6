// Helpers shared by the ui tests: settings isolated from the user's, and small DialogSum folders written
// on the fly (so a test knows every row it loads).
#pragma once

#include "ui/ModelRegistry.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>
#include <QString>
#include <QStringList>
#include <QtTest>

namespace ui_test {

// QSettings and QStandardPaths under ~/.qttest, emptied; call from initTestCase(). One settings
// file per test executable: ctest -j runs the ui suites side by side, and a shared file let one
// suite's clear() or saved workspace land in the middle of another's test.
inline void isolateSettings() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("SumLabTest"));
    QCoreApplication::setApplicationName(QStringLiteral("SumLabTest-") +
                                         QFileInfo(QCoreApplication::applicationFilePath()).completeBaseName());
    QSettings().clear();
    // No built-in models (base/install_paths.h) unless a test lists its own: the pages' lists hold only what
    // the test registers.
    qputenv("SUMLAB_DATA_DIR", QByteArrayLiteral("/nonexistent/sumlab-test-data"));
}

inline void writeFile(const QString& path, const QByteArray& contents) {
    QFile file(path);
    QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(path));
    QCOMPARE(file.write(contents), contents.size());
}

inline const QStringList& topics() {
    static const QStringList t{QStringLiteral("greeting"), QStringLiteral("shopping"), QStringLiteral("travel")};
    return t;
}

// One CSV row of a dialogue numbered i: topic topics()[i % 3]; even dialogues mention a "ticket".
inline QByteArray csvRow(const QString& split, int i) {
    const QString dialogue = QStringLiteral("#Person1#: Hello number %1, how are you today?\n#Person2#: Fine, thanks. I need a %2.\n"
                                            "#Person1#: Sure, let me help you with that.")
                                 .arg(i)
                                 .arg(i % 2 == 0 ? QStringLiteral("ticket") : QStringLiteral("coffee"));
    const QString summary = QStringLiteral("#Person2# asks #Person1# for a %1.").arg(i % 2 == 0 ? QStringLiteral("ticket") : QStringLiteral("coffee"));
    return QStringLiteral("%1_%2,\"%3\",\"%4\",%5\n").arg(split).arg(i).arg(dialogue, summary, topics()[i % 3]).toUtf8();
}

// train.csv (trainRows rows), validation.csv and test.csv (4 rows each) in `dir`. With a bad row, train.csv
// also holds one row whose dialogue is empty (skipped and reported).
inline void writeDialogSum(const QString& dir, int trainRows, bool withBadRow = false) {
    QDir().mkpath(dir);
    const QByteArray header = "id,dialogue,summary,topic\n";
    QByteArray train = header;
    for (int i = 0; i < trainRows; ++i) train += csvRow(QStringLiteral("train"), i);
    if (withBadRow) train += "train_bad,\"   \",\"A summary.\",greeting\n";
    writeFile(QDir(dir).filePath(QStringLiteral("train.csv")), train);
    QByteArray validation = header, test = header;
    for (int i = 0; i < 4; ++i) {
        validation += csvRow(QStringLiteral("validation"), i);
        test += csvRow(QStringLiteral("test"), i);
    }
    writeFile(QDir(dir).filePath(QStringLiteral("validation.csv")), validation);
    writeFile(QDir(dir).filePath(QStringLiteral("test.csv")), test);
}

inline QString sharedDir() { return QStringLiteral(SUMLAB_SHARED_DIR); }
inline QString tinyFlan() { return sharedDir() + QStringLiteral("/golden/t5/tiny-flan"); }
inline QString tinyT5v1() { return sharedDir() + QStringLiteral("/golden/t5/tiny-t5v1"); }
inline QString tinyFlanAdapter() { return sharedDir() + QStringLiteral("/golden/t5/tiny-flan-lora-r4"); }

// Registers the model (or, with `base`, adapter) folder `path` and waits until the registry has checked it.
inline void registerFolder(ModelRegistry& registry, const QString& path, const QString& base = QString()) {
    QVERIFY(registry.addFolder(path, base));
    QTRY_VERIFY_WITH_TIMEOUT(!registry.isChecking(), 60000);
    const int row = registry.rowOfPath(QFileInfo(path).absoluteFilePath());
    QVERIFY2(row >= 0 && registry.state(row) == ModelRegistry::State::Ready, qPrintable(path));
}

// A copy of tiny-flan at `dir` that passes registration in `registry` and then loses its weights (its
// model.safetensors overwritten, no pytorch_model.bin): loading it fails, naming model.safetensors.
inline void registerBrokenModel(ModelRegistry& registry, const QString& dir) {
    QVERIFY(QDir().mkpath(dir));
    for (const QString& name : QDir(tinyFlan()).entryList(QDir::Files))
        QVERIFY(QFile::copy(QDir(tinyFlan()).filePath(name), QDir(dir).filePath(name)));
    QFile::remove(QDir(dir).filePath(QStringLiteral("pytorch_model.bin")));
    registerFolder(registry, dir);
    writeFile(QDir(dir).filePath(QStringLiteral("model.safetensors")), QByteArray("not a safetensors file"));
}

}  // namespace ui_test
