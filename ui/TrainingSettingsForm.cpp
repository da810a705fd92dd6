// LibTorch headers come before any Qt header: Qt's `slots` macro breaks them.
#include "engine/data/prompt.h"
#include "engine/runtime/system_info.h"
#include "engine/training/training_arguments.h"
#include "base/errors.h"

#include <nlohmann/json.hpp>

#include "ui/TrainingSettingsForm.h"

#include "ui/LongSpinBox.h"
#include "ui/ScientificSpinBox.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QVBoxLayout>

#include <cmath>

using Kind = sumlab::SettingSpec::Kind;

namespace {

QJsonObject toQt(const nlohmann::json& j) { return QJsonDocument::fromJson(QByteArray::fromStdString(j.dump())).object(); }

nlohmann::json toEngine(const QJsonObject& o) { return nlohmann::json::parse(QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString()); }

QString rangeText(const sumlab::SettingSpec& s) {
    if (s.kind == Kind::integer)
        return QStringLiteral("[%1, %2]").arg(static_cast<qint64>(s.min)).arg(static_cast<qint64>(s.max));
    return QStringLiteral("[%1, %2]").arg(QString::number(s.min, 'g', 10), QString::number(s.max, 'g', 10));
}

QString spokenName(const QString& key) {
    QString name = key;
    name.replace('_', ' ');
    return name;
}

}  // namespace

TrainingSettingsForm::TrainingSettingsForm(QWidget* parent) : QWidget(parent) {
    setObjectName("trainingSettingsForm");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* methodGroup = new QGroupBox(tr("Method"), this);
    methodGroup->setObjectName("methodGroup");
    auto* methodForm = new QFormLayout(methodGroup);
    m_loraGroup = new QGroupBox(tr("LoRA adapter (PEFT)"), this);
    m_loraGroup->setObjectName("loraGroup");
    auto* loraForm = new QFormLayout(m_loraGroup);
    auto* mainGroup = new QGroupBox(tr("Training arguments"), this);
    mainGroup->setObjectName("trainingArgumentsGroup");
    auto* mainForm = new QFormLayout(mainGroup);
    for (QFormLayout* f : {methodForm, loraForm, mainForm}) {
        f->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        f->setRowWrapPolicy(QFormLayout::WrapLongRows);
    }

    const sumlab::TrainingArguments defaults;
    for (const sumlab::SettingSpec& s : sumlab::training_settings()) {
        Row row;
        row.key = QString::fromStdString(s.key);
        row.kind = static_cast<int>(s.kind);
        row.isLoraOnly = s.lora_only;
        row.minimum = s.min;
        row.maximum = s.max;
        const nlohmann::json initial = s.get(defaults);
        row.isNullable = initial.is_null();
        const QString tip = QString::fromStdString(sumlab::setting_help(s));
        QWidget* field = nullptr;
        createEditor(s, row, tip);
        row.editor->setObjectName(QStringLiteral("setting_%1").arg(row.key));
        row.editor->setAccessibleName(spokenName(row.key));
        row.editor->setToolTip(tip);
        field = row.editor;
        if (row.isNullable) {
            // "Not set" keeps the model's own value (config.json); checking the box overrides it.
            auto* wrapper = new QWidget(this);
            auto* h = new QHBoxLayout(wrapper);
            h->setContentsMargins(0, 0, 0, 0);
            row.overrideCheck = new QCheckBox(tr("override"), wrapper);
            row.overrideCheck->setObjectName(QStringLiteral("setting_%1_override").arg(row.key));
            row.overrideCheck->setAccessibleName(tr("Override %1").arg(spokenName(row.key)));
            row.overrideCheck->setToolTip(tr("Unchecked: keep the model's own value. %1").arg(tip));
            row.editor->setEnabled(false);
            connect(row.overrideCheck, &QCheckBox::toggled, row.editor, &QWidget::setEnabled);
            connect(row.overrideCheck, &QCheckBox::toggled, this, &TrainingSettingsForm::changed);
            h->addWidget(row.overrideCheck);
            h->addWidget(row.editor, 1);
            field = wrapper;
        }
        auto* label = new QLabel(row.key, this);
        label->setBuddy(row.isNullable ? static_cast<QWidget*>(row.overrideCheck) : row.editor);
        label->setToolTip(tip);
        if (row.key == QLatin1String("method")) methodForm->addRow(label, field);
        else if (row.isLoraOnly) loraForm->addRow(label, field);
        else mainForm->addRow(label, field);
        m_rows.push_back(row);
    }
    layout->addWidget(methodGroup);
    layout->addWidget(m_loraGroup);
    layout->addWidget(mainGroup);
    layout->addStretch(1);

    setValues(defaultValues());
    connect(this, &TrainingSettingsForm::changed, this, &TrainingSettingsForm::updateMethodRows);
    updateMethodRows();
}

