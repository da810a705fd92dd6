// Tests for ui/LossPlotWidget: live points, the debiased moving average, x-axis modes, overlaid runs,
// and the PNG/JPG/PDF and CSV exports.
#include "ui/LossPlotWidget.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QImage>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>

class TestLossPlotWidget : public QObject {
    Q_OBJECT

private slots:
    void emaSmoothing_data();
    void emaSmoothing();
    void receivesLivePoints();
    void smoothingSliderRecomputes();
    void xAxisModes();
    void overlaysRuns();
    void exportsImages_data();
    void exportsImages();
    void exportsCsv();
    void refusesUnknownFormat();
    void followsPalette();
};

namespace {

sumlab::StepMetrics step(qint64 s, double loss, double lr, qint64 tokens) {
    sumlab::StepMetrics p;
    p.step = s;
    p.max_steps = 10;
    p.epoch = s / 4.0;
    p.loss = loss;
    p.learning_rate = lr;
    p.tokens_seen = tokens;
    return p;
}

sumlab::EvalMetrics eval(qint64 s, double loss) {
    sumlab::EvalMetrics e;
    e.step = s;
    e.epoch = s / 4.0;
    e.eval_loss = loss;
    return e;
}

// Keys of a graph's data, in order.
QVector<double> keys(QCPGraph* g) {
    QVector<double> out;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) out << it->key;
    return out;
}

QVector<double> values(QCPGraph* g) {
    QVector<double> out;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) out << it->value;
    return out;
}

}  // namespace

void TestLossPlotWidget::emaSmoothing_data() {
    QTest::addColumn<QVector<double>>("input");
    QTest::addColumn<double>("weight");
    QTest::addColumn<QVector<double>>("expected");
    QTest::addRow("no smoothing") << QVector<double>{3, 1, 2} << 0.0 << QVector<double>{3, 1, 2};
    // s1 = 0.5*1 / (1 - 0.5) = 1; s2 = (0.25 + 1) / 0.75; s3 = (0.625 + 1.5) / 0.875.
    QTest::addRow("weight 0.5") << QVector<double>{1, 2, 3} << 0.5 << QVector<double>{1, 1.25 / 0.75, 2.125 / 0.875};
    QTest::addRow("constant stays constant") << QVector<double>{2, 2, 2, 2} << 0.9 << QVector<double>{2, 2, 2, 2};
    QTest::addRow("empty") << QVector<double>{} << 0.6 << QVector<double>{};
}

void TestLossPlotWidget::emaSmoothing() {
    QFETCH(QVector<double>, input);
    QFETCH(double, weight);
    QFETCH(QVector<double>, expected);
    const QVector<double> out = LossPlotWidget::emaSmooth(input, weight);
    QCOMPARE(out.size(), expected.size());
    for (int i = 0; i < out.size(); ++i) QCOMPARE(out[i], expected[i]);
}

void TestLossPlotWidget::receivesLivePoints() {
    LossPlotWidget plot;
    // No learning-rate axis (scaled 0..5 by default) before there is a learning rate to plot.
    QVERIFY(!plot.plot()->yAxis2->visible());
    QVERIFY(!plot.plot()->legend->visible());
    plot.startLiveRun(QStringLiteral("live"));
    QVERIFY(!plot.plot()->yAxis2->visible());
    plot.setSmoothing(0.5);
    plot.addStep(step(1, 1.0, 1e-3, 100));
    plot.addStep(step(2, 2.0, 9e-4, 200));
    plot.addStep(step(3, 3.0, 8e-4, 300));
    plot.addEval(eval(2, 1.5));
    QCOMPARE(plot.runCount(), 1);
    QCOMPARE(plot.run(0).steps.size(), 3);
    QCOMPARE(plot.run(0).evals.size(), 1);
    // Appending point by point gives the same smoothing as computing it at once.
    QCOMPARE(plot.smoothedLoss(0), LossPlotWidget::emaSmooth({1, 2, 3}, 0.5));
    // raw, smoothed, eval, learning rate
    QCustomPlot* p = plot.plot();
    QCOMPARE(p->graphCount(), 4);
    QCOMPARE(values(p->graph(0)), (QVector<double>{1, 2, 3}));
    QCOMPARE(keys(p->graph(0)), (QVector<double>{1, 2, 3}));
    QCOMPARE(values(p->graph(1)), plot.smoothedLoss(0));
    QCOMPARE(values(p->graph(2)), QVector<double>{1.5});
    QCOMPARE(values(p->graph(3)), (QVector<double>{1e-3, 9e-4, 8e-4}));
    QCOMPARE(p->graph(3)->valueAxis(), p->yAxis2);
    QVERIFY(p->yAxis2->visible());
    QVERIFY(p->legend->visible());
    // The raw points stay visible whatever the smoothing.
    QVERIFY(p->graph(0)->visible());
    QCOMPARE(p->graph(0)->lineStyle(), QCPGraph::lsNone);
    // The view follows the data.
    QVERIFY(p->xAxis->range().contains(3));
    QVERIFY(p->yAxis->range().contains(3.0));
}

