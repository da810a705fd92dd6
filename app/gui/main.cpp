// sumlab: the desktop workbench. `sumlab --screenshot DIR` saves a picture of every page and quits.
#include "engine/runtime/system_info.h"
#include "ui/MainWindow.h"
#include "ui/ScreenshotTour.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTextStream>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    // The same thread set-up as sumlab-cli, so a run trains as fast here as there.
    sumlab::configure_default_threads();
    sumlab::configure_allocator();
    // --version and --help answer without a display (help2man and package checks call them).
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--version" || arg == "-v") {
            std::printf("sumlab %s (%s)\n", SUMLAB_VERSION, sumlab::runtime_versions().c_str());
            return 0;
        }
        if ((arg == "--help" || arg == "-h") && !qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName("SumLab");
    QApplication::setOrganizationName("SumLab");
    QApplication::setApplicationVersion(SUMLAB_VERSION);
    QApplication::setApplicationDisplayName("SumLab");

    QCommandLineParser parser;
    parser.setApplicationDescription(QApplication::translate("main", "Fine-tune FLAN-T5 on dialogue summarization."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QApplication::translate("main", "Save a PNG of every page into <folder> and quit."),
                                        QApplication::translate("main", "folder"));
    const QCommandLineOption train(QStringLiteral("screenshot-train"),
                                   QApplication::translate("main", "With --screenshot: first start a run from the Train page and wait for it to end."));
    parser.addOption(screenshot);
    parser.addOption(train);
    parser.process(app);

    MainWindow window;
    window.show();
    if (!parser.isSet(screenshot)) return QApplication::exec();

    ScreenshotTour tour(&window, parser.value(screenshot), parser.isSet(train));
    int status = 0;
    QObject::connect(&tour, &ScreenshotTour::done, &app, [&status](bool ok, const QString& message) {
        QTextStream(ok ? stdout : stderr) << message << '\n';
        status = ok ? 0 : 1;
        QApplication::quit();
    });
    tour.start();
    QApplication::exec();
    return status;
}
