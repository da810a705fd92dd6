#include "ui/DialogueFormatter.h"

#include <QObject>
#include <QRegularExpression>

namespace {

const QRegularExpression& speakerLine() {
    static const QRegularExpression re(QStringLiteral(R"(^\s*(#[^#\s]{1,40}#)\s*:\s?(.*)$)"));
    return re;
}

const QRegularExpression& speakerTag() {
    static const QRegularExpression re(QStringLiteral(R"(#[^#\s]{1,40}#)"));
    return re;
}

}  // namespace

QString DialogueFormatter::emphasiseSpeakers(const QString& text) {
    QString out;
    qsizetype last = 0;
    auto it = speakerTag().globalMatch(text);
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        out += text.mid(last, m.capturedStart() - last).toHtmlEscaped();
        out += QStringLiteral("<b>") + m.captured().toHtmlEscaped() + QStringLiteral("</b>");
        last = m.capturedEnd();
    }
    out += text.mid(last).toHtmlEscaped();
    return out;
}

QString DialogueFormatter::dialogueHtml(const QString& dialogue) {
    struct Turn {
        QString speaker;
        QStringList lines;
    };
    QList<Turn> turns;
    for (const QString& raw : dialogue.split('\n')) {
        const QString line = raw.trimmed();
        if (line.isEmpty()) continue;
        const QRegularExpressionMatch m = speakerLine().match(line);
        if (m.hasMatch()) {
            turns.append({m.captured(1), {m.captured(2)}});
        } else if (!turns.isEmpty()) {
            turns.last().lines << line;
        } else {
            turns.append({QString(), {line}});
        }
    }
    QString html = QStringLiteral("<table cellspacing=\"0\" cellpadding=\"3\" width=\"100%\">");
    for (const Turn& t : turns) {
        QStringList body;
        for (const QString& l : t.lines) body << emphasiseSpeakers(l);
        html += QStringLiteral("<tr><td valign=\"top\" style=\"white-space: pre;\"><b>%1</b></td><td valign=\"top\">%2</td></tr>")
                    .arg(t.speaker.isEmpty() ? QString() : t.speaker.toHtmlEscaped() + ':', body.join(QStringLiteral("<br/>")));
    }
    html += QStringLiteral("</table>");
    return html;
}

QString DialogueFormatter::summariesHtml(const QStringList& references, const QStringList& topics) {
    QString html;
    if (references.size() == 1) {
        html += QStringLiteral("<p><b>%1</b></p><p>%2</p>").arg(QObject::tr("Reference summary"), emphasiseSpeakers(references.front()));
    } else {
        html += QStringLiteral("<p><b>%1</b></p><ol>").arg(QObject::tr("Reference summaries (%1)").arg(references.size()));
        for (const QString& r : references) html += QStringLiteral("<li>%1</li>").arg(emphasiseSpeakers(r));
        html += QStringLiteral("</ol>");
    }
    if (!topics.isEmpty()) {
        QStringList escaped;
        for (const QString& t : topics) escaped << t.toHtmlEscaped();
        html += QStringLiteral("<p><b>%1</b> %2</p>").arg(topics.size() == 1 ? QObject::tr("Topic:") : QObject::tr("Topics:"),
                                                           escaped.join(QStringLiteral(" · ")));
    }
    return html;
}