void TestLossPlotWidget::smoothingSliderRecomputes() {
    LossPlotWidget plot;
    plot.setRuns({RunCurves{QStringLiteral("a"), {step(1, 4, 0, 0), step(2, 0, 0, 0), step(3, 4, 0, 0)}, {}}});
    auto* slider = plot.findChild<QSlider*>(QStringLiteral("smoothingSlider"));
    QVERIFY(slider);
    QSignalSpy changed(&plot, &LossPlotWidget::smoothingChanged);
    slider->setValue(0);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(plot.smoothing(), 0.0);
    QCOMPARE(plot.smoothedLoss(0), (QVector<double>{4, 0, 4}));
    slider->setValue(90);
    QCOMPARE(plot.smoothing(), 0.9);
    QCOMPARE(plot.smoothedLoss(0), LossPlotWidget::emaSmooth({4, 0, 4}, 0.9));
}

void TestLossPlotWidget::xAxisModes() {
    LossPlotWidget plot;
    plot.setRuns({RunCurves{QStringLiteral("a"), {step(4, 2, 0, 400), step(8, 1, 0, 1000)}, {eval(4, 2.5), eval(6, 2.0)}}});
    QCustomPlot* p = plot.plot();
    QCOMPARE(keys(p->graph(0)), (QVector<double>{4, 8}));
    auto* combo = plot.findChild<QComboBox*>(QStringLiteral("xAxisCombo"));
    combo->setCurrentIndex(combo->findData(static_cast<int>(LossPlotWidget::XAxis::Epoch)));
    QCOMPARE(plot.xAxis(), LossPlotWidget::XAxis::Epoch);
    QCOMPARE(keys(p->graph(0)), (QVector<double>{1, 2}));
    QCOMPARE(keys(p->graph(2)), (QVector<double>{1, 1.5}));
    plot.setXAxis(LossPlotWidget::XAxis::Tokens);
    QCOMPARE(keys(p->graph(0)), (QVector<double>{400, 1000}));
    // Evaluations carry no token count: step 6 lies halfway between the logs at steps 4 and 8.
    QCOMPARE(keys(p->graph(2)), (QVector<double>{400, 700}));
    QCOMPARE(p->xAxis->label(), QStringLiteral("training tokens seen"));
}

void TestLossPlotWidget::overlaysRuns() {
    LossPlotWidget plot;
    plot.setRuns({RunCurves{QStringLiteral("lr 1e-3"), {step(1, 2, 0, 0), step(2, 1.5, 0, 0)}, {}},
                  RunCurves{QStringLiteral("lr 1e-4"), {step(1, 2, 0, 0), step(2, 1.9, 0, 0), step(3, 1.8, 0, 0)}, {eval(3, 1.7)}}});
    QCOMPARE(plot.runCount(), 2);
    QCustomPlot* p = plot.plot();
    QCOMPARE(p->graphCount(), 8);
    // Each run in its own colour, named in the legend.
    QVERIFY(p->graph(1)->pen().color() != p->graph(5)->pen().color());
    QCOMPARE(p->graph(1)->name(), QStringLiteral("lr 1e-3"));
    QCOMPARE(p->graph(5)->name(), QStringLiteral("lr 1e-4"));
    QVERIFY(p->legend->hasItemWithPlottable(p->graph(6)));   // the second run's eval loss
    QVERIFY(!p->legend->hasItemWithPlottable(p->graph(2)));  // the first run has none
    plot.clear();
    QCOMPARE(plot.runCount(), 0);
    QCOMPARE(p->graphCount(), 0);
}

