// TrainWidgets: small helpers shared by the Train page's parts (TrainPage, TrainEstimatePanel, TrainRunMonitor):
// the selectable, word-wrapped value label they show numbers in, and the h:mm:ss form of a duration.
#pragma once

#include "ui/Accessible.h"

#include <QLabel>
#include <QString>

#include <cmath>

namespace TrainWidgets {

inline QLabel* makeValueLabel(QWidget* parent, const char* objectName, const QString& name, const QString& tip) {
    auto* label = new QLabel(parent);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    label->setWordWrap(true);
    Accessible::describe(label, objectName, name, tip);
    return label;
}

// "1:02:03"; "–" for a negative or non-finite time (an ETA not known yet).
inline QString formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("–");
    const qint64 s = static_cast<qint64>(std::llround(seconds));
    return QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
}

}  // namespace TrainWidgets
