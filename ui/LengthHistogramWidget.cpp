#include "ui/LengthHistogramWidget.h"

#include "ui/PlotTheme.h"

#include <qcustomplot.h>

#include <QEvent>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

LengthHistogramWidget::LengthHistogramWidget(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_plot = new QCustomPlot(this);
    m_plot->setObjectName("lengthHistogramPlot");
    m_plot->setAccessibleName(tr("Length histograms"));
    m_plot->setMinimumHeight(220);
    m_plot->plotLayout()->clear();
    m_plot->plotLayout()->setRowSpacing(0);
    m_prompts = makePanel(0, tr("prompt length"));
    m_summaries = makePanel(1, tr("summary length"));
    layout->addWidget(m_plot, 1);
    m_summary = new QLabel(this);
    m_summary->setObjectName("lengthSummaryLabel");
    m_summary->setAccessibleName(tr("Length statistics"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    layout->addWidget(m_summary);
    applyTheme();
    clear(tr("Load a dataset to see its length distribution."));
}

LengthHistogramWidget::Panel LengthHistogramWidget::makePanel(int column, const QString& xLabel) {
    Panel p;
    p.title = new QCPTextElement(m_plot, QString(), QFont(font().family(), font().pointSize(), QFont::Bold));
    m_plot->plotLayout()->addElement(0, column, p.title);
    p.rect = new QCPAxisRect(m_plot);
    m_plot->plotLayout()->addElement(1, column, p.rect);
    p.rect->axis(QCPAxis::atBottom)->setLabel(xLabel);
    p.rect->axis(QCPAxis::atLeft)->setLabel(tr("count"));
    p.kept = new QCPBars(p.rect->axis(QCPAxis::atBottom), p.rect->axis(QCPAxis::atLeft));
    p.truncated = new QCPBars(p.rect->axis(QCPAxis::atBottom), p.rect->axis(QCPAxis::atLeft));
    p.kept->setName(tr("kept whole"));
    p.truncated->setName(tr("truncated"));
    p.limit = new QCPItemStraightLine(m_plot);
    p.limit->setClipAxisRect(p.rect);
    p.limit->point1->setAxes(p.rect->axis(QCPAxis::atBottom), p.rect->axis(QCPAxis::atLeft));
    p.limit->point2->setAxes(p.rect->axis(QCPAxis::atBottom), p.rect->axis(QCPAxis::atLeft));
    p.limit->point1->setAxisRect(p.rect);
    p.limit->point2->setAxisRect(p.rect);
    return p;
}

void LengthHistogramWidget::applyTheme() {
    PlotTheme::apply(m_plot, palette());
    const QColor kept = PlotTheme::seriesColor(0);
    const QColor cut = PlotTheme::seriesColor(3);
    for (Panel* p : {&m_prompts, &m_summaries}) {
        p->kept->setPen(QPen(kept));
        p->kept->setBrush(PlotTheme::translucent(kept, 170));
        p->truncated->setPen(QPen(cut));
        p->truncated->setBrush(PlotTheme::translucent(cut, 170));
        p->limit->setPen(QPen(palette().color(QPalette::Text), 1.5, Qt::DashLine));
    }
    m_plot->replot();
}

void LengthHistogramWidget::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange) applyTheme();
}

void LengthHistogramWidget::fillPanel(Panel& panel, const LengthHistogram& h, const QString& what, const QString& axisLabel) {
    QVector<double> keptKeys, keptValues, cutKeys, cutValues;
    double width = 1;
    if (h.binEdges.size() >= 2) width = static_cast<double>(h.binEdges[1] - h.binEdges[0]);
    double yMax = 1;
    for (int i = 0; i < h.counts.size() && i < h.binEdges.size(); ++i) {
        const double start = static_cast<double>(h.binEdges[i]);
        const double end = i + 1 < h.binEdges.size() ? static_cast<double>(h.binEdges[i + 1]) : start + width;
        const double center = (start + end) / 2;
        const double value = static_cast<double>(h.counts[i]);
        yMax = std::max(yMax, value);
        // A bin wholly above the limit holds only truncated texts; a bin across it counts as kept.
        if (start > static_cast<double>(h.maxLength)) {
            cutKeys << center;
            cutValues << value;
        } else {
            keptKeys << center;
            keptValues << value;
        }
    }
    panel.kept->setWidth(width * 0.92);
    panel.truncated->setWidth(width * 0.92);
    panel.kept->setData(keptKeys, keptValues, true);
    panel.truncated->setData(cutKeys, cutValues, true);
    const double xEnd = std::max(static_cast<double>(h.maxLength) * 1.05,
                                 h.binEdges.isEmpty() ? 1.0 : static_cast<double>(h.binEdges.last()) + width);
    panel.rect->axis(QCPAxis::atBottom)->setRange(0, xEnd);
    panel.rect->axis(QCPAxis::atLeft)->setRange(0, yMax * 1.1);
    panel.limit->point1->setCoords(static_cast<double>(h.maxLength), 0);
    panel.limit->point2->setCoords(static_cast<double>(h.maxLength), 1);
    panel.limit->setVisible(true);
    panel.rect->axis(QCPAxis::atBottom)->setLabel(axisLabel);
    panel.title->setText(tr("%1: %2% above %3").arg(what).arg(QLocale().toString(100.0 * h.truncatedFraction, 'f', 1)).arg(h.maxLength));
}

void LengthHistogramWidget::setStatistics(const SplitLengthStatistics& s, const QString& unit) {
    fillPanel(m_prompts, s.prompts, tr("Prompts"), tr("prompt length (%1)").arg(unit));
    fillPanel(m_summaries, s.summaries, tr("Summaries"), tr("summary length (%1)").arg(unit));
    const QLocale locale;
    auto describe = [&](const QString& what, const LengthHistogram& h) {
        return tr("%1: %2 texts, min %3, mean %4, median %5, p95 %6, max %7; %8 (%9%) longer than %10 %11 are truncated.")
            .arg(what, locale.toString(h.count), locale.toString(h.min), locale.toString(h.mean, 'f', 1), locale.toString(h.median, 'f', 1),
                 locale.toString(h.p95, 'f', 1), locale.toString(h.max), locale.toString(h.truncated),
                 locale.toString(100.0 * h.truncatedFraction, 'f', 1))
            .arg(h.maxLength)
            .arg(unit);
    };
    const QString text = tr("Split %1, lengths in %2.").arg(s.split, unit) + '\n' + describe(tr("Prompts"), s.prompts) + '\n' +
                         describe(tr("Summaries"), s.summaries);
    m_summary->setText(text);
    m_plot->setAccessibleDescription(text);
    m_plot->replot();
}

void LengthHistogramWidget::clear(const QString& message) {
    for (Panel* p : {&m_prompts, &m_summaries}) {
        p->kept->data()->clear();
        p->truncated->data()->clear();
        p->limit->setVisible(false);
        p->title->setText(QString());
    }
    m_summary->setText(message);
    m_plot->setAccessibleDescription(message);
    m_plot->replot();
}

QString LengthHistogramWidget::summaryText() const { return m_summary->text(); }
