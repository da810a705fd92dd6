// Running the Python reference stack (../shared/reference: transformers 4.28 on Debian's python3-torch) from a
// test: whether it is usable here (else the case QSKIPs with the reason) and running one script with it.
#pragma once

#include "tests/common/golden.h"

#include <QProcess>
#include <QString>
#include <QStringList>

namespace sumlab::test {

inline const char* kReferencePython = "/usr/bin/python3";

// Empty when the stack can run; otherwise why not (for QSKIP).
inline QString reference_python_unavailable() {
    const std::string vendor = shared_path("reference/vendor/transformers");
    if (!exists(vendor + "/__init__.py")) return QString("missing %1 (the vendored transformers 4.28)").arg(QString::fromStdString(vendor));
    QProcess p;
    p.start(kReferencePython, {"-c", "import torch, sentencepiece"});
    if (!p.waitForFinished(60000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return QString("%1 cannot import torch and sentencepiece (apt install python3-torch python3-sentencepiece)").arg(kReferencePython);
    return {};
}

struct PythonResult {
    int exit_code = -1;
    QByteArray out, err;
};

// Runs `script` with `args` under the reference environment (../shared/reference/env.sh's variables).
inline PythonResult run_reference_python(const QString& script, const QStringList& args, int timeout_ms = 120000) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("PYTHONPATH", QString::fromStdString(shared_path("reference/stubs") + ":" + shared_path("reference/vendor")));
    for (const char* flag : {"TRANSFORMERS_OFFLINE", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_NO_ADVISORY_WARNINGS"})
        env.insert(flag, "1");
    env.insert("TOKENIZERS_PARALLELISM", "false");
    p.setProcessEnvironment(env);
    p.start(kReferencePython, QStringList{script} + args);
    PythonResult r;
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

}  // namespace sumlab::test
