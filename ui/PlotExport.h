// Saving a QCustomPlot as an image, shared by the loss plot and the evaluation chart.
#pragma once

#include <QSize>
#include <QString>
#include <QStringList>

class QCustomPlot;

// Writes `plot` to `path` as PNG, JPG, PDF or (where Qt SVG is built in) SVG, chosen by the suffix,
// at the plot's on-screen size or `fallback` when it is too small (hidden or offscreen widgets).
// On failure returns false and, if `error` is given, says why, listing `filters` as the choices.
bool exportPlotImage(QCustomPlot* plot, const QString& path, QSize fallback, const QString& title,
                     const QStringList& filters, QString* error);

// The file-dialog filters of the formats exportPlotImage writes: PNG, JPEG, PDF and (where built in) SVG.
QStringList plotImageFilters();
