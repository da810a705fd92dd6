#include "ui/AttentionView.h"

#include "ui/Accessible.h"
#include "ui/AttentionMap.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSettings>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include <algorithm>

namespace {

QString sourceWord(const sumlab::CrossAttention& a, int64_t w) {
    const sumlab::AttentionWord& word = a.words[static_cast<size_t>(w)];
    return QString::fromUtf8(a.source.data() + word.begin, static_cast<qsizetype>(word.end - word.begin));
}

QString percent(double share) { return QStringLiteral("%1%").arg(100 * share, 0, 'f', 1); }

QString topWords(const sumlab::CrossAttention& a, const std::vector<std::pair<int64_t, double>>& words) {
    QStringList parts;
    for (const auto& [w, share] : words) parts << QStringLiteral("“%1” %2").arg(sourceWord(a, w), percent(share));
    return parts.join(QStringLiteral(", "));
}

}  // namespace

AttentionView::AttentionView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("attentionView"));
    auto* layout = new QVBoxLayout(this);
    auto* controls = new QHBoxLayout;
    m_titleLabel = new QLabel(this);
    m_titleLabel->setObjectName(QStringLiteral("attentionTitleLabel"));
    m_titleLabel->setAccessibleName(tr("Summary shown"));
    QFont bold = m_titleLabel->font();
    bold.setBold(true);
    m_titleLabel->setFont(bold);
    m_layerCombo = new QComboBox(this);
    Accessible::describe(m_layerCombo, "attentionLayerCombo", tr("Layer"),
                         tr("Which decoder layer's cross-attention: one, or the mean of all of them"));
    m_headCombo = new QComboBox(this);
    Accessible::describe(m_headCombo, "attentionHeadCombo", tr("Head"), tr("One attention head, or the mean of the heads"));
    // The items arrive with each result, after the first show.
    m_layerCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_headCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_exportButton = new QPushButton(tr("Export &PNG…"), this);
    Accessible::describe(m_exportButton, "attentionExportButton", tr("Export PNG"), tr("Save the heat-map as a PNG image"));
    controls->addWidget(m_titleLabel, 1);
    controls->addWidget(m_layerCombo);
    controls->addWidget(m_headCombo);
    controls->addWidget(m_exportButton);
    layout->addLayout(controls);
    m_infoLabel = new QLabel(this);
    m_infoLabel->setObjectName(QStringLiteral("attentionInfoLabel"));
    m_infoLabel->setAccessibleName(tr("Current token"));
    m_infoLabel->setWordWrap(true);
    m_infoLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_infoLabel);
    m_originLabel = new QLabel(this);
    m_originLabel->setObjectName(QStringLiteral("attentionOriginLabel"));
    m_originLabel->setAccessibleName(tr("Where the flagged words came from"));
    m_originLabel->setWordWrap(true);
    m_originLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_originLabel);
    m_map = new AttentionMap(this);
    m_scroll = new QScrollArea(this);
    m_scroll->setObjectName(QStringLiteral("attentionScroll"));
    m_scroll->setWidgetResizable(true);
    m_scroll->setWidget(m_map);
    layout->addWidget(m_scroll, 1);

    auto changeView = [this] {
        m_map->setView(m_layerCombo->currentData().toInt(), m_headCombo->currentData().toInt());
        updateInfo();
    };
    connect(m_layerCombo, &QComboBox::currentIndexChanged, this, changeView);
    connect(m_headCombo, &QComboBox::currentIndexChanged, this, changeView);
    connect(m_map, &AttentionMap::currentTokenChanged, this, &AttentionView::updateInfo);
    connect(m_exportButton, &QPushButton::clicked, this, &AttentionView::exportInteractively);
    showMessage(tr("Choose a generated summary's Attention… on the Compare page."));
}

void AttentionView::setAttention(const sumlab::CrossAttention& attention, const QVector<Flag>& flags, const QString& title) {
    auto shared = std::make_shared<const sumlab::CrossAttention>(attention);
    m_flags = flags;
    m_title = title;
    m_titleLabel->setText(title);
    {
        const QSignalBlocker blockLayers(m_layerCombo), blockHeads(m_headCombo);
        m_layerCombo->clear();
        m_layerCombo->addItem(tr("Mean of layers"), -1);
        for (int l = 0; l < shared->num_layers; ++l) m_layerCombo->addItem(tr("Layer %1").arg(l + 1), l);
        m_headCombo->clear();
        m_headCombo->addItem(tr("Mean of heads"), -1);
        if (shared->has_heads())
            for (int h = 0; h < shared->num_heads; ++h) m_headCombo->addItem(tr("Head %1").arg(h + 1), h);
    }
    m_headCombo->setEnabled(shared->has_heads());
    m_layerCombo->setEnabled(true);
    m_exportButton->setEnabled(true);
    // The tokens each flag covers: outlined on the map.
    QSet<int> flagged;
    for (size_t t = 0; t < shared->summary_len(); ++t) {
        const sumlab::AttentionPiece& p = shared->summary_pieces[t];
        for (const Flag& f : flags)
            if (p.begin < p.end && p.end > f.begin && p.begin < f.end) flagged.insert(static_cast<int>(t));
    }
    m_attention = shared;
    m_map->setAttention(shared, flagged);
    updateInfo();
}

