// GenerationSettingsWidget: the generation settings of the Compare and Evaluate pages, edited in place: one
// field per row of sumlab::generation_settings() marked is_form, labelled with its Hugging Face name, with the
// table's range and help.
#pragma once

#include "ui/SystemSpec.h"

#include <QMap>
#include <QWidget>

class GenerationSettingsWidget : public QWidget {
    Q_OBJECT
public:
    // `prefix` keeps object names unique when two pages each hold one ("compare" -> "compareMaxNewTokensSpin").
    explicit GenerationSettingsWidget(const QString& prefix, QWidget* parent = nullptr);

    GenerationSettings settings() const;
    void setSettings(const GenerationSettings& settings);

signals:
    void changed();

private:
    QMap<QString, QWidget*> m_fields;  // HF key -> its QSpinBox, QDoubleSpinBox or QCheckBox
    class QComboBox* m_dtype = nullptr;
    class QComboBox* m_quantize = nullptr;  // none / int8: only with float32 weights
    QList<QWidget*> m_samplingFields;  // enabled only while do_sample is checked
};
