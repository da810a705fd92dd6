// Tests for engine/metrics/porter_stemmer: NLTK 3.8 PorterStemmer (NLTK_EXTENSIONS) on the golden word lists
// (100% exact) and on words that pin each rule where NLTK differs from Snowball / Martin Porter.
#include "engine/metrics/porter_stemmer.h"
#include "engine/metrics/rouge.h"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <fstream>
#include <sstream>

namespace {

const QString golden_dir = QStringLiteral(SUMLAB_SHARED_DIR "/golden/rouge");

bool read_text(const QString& path, std::string* text) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    if (!in) return false;
    std::ostringstream buffer;
    buffer << in.rdbuf();
    *text = buffer.str();
    return true;
}

QString q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

class TestPorterStemmer : public QObject {
    Q_OBJECT

private slots:
    void rules_data();
    void rules();
    void goldenWords_data();
    void goldenWords();
    void goldenFullVocabulary_data();
    void goldenFullVocabulary();
};

void TestPorterStemmer::rules_data() {
    QTest::addColumn<QString>("word");
    QTest::addColumn<QString>("stem");

    // Irregular-form pool, looked up with the word as given.
    QTest::addRow("pool sky") << "sky" << "sky";
    QTest::addRow("pool skies") << "skies" << "sky";
    QTest::addRow("pool dying") << "dying" << "die";
    QTest::addRow("pool lying") << "lying" << "lie";
    QTest::addRow("pool news") << "news" << "news";
    QTest::addRow("pool innings") << "innings" << "inning";
    QTest::addRow("pool proceed") << "proceed" << "proceed";
    QTest::addRow("pool exceed") << "exceed" << "exceed";
    QTest::addRow("pool howe") << "howe" << "howe";
    QTest::addRow("pool misses capitalized") << "Skies" << "ski";
    QTest::addRow("uppercase lowered") << "RUNNING" << "run";
    // Words of 1-2 characters are returned as they are.
    QTest::addRow("two letters") << "as" << "as";
    QTest::addRow("one letter") << "y" << "y";
    // Step 1a, with NLTK's 4-letter *ies rule.
    QTest::addRow("1a ies four letters") << "ties" << "tie";
    QTest::addRow("1a ies longer") << "ponies" << "poni";
    QTest::addRow("1a sses") << "caresses" << "caress";
    QTest::addRow("1a ss kept") << "caress" << "caress";
    QTest::addRow("1a s") << "cats" << "cat";
    QTest::addRow("1a days") << "days" << "day";
    QTest::addRow("1a ones") << "ones" << "one";
    // Step 1b.
    QTest::addRow("1b ied four letters") << "died" << "die";
    QTest::addRow("1b ied longer") << "spied" << "spi";
    QTest::addRow("1b eed m>0") << "agreed" << "agre";
    QTest::addRow("1b eed m=0") << "feed" << "feed";
    QTest::addRow("1b ed") << "plastered" << "plaster";
    QTest::addRow("1b ed without vowel") << "bled" << "bled";
    QTest::addRow("1b ing") << "motoring" << "motor";
    QTest::addRow("1b at -> ate") << "conflated" << "conflat";
    QTest::addRow("1b double consonant") << "hopping" << "hop";
    QTest::addRow("1b double l kept") << "falling" << "fall";
    QTest::addRow("1b cvc adds e") << "filing" << "file";
    QTest::addRow("1b used") << "used" << "use";
    // Step 1c (NLTK: y -> i only after a consonant that is not the first letter).
    QTest::addRow("1c happy") << "happy" << "happi";
    QTest::addRow("1c enjoy kept") << "enjoy" << "enjoy";
    QTest::addRow("1c they kept") << "they" << "they";
    QTest::addRow("1c trying") << "trying" << "tri";
    QTest::addRow("1c buying") << "buying" << "buy";
    // Step 2 (alli first and again, bli, fulli, logi).
    QTest::addRow("2 ational") << "relational" << "relat";
    QTest::addRow("2 tional") << "conditional" << "condit";
    QTest::addRow("2 alli") << "radically" << "radic";
    QTest::addRow("2 bli") << "possibly" << "possibl";
    QTest::addRow("2 fulli") << "hopefully" << "hope";
    QTest::addRow("2 logi short stem") << "geology" << "geolog";
    QTest::addRow("2 ization") << "vietnamization" << "vietnam";
    QTest::addRow("2 always") << "always" << "alway";
    // Steps 3-5.
    QTest::addRow("3 icate") << "triplicate" << "triplic";
    QTest::addRow("3 ness") << "goodness" << "good";
    QTest::addRow("4 ement") << "replacement" << "replac";
    QTest::addRow("4 ion after t") << "adoption" << "adopt";
    QTest::addRow("4 ion after other") << "opinion" << "opinion";
    QTest::addRow("5a probate") << "probate" << "probat";
    QTest::addRow("5a rate kept") << "rate" << "rate";
    QTest::addRow("5b controll") << "controlling" << "control";
    QTest::addRow("5b roll kept") << "roll" << "roll";
    // Digits are consonants.
    QTest::addRow("digits 1990s") << "1990s" << "1990";
    QTest::addRow("digits mp3s") << "mp3s" << "mp3";
    QTest::addRow("generously") << "generously" << "gener";
}

