// LibTorch before Qt: Qt's `slots` macro breaks torch headers.
#include "engine/generation/system.h"
#include "engine/runtime/system_info.h"
#include "models/t5/quantized_linear.h"

#include "ui/GenerationSettingsWidget.h"

#include "ui/Accessible.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSet>
#include <QSpinBox>
#include <QVBoxLayout>

namespace {
using Kind = sumlab::GenerationSettingSpec::Kind;

// "no_repeat_ngram_size" -> "NoRepeatNgramSize"
QString camel(const std::string& key) {
    QString out;
    bool upper = true;
    for (char c : key) {
        if (c == '_') {
            upper = true;
            continue;
        }
        out += upper ? QChar(c).toUpper() : QChar(c);
        upper = false;
    }
    return out;
}

// The key with a mnemonic on its first letter no other label has taken ("num_&beams").
QString mnemonicLabel(const std::string& key, QSet<QChar>& taken) {
    QString text = QString::fromStdString(key);
    for (int i = 0; i < text.size(); ++i) {
        const QChar c = text[i].toLower();
        if (!c.isLetter() || taken.contains(c)) continue;
        taken.insert(c);
        return text.left(i) + QLatin1Char('&') + text.mid(i);
    }
    return text;
}
}  // namespace

GenerationSettingsWidget::GenerationSettingsWidget(const QString& prefix, QWidget* parent) : QWidget(parent) {
    // Three rows, so the pages keep their width: the search settings, do_sample and what it enables, and the
    // precision the systems are loaded in.
    auto* rows = new QVBoxLayout(this);
    rows->setContentsMargins(0, 0, 0, 0);
    auto* searchRow = new QHBoxLayout;
    auto* samplingRow = new QHBoxLayout;
    rows->addLayout(searchRow);
    rows->addLayout(samplingRow);
    auto* precisionRow = new QHBoxLayout;
    rows->addLayout(precisionRow);
    QSet<QChar> taken;
    for (const sumlab::GenerationSettingSpec& s : sumlab::generation_settings()) {
        if (!s.is_form) continue;
        const QString key = QString::fromStdString(s.key), tip = key + QStringLiteral(": ") + QString::fromStdString(s.help);
        QWidget* field = nullptr;
        switch (s.kind) {
            case Kind::integer: {
                auto* spin = new QSpinBox(this);
                spin->setRange(static_cast<int>(s.min), static_cast<int>(s.max));
                if (s.min == 0) spin->setSpecialValueText(tr("off"));
                connect(spin, &QSpinBox::valueChanged, this, &GenerationSettingsWidget::changed);
                field = spin;
                break;
            }
            case Kind::real: {
                auto* spin = new QDoubleSpinBox(this);
                spin->setDecimals(3);
                spin->setRange(sumlab::generation_lowest_value(s, 0.001), s.max);  // 3 decimals: 0.001 above an excluded 0
                spin->setSingleStep(0.05);
                connect(spin, &QDoubleSpinBox::valueChanged, this, &GenerationSettingsWidget::changed);
                field = spin;
                break;
            }
            case Kind::boolean: {
                auto* check = new QCheckBox(this);
                connect(check, &QCheckBox::toggled, this, &GenerationSettingsWidget::changed);
                field = check;
                break;
            }
        }
        const char* suffix = s.kind == Kind::boolean ? "Check" : "Spin";
        Accessible::describe(field, (prefix + camel(s.key) + QLatin1String(suffix)).toLatin1().constData(), key, tip);
        auto* label = new QLabel(mnemonicLabel(s.key, taken), this);
        label->setBuddy(field);
        QHBoxLayout* row = s.is_sampling || s.key == "do_sample" ? samplingRow : searchRow;
        row->addWidget(label);
        row->addWidget(field);
        m_fields.insert(key, field);
        if (s.is_sampling) m_samplingFields << field << label;
    }
    m_dtype = new QComboBox(this);
    for (const std::string& name : sumlab::dtype_names()) m_dtype->addItem(QString::fromStdString(name));
    Accessible::describe(m_dtype, (prefix + QStringLiteral("DtypeCombo")).toLatin1().constData(), tr("dtype"),
                         sumlab::cpu_has_bf16_units()
                             ? tr("float32 is exact to transformers; bfloat16 casts the weights (model.to(torch.bfloat16)) and runs on this "
                                  "CPU's bfloat16 units, several times faster")
                             : tr("float32 is exact to transformers; bfloat16 casts the weights (model.to(torch.bfloat16)). This CPU has no "
                                  "bfloat16 instructions, so bfloat16 would be emulated and slower than float32"));
    auto* dtypeLabel = new QLabel(tr("d&type"), this);
    dtypeLabel->setBuddy(m_dtype);
    precisionRow->addWidget(dtypeLabel);
    precisionRow->addWidget(m_dtype);
    connect(m_dtype, &QComboBox::currentIndexChanged, this, &GenerationSettingsWidget::changed);
    m_quantize = new QComboBox(this);
    m_quantize->addItem(QStringLiteral("none"));
    if (sumlab::int8_supported()) m_quantize->addItem(QStringLiteral("int8"));
    Accessible::describe(m_quantize, (prefix + QStringLiteral("QuantizeCombo")).toLatin1().constData(), tr("quantize"),
                         tr("int8: per-channel int8 weights with dynamically quantised activations (torch's quantize_dynamic), "
                            "float32 weights on the CPU only; none is exact to transformers"));
    auto* quantizeLabel = new QLabel(tr("&quantize"), this);
    quantizeLabel->setBuddy(m_quantize);
    precisionRow->addWidget(quantizeLabel);
    precisionRow->addWidget(m_quantize);
    // int8 quantizes float32 weights (check_quantize refuses bfloat16): the choice exists only with float32.
    auto followDtype = [this] {
        const bool fp32 = m_dtype->currentText() == QStringLiteral("float32");
        if (!fp32) m_quantize->setCurrentIndex(0);
        m_quantize->setEnabled(fp32 && m_quantize->count() > 1);
    };
    connect(m_dtype, &QComboBox::currentIndexChanged, this, followDtype);
    connect(m_quantize, &QComboBox::currentIndexChanged, this, &GenerationSettingsWidget::changed);
    followDtype();
    searchRow->addStretch(1);
    samplingRow->addStretch(1);
    precisionRow->addStretch(1);
    if (auto* sample = qobject_cast<QCheckBox*>(m_fields.value(QStringLiteral("do_sample")))) {
        auto follow = [this](bool on) {
            for (QWidget* w : m_samplingFields) w->setEnabled(on);
        };
        connect(sample, &QCheckBox::toggled, this, follow);
        follow(sample->isChecked());
    }
    setSettings(GenerationSettings{});
}

