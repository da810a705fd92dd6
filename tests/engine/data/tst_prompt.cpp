// Tests for engine/data/prompt: {dialogue} rendering, Python-style brace escapes, presets and template errors.
#include "engine/data/prompt.h"
#include "base/errors.h"

#include <QtTest>

class TestPrompt : public QObject {
    Q_OBJECT

private slots:
    void defaultIsTheLabPrompt();
    void render_data();
    void render();
    void errors_data();
    void errors();
    void presets();
    void resolve_data();
    void resolve();
    void errorNamesSource();
};

void TestPrompt::defaultIsTheLabPrompt() {
    const sumlab::PromptTemplate prompt;
    QCOMPARE(QString::fromStdString(prompt.text()),
             QStringLiteral("Summarize the following conversation.\n\n{dialogue}\n\nSummary: "));
    QCOMPARE(QString::fromStdString(prompt.render("#Person1#: Hi.\n#Person2#: Hello.")),
             QStringLiteral("Summarize the following conversation.\n\n#Person1#: Hi.\n#Person2#: Hello.\n\nSummary: "));
    QCOMPARE(prompt.placeholder_count(), size_t(1));
}

void TestPrompt::render_data() {
    QTest::addColumn<QString>("templ");
    QTest::addColumn<QString>("dialogue");
    QTest::addColumn<QString>("expected");

    QTest::addRow("dialogue only") << "{dialogue}" << "A: hi" << "A: hi";
    QTest::addRow("text around") << "Q: {dialogue} :A" << "x" << "Q: x :A";
    QTest::addRow("twice") << "{dialogue}|{dialogue}" << "ab" << "ab|ab";
    QTest::addRow("escaped braces") << "{{json}} {dialogue} }}{{" << "d" << "{json} d }{";
    QTest::addRow("escaped placeholder is literal") << "{{dialogue}} {dialogue}" << "d" << "{dialogue} d";
    QTest::addRow("braces in dialogue kept") << "<{dialogue}>" << "{x} }} {{dialogue}" << "<{x} }} {{dialogue}>";
    QTest::addRow("empty dialogue") << "[{dialogue}]" << "" << "[]";
    QTest::addRow("utf-8") << QString::fromUtf8("Résumé: {dialogue} …") << QString::fromUtf8("été")
                           << QString::fromUtf8("Résumé: été …");
}

void TestPrompt::render() {
    QFETCH(QString, templ);
    QFETCH(QString, dialogue);
    QFETCH(QString, expected);
    const sumlab::PromptTemplate prompt(templ.toStdString());
    QCOMPARE(QString::fromStdString(prompt.render(dialogue.toStdString())), expected);
    QCOMPARE(QString::fromStdString(prompt.text()), templ);
}

void TestPrompt::errors_data() {
    QTest::addColumn<QByteArray>("templ");
    QTest::addColumn<QString>("message");

    QTest::addRow("no placeholder") << QByteArray("Summarize this.")
                                    << "prompt template: the template has no {dialogue} placeholder";
    QTest::addRow("only escaped placeholder") << QByteArray("{{dialogue}}")
                                              << "prompt template: the template has no {dialogue} placeholder";
    QTest::addRow("other field") << QByteArray("{dialogue} {summary}")
                                 << "prompt template: unknown field {summary} in the template; the only field is "
                                    "{dialogue} (write '{{' and '}}' for literal braces)";
    QTest::addRow("positional field") << QByteArray("{} {dialogue}")
                                      << "prompt template: unknown field {} in the template; the only field is "
                                         "{dialogue} (write '{{' and '}}' for literal braces)";
    QTest::addRow("format spec") << QByteArray("{dialogue!r}")
                                 << "prompt template: unknown field {dialogue!r} in the template; the only field is "
                                    "{dialogue} (write '{{' and '}}' for literal braces)";
    QTest::addRow("single closing brace") << QByteArray("{dialogue} }")
                                          << "prompt template: single '}' at character 12 of the template (write '}}' "
                                             "for a literal brace)";
    QTest::addRow("unmatched opening brace") << QByteArray("{dialogue} {oops")
                                             << "prompt template: unmatched '{' at character 12 of the template "
                                                "(write '{{' for a literal brace)";
    QTest::addRow("invalid utf-8") << QByteArray("{dialogue} \xFF") << "prompt template: the template is not valid UTF-8";
}

void TestPrompt::errors() {
    QFETCH(QByteArray, templ);
    QFETCH(QString, message);
    try {
        sumlab::PromptTemplate prompt(templ.toStdString());
        QFAIL(qPrintable("accepted: " + QString::fromStdString(prompt.render("x"))));
    } catch (const sumlab::ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.what()), message);
    }
}

void TestPrompt::presets() {
    const auto& presets = sumlab::prompt_presets();
    QCOMPARE(presets.size(), size_t(2));
    QCOMPARE(std::string(presets[0].name), std::string("dialogsum"));
    QCOMPARE(std::string(presets[0].text), std::string(sumlab::default_prompt_template));
    QCOMPARE(std::string(presets[1].name), std::string("plain"));
    for (const auto& preset : presets) {
        // Every preset parses and says what it is.
        QCOMPARE(sumlab::PromptTemplate(std::string(preset.text)).placeholder_count(), size_t(1));
        QVERIFY2(!preset.description.empty(), preset.name.data());
    }
}

void TestPrompt::resolve_data() {
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("expected");  // the text of the resolved template

    QTest::addRow("dialogsum preset") << "dialogsum" << "Summarize the following conversation.\n\n{dialogue}\n\nSummary: ";
    QTest::addRow("plain preset") << "plain" << "{dialogue}";
    QTest::addRow("literal template") << "Dialogue:\n{dialogue}\nWhat happened?" << "Dialogue:\n{dialogue}\nWhat happened?";
}

void TestPrompt::resolve() {
    QFETCH(QString, spec);
    QFETCH(QString, expected);
    QCOMPARE(QString::fromStdString(sumlab::resolve_prompt(spec.toStdString()).text()), expected);
}

void TestPrompt::errorNamesSource() {
    try {
        sumlab::resolve_prompt("dialogsun");
        QFAIL("an unknown preset name was accepted");
    } catch (const sumlab::ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.what()),
                 QStringLiteral("prompt template: \"dialogsun\" is neither a preset (dialogsum, plain) nor a template "
                                "with a {dialogue} placeholder"));
    }
    try {
        sumlab::PromptTemplate("no field", "run.json", "prompt");
        QFAIL("a template without {dialogue} was accepted");
    } catch (const sumlab::ConfigError& e) {
        QCOMPARE(QString::fromStdString(e.what()),
                 QStringLiteral("run.json: 'prompt': the template has no {dialogue} placeholder"));
        QCOMPARE(QString::fromStdString(e.key()), QStringLiteral("prompt"));
    }
}

QTEST_GUILESS_MAIN(TestPrompt)
#include "tst_prompt.moc"
