// TrainingSettingsForm: the Train page's form, generated from the engine's settings table
// (training_settings(): key, kind, range, choices, help, lora_only). One editor per setting, named
// "setting_<key>"; tooltips are the help text plus the Hugging Face key; LoRA rows show only for
// method "lora". Values go in and out as JSON objects with the table's keys (TrainingArguments::to_json),
// so presets, run.json and the TrainingWorker all speak the same format.
#pragma once

#include <QJsonObject>
#include <QStringList>
#include <QVector>
#include <QWidget>

namespace sumlab {
struct SettingSpec;
}

class QCheckBox;
class QFormLayout;
class QGroupBox;
class QLabel;

class TrainingSettingsForm : public QWidget {
    Q_OBJECT
public:
    explicit TrainingSettingsForm(QWidget* parent = nullptr);

    // training_presets(): names and descriptions, and filling the form with one.
    static QStringList presetNames();
    static QString presetDescription(int index);
    // The defaults (TrainingArguments{}) and a preset's values as JSON, in collect()'s form.
    static QJsonObject defaultValues();
    static QJsonObject presetValues(int index);
    void applyPreset(int index);

    // Sets every editor whose key is in `values` (other editors keep their value).
    void setValues(const QJsonObject& values);
    // The editors' values as they stand, unchecked.
    QJsonObject currentValues() const;
    // The values checked as the engine checks a run.json (ranges, choices, the prompt template, and
    // TrainingArguments::validate). On failure, `error` is a readable sentence and `errorKey` the setting.
    bool collect(QJsonObject* values, QString* error, QString* errorKey = nullptr) const;

    bool isLora() const;
    qint64 loraRank() const;
    QStringList loraTargets() const;
    // The editor of a setting (for focus and tests), or nullptr.
    QWidget* editor(const QString& key) const;
    QStringList keys() const;

signals:
    // Any value changed (by the user or programmatically).
    void changed();

private:
    struct Row {
        QString key;
        int kind = 0;                  // SettingSpec::Kind
        bool isLoraOnly = false;
        bool isNullable = false;       // the default is null (e.g. dropout_rate: use config.json's)
        double minimum = 0;
        double maximum = 0;
        QWidget* editor = nullptr;
        QCheckBox* overrideCheck = nullptr;   // nullable settings: whether a value is set
        QList<QCheckBox*> choiceChecks;       // list settings: one check box per choice
    };
    const Row* row(const QString& key) const;
    // The editor of setting `spec` (row.editor, and row.choiceChecks for a list), connected to changed().
    void createEditor(const sumlab::SettingSpec& spec, Row& row, const QString& tip);
    void updateMethodRows();
    QJsonValue rowValue(const Row& row) const;
    void setRowValue(Row& row, const QJsonValue& value);

    QVector<Row> m_rows;
    QGroupBox* m_loraGroup = nullptr;
};
