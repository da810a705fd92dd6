// AttentionView / AttentionMap on a hand-made cross-attention (2 layers x 2 heads, one piece per word, so every
// shade is known): the map shows the summary tokens and the dialogue's words, hovering a token makes it current and
// reshades the words, a click keeps it, the layer and head selectors change what is shaded, the flagged words say
// where they looked (or that they came from nowhere), and Export PNG writes a valid PNG atomically.
#include "ui/AttentionMap.h"
#include "ui/AttentionView.h"

#include <QComboBox>
#include <QDir>
#include <QImageReader>
#include <QLabel>
#include <QMouseEvent>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest>

namespace {

const std::string kSource = "Summarize the following conversation.\n\n#Person1#: I am Tom.\n#Person2#: Hi Tom, 5 apples?\n\nSummary: ";
const std::string kSummary = "Tom has 7 apples.";

// One source piece per word (+ </s>), one summary piece per word (+ </s>). Layer 0 looks at word (2t + 1), layer 1
// at word (3t + 5), head 1 of each layer a little elsewhere; summary word "7" (token 2) spreads evenly everywhere.
sumlab::CrossAttention attention() {
    sumlab::CrossAttention a;
    a.source = kSource;
    a.summary = kSummary;
    sumlab::SourceLayout layout = sumlab::segment_source(kSource);
    a.words = layout.words;
    a.turns = layout.turns;
    for (size_t w = 0; w < a.words.size(); ++w) {
        a.source_pieces.push_back({"\xE2\x96\x81w", 5, a.words[w].begin, a.words[w].end, static_cast<int64_t>(w)});
        a.words[w].first_piece = static_cast<int64_t>(w);
        a.words[w].piece_count = 1;
    }
    a.source_pieces.push_back({"</s>", 1, kSource.size(), kSource.size(), -1});
    for (const sumlab::AttentionWord& w : sumlab::segment_source(kSummary).words)
        a.summary_pieces.push_back({"\xE2\x96\x81" + kSummary.substr(w.begin, w.end - w.begin), 7, w.begin, w.end, -1});
    a.summary_pieces.push_back({"</s>", 1, kSummary.size(), kSummary.size(), -1});
    a.num_layers = 2;
    a.num_heads = 2;
    const size_t S = a.source_len(), T = a.summary_len(), words = a.words.size();
    a.head_weights.assign(2 * 2 * T * S, 0.0f);
    a.layer_weights.assign(2 * T * S, 0.0f);
    for (size_t l = 0; l < 2; ++l)
        for (size_t h = 0; h < 2; ++h)
            for (size_t t = 0; t < T; ++t) {
                float* row = &a.head_weights[((l * 2 + h) * T + t) * S];
                if (t == 2) {
                    for (size_t s = 0; s < S; ++s) row[s] = 1.0f / static_cast<float>(S);
                } else {
                    const size_t peak = ((l == 0 ? 2 * t + 1 : 3 * t + 5) + h) % words;
                    for (size_t s = 0; s < S; ++s) row[s] = 0.2f / static_cast<float>(S);
                    row[peak] += 0.8f;
                }
                for (size_t s = 0; s < S; ++s) a.layer_weights[(l * T + t) * S + s] += row[s] / 2;
            }
    return a;
}

void mouse(QWidget* w, QEvent::Type type, const QPoint& pos, Qt::MouseButton button = Qt::NoButton) {
    QMouseEvent e(type, QPointF(pos), w->mapToGlobal(QPointF(pos)), button, button == Qt::NoButton ? Qt::NoButton : Qt::MouseButtons(button),
                  Qt::NoModifier);
    QCoreApplication::sendEvent(w, &e);
}

std::vector<double> shown(const AttentionMap* map) { return map->shares().words; }

}  // namespace

class TestAttentionView : public QObject {
    Q_OBJECT

private slots:
    void showsTokensAndWords();
    void hoverHighlightsAndReshades();
    void layerAndHeadSelectorsChangeTheShading();
    void flaggedWordsSayWhereTheyLooked();
    void exportsAPng();
    void messageDisablesTheControls();
};

