// Accessible: one call that gives a control its objectName (how tests find it), its accessible name
// (what screen readers announce) and its tooltip, so no control is left without them.
#pragma once

#include <QString>
#include <QWidget>

namespace Accessible {

inline void describe(QWidget* widget, const char* objectName, const QString& name, const QString& toolTip) {
    widget->setObjectName(QString::fromLatin1(objectName));
    widget->setAccessibleName(name);
    widget->setToolTip(toolTip);
}

}  // namespace Accessible
