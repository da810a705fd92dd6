// `sumlab-cli train` killed with SIGKILL at different moments (during steps, checkpoint writes and
// metrics appends), each time resumed: the run must end with the same loss curve and weights as
// an uninterrupted one, and no file may be left half-written where a complete one is expected.
// Also: a full disk (a 14 MB tmpfs) gives one clear error and keeps the last good checkpoint, and a
// read-only or occupied output folder is refused before any work. The mounts are made in a private
// mount namespace (unshare: as root, or as a user where user namespaces are allowed), so none outlives
// the test; where that is impossible the case skips, saying why.
#include <torch/torch.h>

#include "tests/common/golden.h"

#include "engine/training/run_folder.h"
#include "engine/training/trainer.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "models/safetensors.h"

#include <QDirIterator>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QThread>
#include <QtTest>

#include <csignal>
#include <cstring>
#include <fstream>

using namespace sumlab;
using namespace sumlab::test;

class TestTrainCrash : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void killed_runs_resume_to_the_same_result();
    void occupied_output_is_refused_up_front();
    void read_only_folder_is_refused_up_front();
    void read_only_filesystem_is_refused_up_front();
    void full_disk_keeps_the_last_good_checkpoint();

private:
    struct NamespacedRun {
        QString skip;  // why the mounts could not be made; empty when the command ran
        int code = -1;
        QString err;
    };
    // Runs `command` in a private mount namespace after the shell commands `setup` (the mounts) and
    // before `teardown` (e.g. copying results out): the mounts vanish with the namespace. Root gets
    // one with `unshare --mount`, anyone else with a user namespace mapping them to root.
    static NamespacedRun run_in_mount_namespace(const QString& setup, const QStringList& command, const QString& teardown = "true") {
        QStringList args = ::geteuid() == 0 ? QStringList{"--mount"} : QStringList{"--user", "--map-root-user", "--mount"};
        const QString how = QStringLiteral("unshare ") + args.join(' ');
        // "$@" is the command; the marker on stdout says the namespace and its mounts are there.
        args << "sh" << "-c" << "{ " + setup + "; } || exit 97\necho mounts-ready\n\"$@\"\nrc=$?\n" + teardown + "\nexit $rc" << "sh" << command;
        QProcess p;
        p.start("unshare", args);
        if (!p.waitForStarted()) return {how + " could not be started (util-linux unshare missing?)"};
        if (!p.waitForFinished(300000)) {
            p.kill();
            p.waitForFinished();
            return {{}, -1, "timed out"};
        }
        const QString err = QString::fromUtf8(p.readAllStandardError());
        if (!p.readAllStandardOutput().contains("mounts-ready")) return {how + " and `" + setup + "` failed: " + err.trimmed()};
        return {{}, p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, err};
    }
    static QString quoted(const QString& path) { return "'" + QString(path).replace("'", "'\\''") + "'"; }
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

void TestTrainCrash::initTestCase() {
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
}