void TestAttentionView::showsTokensAndWords() {
    AttentionView view;
    view.resize(900, 600);
    view.setAttention(attention(), {}, QStringLiteral("original (tiny)"));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    AttentionMap* map = view.findChild<AttentionMap*>(QStringLiteral("attentionMap"));
    QVERIFY(map);
    const sumlab::CrossAttention a = attention();
    for (size_t t = 0; t < a.summary_len(); ++t) QVERIFY(map->tokenRect(static_cast<int>(t)).isValid());
    for (size_t w = 0; w < a.words.size(); ++w) QVERIFY(map->wordRect(static_cast<int>(w)).isValid());
    // Turn by turn: each turn's first word starts a row below the previous turn's words.
    for (size_t i = 1; i < a.turns.size(); ++i) {
        const int first = static_cast<int>(a.turns[i].first_word);
        QVERIFY(map->wordRect(first).top() > map->wordRect(first - 1).bottom());
        QCOMPARE(map->wordRect(first).left(), map->wordRect(0).left());
    }
    QCOMPARE(AttentionMap::tokenLabel(a.summary_pieces[0]), QStringLiteral("Tom"));  // no ▁
    auto* layers = view.findChild<QComboBox*>(QStringLiteral("attentionLayerCombo"));
    auto* heads = view.findChild<QComboBox*>(QStringLiteral("attentionHeadCombo"));
    QCOMPARE(layers->count(), 3);
    QCOMPARE(layers->itemText(0), QStringLiteral("Mean of layers"));
    QCOMPARE(layers->itemText(2), QStringLiteral("Layer 2"));
    QCOMPARE(heads->count(), 3);
    QVERIFY(heads->isEnabled());
    QVERIFY(view.findChild<QPushButton*>(QStringLiteral("attentionExportButton"))->isEnabled());
    QCOMPARE(view.findChild<QLabel*>(QStringLiteral("attentionTitleLabel"))->text(), QStringLiteral("original (tiny)"));
    QVERIFY2(view.infoText().startsWith(QStringLiteral("Token 1 of 5, “Tom”")), qPrintable(view.infoText()));
}

void TestAttentionView::hoverHighlightsAndReshades() {
    AttentionView view;
    view.resize(900, 600);
    view.setAttention(attention(), {}, QStringLiteral("s"));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    AttentionMap* map = view.map();
    QCOMPARE(map->currentToken(), 0);
    // Token 0 peaks at words 1, 2 (layer 1's two heads) and 5, 6 (layer 2's); token 1 at words 3, 4 and 8, 9.
    const std::vector<double> before = shown(map);
    const QColor darkBefore = map->wordColor(1), paleBefore = map->wordColor(3);
    QSignalSpy changed(map, &AttentionMap::currentTokenChanged);
    mouse(map, QEvent::MouseMove, map->tokenRect(1).center());
    QCOMPARE(map->currentToken(), 1);
    QCOMPARE(changed.count(), 1);
    QVERIFY(shown(map) != before);
    // So word 3 darkens and word 1 pales.
    QVERIFY(map->wordColor(3).lightness() < paleBefore.lightness());
    QVERIFY(map->wordColor(1).lightness() > darkBefore.lightness());
    QVERIFY2(view.infoText().startsWith(QStringLiteral("Token 2 of 5, “has”")), qPrintable(view.infoText()));
    // The highlighted token is painted in the "current" colour; the others are not.
    const QImage image = map->grab().toImage();
    const QRect current = map->tokenRect(1), other = map->tokenRect(0);
    QCOMPARE(image.pixelColor(current.left() + 1, current.top() + 1), QColor(0xd9, 0x48, 0x0f));
    QVERIFY(image.pixelColor(other.left() + 1, other.top() + 1) != QColor(0xd9, 0x48, 0x0f));
    // Moving over a word or empty space keeps the token; a click keeps a token while the mouse wanders.
    mouse(map, QEvent::MouseMove, map->wordRect(0).center());
    QCOMPARE(map->currentToken(), 1);
    mouse(map, QEvent::MouseButtonPress, map->tokenRect(3).center(), Qt::LeftButton);
    QCOMPARE(map->currentToken(), 3);
    QVERIFY(map->isPinned());
    mouse(map, QEvent::MouseMove, map->tokenRect(0).center());
    QCOMPARE(map->currentToken(), 3);
    mouse(map, QEvent::MouseButtonPress, map->tokenRect(3).center(), Qt::LeftButton);
    QVERIFY(!map->isPinned());
    mouse(map, QEvent::MouseMove, map->tokenRect(0).center());
    QCOMPARE(map->currentToken(), 0);
    // Every shown row holds the token's whole mass: the words and the final </s>.
    double total = map->shares().end_of_source;
    for (double s : map->shares().words) total += s;
    QVERIFY(std::abs(total - 1) < 1e-6);
}

void TestAttentionView::layerAndHeadSelectorsChangeTheShading() {
    AttentionView view;
    view.setAttention(attention(), {}, QStringLiteral("s"));
    AttentionMap* map = view.map();
    auto* layers = view.findChild<QComboBox*>(QStringLiteral("attentionLayerCombo"));
    auto* heads = view.findChild<QComboBox*>(QStringLiteral("attentionHeadCombo"));
    const sumlab::CrossAttention a = attention();
    const std::vector<double> mean = shown(map);
    layers->setCurrentIndex(1);  // layer 1 alone: token 0 at words 1 (head 1) and 2 (head 2), 0.4 + 0.1/S each
    QCOMPARE(map->layer(), 0);
    const std::vector<double> first = shown(map);
    QVERIFY(first != mean);
    QCOMPARE(first, sumlab::word_shares(a, a.token_weights(0, 0, -1)).words);
    QVERIFY(first[1] > 0.4 && first[5] < 0.1);
    layers->setCurrentIndex(2);
    QCOMPARE(map->layer(), 1);
    QVERIFY(shown(map)[5] > 0.4 && shown(map)[1] < 0.1);
    heads->setCurrentIndex(2);  // head 2 of layer 2: word 6 alone
    QCOMPARE(map->head(), 1);
    QVERIFY(shown(map)[6] > 0.8);
    QCOMPARE(map->largestWordShare(), shown(map)[6]);
    QVERIFY2(view.infoText().contains(QStringLiteral("layer 2, head 2")), qPrintable(view.infoText()));
    layers->setCurrentIndex(0);
    heads->setCurrentIndex(0);
    QCOMPARE(shown(map), mean);
}

