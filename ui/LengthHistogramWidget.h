// LengthHistogramWidget: histograms of one split's prompt and summary lengths side by side (QCustomPlot
// bars), bins beyond the truncation limit drawn in a second colour, a line at the limit, and the share
// truncated in each title. The numbers also go into a text summary and the plot's accessible description.
#pragma once

#include "ui/LengthStatistics.h"

#include <QWidget>

class QCustomPlot;
class QCPAxisRect;
class QCPBars;
class QCPItemStraightLine;
class QCPTextElement;
class QLabel;

class LengthHistogramWidget : public QWidget {
    Q_OBJECT
public:
    explicit LengthHistogramWidget(QWidget* parent = nullptr);

    // Shows `statistics`, lengths counted in `unit` ("T5 tokens", "whitespace words").
    void setStatistics(const sumlab::SplitStatistics& statistics, const QString& unit);
    // Empties the plots and shows `message` instead of numbers.
    void clear(const QString& message);

    QCustomPlot* plot() const { return m_plot; }
    QString summaryText() const;

protected:
    void changeEvent(QEvent* event) override;

private:
    struct Panel {
        QCPAxisRect* rect = nullptr;
        QCPBars* kept = nullptr;
        QCPBars* truncated = nullptr;
        QCPItemStraightLine* limit = nullptr;
        QCPTextElement* title = nullptr;
    };
    Panel makePanel(int column, const QString& xLabel);
    // `what` names the texts in the title ("Prompts"), `axisLabel` the x-axis.
    void fillPanel(Panel& panel, const sumlab::LengthDistribution& lengths, const QString& what, const QString& axisLabel);
    void applyTheme();

    QCustomPlot* m_plot = nullptr;
    QLabel* m_summary = nullptr;
    Panel m_prompts;
    Panel m_summaries;
};