GenerationSettings GenerationSettingsWidget::settings() const {
    GenerationSettings out;
    out.values = nlohmann::json::object();
    for (auto it = m_fields.begin(); it != m_fields.end(); ++it) {
        const std::string key = it.key().toStdString();
        if (auto* spin = qobject_cast<QSpinBox*>(it.value())) out.values[key] = spin->value();
        else if (auto* real = qobject_cast<QDoubleSpinBox*>(it.value())) out.values[key] = real->value();
        else if (auto* check = qobject_cast<QCheckBox*>(it.value())) out.values[key] = check->isChecked();
    }
    out.dtype = m_dtype->currentText().toStdString();
    out.quantize = m_quantize->currentText().toStdString();
    return out;
}

void GenerationSettingsWidget::setSettings(const GenerationSettings& settings) {
    for (auto it = m_fields.begin(); it != m_fields.end(); ++it) {
        const nlohmann::json& v = settings.values.value(it.key().toStdString(), nlohmann::json());
        if (!v.is_number() && !v.is_boolean()) continue;  // not set: the field keeps what it shows
        if (auto* spin = qobject_cast<QSpinBox*>(it.value())) spin->setValue(v.get<int>());
        else if (auto* real = qobject_cast<QDoubleSpinBox*>(it.value())) real->setValue(v.get<double>());
        else if (auto* check = qobject_cast<QCheckBox*>(it.value())) check->setChecked(v.get<bool>());
    }
    m_dtype->setCurrentText(QString::fromStdString(settings.dtype));
    m_quantize->setCurrentText(QString::fromStdString(settings.quantize));
    if (m_dtype->currentText() != QStringLiteral("float32")) m_quantize->setCurrentIndex(0);  // int8 needs float32 weights
}
