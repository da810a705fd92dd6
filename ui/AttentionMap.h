// AttentionMap: the heat-map of the attention view, painted with QPainter. The summary's tokens run across the top
// (the one under the mouse highlighted; a click keeps it), the dialogue's words below them, turn by turn, each
// word's background shaded by the share of the current token's cross-attention its tokens get (scaled to the
// largest word's share), and the source's final </s> last with its share written out. Words that truncation cut
// off are drawn grey: the model never saw them.
#pragma once

#include "engine/generation/cross_attention.h"

#include <QColor>
#include <QRect>
#include <QSet>
#include <QVector>
#include <QWidget>

#include <memory>

class QPainter;

class AttentionMap : public QWidget {
    Q_OBJECT
public:
    explicit AttentionMap(QWidget* parent = nullptr);

    // Shows `attention` (no data: an empty map). `flaggedTokens`: summary tokens to outline (invented names, numbers).
    void setAttention(std::shared_ptr<const sumlab::CrossAttention> attention, const QSet<int>& flaggedTokens = {});
    // Which weights: layer and head, -1 for the mean.
    void setView(int layer, int head);
    int layer() const { return m_layer; }
    int head() const { return m_head; }

    int currentToken() const { return m_current; }
    void setCurrentToken(int token);
    // A clicked token stays current while the mouse moves elsewhere, until it is clicked again.
    bool isPinned() const { return m_pinned; }

    // What the shading shows: the current token's share per word and of the final </s>.
    const sumlab::WordShares& shares() const { return m_shares; }
    double largestWordShare() const { return m_largest; }
    QColor wordColor(int word) const;
    QRect tokenRect(int token) const { return m_layout.tokens.value(token); }
    QRect wordRect(int word) const { return m_layout.words.value(word); }
    int tokenAt(const QPoint& pos) const;
    int wordAt(const QPoint& pos) const;
    // The token as the map labels it: the piece without its ▁ ("</s>" stays).
    static QString tokenLabel(const sumlab::AttentionPiece& piece);

    // Paints the whole map laid out `width` wide (the widget's own paint, and the PNG export).
    void paintMap(QPainter& painter, int width) const;
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize sizeHint() const override;

signals:
    void currentTokenChanged(int token);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

private:
    struct Layout {
        QVector<QRect> tokens, words;
        QRect endOfSource;
        int summaryTitleY = 0, dialogueTitleY = 0;
        int height = 0;
    };
    Layout computeLayout(int width) const;
    void relayout();
    void recompute();

    std::shared_ptr<const sumlab::CrossAttention> m_attention;
    QSet<int> m_flagged;
    int m_layer = -1, m_head = -1;
    int m_current = 0;
    bool m_pinned = false;
    sumlab::WordShares m_shares;
    double m_largest = 0;
    Layout m_layout;
};
