// CompareExample: one example with its summaries already made (a row of a results CSV), as the Evaluate
// page hands it to the Compare page (EvaluatePage::exampleRequested -> ComparePage::showExample).
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>

struct CompareExample {
    QString title;  // "results.csv row 12 (test_12)"
    QString dialogue;
    QStringList references;
    QStringList systemNames;
    QStringList summaries;  // one per system
};
Q_DECLARE_METATYPE(CompareExample)