void AttentionView::showMessage(const QString& message) {
    m_attention.reset();
    m_flags.clear();
    m_map->setAttention(nullptr);
    m_titleLabel->setText(m_title);
    m_infoLabel->setText(message);
    m_originLabel->clear();
    m_layerCombo->setEnabled(false);
    m_headCombo->setEnabled(false);
    m_exportButton->setEnabled(false);
}

QString AttentionView::viewName() const {
    const int layer = m_map->layer(), head = m_map->head();
    return (layer < 0 ? tr("mean of layers") : tr("layer %1").arg(layer + 1)) + QStringLiteral(", ") +
           (head < 0 ? tr("mean of heads") : tr("head %1").arg(head + 1));
}

QString AttentionView::infoText() const { return m_infoLabel->text(); }

QString AttentionView::originText() const { return m_originLabel->text(); }

void AttentionView::updateInfo() {
    if (!m_attention) return;
    const sumlab::CrossAttention& a = *m_attention;
    const int t = m_map->currentToken();
    const int layer = m_map->layer(), head = m_map->head();
    // The current token: its top words (what the map shades), and what the final </s> holds.
    const sumlab::AttentionPiece& piece = a.summary_pieces[static_cast<size_t>(t)];
    const sumlab::WordShares& shares = m_map->shares();
    std::vector<int64_t> order(shares.words.size());
    for (size_t w = 0; w < order.size(); ++w) order[w] = static_cast<int64_t>(w);
    const size_t k = std::min<size_t>(3, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](int64_t x, int64_t y) { return shares.words[static_cast<size_t>(x)] > shares.words[static_cast<size_t>(y)]; });
    std::vector<std::pair<int64_t, double>> top;
    for (size_t i = 0; i < k; ++i) top.push_back({order[i], shares.words[static_cast<size_t>(order[i])]});
    m_infoLabel->setText(tr("Token %1 of %2, “%3” (%4): %5; the source's </s> %6. Hover a summary token to see its "
                            "attention; click it to keep it.")
                             .arg(t + 1)
                             .arg(a.summary_len())
                             .arg(AttentionMap::tokenLabel(piece), viewName(), top.empty() ? tr("no words") : topWords(a, top),
                                  percent(shares.end_of_source)));
    // Each flagged word: where its attention went, or that it came from nowhere.
    QStringList lines;
    for (const Flag& f : m_flags) {
        const QString word = QString::fromUtf8(a.summary.data() + f.begin, static_cast<qsizetype>(f.end - f.begin));
        const sumlab::AttentionOrigin o = sumlab::attention_origin(a, f.begin, f.end, layer, head);
        if (o.tokens == 0) continue;
        if (o.from_nowhere)
            lines << tr("“%1” (not in the dialogue) came from nowhere: no dialogue word gets %2 of its attention (the most: %3).")
                         .arg(word, percent(sumlab::kMeaningfulShare), topWords(a, {o.words.begin(), o.words.begin() + std::min<size_t>(1, o.words.size())}));
        else {
            std::vector<std::pair<int64_t, double>> meaningful;
            for (const auto& w : o.words)
                if (w.second >= sumlab::kMeaningfulShare) meaningful.push_back(w);
            lines << tr("“%1” (not in the dialogue) looked at %2.").arg(word, topWords(a, meaningful));
        }
    }
    m_originLabel->setText(lines.join(QLatin1Char('\n')));
    m_originLabel->setVisible(!lines.isEmpty());
}

QImage AttentionView::image() const {
    const int width = m_map->width() >= 400 ? m_map->width() : 900;
    const QFontMetrics fm(m_map->font());
    const int header = 2 * fm.height() + 12;
    QImage image(width, header + m_map->heightForWidth(width), QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setFont(m_map->font());
    painter.setPen(QColor(0x20, 0x20, 0x20));
    painter.drawText(QRect(8, 4, width - 16, fm.height()), Qt::AlignLeft | Qt::AlignVCenter, m_title);
    const QString token = m_attention ? AttentionMap::tokenLabel(m_attention->summary_pieces[static_cast<size_t>(m_map->currentToken())]) : QString();
    painter.drawText(QRect(8, 4 + fm.height(), width - 16, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
                     tr("Cross-attention of summary token %1 “%2”, %3").arg(m_map->currentToken() + 1).arg(token, viewName()));
    painter.translate(0, header);
    m_map->paintMap(painter, width);
    painter.end();
    return image;
}

bool AttentionView::exportPng(const QString& path, QString* error) const {
    if (!m_attention) {
        if (error) *error = tr("No attention to export yet.");
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error) *error = tr("Could not open %1 for writing: %2").arg(path, file.errorString());
        return false;
    }
    if (!image().save(&file, "PNG")) {
        file.cancelWriting();
        if (error) *error = tr("Could not encode the image as PNG.");
        return false;
    }
    if (!file.commit()) {
        if (error) *error = tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

void AttentionView::exportInteractively() {
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("plot/exportFolder"), QDir::homePath()).toString();
    QString path = QFileDialog::getSaveFileName(this, tr("Export Attention"), QDir(dir).filePath(QStringLiteral("attention.png")),
                                                tr("PNG image (*.png)"));
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".png");
    settings.setValue(QStringLiteral("plot/exportFolder"), QFileInfo(path).absolutePath());
    QString error;
    if (!exportPng(path, &error)) QMessageBox::warning(this, tr("Export Failed"), error);
}
