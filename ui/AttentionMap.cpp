#include "ui/AttentionMap.h"

#include <QFontMetrics>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>

namespace {

constexpr int kMargin = 8;
constexpr int kPad = 3;          // inside a box, each side
constexpr int kWordGap = 4;      // between words, and before a token that starts a word
constexpr int kPieceGap = 1;     // between the tokens of one word
constexpr int kRowGap = 4;
constexpr int kTurnGap = 6;

// Fixed colours with black or white text, readable whatever the palette: the map is a figure with its own white ground.
const QColor kGround(255, 255, 255);
const QColor kInk(0x20, 0x20, 0x20);
const QColor kDim(0x6b, 0x6b, 0x6b);
const QColor kHeat(0x21, 0x66, 0xac);     // the darkest shade: the largest word share
const QColor kCurrent(0xd9, 0x48, 0x0f);  // the token whose attention is shown
const QColor kToken(0xee, 0xee, 0xee);
const QColor kFlagged(0xff, 0xcf, 0x8a);  // the Compare page's "not in the dialogue"

QColor blend(const QColor& from, const QColor& to, double t) {
    t = std::clamp(t, 0.0, 1.0);
    return QColor::fromRgbF(static_cast<float>(from.redF() + (to.redF() - from.redF()) * t),
                            static_cast<float>(from.greenF() + (to.greenF() - from.greenF()) * t),
                            static_cast<float>(from.blueF() + (to.blueF() - from.blueF()) * t));
}

QString slice(const std::string& text, size_t begin, size_t end) {
    return QString::fromUtf8(text.data() + begin, static_cast<qsizetype>(end - begin));
}

bool startsWord(const sumlab::AttentionPiece& piece) { return piece.piece.rfind("\xE2\x96\x81", 0) == 0 || piece.piece == "</s>"; }

QString percent(double share) { return QStringLiteral("%1%").arg(100 * share, 0, 'f', share < 0.1 ? 1 : 0); }

}  // namespace

AttentionMap::AttentionMap(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("attentionMap"));
    setAccessibleName(tr("Attention heat-map"));
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

QString AttentionMap::tokenLabel(const sumlab::AttentionPiece& piece) {
    QString label = QString::fromStdString(piece.piece);
    if (label.startsWith(QChar(0x2581)) && label.size() > 1) label.remove(0, 1);
    return label;
}

void AttentionMap::setAttention(std::shared_ptr<const sumlab::CrossAttention> attention, const QSet<int>& flaggedTokens) {
    m_attention = std::move(attention);
    m_flagged = flaggedTokens;
    m_current = 0;
    m_pinned = false;
    m_layer = m_head = -1;
    recompute();
    relayout();
}

void AttentionMap::setView(int layer, int head) {
    m_layer = layer;
    m_head = head;
    recompute();
    update();
}

void AttentionMap::setCurrentToken(int token) {
    if (!m_attention || token < 0 || token >= static_cast<int>(m_attention->summary_len()) || token == m_current) return;
    m_current = token;
    recompute();
    update();
    emit currentTokenChanged(token);
}

void AttentionMap::recompute() {
    m_shares = {};
    m_largest = 0;
    if (!m_attention || m_attention->summary_len() == 0) return;
    m_shares = sumlab::word_shares(*m_attention, m_attention->token_weights(static_cast<size_t>(m_current), m_layer, m_head));
    for (double s : m_shares.words) m_largest = std::max(m_largest, s);
}

QColor AttentionMap::wordColor(int word) const {
    if (word < 0 || static_cast<size_t>(word) >= m_shares.words.size() || m_largest <= 0) return kGround;
    return blend(kGround, kHeat, m_shares.words[static_cast<size_t>(word)] / m_largest);
}

