// The Debian package: built with CPack from this build tree, it must hold the programs, the
// SentencePiece plugin where the programs look for it, the desktop entry and icon, declare
// Debian's runtime packages, and point nowhere into the build tree.
#include <QDir>
#include <QProcess>
#include <QStandardPaths>
#include <QtTest>

class TestPackage : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void holds_the_programs_and_plugin();
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
    // The plugin sits where the programs look: ../<libdir>/sumlab beside /usr/bin.
    QVERIFY(!QDir(m_unpacked.filePath("usr/lib")).entryList().isEmpty());
    int code = 0;
    const QString version = run(m_unpacked.filePath("usr/bin/sumlab-cli"), {"--version"}, &code);
    QCOMPARE(code, 0);
    QVERIFY2(version.contains("LibTorch") && version.contains("BLAS"), qPrintable(version));
    const QString gui_version = run(m_unpacked.filePath("usr/bin/sumlab"), {"--version"}, &code);
    QCOMPARE(code, 0);
    QVERIFY2(gui_version.startsWith("sumlab ") && gui_version.contains("LibTorch"), qPrintable(gui_version));
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
