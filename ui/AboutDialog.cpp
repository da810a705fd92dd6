#include "ui/AboutDialog.h"

#include "engine/runtime/system_info.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

AboutDialog::AboutDialog(QWidget* parent) : QDialog(parent) {
    setObjectName("aboutDialog");
    setWindowTitle(tr("About SumLab"));
    setAccessibleName(tr("About SumLab"));
    const QString runtime = QString::fromStdString(sumlab::runtime_versions());
    m_versionText = tr("SumLab %1").arg(QStringLiteral(SUMLAB_VERSION)) + '\n' + runtime + '\n' +
                    tr("Qt %1 (built with %2), QCustomPlot %3").arg(QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR),
                                                                  QStringLiteral(QCUSTOMPLOT_VERSION_STR));

    auto* layout = new QVBoxLayout(this);
    m_label = new QLabel(this);
    m_label->setObjectName("aboutText");
    m_label->setAccessibleName(tr("Version information"));
    m_label->setTextFormat(Qt::RichText);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_label->setWordWrap(true);
    m_label->setText(tr("<h2>SumLab %1</h2>"
                        "<p>A workbench for fine-tuning FLAN-T5 on dialogue summarization (DialogSum): full fine-tuning "
                        "and LoRA, on LibTorch.</p>"
                        "<p><b>Runtime:</b> %2<br/><b>Qt:</b> %3 (built with %4)<br/><b>QCustomPlot:</b> %5</p>")
                         .arg(QStringLiteral(SUMLAB_VERSION), runtime.toHtmlEscaped(), QString::fromLatin1(qVersion()),
                              QStringLiteral(QT_VERSION_STR), QStringLiteral(QCUSTOMPLOT_VERSION_STR)));
    layout->addWidget(m_label);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    QPushButton* copy = buttons->addButton(tr("&Copy Versions"), QDialogButtonBox::ActionRole);
    copy->setObjectName("copyVersionsButton");
    copy->setAccessibleName(tr("Copy versions"));
    copy->setToolTip(tr("Copy the version lines to the clipboard, for a bug report"));
    buttons->button(QDialogButtonBox::Close)->setToolTip(tr("Close this dialog"));
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(m_versionText); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    setMinimumWidth(480);
}