AttentionMap::Layout AttentionMap::computeLayout(int width) const {
    Layout l;
    const QFontMetrics fm(font());
    const int boxHeight = fm.height() + 2 * kPad;
    const int right = std::max(width - kMargin, kMargin + 80);
    int x = kMargin, y = kMargin;
    // The next box, after the previous one or wrapped; `newRow` starts a row at y (the caller moved y there).
    auto place = [&](const QString& label, int gap, bool newRow) {
        const int w = fm.horizontalAdvance(label) + 2 * kPad;
        if (newRow || (x > kMargin && x + gap + w > right)) {
            if (!newRow) y += boxHeight + kRowGap;
            x = kMargin;
            gap = 0;
        }
        const QRect r(x + gap, y, w, boxHeight);
        x = r.x() + r.width();
        return r;
    };
    if (!m_attention) {
        l.height = 2 * kMargin + boxHeight;
        return l;
    }
    const sumlab::CrossAttention& a = *m_attention;
    l.summaryTitleY = y;
    y += fm.height() + kRowGap;
    for (size_t t = 0; t < a.summary_pieces.size(); ++t) {
        const sumlab::AttentionPiece& p = a.summary_pieces[t];
        l.tokens << place(tokenLabel(p), startsWord(p) ? kWordGap : kPieceGap, t == 0);
    }
    y += boxHeight + 2 * kTurnGap;
    l.dialogueTitleY = y;
    y += fm.height() + kRowGap;
    for (size_t i = 0; i < a.turns.size(); ++i) {
        const sumlab::AttentionTurn& turn = a.turns[i];
        if (i > 0) y += boxHeight + kTurnGap;
        for (int64_t w = turn.first_word; w < turn.first_word + turn.word_count; ++w) {
            const sumlab::AttentionWord& word = a.words[static_cast<size_t>(w)];
            l.words << place(slice(a.source, word.begin, word.end), kWordGap, w == turn.first_word);
        }
    }
    l.endOfSource = place(QStringLiteral("</s> 100%"), kWordGap, a.turns.empty());
    l.height = y + boxHeight + kMargin;
    return l;
}

int AttentionMap::heightForWidth(int width) const { return computeLayout(width).height; }

QSize AttentionMap::sizeHint() const { return QSize(720, heightForWidth(720)); }

void AttentionMap::relayout() {
    m_layout = computeLayout(width());
    // The scroll area sizes the map by its minimum height: the height its words need at this width.
    setMinimumHeight(m_layout.height);
    update();
}

void AttentionMap::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    relayout();
}

void AttentionMap::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), kGround);  // below the map too, when the scroll area is taller
    paintMap(painter, width());
}

void AttentionMap::paintMap(QPainter& painter, int width) const {
    const Layout l = width == this->width() ? m_layout : computeLayout(width);
    painter.fillRect(QRect(0, 0, width, l.height), kGround);
    const QFontMetrics fm(font());
    painter.setFont(font());
    if (!m_attention) return;
    const sumlab::CrossAttention& a = *m_attention;
    QFont bold = font();
    bold.setBold(true);
    painter.setPen(kInk);
    painter.setFont(bold);
    painter.drawText(QPoint(kMargin, l.summaryTitleY + fm.ascent()), tr("Summary tokens"));
    painter.drawText(QPoint(kMargin, l.dialogueTitleY + fm.ascent()),
                     tr("Dialogue: the share of the token's attention (darkest: %1)").arg(percent(m_largest)));
    painter.setFont(font());
    for (int t = 0; t < l.tokens.size(); ++t) {
        const QRect r = l.tokens[t];
        const bool current = t == m_current, flagged = m_flagged.contains(t);
        painter.fillRect(r, current ? kCurrent : flagged ? kFlagged : kToken);
        if (flagged) {
            painter.setPen(QPen(kCurrent, 2));
            painter.drawRect(r.adjusted(1, 1, -1, -1));
        }
        painter.setPen(current ? Qt::white : kInk);
        painter.drawText(r, Qt::AlignCenter, tokenLabel(a.summary_pieces[static_cast<size_t>(t)]));
    }
    for (int w = 0; w < l.words.size(); ++w) {
        const sumlab::AttentionWord& word = a.words[static_cast<size_t>(w)];
        const QRect r = l.words[w];
        const QString text = slice(a.source, word.begin, word.end);
        if (word.first_piece < 0) {  // cut off by max_source_length
            painter.setPen(QPen(kDim, 1, Qt::DotLine));
            painter.drawRect(r.adjusted(0, 0, -1, -1));
            painter.drawText(r, Qt::AlignCenter, text);
            continue;
        }
        const double shade = m_largest > 0 ? m_shares.words[static_cast<size_t>(w)] / m_largest : 0;
        painter.fillRect(r, wordColor(w));
        const bool isSpeaker = w == a.turns[static_cast<size_t>(word.turn)].first_word && !a.turns[static_cast<size_t>(word.turn)].speaker.empty();
        painter.setFont(isSpeaker ? bold : font());
        painter.setPen(shade > 0.55 ? QColor(Qt::white) : a.turns[static_cast<size_t>(word.turn)].speaker.empty() ? kDim : kInk);
        painter.drawText(r, Qt::AlignCenter, text);
    }
    painter.setFont(font());
    painter.fillRect(l.endOfSource, blend(kGround, kHeat, m_shares.end_of_source));
    painter.setPen(m_shares.end_of_source > 0.55 ? QColor(Qt::white) : kInk);
    painter.drawText(l.endOfSource, Qt::AlignCenter, QStringLiteral("</s> %1").arg(percent(m_shares.end_of_source)));
}