void TrainingSettingsForm::createEditor(const sumlab::SettingSpec& s, Row& row, const QString& tip) {
    switch (s.kind) {
        case Kind::integer: {
            auto* spin = new LongSpinBox(this);
            spin->setRange(static_cast<qint64>(s.min), static_cast<qint64>(s.max));
            connect(spin, &LongSpinBox::valueChanged, this, &TrainingSettingsForm::changed);
            row.editor = spin;
            break;
        }
        case Kind::real: {
            auto* spin = new ScientificSpinBox(this);
            spin->setRange(s.min, s.max);
            connect(spin, qOverload<double>(&QDoubleSpinBox::valueChanged), this, &TrainingSettingsForm::changed);
            row.editor = spin;
            break;
        }
        case Kind::boolean: {
            auto* check = new QCheckBox(this);
            // bf16 runs everywhere, but without bf16 units it is emulated and slower than fp32: say so beside it.
            if (s.key == "bf16") {
                const std::string warning = sumlab::bf16_speed_warning();
                if (!warning.empty()) check->setText(tr("slower than fp32 here: %1").arg(QString::fromStdString(warning)));
            }
            connect(check, &QCheckBox::toggled, this, &TrainingSettingsForm::changed);
            row.editor = check;
            break;
        }
        case Kind::choice: {
            auto* combo = new QComboBox(this);
            for (const std::string& c : s.choices) combo->addItem(QString::fromStdString(c), QString::fromStdString(c));
            connect(combo, qOverload<int>(&QComboBox::currentIndexChanged), this, &TrainingSettingsForm::changed);
            row.editor = combo;
            break;
        }
        case Kind::text: {
            auto* edit = new QLineEdit(this);
            connect(edit, &QLineEdit::textChanged, this, &TrainingSettingsForm::changed);
            row.editor = edit;
            break;
        }
        case Kind::list: {
            auto* box = new QWidget(this);
            auto* boxLayout = new QHBoxLayout(box);
            boxLayout->setContentsMargins(0, 0, 0, 0);
            for (const std::string& c : s.choices) {
                const QString choice = QString::fromStdString(c);
                auto* check = new QCheckBox(choice, box);
                check->setObjectName(QStringLiteral("setting_%1_%2").arg(row.key, choice));
                check->setAccessibleName(tr("%1: %2").arg(spokenName(row.key), choice));
                check->setToolTip(tip);
                connect(check, &QCheckBox::toggled, this, &TrainingSettingsForm::changed);
                boxLayout->addWidget(check);
                row.choiceChecks << check;
            }
            boxLayout->addStretch(1);
            row.editor = box;
            break;
        }
    }
}

QStringList TrainingSettingsForm::presetNames() {
    QStringList names;
    for (const sumlab::TrainingPreset& p : sumlab::training_presets()) names << QString::fromStdString(p.name);
    return names;
}

QString TrainingSettingsForm::presetDescription(int index) {
    const auto& presets = sumlab::training_presets();
    if (index < 0 || index >= static_cast<int>(presets.size())) return {};
    return QString::fromStdString(presets[static_cast<size_t>(index)].description);
}

QJsonObject TrainingSettingsForm::defaultValues() { return toQt(sumlab::TrainingArguments{}.to_json()); }

QJsonObject TrainingSettingsForm::presetValues(int index) {
    const auto& presets = sumlab::training_presets();
    if (index < 0 || index >= static_cast<int>(presets.size())) return {};
    return toQt(presets[static_cast<size_t>(index)].arguments.to_json());
}

void TrainingSettingsForm::applyPreset(int index) {
    const QJsonObject values = presetValues(index);
    if (!values.isEmpty()) setValues(values);
}

const TrainingSettingsForm::Row* TrainingSettingsForm::row(const QString& key) const {
    for (const Row& r : m_rows)
        if (r.key == key) return &r;
    return nullptr;
}

QWidget* TrainingSettingsForm::editor(const QString& key) const {
    const Row* r = row(key);
    return r ? r->editor : nullptr;
}

QStringList TrainingSettingsForm::keys() const {
    QStringList out;
    for (const Row& r : m_rows) out << r.key;
    return out;
}

