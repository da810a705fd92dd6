// Tests for engine/data/csv: Python-compatible quoting, physical line numbers, strict errors, UTF-8 validation.
#include "engine/data/csv.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include <QtTest>

using sumlab::CsvTable;

namespace {

std::string bytes(const QByteArray& a) { return std::string(a.constData(), static_cast<size_t>(a.size())); }

// The table as one JSON line, so a mismatch prints every field.
QString table_json(const CsvTable& t) {
    nlohmann::ordered_json j = {{"header", t.header}, {"rows", t.rows}, {"lines", t.row_lines}};
    return QString::fromStdString(j.dump());
}

}  // namespace

class TestCsv : public QObject {
    Q_OBJECT

private slots:
    void parse_data();
    void parse();
    void errors_data();
    void errors();
    void format_data();
    void format();
    void roundTrip();
    void column();
    void utf8_data();
    void utf8();
    void missingFile();
    void realTrainFile();
};

void TestCsv::parse_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("expected");  // {"header":..,"rows":..,"lines":..}

    QTest::addRow("simple") << QByteArray("a,b\n1,2\n")
                            << R"({"header":["a","b"],"rows":[["1","2"]],"lines":[2]})";
    QTest::addRow("comma in quotes") << QByteArray("a,b\n\"x, y\",2\n")
                                     << R"({"header":["a","b"],"rows":[["x, y","2"]],"lines":[2]})";
    QTest::addRow("doubled quote") << QByteArray("a,b\n\"say \"\"hi\"\"\",2\n")
                                   << R"({"header":["a","b"],"rows":[["say \"hi\"","2"]],"lines":[2]})";
    QTest::addRow("newline in quotes") << QByteArray("a,b\n\"l1\nl2\",2\n3,4\n")
                                       << R"({"header":["a","b"],"rows":[["l1\nl2","2"],["3","4"]],"lines":[2,4]})";
    QTest::addRow("crlf line ends") << QByteArray("a,b\r\n1,2\r\n3,4\r\n")
                                    << R"({"header":["a","b"],"rows":[["1","2"],["3","4"]],"lines":[2,3]})";
    QTest::addRow("crlf kept inside quotes") << QByteArray("a,b\r\n\"x\r\ny\",2\r\n")
                                             << R"({"header":["a","b"],"rows":[["x\r\ny","2"]],"lines":[2]})";
    QTest::addRow("no final newline") << QByteArray("a,b\n1,2")
                                      << R"({"header":["a","b"],"rows":[["1","2"]],"lines":[2]})";
    QTest::addRow("empty fields") << QByteArray("a,b,c\n,,\n")
                                  << R"({"header":["a","b","c"],"rows":[["","",""]],"lines":[2]})";
    QTest::addRow("quoted empty field") << QByteArray("a,b\n\"\",2\n")
                                        << R"({"header":["a","b"],"rows":[["","2"]],"lines":[2]})";
    QTest::addRow("blank lines skipped") << QByteArray("a,b\n\n1,2\n\n\n3,4\n")
                                         << R"({"header":["a","b"],"rows":[["1","2"],["3","4"]],"lines":[3,6]})";
    QTest::addRow("byte-order mark") << QByteArray("\xEF\xBB\xBF" "a,b\n1,2\n")
                                     << R"({"header":["a","b"],"rows":[["1","2"]],"lines":[2]})";
    QTest::addRow("utf-8 text") << QByteArray("a\n\xC3\xA9t\xC3\xA9 \xE2\x80\xA6\n")
                                << QString::fromUtf8(R"({"header":["a"],"rows":[["été …"]],"lines":[2]})");
    QTest::addRow("header only") << QByteArray("id,dialogue\n") << R"({"header":["id","dialogue"],"rows":[],"lines":[]})";
    QTest::addRow("quoted header") << QByteArray("\"a,1\",b\nx,y\n")
                                   << R"({"header":["a,1","b"],"rows":[["x","y"]],"lines":[2]})";
    QTest::addRow("record after multi-line record")
        << QByteArray("id,text\n1,\"one\ntwo\nthree\"\n2,\"\"\"q\"\"\n\"\n3,x\n")
        << R"({"header":["id","text"],"rows":[["1","one\ntwo\nthree"],["2","\"q\"\n"],["3","x"]],"lines":[2,5,7]})";
}

void TestCsv::parse() {
    QFETCH(QByteArray, text);
    QFETCH(QString, expected);
    const CsvTable table = sumlab::parse_csv(bytes(text), "mem.csv");
    QCOMPARE(table_json(table), expected);
}