namespace {

// The safetensors files process `pid` has open for writing anywhere in `run` (models/safetensors.cpp
// writes <file>.tmp-<pid>-<random> and renames it into place when complete).
QStringList safetensors_temporaries_of(const QString& run, qint64 pid) {
    QStringList names;
    QDirIterator it(run, {QStringLiteral("*.safetensors.tmp-%1-*").arg(pid)}, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) names << it.next();
    return names;
}

QByteArray contents(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A metrics line cut in half by the process now running: the file ends without its newline and is
// not what the previous attempt left (which may be a torn line of its own).
bool torn_since(const QByteArray& now, const QByteArray& before) { return !now.isEmpty() && !now.endsWith('\n') && now != before; }

}  // namespace

void TestTrainCrash::killed_runs_resume_to_the_same_result() {
    QProcess straight;
    straight.start(cli(), train_args(m_tmp.filePath("straight")));
    QVERIFY(straight.waitForFinished(300000));
    QCOMPARE(straight.exitCode(), 0);

    // Attempts 0-15 alternate the two stalls (SUMLAB_TEST_STALL: 150 ms with a half-written safetensors
    // file open, or half a metrics line flushed) and aim the kill into one: they watch the run folder
    // until the process is inside its (skip + 1)-th stalled write (skip 0-4, so the kill lands in the
    // model, optimizer or RNG file, or a later step), then kill 50 ms into the stall. These 16 attempts
    // advance the run by at most ~50 of its 120 steps (a safetensors kill at most one step, a metrics kill
    // at most five), so all of them happen. Later attempts kill after 450-1150 ms from start-up, landing
    // in start-up, resume, steps and the unstalled writes.
    constexpr int stall_attempts = 16;
    const QString run = m_tmp.filePath("killed");
    const QString metrics_path = run + "/metrics.jsonl";
    int kills = 0, torn_checkpoints = 0, torn_metrics = 0;
    int aimed_checkpoint_hits = 0, aimed_metrics_hits = 0;  // of the 8 kills aimed at each kind of write
    bool finished = false;
    for (int attempt = 0; attempt < 60 && !finished; ++attempt) {
        QProcess p;
        QStringList args = train_args(run);
        const bool has_checkpoint = !QDir(run).entryList({"checkpoint-*"}, QDir::Dirs).filter(QRegularExpression("^checkpoint-\\d+$")).isEmpty();
        if (has_checkpoint) args << "--resume";
        const char* stall = attempt >= stall_attempts ? nullptr : attempt % 2 == 0 ? "safetensors-write" : "metrics-append";
        const bool aims_at_safetensors = stall && std::strcmp(stall, "safetensors-write") == 0;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        if (stall) env.insert("SUMLAB_TEST_STALL", stall);
        else env.remove("SUMLAB_TEST_STALL");
        p.setProcessEnvironment(env);
        const QByteArray metrics_before = contents(metrics_path);
        p.start(cli(), args);
        QVERIFY(p.waitForStarted());
        const qint64 pid = p.processId();
        if (stall) {
            const int skip = (attempt / 2) % 5;
            QSet<QString> seen;  // stalled writes seen: temporary file names, or sizes of torn metrics files
            QElapsedTimer waited;
            waited.start();
            while (seen.size() <= skip && waited.elapsed() < 5000 && !p.waitForFinished(5)) {
                if (aims_at_safetensors) {
                    for (const QString& name : safetensors_temporaries_of(run, pid)) seen.insert(name);
                } else if (const QByteArray now = contents(metrics_path); torn_since(now, metrics_before)) {
                    seen.insert(QString::number(now.size()));
                }
            }
            // 50 ms into the 150 ms stall: an unstalled write seen by chance is over by then (it takes
            // ~10 ms), and 100 ms are left for this test to be rescheduled.
            if (p.state() != QProcess::NotRunning) QThread::msleep(50);
        } else {
            p.waitForFinished(450 + (attempt * 137) % 700);
        }
        if (p.state() != QProcess::NotRunning) {
            ::kill(static_cast<pid_t>(pid), SIGKILL);
            p.waitForFinished();
            ++kills;
            // What the kill interrupted: this process's temporary safetensors file, or its half metrics line.
            const bool in_safetensors = !safetensors_temporaries_of(run, pid).isEmpty();
            const bool in_metrics = torn_since(contents(metrics_path), metrics_before);
            torn_checkpoints += in_safetensors;
            torn_metrics += in_metrics;
            if (aims_at_safetensors) aimed_checkpoint_hits += in_safetensors;
            else if (stall) aimed_metrics_hits += in_metrics;
            continue;
        }
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(QString::fromUtf8(p.readAllStandardError())));
        // An aimed attempt stops within a few steps; one that trains to the end never met its stall.
        QVERIFY2(!stall, qPrintable(QString("attempt %1 ran to the end without stalling in a %2").arg(attempt).arg(stall)));
        finished = true;
    }
    if (!finished) {  // on a loaded machine every attempt may be killed: one last resume, left to finish
        QProcess p;
        p.start(cli(), train_args(run) << "--resume");
        QVERIFY(p.waitForFinished(600000));
        QVERIFY2(p.exitCode() == 0, qPrintable(QString::fromUtf8(p.readAllStandardError())));
    }
    qInfo("%d kills survived (%d inside a safetensors write, %d inside a metrics append; of the 8 aimed at each, %d and %d landed)",
          kills, torn_checkpoints, torn_metrics, aimed_checkpoint_hits, aimed_metrics_hits);
    // An aimed kill lands unless this test is kept off the CPU for over 100 ms between seeing the stall
    // and killing; 5 of 8 leaves room for three such delays on a loaded machine. Without the stalls an
    // aimed kill all but never lands: a metrics line is one write, and a safetensors write is long over
    // 50 ms after it was seen. (Unaimed kills also land in writes now and then; they are not counted here.)
    QVERIFY2(aimed_checkpoint_hits >= 5, qPrintable(QString("only %1 of the 8 kills aimed at a safetensors write landed in one").arg(aimed_checkpoint_hits)));
    QVERIFY2(aimed_metrics_hits >= 5, qPrintable(QString("only %1 of the 8 kills aimed at a metrics append landed in one").arg(aimed_metrics_hits)));
    QVERIFY2(kills >= stall_attempts, qPrintable(QString("only %1 kills landed").arg(kills)));

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
    // Nothing half-written or half-deleted survives anywhere in the finished run: temporary files
    // (<file>.tmp-<pid>-<n>), unfinished checkpoint folders (<name>.tmp) and folders being deleted
    // (<name>.deleting, engine/training/run_folder.cpp discard_tree).
    QStringList leftovers;
    QDirIterator it(run, {"*.tmp-*", "*.tmp", "*.deleting"}, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) leftovers << QDir(run).relativeFilePath(it.next());
    QVERIFY2(leftovers.isEmpty(), qPrintable(run + " still holds " + leftovers.join(", ")));
}

