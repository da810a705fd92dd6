// DialogueFilterProxy: filters a DialogueTableModel by topic (exact, any of a dialogue's topics) and by
// text (case-insensitive, in the id, topics, dialogue and reference summaries), and sorts by SortRole.
#pragma once

#include <QSortFilterProxyModel>

class DialogueFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit DialogueFilterProxy(QObject* parent = nullptr);

    // Empty topic = every topic.
    void setTopic(const QString& topic);
    QString topic() const { return m_topic; }
    // Empty text = no text filter. Surrounding whitespace is ignored.
    void setSearchText(const QString& text);
    QString searchText() const { return m_text; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QString m_topic;
    QString m_text;
};