void TestAttentionView::flaggedWordsSayWhereTheyLooked() {
    AttentionView view;
    // "Tom" (token 0) looks at single words; "7" (token 2) spreads 1/S over everything: below 10% for every word.
    const size_t seven = kSummary.find('7'), tom = kSummary.find("Tom");
    view.setAttention(attention(), {{seven, seven + 1, QStringLiteral("“7” does not occur")}, {tom, tom + 3, QStringLiteral("“Tom”")}},
                      QStringLiteral("s"));
    const QStringList lines = view.originText().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 2);
    QVERIFY2(lines[0].startsWith(QStringLiteral("“7” (not in the dialogue) came from nowhere: no dialogue word gets 10.0%")), qPrintable(lines[0]));
    QVERIFY2(lines[1].startsWith(QStringLiteral("“Tom” (not in the dialogue) looked at “")), qPrintable(lines[1]));
    // Layer 1 alone: "Tom" looked at words 1 and 2, "the" and "following" of the prompt's line.
    view.findChild<QComboBox*>(QStringLiteral("attentionLayerCombo"))->setCurrentIndex(1);
    QVERIFY2(view.originText().split(QLatin1Char('\n'))[1].contains(QStringLiteral("“the”")), qPrintable(view.originText()));
    // The flagged tokens are painted in the Compare page's "not in the dialogue" colour, the others not.
    view.resize(900, 600);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const QImage image = view.map()->grab().toImage();
    auto hasFlagColour = [&](const QRect& r) {
        for (int y = r.top(); y <= r.bottom(); ++y)
            for (int x = r.left(); x <= r.right(); ++x)
                if (image.pixelColor(x, y) == QColor(0xff, 0xcf, 0x8a)) return true;
        return false;
    };
    QVERIFY(hasFlagColour(view.map()->tokenRect(2)));
    QVERIFY(!hasFlagColour(view.map()->tokenRect(1)));
}

void TestAttentionView::exportsAPng() {
    AttentionView view;
    view.setAttention(attention(), {}, QStringLiteral("original (tiny)"));
    QTemporaryDir tmp;
    const QString path = tmp.filePath(QStringLiteral("attention.png"));
    QString error;
    QVERIFY2(view.exportPng(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.read(8), QByteArray("\x89PNG\r\n\x1a\n", 8));
    file.close();
    QImageReader reader(path);
    QCOMPARE(reader.format(), QByteArray("png"));
    const QImage image = reader.read();
    QVERIFY2(!image.isNull(), qPrintable(reader.errorString()));
    QCOMPARE(image.width(), 900);  // the view was never shown: the fallback width
    QVERIFY(image.height() > view.map()->heightForWidth(900));  // the map under a title
    QCOMPARE(image, view.image().convertToFormat(image.format()));
    // Written through a temporary file and renamed: nothing else is left in the folder.
    QCOMPARE(QDir(tmp.path()).entryList(QDir::Files), QStringList{QStringLiteral("attention.png")});
    if (const QByteArray shot = qgetenv("SUMLAB_ATTENTION_SCREENSHOT"); !shot.isEmpty()) view.image().save(QString::fromLocal8Bit(shot));
    QVERIFY(!view.exportPng(tmp.filePath(QStringLiteral("missing/folder/a.png")), &error));
    QVERIFY2(error.contains(QStringLiteral("missing/folder")), qPrintable(error));
}

void TestAttentionView::messageDisablesTheControls() {
    AttentionView view;
    view.setAttention(attention(), {}, QStringLiteral("s"));
    view.showMessage(QStringLiteral("Computing …"));
    QVERIFY(!view.hasAttention());
    QCOMPARE(view.infoText(), QStringLiteral("Computing …"));
    QVERIFY(!view.findChild<QPushButton*>(QStringLiteral("attentionExportButton"))->isEnabled());
    QVERIFY(!view.findChild<QComboBox*>(QStringLiteral("attentionLayerCombo"))->isEnabled());
    QString error;
    QVERIFY(!view.exportPng(QDir::temp().filePath(QStringLiteral("never.png")), &error));
    QCOMPARE(view.map()->currentToken(), 0);
}

QTEST_MAIN(TestAttentionView)
#include "tst_attentionview.moc"