QJsonValue TrainingSettingsForm::rowValue(const Row& r) const {
    if (r.overrideCheck && !r.overrideCheck->isChecked()) return QJsonValue(QJsonValue::Null);
    switch (static_cast<Kind>(r.kind)) {
        case Kind::integer: return QJsonValue(static_cast<LongSpinBox*>(r.editor)->value());
        case Kind::real: return QJsonValue(static_cast<ScientificSpinBox*>(r.editor)->value());
        case Kind::boolean: return QJsonValue(static_cast<QCheckBox*>(r.editor)->isChecked());
        case Kind::choice: return QJsonValue(static_cast<QComboBox*>(r.editor)->currentData().toString());
        case Kind::text: return QJsonValue(static_cast<QLineEdit*>(r.editor)->text());
        case Kind::list: {
            QJsonArray a;
            for (QCheckBox* c : r.choiceChecks)
                if (c->isChecked()) a << c->text();
            return a;
        }
    }
    return {};
}

void TrainingSettingsForm::setRowValue(Row& r, const QJsonValue& v) {
    if (r.overrideCheck) {
        r.overrideCheck->setChecked(!v.isNull());
        if (v.isNull()) return;
    }
    switch (static_cast<Kind>(r.kind)) {
        case Kind::integer: static_cast<LongSpinBox*>(r.editor)->setValue(v.toInteger()); break;
        case Kind::real: static_cast<ScientificSpinBox*>(r.editor)->setValue(v.toDouble()); break;
        case Kind::boolean: static_cast<QCheckBox*>(r.editor)->setChecked(v.toBool()); break;
        case Kind::choice: {
            auto* combo = static_cast<QComboBox*>(r.editor);
            const int index = combo->findData(v.toString());
            if (index >= 0) combo->setCurrentIndex(index);
            break;
        }
        case Kind::text: static_cast<QLineEdit*>(r.editor)->setText(v.toString()); break;
        case Kind::list: {
            QStringList wanted;
            for (const QJsonValue& x : v.toArray()) wanted << x.toString();
            for (QCheckBox* c : r.choiceChecks) c->setChecked(wanted.contains(c->text()));
            break;
        }
    }
}

void TrainingSettingsForm::setValues(const QJsonObject& values) {
    {
        const QSignalBlocker blocker(this);
        for (Row& r : m_rows)
            if (values.contains(r.key)) setRowValue(r, values.value(r.key));
    }
    updateMethodRows();
    emit changed();
}

QJsonObject TrainingSettingsForm::currentValues() const {
    QJsonObject o;
    for (const Row& r : m_rows) o.insert(r.key, rowValue(r));
    return o;
}

bool TrainingSettingsForm::collect(QJsonObject* values, QString* error, QString* errorKey) const {
    auto fail = [&](const QString& key, const QString& message) {
        if (error) *error = message;
        if (errorKey) *errorKey = key;
        return false;
    };
    for (const Row& r : m_rows) {
        if (r.overrideCheck && !r.overrideCheck->isChecked()) continue;
        auto* spin = qobject_cast<QAbstractSpinBox*>(r.editor);
        if (spin && !spin->hasAcceptableInput()) {
            const sumlab::SettingSpec* spec = nullptr;
            for (const auto& s : sumlab::training_settings())
                if (QString::fromStdString(s.key) == r.key) spec = &s;
            return fail(r.key, tr("%1: \"%2\" is not a number in %3.").arg(r.key, spin->text(), spec ? rangeText(*spec) : QString()));
        }
    }
    const QJsonObject raw = currentValues();
    try {
        sumlab::resolve_prompt(raw.value(QStringLiteral("prompt")).toString().toStdString());
    } catch (const sumlab::Error& e) {
        return fail(QStringLiteral("prompt"), tr("prompt: %1").arg(QString::fromStdString(e.what())));
    }
    try {
        const sumlab::TrainingArguments args = sumlab::TrainingArguments::from_json(toEngine(raw), "Train form");
        if (values) *values = toQt(args.to_json());
        return true;
    } catch (const sumlab::ConfigError& e) {
        return fail(QString::fromStdString(e.key()), QString::fromStdString(e.what()));
    } catch (const std::exception& e) {
        return fail(QString(), QString::fromStdString(e.what()));
    }
}

bool TrainingSettingsForm::isLora() const {
    const Row* r = row(QStringLiteral("method"));
    return r && rowValue(*r).toString() == QLatin1String("lora");
}

qint64 TrainingSettingsForm::loraRank() const {
    const Row* r = row(QStringLiteral("r"));
    return r ? rowValue(*r).toInteger() : 0;
}

QStringList TrainingSettingsForm::loraTargets() const {
    QStringList out;
    if (const Row* r = row(QStringLiteral("target_modules")))
        for (const QJsonValue& v : rowValue(*r).toArray()) out << v.toString();
    return out;
}

void TrainingSettingsForm::updateMethodRows() { m_loraGroup->setVisible(isLora()); }
