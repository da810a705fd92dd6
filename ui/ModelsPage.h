// ModelsPage: registers model folders (pre-trained or fine-tuned FLAN-T5) and PEFT adapters with their base,
// shows each one's config, parameter count and weights format, and why a folder was refused.
// The list itself is the shared ModelRegistry.
#pragma once

#include <QWidget>

class ModelRegistry;
class QComboBox;
class QFrame;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QTextBrowser;

class ModelsPage : public QWidget {
    Q_OBJECT
public:
    explicit ModelsPage(ModelRegistry* registry, QWidget* parent = nullptr);

    // Registers `path` as the Register button does.
    void registerFolder(const QString& path);
    QString errorText() const;

signals:
    void statusMessage(const QString& message);

private slots:
    void browse();
    void onRegistrationFailed(const QString& path, const QString& reason);
    void onRegistered(const QString& path);
    void showDetails();
    void removeSelected();
    void recheckSelected();
    void chooseAdapterBase(int comboIndex);
    void downloadFromHub();
    void newModel();

private:
    int selectedRow() const;
    void refreshBaseChoices();
    void showError(const QString& message);

    ModelRegistry* m_registry = nullptr;
    QLineEdit* m_pathEdit = nullptr;
    QPushButton* m_browseButton = nullptr;
    QPushButton* m_registerButton = nullptr;
    QPushButton* m_hubButton = nullptr;
    QPushButton* m_newModelButton = nullptr;
    QFrame* m_errorFrame = nullptr;
    QLabel* m_errorLabel = nullptr;
    QTableView* m_view = nullptr;
    QPushButton* m_recheckButton = nullptr;
    QPushButton* m_removeButton = nullptr;
    QTextBrowser* m_details = nullptr;
    QLabel* m_baseLabel = nullptr;
    QComboBox* m_baseCombo = nullptr;
};