void TestLossPlotWidget::exportsImages_data() {
    QTest::addColumn<QString>("suffix");
    QTest::addColumn<QByteArray>("magic");
    QTest::addRow("png") << QStringLiteral("png") << QByteArray("\x89PNG", 4);
    QTest::addRow("jpg") << QStringLiteral("jpg") << QByteArray("\xff\xd8\xff", 3);
    QTest::addRow("pdf") << QStringLiteral("pdf") << QByteArray("%PDF");
}

void TestLossPlotWidget::exportsImages() {
    QFETCH(QString, suffix);
    QFETCH(QByteArray, magic);
    QTemporaryDir dir;
    LossPlotWidget plot;
    plot.setRuns({RunCurves{QStringLiteral("a"), {step(1, 2, 1e-3, 10), step(2, 1, 1e-3, 20)}, {eval(2, 1.5)}}});
    const QString path = dir.filePath(QStringLiteral("loss.") + suffix);
    QString error;
    QVERIFY2(plot.exportImage(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.size() > 1000);
    QCOMPARE(file.read(magic.size()), magic);
    if (suffix != QLatin1String("pdf")) {
        const QImage image(path);
        QVERIFY(!image.isNull());
        QVERIFY(image.width() >= 400);
    }
}

void TestLossPlotWidget::exportsCsv() {
    QTemporaryDir dir;
    LossPlotWidget plot;
    plot.setSmoothing(0);
    sumlab::EvalMetrics generated = eval(4, 1.25);  // an evaluation with predict_with_generate
    generated.has_rouge = true;
    generated.eval_rouge1 = 0.375;
    generated.eval_rouge2 = 0.125;
    generated.eval_rougeL = 0.25;
    generated.eval_rougeLsum = 0.3125;
    generated.eval_gen_len = 17.5;
    generated.eval_generated = 10;
    plot.setRuns({RunCurves{QStringLiteral("run, one"), {step(1, 2, 1e-3, 10), step(2, 1, 5e-4, 20)}, {eval(2, 1.5), generated}}});
    const QString path = dir.filePath(QStringLiteral("loss.csv"));
    QString error;
    QVERIFY2(plot.exportCsv(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList lines = QString::fromUtf8(file.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines, (QStringList{
                        QStringLiteral("run,kind,step,epoch,tokens_seen,loss,loss_smoothed,learning_rate,grad_norm,eval_loss,"
                                       "eval_rouge1,eval_rouge2,eval_rougeL,eval_rougeLsum,eval_gen_len"),
                        QStringLiteral("\"run, one\",train,1,0.25,10,2,2,0.001,0,,,,,,"),
                        QStringLiteral("\"run, one\",train,2,0.5,20,1,1,0.0005,0,,,,,,"),
                        QStringLiteral("\"run, one\",eval,2,0.5,,,,,,1.5,,,,,"),
                        QStringLiteral("\"run, one\",eval,4,1,,,,,,1.25,0.375,0.125,0.25,0.3125,17.5"),
                    }));
}

void TestLossPlotWidget::refusesUnknownFormat() {
    QTemporaryDir dir;
    LossPlotWidget plot;
    QString error;
    QVERIFY(!plot.exportImage(dir.filePath(QStringLiteral("loss.bmpx")), &error));
    QVERIFY2(error.contains(QStringLiteral("bmpx")), qPrintable(error));
    QVERIFY(!plot.exportCsv(dir.filePath(QStringLiteral("missing-folder/loss.csv")), &error));
    QVERIFY(!error.isEmpty());
}

void TestLossPlotWidget::followsPalette() {
    LossPlotWidget plot;
    QPalette dark = plot.palette();
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    dark.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    plot.setPalette(dark);
    QCustomPlot* p = plot.plot();
    // Axes, tick labels and legend text take the palette's text colour: readable on a dark base.
    QCOMPARE(p->xAxis->tickLabelColor(), QColor(0xe0, 0xe0, 0xe0));
    QCOMPARE(p->yAxis2->labelColor(), QColor(0xe0, 0xe0, 0xe0));
    QCOMPARE(p->xAxis->basePen().color(), QColor(0xe0, 0xe0, 0xe0));
    QCOMPARE(p->legend->textColor(), QColor(0xe0, 0xe0, 0xe0));
    // The plot's background is the palette's base: a rendered corner pixel is dark.
    const QImage image = p->toPixmap(300, 200).toImage();
    QVERIFY2(qGray(image.pixel(2, 2)) < 60, qPrintable(QString::number(qGray(image.pixel(2, 2)))));
}

QTEST_MAIN(TestLossPlotWidget)
#include "tst_lossplotwidget.moc"