void TestPorterStemmer::rules() {
    QFETCH(QString, word);
    QFETCH(QString, stem);
    QCOMPARE(q(sumlab::porter_stem(word.toStdString())), stem);
}

void TestPorterStemmer::goldenWords_data() {
    QTest::addColumn<QString>("word");
    QTest::addColumn<QString>("nltk_stem");
    QTest::addColumn<QString>("rouge_token");
    const QString path = golden_dir + "/stemmer_words.json";
    std::string text;
    if (!read_text(path, &text)) QSKIP(qPrintable("golden stemmer list not found: " + path));
    const nlohmann::json golden = nlohmann::json::parse(text);
    for (const nlohmann::json& entry : golden.at("words")) {
        const std::string word = entry.at("word").get<std::string>();
        QTest::addRow("%s", word.c_str()) << q(word) << q(entry.at("nltk_stem").get<std::string>())
                                          << q(entry.at("rouge_token").get<std::string>());
    }
    QCOMPARE(golden.at("words").size(), size_t{5000});
}

void TestPorterStemmer::goldenWords() {
    QFETCH(QString, word);
    QFETCH(QString, nltk_stem);
    QFETCH(QString, rouge_token);
    QCOMPARE(q(sumlab::porter_stem(word.toStdString())), nltk_stem);
    // rouge_score stems only tokens longer than 3 characters.
    const std::vector<std::string> tokens = sumlab::rouge_tokenize(word.toStdString(), sumlab::Stemming::porter);
    QCOMPARE(tokens.size(), size_t{1});
    QCOMPARE(q(tokens.front()), rouge_token);
}

void TestPorterStemmer::goldenFullVocabulary_data() {
    QTest::addColumn<QString>("word");
    QTest::addColumn<QString>("rouge_token");
    const QString path = golden_dir + "/stemmer_full_vocab.tsv";
    std::ifstream in(path.toStdString());
    if (!in) QSKIP(qPrintable("golden vocabulary not found: " + path));
    std::string line;
    std::getline(in, line);
    QCOMPARE(q(line), QStringLiteral("word\trouge_token"));
    int rows = 0;
    while (std::getline(in, line)) {
        const size_t tab = line.find('\t');
        QVERIFY2(tab != std::string::npos, line.c_str());
        const std::string word = line.substr(0, tab);
        QTest::addRow("%s", word.c_str()) << q(word) << q(line.substr(tab + 1));
        ++rows;
    }
    QCOMPARE(rows, 21742);
}

void TestPorterStemmer::goldenFullVocabulary() {
    QFETCH(QString, word);
    QFETCH(QString, rouge_token);
    const std::vector<std::string> tokens = sumlab::rouge_tokenize(word.toStdString(), sumlab::Stemming::porter);
    QCOMPARE(tokens.size(), size_t{1});
    QCOMPARE(q(tokens.front()), rouge_token);
}

QTEST_GUILESS_MAIN(TestPorterStemmer)
#include "tst_porter_stemmer.moc"
