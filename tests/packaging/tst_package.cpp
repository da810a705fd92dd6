// The Debian package: built with CPack from this build tree, it must hold the programs, the
// SentencePiece plugin where the programs look for it (engine/text/tokenizer.cpp: beside the executable,
// then ../SUMLAB_PLUGIN_INSTALL_DIR), the desktop entry and icon, declare Debian's runtime packages,
// and point nowhere into the build tree. The unpacked sumlab-cli tokenizes and generates exactly as
// the build tree's does.
#include "tests/common/sanitizer.h"

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QtTest>

class TestPackage : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void holds_the_programs_and_plugin();
    void unpacked_programs_tokenize_and_generate();
    void declares_runtime_dependencies();
    void desktop_entry_is_valid();
    void metainfo_is_valid();
    void nothing_points_into_the_build_tree();

private:
    static QString run(const QString& program, const QStringList& args, int* code = nullptr) {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(program, args);
        p.waitForFinished(600000);
        if (code) *code = p.exitCode();
        return QString::fromUtf8(p.readAll());
    }
    // Runs `program args`, without SUMLAB_SENTENCEPIECE_PLUGIN (which would override where the plugin is looked for).
    static QString run_for_output(const QString& program, const QStringList& args, int* code, QString* err) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove("SUMLAB_SENTENCEPIECE_PLUGIN");
        p.setProcessEnvironment(env);
        p.start(program, args);
        p.waitForFinished(600000);
        *code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        *err = QString::fromUtf8(p.readAllStandardError());
        return QString::fromUtf8(p.readAllStandardOutput());
    }
    static QByteArray file_contents(const QString& path) {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
    QString m_deb;
    QTemporaryDir m_unpacked;
};

void TestPackage::initTestCase() {
    if (QStandardPaths::findExecutable("dpkg-deb").isEmpty()) QSKIP("dpkg-deb is not installed: the package cannot be built here");
    QDir build(QStringLiteral(SUMLAB_BUILD_DIR));
    int code = 0;
    QProcess cpack;
    cpack.setWorkingDirectory(build.path());
    cpack.setProcessChannelMode(QProcess::MergedChannels);
    cpack.start("cpack", {"-G", "DEB"});
    QVERIFY(cpack.waitForFinished(600000));
    QVERIFY2(cpack.exitCode() == 0, cpack.readAll().constData());
    const QStringList debs = build.entryList({"sumlab_*.deb"}, QDir::Files, QDir::Time);
    QVERIFY(!debs.isEmpty());
    m_deb = build.filePath(debs.first());
    run("dpkg-deb", {"-x", m_deb, m_unpacked.path()}, &code);
    QCOMPARE(code, 0);
}

void TestPackage::holds_the_programs_and_plugin() {
    const QString files = run("dpkg-deb", {"-c", m_deb});
    for (const char* path : {"./usr/bin/sumlab", "./usr/bin/sumlab-cli", "/libsumlab_sentencepiece.so", "./usr/share/applications/sumlab.desktop",
                             "./usr/share/icons/hicolor/scalable/apps/sumlab.svg", "/README.md", "/man1/sumlab-cli.1.gz",
                             "/man1/sumlab.1.gz", "./usr/share/metainfo/org.sumlab.SumLab.metainfo.xml"})
        QVERIFY2(files.contains(QLatin1String(path)), path);
    // The plugin sits where the programs look: not beside them in /usr/bin, so in /usr/bin/../<libdir>/sumlab.
    const QString plugin = QStringLiteral("usr/" SUMLAB_PLUGIN_INSTALL_DIR "/libsumlab_sentencepiece.so");
    QVERIFY2(files.contains("./" + plugin), qPrintable(files));
    QVERIFY2(QFileInfo(m_unpacked.filePath("usr/bin/../" SUMLAB_PLUGIN_INSTALL_DIR "/libsumlab_sentencepiece.so")).isFile(), qPrintable(plugin));
    QVERIFY(!QFileInfo::exists(m_unpacked.filePath("usr/bin/libsumlab_sentencepiece.so")));
    int code = 0;
    const QString version = run(m_unpacked.filePath("usr/bin/sumlab-cli"), {"--version"}, &code);
    QCOMPARE(code, 0);
    QVERIFY2(version.contains("LibTorch") && version.contains("BLAS"), qPrintable(version));
    const QString gui_version = run(m_unpacked.filePath("usr/bin/sumlab"), {"--version"}, &code);
    QCOMPARE(code, 0);
    QVERIFY2(gui_version.startsWith("sumlab ") && gui_version.contains("LibTorch"), qPrintable(gui_version));
}

