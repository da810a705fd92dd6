// sumlab: the desktop workbench.
#include "ui/MainWindow.h"

#include <QApplication>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("SumLab");
    QApplication::setOrganizationName("SumLab");
    QApplication::setApplicationVersion(SUMLAB_VERSION);
    MainWindow window;
    window.show();
    return QApplication::exec();
}
