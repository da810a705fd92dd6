// AttentionDialog: the Compare page's window onto one generated summary's cross-attention. It owns an
// AttentionWorker on its own QThread (the CompareWorker pattern), asks it for the summary it is shown, and puts
// the result in its AttentionView. Non-modal and reused: a new request replaces the one in flight.
#pragma once

#include "ui/AttentionView.h"
#include "ui/AttentionWorker.h"

#include <QDialog>
#include <QThread>

class AttentionDialog : public QDialog {
    Q_OBJECT
public:
    explicit AttentionDialog(QWidget* parent = nullptr);
    ~AttentionDialog() override;

    // Computes `request`'s attention and shows it, titled `title`, with `flags` (the summary's flagged words).
    void showFor(const AttentionRequest& request, const QVector<AttentionView::Flag>& flags, const QString& title);
    AttentionView* view() const { return m_view; }
    bool isComputing() const { return m_computing; }

signals:
    void attentionShown();                   // the result is in the view
    void attentionFailed(const QString& error);

private:
    AttentionView* m_view = nullptr;
    QThread m_thread;
    AttentionWorker* m_worker = nullptr;
    int m_requestId = 0;
    bool m_computing = false;
    QVector<AttentionView::Flag> m_flags;
    QString m_title;
};
