// Tests for engine/data/python_literal: the strict reader of DialogSum's raw Python dict lines -- what it accepts
// (as ast.literal_eval reads repr() output) and every rejection, with file, line and character column.
#include "engine/data/python_literal.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include <QtTest>

using namespace sumlab;

// Declared before the helpers: moc misreads the apostrophes inside their raw string literals.
class TestPythonLiteral : public QObject {
    Q_OBJECT

private slots:
    void pythonLiteral_data();
    void pythonLiteral();
    void pythonLiteralErrors_data();
    void pythonLiteralErrors();
};

namespace {

std::string bytes(const QByteArray& a) { return std::string(a.constData(), static_cast<size_t>(a.size())); }

}  // namespace

void TestPythonLiteral::pythonLiteral_data() {
    QTest::addColumn<QByteArray>("literal");
    QTest::addColumn<QString>("json");

    QTest::addRow("flat dict") << QByteArray("{'fname': 'train_0', 'n': 3}") << R"({"fname":"train_0","n":3})";
    QTest::addRow("empty dict") << QByteArray("{}") << "{}";
    QTest::addRow("double quotes hold an apostrophe") << QByteArray(R"({"a": "it's"})") << R"({"a":"it's"})";
    QTest::addRow("simple escapes") << QByteArray(R"({'a': 'l1\nl2\t\\ \' \" \r\a\b\f\v'})")
                                    << R"({"a":"l1\nl2\t\\ ' \" \r\u0007\b\f\u000b"})";
    QTest::addRow("hex escape is a code point") << QByteArray(R"({'a': 'caf\xe9'})") << QString::fromUtf8(R"({"a":"café"})");
    QTest::addRow("unicode escapes") << QByteArray(R"({'a': '\u20ac \U0001F600 \ud83d\ude00'})")
                                     << QString::fromUtf8(R"({"a":"€ 😀 😀"})");
    QTest::addRow("octal escapes") << QByteArray(R"({'a': '\101\0x\7'})") << R"({"a":"A\u0000x\u0007"})";
    QTest::addRow("raw utf-8") << QByteArray("{'a': '\xC3\xA9t\xC3\xA9'}") << QString::fromUtf8(R"({"a":"été"})");
    QTest::addRow("u prefix") << QByteArray(R"({u'a': U"b"})") << R"({"a":"b"})";
    QTest::addRow("constants") << QByteArray("{'t': True, 'f': False, 'n': None}") << R"({"f":false,"n":null,"t":true})";
    QTest::addRow("numbers") << QByteArray("{'a': -12, 'b': 1.5, 'c': -2e3, 'd': .25, 'e': 0, 'f': +7, 'g': 5.}")
                             << R"({"a":-12,"b":1.5,"c":-2000.0,"d":0.25,"e":0,"f":7,"g":5.0})";
    QTest::addRow("int64 range") << QByteArray("{'a': -9223372036854775808, 'b': 9223372036854775807}")
                                 << R"({"a":-9223372036854775808,"b":9223372036854775807})";
    QTest::addRow("lists, nesting, trailing commas") << QByteArray("{'a': [1, 'x', [], {'b': [None,]},], }")
                                                     << R"({"a":[1,"x",[],{"b":[null]}]})";
    QTest::addRow("whitespace") << QByteArray(" \t{ 'a' :\t'b' } \t") << R"({"a":"b"})";
    QTest::addRow("negative zero is the int 0") << QByteArray("{'a': -0}") << R"({"a":0})";
    // max_depth is 64: the outermost value is depth 0, so 65 nested lists are the deepest accepted.
    QTest::addRow("65 nested lists") << QByteArray(65, '[') + QByteArray(65, ']')
                                     << QString(65, '[') + QString(65, ']');
}

void TestPythonLiteral::pythonLiteral() {
    QFETCH(QByteArray, literal);
    QFETCH(QString, json);
    const nlohmann::json value = parse_python_literal(bytes(literal), "p.txt", 1);
    QCOMPARE(QString::fromStdString(value.dump()), json);
}

void TestPythonLiteral::pythonLiteralErrors_data() {
    QTest::addColumn<QByteArray>("literal");
    QTest::addColumn<QString>("message");

    QTest::addRow("unterminated string") << QByteArray("{'a': 'x}") << "p.txt:7: Python literal, column 7: unterminated string";
    QTest::addRow("missing closing brace") << QByteArray("{'a': 'x'")
                                           << "p.txt:7: Python literal, column 10: expected ',' or '}' in a dict";
    QTest::addRow("missing colon after utf-8") << QByteArray("{'\xC3\xA9': 'x', 'b' 1}")
                                               << "p.txt:7: Python literal, column 16: expected ':'";
    QTest::addRow("function call") << QByteArray("{'a': eval('1')}")
                                   << "p.txt:7: Python literal, column 7: unexpected name 'eval' (only True, False and "
                                      "None are allowed)";
    QTest::addRow("bytes prefix") << QByteArray("{'a': b'x'}")
                                  << "p.txt:7: Python literal, column 7: unexpected name 'b' (only True, False and None "
                                     "are allowed)";
    QTest::addRow("unknown escape") << QByteArray(R"({'a': 'x\d'})") << R"(p.txt:7: Python literal, column 9: invalid escape \d)";
    QTest::addRow("named escape") << QByteArray(R"({'a': '\N{BULLET}'})")
                                  << R"(p.txt:7: Python literal, column 8: \N{...} escapes are not supported)";
    QTest::addRow("short hex escape") << QByteArray(R"({'a': '\x4'})")
                                      << "p.txt:7: Python literal, column 8: truncated escape: expected 2 hex digits";
    QTest::addRow("lone surrogate") << QByteArray(R"({'a': '\ud800x'})")
                                    << "p.txt:7: Python literal, column 8: lone surrogate escape cannot be stored as UTF-8";
    QTest::addRow("beyond unicode") << QByteArray(R"({'a': '\U00110000'})")
                                    << "p.txt:7: Python literal, column 8: escape beyond U+10FFFF";
    QTest::addRow("duplicate key") << QByteArray("{'a': 1, 'a': 2}") << "p.txt:7: Python literal, column 10: duplicate key 'a'";
    QTest::addRow("int key") << QByteArray("{1: 'x'}") << "p.txt:7: Python literal, column 2: dict keys must be strings";
    QTest::addRow("trailing text") << QByteArray("{'a': 1} x") << "p.txt:7: Python literal, column 10: unexpected text after the literal";
    QTest::addRow("leading zero") << QByteArray("{'a': 007}")
                                  << "p.txt:7: Python literal, column 7: leading zeros are not allowed in an int";
    QTest::addRow("int overflow") << QByteArray("{'a': 9223372036854775808}")
                                  << "p.txt:7: Python literal, column 7: int out of the 64-bit range";
    QTest::addRow("triple quotes") << QByteArray("{'a': '''x'''}")
                                   << "p.txt:7: Python literal, column 7: triple-quoted strings are not supported";
    QTest::addRow("tuple") << QByteArray("{'a': (1, 2)}") << "p.txt:7: Python literal, column 7: unexpected character '('";
    QTest::addRow("empty") << QByteArray("") << "p.txt:7: Python literal, column 1: unexpected end of line, expected a value";
    QTest::addRow("too deep") << QByteArray(100, '[') << "p.txt:7: Python literal, column 66: nested too deeply";
    QTest::addRow("float overflow") << QByteArray("{'a': 1e999}") << "p.txt:7: Python literal, column 7: number out of range";
    QTest::addRow("exponent without digits") << QByteArray("{'a': 1e}")
                                             << "p.txt:7: Python literal, column 7: malformed exponent in a number";
    QTest::addRow("letters after digits") << QByteArray("{'a': 12x}") << "p.txt:7: Python literal, column 7: malformed number";
    QTest::addRow("sign alone") << QByteArray("{'a': -}") << "p.txt:7: Python literal, column 7: expected a number";
    QTest::addRow("line break in a string") << QByteArray("{'a': 'x\ny'}")
                                            << "p.txt:7: Python literal, column 9: line break inside a string (write \\n)";
    // A high surrogate joins only a following low one; before \u0041 it stays lone, which UTF-8 cannot hold.
    QTest::addRow("high surrogate before a non-surrogate") << QByteArray(R"({'a': '\ud83d\u0041'})")
                                                           << "p.txt:7: Python literal, column 8: lone surrogate escape cannot be stored as UTF-8";
    // x is byte 12 but character 8: each euro sign is three bytes.
    QTest::addRow("column counts characters") << QByteArray("{'\xE2\x82\xAC\xE2\x82\xAC': x}")
                                              << "p.txt:7: Python literal, column 8: unexpected name 'x' (only True, False and "
                                                 "None are allowed)";
}

void TestPythonLiteral::pythonLiteralErrors() {
    QFETCH(QByteArray, literal);
    QFETCH(QString, message);
    try {
        const auto value = parse_python_literal(bytes(literal), "p.txt", 7);
        QFAIL(qPrintable("accepted: " + QString::fromStdString(value.dump())));
    } catch (const DataError& e) {
        QCOMPARE(QString::fromStdString(e.what()), message);
        QCOMPARE(e.line(), std::int64_t(7));
    }
}

QTEST_GUILESS_MAIN(TestPythonLiteral)
#include "tst_python_literal.moc"
