// AttentionView: where a generated summary looked in its dialogue (issue #20). The AttentionMap heat-map in a
// scroll area, a layer selector ("Mean of layers", "Layer 1..N") and a head selector, a line naming the current
// token's top words, one line per flagged summary word (a name or number the dialogue never mentions: the words
// its attention went to, or that it came from nowhere, engine/generation/cross_attention.h kMeaningfulShare), and
// Export PNG. Shows plain values; AttentionDialog computes them.
#pragma once

#include "engine/generation/cross_attention.h"
#include "ui/QtWidgetsFwd.h"

#include <QImage>
#include <QString>
#include <QVector>
#include <QWidget>

#include <memory>

class AttentionMap;
class QScrollArea;

class AttentionView : public QWidget {
    Q_OBJECT
public:
    // A span of the summary the diagnostics flag: byte offsets into the summary (sumlab::SummaryMark's), and why.
    struct Flag {
        size_t begin = 0, end = 0;
        QString detail;
    };

    explicit AttentionView(QWidget* parent = nullptr);

    void setAttention(const sumlab::CrossAttention& attention, const QVector<Flag>& flags, const QString& title);
    // No map: a message instead (while computing, or why it failed).
    void showMessage(const QString& message);
    bool hasAttention() const { return m_attention != nullptr; }

    // The map as a PNG image with a title line, at the map's width (900 pixels when narrower than 400: hidden).
    QImage image() const;
    // Writes image() to `path` atomically (QSaveFile: a temporary file, then a rename); false and why on failure.
    bool exportPng(const QString& path, QString* error = nullptr) const;

    AttentionMap* map() const { return m_map; }
    QString infoText() const;
    QString originText() const;
    QString viewName() const;  // "mean of layers, mean of heads", "layer 2, head 1"

private:
    void updateInfo();
    void exportInteractively();

    std::shared_ptr<const sumlab::CrossAttention> m_attention;
    QVector<Flag> m_flags;
    QString m_title;
    QLabel* m_titleLabel = nullptr;
    QComboBox* m_layerCombo = nullptr;
    QComboBox* m_headCombo = nullptr;
    QPushButton* m_exportButton = nullptr;
    QLabel* m_infoLabel = nullptr;
    QLabel* m_originLabel = nullptr;
    QScrollArea* m_scroll = nullptr;
    AttentionMap* m_map = nullptr;
};