void TestTrainCrash::occupied_output_is_refused_up_front() {
    // A file where the run folder should go: refused before any work, naming the path.
    QFile occupied(m_tmp.filePath("occupied"));
    QVERIFY(occupied.open(QIODevice::WriteOnly));
    occupied.close();
    QProcess p;
    p.start(cli(), train_args(m_tmp.filePath("occupied/run")));
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 1);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.contains(m_tmp.filePath("occupied")), qPrintable(err));
}

void TestTrainCrash::read_only_folder_is_refused_up_front() {
    const QString dir = m_tmp.filePath("readonly");
    QVERIFY(QDir().mkpath(dir));
    const QStringList command = QStringList{cli()} + train_args(dir + "/run");
    int code = -1;
    QString err;
    if (::geteuid() != 0) {  // an ordinary user: the folder's permissions
        QVERIFY(QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        QProcess q;
        q.start(command.front(), command.mid(1));
        QVERIFY(q.waitForFinished(60000));
        code = q.exitCode();
        err = QString::fromUtf8(q.readAllStandardError());
    } else {  // root ignores permissions, not a read-only bind mount of the folder onto itself
        const NamespacedRun r =
            run_in_mount_namespace("mount --bind " + quoted(dir) + " " + quoted(dir) + " && mount -o remount,bind,ro " + quoted(dir), command);
        if (!r.skip.isEmpty()) QSKIP(qPrintable("root ignores folder permissions, and a read-only bind mount was impossible: " + r.skip));
        code = r.code;
        err = r.err;
    }
    QCOMPARE(code, 1);
    QVERIFY2(err.contains(dir + "/run"), qPrintable(err));
    QVERIFY2(err.count('\n') <= 1, qPrintable(err));  // one line
}

void TestTrainCrash::read_only_filesystem_is_refused_up_front() {
    const QString mnt = m_tmp.filePath("ro-mount");
    QVERIFY(QDir().mkpath(mnt));
    const NamespacedRun r = run_in_mount_namespace("mount -t tmpfs -o ro,size=1m tmpfs " + quoted(mnt), QStringList{cli()} + train_args(mnt + "/run"));
    if (!r.skip.isEmpty()) QSKIP(qPrintable(r.skip));
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(mnt + "/run") && r.err.contains("Read-only file system"), qPrintable(r.err));
}

void TestTrainCrash::full_disk_keeps_the_last_good_checkpoint() {
    // A checkpoint of tiny-flan (model, AdamW state, RNG, tokenizer) is about 6 MB: 14 MB hold two,
    // the third write runs out of space. The run is copied out of the tmpfs before it vanishes.
    const QString mnt = m_tmp.filePath("small-disk");
    const QString run = m_tmp.filePath("full-disk-run");
    QVERIFY(QDir().mkpath(mnt));
    QStringList args = train_args(mnt + "/run");
    args[args.indexOf("--max-steps") + 1] = "40";
    const NamespacedRun r = run_in_mount_namespace("mount -t tmpfs -o size=14m tmpfs " + quoted(mnt), QStringList{cli()} + args,
                                                   "cp -r " + quoted(mnt + "/run") + " " + quoted(run));
    if (!r.skip.isEmpty()) QSKIP(qPrintable(r.skip));
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("No space left on device"), qPrintable(r.err));
    QVERIFY2(r.err.count('\n') <= 2, qPrintable(r.err));  // one clear line, not a backtrace

    // The newest complete checkpoint is intact: every file parses and the model loads.
    const auto checkpoints = list_checkpoints(run.toStdString());
    QVERIFY2(!checkpoints.empty(), "no checkpoint survived");
    const std::string last = checkpoints.back().second;
    for (const char* name : {"model.safetensors", "optimizer.safetensors", "rng_state.safetensors"}) {
        try {
            SafetensorsFile f(last + "/" + name);
            for (const auto& e : f.entries()) (void)f.load(e.name);
        } catch (const Error& e) {
            QFAIL(e.what());
        }
    }
    const nlohmann::json state = nlohmann::json::parse(std::ifstream(last + "/trainer_state.json"));
    QCOMPARE(state.at("global_step").get<int64_t>(), checkpoints.back().first);
    LoadedModel m = load_model(last);
    QVERIFY(m.model);
    // And training resumes from it once there is room again.
    QProcess q;
    args = train_args(run);
    args[args.indexOf("--max-steps") + 1] = "40";
    q.start(cli(), args << "--resume");
    QVERIFY(q.waitForFinished(300000));
    QVERIFY2(q.exitCode() == 0, qPrintable(QString::fromUtf8(q.readAllStandardError())));
    QCOMPARE(read_run(run.toStdString()).status, RunStatus::finished);
}

QTEST_GUILESS_MAIN(TestTrainCrash)
#include "tst_train_crash.moc"
