// DialogueFormatter: DialogSum text as readable rich text for QTextBrowser: one row per speaker turn with
// the speaker label (#Person1#, #Person2#, ...) in bold, and the reference summaries numbered. Only
// structure and weight are set, never colours, so the text follows the palette (light or dark).
#pragma once

#include <QString>
#include <QStringList>

class DialogueFormatter {
public:
    // "#Person1#: Hi.\n#Person2#: Hello." -> a two-column table of bold labels and turns. Lines without a
    // label continue the previous turn's row; speaker tags inside a turn are bold as well. Text is escaped.
    static QString dialogueHtml(const QString& dialogue);
    // The reference summaries (1 or several, numbered when several) with the topics.
    static QString summariesHtml(const QStringList& references, const QStringList& topics);
    // `text` escaped, with every #Name# tag in bold.
    static QString emphasiseSpeakers(const QString& text);
};