void TestPackage::unpacked_programs_tokenize_and_generate() {
    // --version loads no tokenizer; tokenize and generate do, through the plugin the package put in place.
    const QString model = QStringLiteral(SUMLAB_SHARED_DIR "/golden/t5/tiny-flan");
    if (!QFileInfo::exists(model + "/spiece.model")) QSKIP(qPrintable("missing " + model + "/spiece.model"));
    QTemporaryDir tmp;
    const QString input = tmp.filePath("input.jsonl");
    {
        QFile f(input);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"id\": \"a\", \"text\": \"summarize: #Person1#: Hi, how are you? #Person2#: Fine, thanks.\"}\n"
                "{\"id\": \"b\", \"text\": \"Caf\u00e9 na\u00efve \u00fcber 2,345.67 <extra_id_0> \u4f60\u597d\"}\n");
    }
    const QString build_cli = QStringLiteral(SUMLAB_BUILD_DIR "/bin/sumlab-cli");
    const QString unpacked_cli = m_unpacked.filePath("usr/bin/sumlab-cli");
    int code = 0;
    QString err;
    const QStringList tokenize{"tokenize", "--model", model, "--input", input, "--pieces"};
    const QString expected_tokens = run_for_output(build_cli, tokenize, &code, &err);
    SUMLAB_SKIP_IF_SENTENCEPIECE_REFUSED(err);
    QVERIFY2(code == 0 && expected_tokens.count('\n') == 2, qPrintable(err + expected_tokens));
    const QString tokens = run_for_output(unpacked_cli, tokenize, &code, &err);
    QVERIFY2(code == 0, qPrintable(err));
    QCOMPARE(tokens, expected_tokens);

    const QStringList generate{"generate", "--model", model, "--input", input, "--max-new-tokens", "12", "--num-beams", "2", "--quiet", "--output"};
    run_for_output(build_cli, generate + QStringList{tmp.filePath("build.jsonl")}, &code, &err);
    QVERIFY2(code == 0, qPrintable(err));
    run_for_output(unpacked_cli, generate + QStringList{tmp.filePath("unpacked.jsonl")}, &code, &err);
    QVERIFY2(code == 0, qPrintable(err));
    const QByteArray expected = file_contents(tmp.filePath("build.jsonl"));
    QVERIFY2(expected.count('\n') == 2 && expected.contains("\"token_ids\""), expected.constData());
    QCOMPARE(file_contents(tmp.filePath("unpacked.jsonl")), expected);
}

void TestPackage::declares_runtime_dependencies() {
    const QString info = run("dpkg-deb", {"-f", m_deb, "Depends"});
    for (const char* dep : {"libtorch1.13", "libopenblas0-pthread", "libqt6widgets6", "libqcustomplot2.1-qt6", "libsentencepiece0", "qt6-qpa-plugins"})
        QVERIFY2(info.contains(QLatin1String(dep)), qPrintable(info));
    QVERIFY2(!info.contains("-dev"), qPrintable(info));  // nothing for building
}

void TestPackage::desktop_entry_is_valid() {
    if (QStandardPaths::findExecutable("desktop-file-validate").isEmpty())
        QSKIP("desktop-file-validate is not installed (package desktop-file-utils)");
    int code = 0;
    const QString out = run("desktop-file-validate", {m_unpacked.filePath("usr/share/applications/sumlab.desktop")}, &code);
    QVERIFY2(code == 0, qPrintable(out));
}

void TestPackage::metainfo_is_valid() {
    if (QStandardPaths::findExecutable("appstreamcli").isEmpty()) QSKIP("appstreamcli is not installed (package appstream)");
    int code = 0;
    const QString out = run("appstreamcli", {"validate", "--no-net", m_unpacked.filePath("usr/share/metainfo/org.sumlab.SumLab.metainfo.xml")}, &code);
    QVERIFY2(code == 0, qPrintable(out));
}

void TestPackage::nothing_points_into_the_build_tree() {
    const QByteArray build = QByteArrayLiteral(SUMLAB_BUILD_DIR);
    for (const char* file : {"usr/bin/sumlab", "usr/bin/sumlab-cli"}) {
        QFile f(m_unpacked.filePath(file));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY2(!f.readAll().contains(build), file);
    }
    const QString rpath = run("readelf", {"-d", m_unpacked.filePath("usr/bin/sumlab-cli")});
    QVERIFY2(!rpath.contains(QLatin1String(SUMLAB_BUILD_DIR)), qPrintable(rpath));
}

QTEST_GUILESS_MAIN(TestPackage)
#include "tst_package.moc"
