#include "ui/DialogueFilterProxy.h"

#include "ui/DialogueTableModel.h"

DialogueFilterProxy::DialogueFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(DialogueTableModel::SortRole);
    setDynamicSortFilter(true);
}

void DialogueFilterProxy::setTopic(const QString& topic) {
    if (topic == m_topic) return;
    m_topic = topic;
    invalidateRowsFilter();
}

void DialogueFilterProxy::setSearchText(const QString& text) {
    const QString trimmed = text.trimmed();
    if (trimmed == m_text) return;
    m_text = trimmed;
    invalidateRowsFilter();
}

bool DialogueFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    if (sourceParent.isValid()) return false;
    const auto* model = qobject_cast<const DialogueTableModel*>(sourceModel());
    if (!model) return true;
    const DialogueRecord& r = model->record(sourceRow);
    if (!m_topic.isEmpty() && !r.topics.contains(m_topic)) return false;
    if (m_text.isEmpty()) return true;
    const auto has = [this](const QString& s) { return s.contains(m_text, Qt::CaseInsensitive); };
    if (has(r.id) || has(r.dialogue)) return true;
    for (const QString& t : r.topics)
        if (has(t)) return true;
    for (const QString& s : r.references)
        if (has(s)) return true;
    return false;
}
