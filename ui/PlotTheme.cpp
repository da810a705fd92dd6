#include "ui/PlotTheme.h"

#include <qcustomplot.h>

#include <QPalette>

namespace {

void styleAxis(QCPAxis* axis, const QPalette& palette) {
    const QColor text = palette.color(QPalette::Text);
    QColor grid = palette.color(QPalette::Mid);
    grid.setAlpha(110);
    axis->setBasePen(QPen(text, 1));
    axis->setTickPen(QPen(text, 1));
    axis->setSubTickPen(QPen(text, 1));
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    axis->grid()->setZeroLinePen(Qt::NoPen);
}

}  // namespace

void PlotTheme::apply(QCustomPlot* plot, const QPalette& palette) {
    plot->setBackground(palette.brush(QPalette::Base));
    for (QCPAxisRect* rect : plot->axisRects()) {
        rect->setBackground(palette.brush(QPalette::Base));
        for (QCPAxis* axis : rect->axes()) styleAxis(axis, palette);
    }
    if (plot->legend) {
        // Translucent, so curves under the legend stay visible.
        QColor legendBackground = palette.color(QPalette::Base);
        legendBackground.setAlpha(190);
        plot->legend->setBrush(legendBackground);
        plot->legend->setBorderPen(QPen(palette.color(QPalette::Mid)));
        plot->legend->setTextColor(palette.color(QPalette::Text));
    }
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i) {
        if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i)))
            title->setTextColor(palette.color(QPalette::Text));
    }
}

QColor PlotTheme::seriesColor(int index) {
    // Tableau 10 hues: distinguishable for most colour vision and legible on white and on near-black.
    static const QColor colors[] = {
        QColor(0x4e, 0x79, 0xa7), QColor(0xf2, 0x8e, 0x2b), QColor(0x59, 0xa1, 0x4f), QColor(0xe1, 0x57, 0x59),
        QColor(0xb0, 0x7a, 0xa1), QColor(0x76, 0xb7, 0xb2), QColor(0xed, 0xc9, 0x48), QColor(0x9c, 0x75, 0x5f),
    };
    const int n = static_cast<int>(sizeof colors / sizeof colors[0]);
    return colors[((index % n) + n) % n];
}

QColor PlotTheme::translucent(QColor color, int alpha) {
    color.setAlpha(alpha);
    return color;
}