void TestCsv::errors_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("message");
    QTest::addColumn<qint64>("line");

    QTest::addRow("unterminated quote names the line it opened on")
        << QByteArray("a,b\n1,2\n3,\"abc\ndef\n")
        << "mem.csv:3: CSV: unterminated quoted field (the closing quote is missing)" << qint64(3);
    QTest::addRow("text after closing quote")
        << QByteArray("a,b\n\"ab\"c,2\n")
        << "mem.csv:2: CSV: unexpected character after a closing quote (a quote inside a quoted field must be doubled)"
        << qint64(2);
    QTest::addRow("quote inside unquoted field")
        << QByteArray("a,b\nab\"c,2\n")
        << "mem.csv:2: CSV: quote character inside an unquoted field (a field holding quotes must be quoted, with each "
           "quote doubled)"
        << qint64(2);
    QTest::addRow("too many fields after a multi-line record")
        << QByteArray("a,b\n\"x\ny\",1\n2,3,4\n")
        << "mem.csv:4: CSV: expected 2 fields as in the header, found 3" << qint64(4);
    QTest::addRow("too few fields")
        << QByteArray("a,b,c\n1,2\n") << "mem.csv:2: CSV: expected 3 fields as in the header, found 2" << qint64(2);
    QTest::addRow("invalid utf-8")
        << QByteArray("a,b\n1,2\n3,\xFF\n") << "mem.csv:3: invalid UTF-8 (byte 10 of the file)" << qint64(3);
    QTest::addRow("invalid utf-8 inside a quoted multi-line field")
        << QByteArray("a,b\n1,\"x\ny\xC3\"\n") << "mem.csv:3: invalid UTF-8 (byte 10 of the file)" << qint64(3);
    QTest::addRow("empty file") << QByteArray("") << "mem.csv: CSV: the file is empty (expected a header row)"
                                << qint64(0);
    QTest::addRow("duplicate column")
        << QByteArray("a,b,a\n1,2,3\n") << "mem.csv:1: CSV: duplicate column name \"a\" in the header" << qint64(1);
    QTest::addRow("bare carriage return")
        << QByteArray("a,b\n1\r2,3\n")
        << "mem.csv:2: CSV: carriage return inside an unquoted field (fields with line breaks must be quoted)"
        << qint64(2);
}

void TestCsv::errors() {
    QFETCH(QByteArray, text);
    QFETCH(QString, message);
    QFETCH(qint64, line);
    try {
        sumlab::parse_csv(bytes(text), "mem.csv");
        QFAIL("parse_csv accepted bad input");
    } catch (const sumlab::DataError& e) {
        QCOMPARE(QString::fromStdString(e.what()), message);
        QCOMPARE(qint64(e.line()), line);
        QCOMPARE(QString::fromStdString(e.path()), QStringLiteral("mem.csv"));
    }
}

void TestCsv::format_data() {
    QTest::addColumn<QStringList>("row");
    QTest::addColumn<QByteArray>("expected");  // what Python's csv.writer(f, lineterminator="\n") writes

    QTest::addRow("plain") << QStringList{"a", "b"} << QByteArray("h1,h2\na,b\n");
    QTest::addRow("needs quotes") << QStringList{"x,y", "say \"hi\""} << QByteArray("h1,h2\n\"x,y\",\"say \"\"hi\"\"\"\n");
    QTest::addRow("line breaks") << QStringList{"l1\nl2", "c\rr"} << QByteArray("h1,h2\n\"l1\nl2\",\"c\rr\"\n");
    QTest::addRow("empty fields") << QStringList{"", ""} << QByteArray("h1,h2\n,\n");
    QTest::addRow("spaces are not quoted") << QStringList{" a ", "b"} << QByteArray("h1,h2\n a ,b\n");
}

void TestCsv::format() {
    QFETCH(QStringList, row);
    QFETCH(QByteArray, expected);
    std::vector<std::string> fields;
    for (const auto& f : row) fields.push_back(f.toStdString());
    const std::string text = sumlab::format_csv({"h1", "h2"}, {fields});
    QCOMPARE(QByteArray::fromStdString(text), expected);
}

void TestCsv::roundTrip() {
    const std::vector<std::string> header = {"id", "dialogue"};
    const std::vector<std::vector<std::string>> rows = {
        {"1", "#Person1#: Hi, \"Bob\".\n#Person2#: Hello!"}, {"2", ""}, {"3", "\xE2\x82\xAC, \r\n"}};
    const std::string text = sumlab::format_csv(header, rows);
    const CsvTable table = sumlab::parse_csv(text, "round.csv");
    QCOMPARE(table.header, header);
    QCOMPARE(table.rows, rows);
    QCOMPARE(table.row_lines, (std::vector<std::int64_t>{2, 4, 5}));

    // A single empty field is written quoted, or it would read back as a blank line and vanish.
    const std::string one = sumlab::format_csv({"only"}, {{""}});
    QCOMPARE(QByteArray::fromStdString(one), QByteArray("only\n\"\"\n"));
    QCOMPARE(sumlab::parse_csv(one, "one.csv").rows, (std::vector<std::vector<std::string>>{{""}}));
}

