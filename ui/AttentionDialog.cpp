#include "ui/AttentionDialog.h"

#include <QDialogButtonBox>
#include <QPushButton>
#include <QVBoxLayout>

AttentionDialog::AttentionDialog(QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("attentionDialog"));
    setWindowTitle(tr("Attention"));
    auto* layout = new QVBoxLayout(this);
    m_view = new AttentionView(this);
    layout->addWidget(m_view, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
    layout->addWidget(buttons);
    resize(900, 640);

    m_worker = new AttentionWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.setObjectName(QStringLiteral("AttentionWorker"));
    m_thread.start();
    connect(m_worker, &AttentionWorker::ready, this, [this](int id, const sumlab::CrossAttention& attention) {
        if (id != m_requestId) return;  // a newer request replaced it
        m_computing = false;
        m_view->setAttention(attention, m_flags, m_title);
        emit attentionShown();
    });
    connect(m_worker, &AttentionWorker::failed, this, [this](int id, const QString& error) {
        if (id != m_requestId) return;
        m_computing = false;
        m_view->showMessage(tr("Could not compute the attention: %1").arg(error));
        emit attentionFailed(error);
    });
}

AttentionDialog::~AttentionDialog() {
    m_thread.quit();
    m_thread.wait();
}

void AttentionDialog::showFor(const AttentionRequest& request, const QVector<AttentionView::Flag>& flags, const QString& title) {
    AttentionRequest r = request;
    r.requestId = ++m_requestId;
    m_flags = flags;
    m_title = title;
    m_computing = true;
    setWindowTitle(tr("Attention — %1").arg(title));
    m_view->showMessage(tr("Computing the cross-attention of %1 …").arg(title));
    QMetaObject::invokeMethod(m_worker, [worker = m_worker, r] { worker->compute(r); }, Qt::QueuedConnection);
    show();
    raise();
}
