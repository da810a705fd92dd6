// DatasetSnapshot: a loaded DialogSum dataset as plain Qt values, copied out of the engine's structures on the
// DatasetWorker thread and handed to the UI thread by value (implicitly shared, so passing it is cheap).
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

struct DialogueRecord {
    QString id;           // "train_0"
    QStringList topics;   // empty when the file has none
    QString dialogue;     // "#Person1#: ...\n#Person2#: ..."
    QStringList references;
    QString firstLine;    // the first non-empty line of the dialogue
    int wordCount = 0;    // whitespace words of the dialogue (Python's len(text.split()))
    qint64 line = 0;      // 1-based line of the file on which the record starts

    QString topic() const { return topics.isEmpty() ? QString() : topics.front(); }
};

struct SplitSnapshot {
    QString name;         // "train", "validation", "test"
    QString path;         // the file it was read from
    QString format;       // "csv", "jsonl", "python-literal"
    QVector<DialogueRecord> dialogues;
    int referenceCount = 0;
    int skippedCount = 0;
    QStringList skippedDetails;  // "file:line (id): reason", at most the first 50
};

struct DatasetSnapshot {
    QString path;  // the folder or file that was loaded
    QVector<SplitSnapshot> splits;

    int totalDialogues() const {
        int n = 0;
        for (const SplitSnapshot& s : splits) n += s.dialogues.size();
        return n;
    }
    int totalSkipped() const {
        int n = 0;
        for (const SplitSnapshot& s : splits) n += s.skippedCount;
        return n;
    }
    // The split named `name`, or nullptr.
    const SplitSnapshot* find(const QString& name) const {
        for (const SplitSnapshot& s : splits)
            if (s.name == name) return &s;
        return nullptr;
    }
};

Q_DECLARE_METATYPE(DatasetSnapshot)