void TestCsv::column() {
    const CsvTable table = sumlab::parse_csv("id,dialogue,summary\n", "h.csv");
    QCOMPARE(table.column("id"), 0);
    QCOMPARE(table.column("summary"), 2);
    QCOMPARE(table.column("topic"), -1);
    QCOMPARE(table.column("Summary"), -1);
}

void TestCsv::utf8_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("bad_offset");

    QTest::addRow("empty") << QByteArray("") << true << -1;
    QTest::addRow("ascii") << QByteArray("plain ascii text, longer than eight bytes") << true << -1;
    QTest::addRow("two bytes") << QByteArray("caf\xC3\xA9") << true << -1;
    QTest::addRow("three bytes") << QByteArray("\xE2\x82\xAC") << true << -1;
    QTest::addRow("four bytes") << QByteArray("\xF0\x9F\x98\x80") << true << -1;
    QTest::addRow("max code point") << QByteArray("\xF4\x8F\xBF\xBF") << true << -1;
    QTest::addRow("lone continuation") << QByteArray("ab\x80") << false << 2;
    QTest::addRow("overlong two bytes") << QByteArray("\xC0\x80") << false << 0;
    QTest::addRow("overlong three bytes") << QByteArray("x\xE0\x80\x80") << false << 1;
    QTest::addRow("surrogate") << QByteArray("\xED\xA0\x80") << false << 0;
    QTest::addRow("above U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << false << 0;
    QTest::addRow("F5 lead byte") << QByteArray("\xF5\x80\x80\x80") << false << 0;
    QTest::addRow("truncated at end") << QByteArray("ok\xE2\x82") << false << 2;
    QTest::addRow("bad continuation") << QByteArray("\xE2\x28\xA1") << false << 0;
    QTest::addRow("after a long ascii run") << QByteArray("0123456789abcdefghij\xFF") << false << 20;
}

void TestCsv::utf8() {
    QFETCH(QByteArray, text);
    QFETCH(bool, valid);
    QFETCH(int, bad_offset);
    size_t offset = 12345;
    QCOMPARE(sumlab::is_valid_utf8(bytes(text), &offset), valid);
    if (!valid) QCOMPARE(int(offset), bad_offset);
}

void TestCsv::missingFile() {
    QVERIFY_THROWS_EXCEPTION(sumlab::FileError, sumlab::read_csv("/nonexistent/sumlab/train.csv"));
}

void TestCsv::realTrainFile() {
    const std::string path = SUMLAB_SHARED_DIR "/dialogsum/csv/train.csv";
    if (!QFile::exists(QString::fromStdString(path))) QSKIP(qPrintable("DialogSum CSV not found at " + QString::fromStdString(path)));
    const CsvTable table = sumlab::read_csv(path);
    QCOMPARE(table.header, (std::vector<std::string>{"id", "dialogue", "summary", "topic"}));
    QCOMPARE(table.rows.size(), size_t(12460));
    QCOMPARE(table.row_lines.size(), size_t(12460));
    // Reference values from Python's csv.reader(...).line_num.
    QCOMPARE(table.row_lines[0], std::int64_t(2));
    QCOMPARE(table.row_lines[1], std::int64_t(14));
    QCOMPARE(table.row_lines[2], std::int64_t(21));
    QCOMPARE(table.row_lines.back(), std::int64_t(118323));
    QCOMPARE(table.rows.back()[0], std::string("train_12459"));
    // Each record starts on the line after the previous one ends.
    for (size_t i = 0; i + 1 < table.rows.size(); ++i) {
        std::int64_t breaks = 0;
        for (const auto& field : table.rows[i]) breaks += std::count(field.begin(), field.end(), '\n');
        if (table.row_lines[i + 1] != table.row_lines[i] + breaks + 1) {
            QFAIL(qPrintable(QString("row %1 starts on line %2, expected %3")
                                 .arg(i + 1)
                                 .arg(table.row_lines[i + 1])
                                 .arg(table.row_lines[i] + breaks + 1)));
        }
    }
}

QTEST_GUILESS_MAIN(TestCsv)
#include "tst_csv.moc"
