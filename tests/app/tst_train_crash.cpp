// `sumlab-cli train` killed with SIGKILL at different moments (during steps, checkpoint writes and
// metrics appends), each time resumed: the run must end with the same loss curve and weights as
// an uninterrupted one, and no file may be left half-written where a complete one is expected.
#include <torch/torch.h>

#include "tests/common/golden.h"

#include "engine/trainer.h"
#include "models/checkpoint.h"

#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

#include <csignal>
#include <fstream>

using namespace sumlab;
using namespace sumlab::test;

class TestTrainCrash : public QObject {
    Q_OBJECT

private slots:
    void killed_runs_resume_to_the_same_result();
    void unwritable_output_is_refused_up_front();

private:
    QStringList train_args(const QString& out) const {
        return {"train", "--model", QString::fromStdString(shared_path("golden/t5/tiny-flan")), "--data", m_data, "--output", out,
                "--max-steps", "120", "--per-device-train-batch-size", "2", "--learning-rate", "1e-3", "--dropout-rate", "0.1",
                "--save-steps", "1", "--save-total-limit", "2", "--logging-steps", "1", "--max-source-length", "128",
                "--max-target-length", "24", "--quiet"};
    }
    QString cli() const { return QStringLiteral(SUMLAB_BIN_DIR "/sumlab-cli"); }
    QTemporaryDir m_tmp;
    QString m_data;
};

void TestTrainCrash::killed_runs_resume_to_the_same_result() {
    std::string csv = shared_path("dialogsum/csv/validation.csv");
    SUMLAB_REQUIRE_SHARED(csv);
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/tiny-flan/config.json"));
    // 10 dialogues as a train split.
    m_data = m_tmp.filePath("train.csv");
    {
        std::ifstream in(csv);
        std::ofstream out(m_data.toStdString());
        std::string line, record;
        int rows = -1;
        bool in_quotes = false;
        while (rows < 10 && std::getline(in, line)) {
            record += line + "\n";
            for (char c : line) in_quotes ^= (c == '"');
            if (!in_quotes) {
                out << record;
                record.clear();
                ++rows;
            }
        }
    }
    QProcess straight;
    straight.start(cli(), train_args(m_tmp.filePath("straight")));
    QVERIFY(straight.waitForFinished(300000));
    QCOMPARE(straight.exitCode(), 0);

    const QString run = m_tmp.filePath("killed");
    int kills = 0;
    for (int attempt = 0; attempt < 60; ++attempt) {
        QProcess p;
        QStringList args = train_args(run);
        const bool has_checkpoint = !QDir(run).entryList({"checkpoint-*"}, QDir::Dirs).filter(QRegularExpression("^checkpoint-\\d+$")).isEmpty();
        if (has_checkpoint) args << "--resume";
        p.start(cli(), args);
        QVERIFY(p.waitForStarted());
        // Kill after a varying delay: some land in start-up, most in steps, checkpoint writes and appends.
        const int delay_ms = 450 + (attempt * 137) % 700;
        if (!p.waitForFinished(delay_ms)) {
            ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
            p.waitForFinished();
            ++kills;
            continue;
        }
        QVERIFY2(p.exitCode() == 0, qPrintable(QString::fromUtf8(p.readAllStandardError())));
        break;
    }
    QVERIFY2(kills >= 5, qPrintable(QString("only %1 kills landed").arg(kills)));
    RunInfo a = read_run(m_tmp.filePath("straight").toStdString());
    RunInfo b = read_run(run.toStdString());
    QCOMPARE(b.status, RunStatus::finished);
    QCOMPARE(b.logs.size(), a.logs.size());
    for (size_t i = 0; i < a.logs.size(); ++i) {
        QCOMPARE(b.logs[i].step, a.logs[i].step);
        QVERIFY2(std::abs(a.logs[i].loss - b.logs[i].loss) < 1e-6, qPrintable(QString("step %1").arg(a.logs[i].step)));
    }
    LoadedModel ma = load_model(m_tmp.filePath("straight/final").toStdString());
    LoadedModel mb = load_model((run + "/final").toStdString());
    auto pb = mb.model->named_parameters();
    for (const auto& p : ma.model->named_parameters()) QVERIFY2(torch::allclose(p.value(), pb[p.key()], 0, 1e-6), p.key().c_str());
    QVERIFY(QDir(run).entryList({"*.tmp*"}, QDir::AllEntries | QDir::Hidden).isEmpty() ||
            QDir(run).entryList({"checkpoint-*"}, QDir::Dirs).size() <= 3);
    qInfo("%d kills survived", kills);
}

void TestTrainCrash::unwritable_output_is_refused_up_front() {
    // A file where the run folder should go: refused before any work, naming the path.
    QFile occupied(m_tmp.filePath("occupied"));
    QVERIFY(occupied.open(QIODevice::WriteOnly));
    occupied.close();
    QProcess p;
    p.start(cli(), train_args(m_tmp.filePath("occupied/run")));
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 1);
    QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains("occupied"));
    if (::geteuid() != 0) {  // root writes into read-only folders, so this half needs an ordinary user
        QDir(m_tmp.path()).mkdir("readonly");
        QFile::setPermissions(m_tmp.filePath("readonly"), QFileDevice::ReadOwner | QFileDevice::ExeOwner);
        QProcess q;
        q.start(cli(), train_args(m_tmp.filePath("readonly/run")));
        QVERIFY(q.waitForFinished(60000));
        QCOMPARE(q.exitCode(), 1);
        QVERIFY(QString::fromUtf8(q.readAllStandardError()).contains("readonly"));
    }
}

QTEST_GUILESS_MAIN(TestTrainCrash)
#include "tst_train_crash.moc"
