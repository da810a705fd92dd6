#include "ui/PlotExport.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <qcustomplot.h>
#ifdef SUMLAB_HAVE_QTSVG
#include <QSvgGenerator>
#endif

QStringList plotImageFilters() {
    QStringList filters{QCoreApplication::translate("PlotExport", "PNG image (*.png)"), QCoreApplication::translate("PlotExport", "JPEG image (*.jpg)"),
                        QCoreApplication::translate("PlotExport", "PDF document (*.pdf)")};
#ifdef SUMLAB_HAVE_QTSVG
    filters << QCoreApplication::translate("PlotExport", "SVG image (*.svg)");
#endif
    return filters;
}

bool exportPlotImage(QCustomPlot* plot, const QString& path, QSize fallback, const QString& title,
                     const QStringList& filters, QString* error) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    const int w = plot->width() >= 400 ? plot->width() : fallback.width();
    const int h = plot->height() >= 250 ? plot->height() : fallback.height();
    bool ok = false;
    if (suffix == QLatin1String("png")) ok = plot->savePng(path, w, h);
    else if (suffix == QLatin1String("jpg") || suffix == QLatin1String("jpeg")) ok = plot->saveJpg(path, w, h);
    else if (suffix == QLatin1String("pdf")) ok = plot->savePdf(path, w, h, QCP::epNoCosmetic, QStringLiteral("SumLab"), title);
#ifdef SUMLAB_HAVE_QTSVG
    else if (suffix == QLatin1String("svg")) {
        QSvgGenerator generator;
        generator.setFileName(path);
        generator.setSize(QSize(w, h));
        generator.setViewBox(QRect(0, 0, w, h));
        generator.setTitle(title);
        QCPPainter painter;
        ok = painter.begin(&generator);
        if (ok) {
            plot->toPainter(&painter, w, h);
            ok = painter.end();
        }
    }
#endif
    else {
        if (error)
            *error = QCoreApplication::translate("PlotExport", "Unsupported image format \"%1\": use %2.")
                         .arg(suffix, filters.join(QStringLiteral(", ")));
        return false;
    }
    if (!ok && error) *error = QCoreApplication::translate("PlotExport", "Could not write %1.").arg(path);
    return ok;
}