int AttentionMap::tokenAt(const QPoint& pos) const {
    for (int t = 0; t < m_layout.tokens.size(); ++t)
        if (m_layout.tokens[t].contains(pos)) return t;
    return -1;
}

int AttentionMap::wordAt(const QPoint& pos) const {
    for (int w = 0; w < m_layout.words.size(); ++w)
        if (m_layout.words[w].contains(pos)) return w;
    return -1;
}

void AttentionMap::mouseMoveEvent(QMouseEvent* event) {
    if (!m_pinned) {
        const int t = tokenAt(event->position().toPoint());
        if (t >= 0) setCurrentToken(t);
    }
    QWidget::mouseMoveEvent(event);
}

void AttentionMap::mousePressEvent(QMouseEvent* event) {
    const int t = tokenAt(event->position().toPoint());
    if (t >= 0) {
        m_pinned = !(m_pinned && t == m_current);
        setCurrentToken(t);
        update();
    }
    QWidget::mousePressEvent(event);
}

bool AttentionMap::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip || !m_attention) return QWidget::event(event);
    auto* help = static_cast<QHelpEvent*>(event);
    const sumlab::CrossAttention& a = *m_attention;
    QString tip;
    if (const int t = tokenAt(help->pos()); t >= 0) {
        const sumlab::AttentionPiece& p = a.summary_pieces[static_cast<size_t>(t)];
        tip = tr("Summary token %1: “%2” (id %3)%4").arg(t + 1).arg(QString::fromStdString(p.piece)).arg(p.id)
                  .arg(m_flagged.contains(t) ? tr("; not in the dialogue") : QString());
    } else if (const int w = wordAt(help->pos()); w >= 0) {
        const sumlab::AttentionWord& word = a.words[static_cast<size_t>(w)];
        const QString text = slice(a.source, word.begin, word.end);
        tip = word.first_piece < 0 ? tr("“%1”: beyond max_source_length, never read by the model").arg(text)
                                   : tr("“%1”: %2 of the attention of “%3” (%n token(s))", nullptr, static_cast<int>(word.piece_count))
                                         .arg(text, percent(m_shares.words[static_cast<size_t>(w)]),
                                              tokenLabel(a.summary_pieces[static_cast<size_t>(m_current)]));
    } else if (m_layout.endOfSource.contains(help->pos())) {
        tip = tr("The source's final </s>: no word of the dialogue; models often park attention there");
    }
    if (tip.isEmpty()) QToolTip::hideText();
    else QToolTip::showText(help->globalPos(), tip, this);
    return true;
}
