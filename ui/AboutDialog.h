// AboutDialog: Help > About: SumLab's version, and what it runs on (Qt, LibTorch and the BLAS loaded).
#pragma once

#include <QDialog>

class QLabel;

class AboutDialog : public QDialog {
    Q_OBJECT
public:
    explicit AboutDialog(QWidget* parent = nullptr);

    // The version lines as plain text (what "Copy" puts on the clipboard).
    QString versionText() const { return m_versionText; }

private:
    QString m_versionText;
    QLabel* m_label = nullptr;
};
