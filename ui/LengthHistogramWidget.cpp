#include "ui/LengthHistogramWidget.h"

#include "ui/PlotTheme.h"

#include "engine/data/dialogsum.h"

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

void LengthHistogramWidget::fillPanel(Panel& panel, const sumlab::LengthDistribution& h, const QString& what, const QString& axisLabel) {
    QVector<double> keptKeys, keptValues, cutKeys, cutValues;
    const std::vector<size_t>& edges = h.bin_edges;
    double width = 1;
    if (edges.size() >= 2) width = static_cast<double>(edges[1] - edges[0]);
    double yMax = 1;
    for (size_t i = 0; i < h.histogram.size() && i < edges.size(); ++i) {
        const double start = static_cast<double>(edges[i]);
        const double end = i + 1 < edges.size() ? static_cast<double>(edges[i + 1]) : start + width;
        const double center = (start + end) / 2;
        const double value = static_cast<double>(h.histogram[i]);
        yMax = std::max(yMax, value);
        // A bin wholly above the limit holds only truncated texts; a bin across it counts as kept.
        if (start > static_cast<double>(h.max_length)) {
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
    const double xEnd = std::max(static_cast<double>(h.max_length) * 1.05,
                                 edges.empty() ? 1.0 : static_cast<double>(edges.back()) + width);
    panel.rect->axis(QCPAxis::atBottom)->setRange(0, xEnd);
    panel.rect->axis(QCPAxis::atLeft)->setRange(0, yMax * 1.1);
    panel.limit->point1->setCoords(static_cast<double>(h.max_length), 0);
    panel.limit->point2->setCoords(static_cast<double>(h.max_length), 1);
    panel.limit->setVisible(true);
    panel.rect->axis(QCPAxis::atBottom)->setLabel(axisLabel);
    panel.title->setText(tr("%1: %2% above %3").arg(what).arg(QLocale().toString(100.0 * h.truncated_fraction, 'f', 1)).arg(static_cast<qulonglong>(h.max_length)));
}

void LengthHistogramWidget::setStatistics(const sumlab::SplitStatistics& s, const QString& unit) {
    fillPanel(m_prompts, s.prompt_lengths, tr("Prompts"), tr("prompt length (%1)").arg(unit));
    fillPanel(m_summaries, s.summary_lengths, tr("Summaries"), tr("summary length (%1)").arg(unit));
    const QLocale locale;
    auto count = [&](size_t n) { return locale.toString(static_cast<qulonglong>(n)); };
    auto describe = [&](const QString& what, const sumlab::LengthDistribution& h) {
        return tr("%1: %2 texts, min %3, mean %4, median %5, p95 %6, max %7; %8 (%9%) longer than %10 %11 are truncated.")
            .arg(what, count(h.count), count(h.min), locale.toString(h.mean, 'f', 1), locale.toString(h.median, 'f', 1),
                 locale.toString(h.p95, 'f', 1), count(h.max), count(h.truncated), locale.toString(100.0 * h.truncated_fraction, 'f', 1))
            .arg(static_cast<qulonglong>(h.max_length))
            .arg(unit);
    };
    const QString split = QString::fromStdString(std::string(sumlab::split_name(s.split)));
    const QString text = tr("Split %1, lengths in %2.").arg(split, unit) + '\n' + describe(tr("Prompts"), s.prompt_lengths) + '\n' +
                         describe(tr("Summaries"), s.summary_lengths);
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
