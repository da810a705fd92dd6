// PlotTheme: colours QCustomPlot plots from the widget palette, so plots follow light and dark themes.
// Series colours are mid-saturation hues readable on both light and dark backgrounds.
#pragma once

#include <QColor>

class QCustomPlot;
class QPalette;

class PlotTheme {
public:
    // Background, axes, tick labels, grid and legend from `palette` (Base, Text, Mid roles).
    static void apply(QCustomPlot* plot, const QPalette& palette);
    // The i-th series colour (cycles through eight hues).
    static QColor seriesColor(int index);
    // `color` with the given alpha (0..255), for raw points and filled bars.
    static QColor translucent(QColor color, int alpha);
};
