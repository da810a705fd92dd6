#include "ui/TrainModelCombo.h"

#include "ui/ModelRegistry.h"

#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QSettings>
#include <QSignalBlocker>

namespace {

QString modelOf(const QVariantMap& choice) { return choice.value(QStringLiteral("model")).toString(); }
QString adapterOf(const QVariantMap& choice) { return choice.value(QStringLiteral("adapter")).toString(); }

}  // namespace

TrainModelCombo::TrainModelCombo(QWidget* parent) : QComboBox(parent) {}

void TrainModelCombo::addChoice(const QString& modelDir, const QString& adapterDir, const QString& label) {
    QVariantMap choice;
    choice.insert(QStringLiteral("model"), modelDir);
    choice.insert(QStringLiteral("adapter"), adapterDir);
    addItem(label, choice);
}

void TrainModelCombo::refresh(const ModelRegistry& registry, const QVector<QVariantMap>& extras) {
    QString wanted = chosenPath();
    if (wanted.isEmpty()) wanted = QSettings().value(QStringLiteral("train/model")).toString();
    QSignalBlocker blocker(this);
    clear();
    const QLocale locale;
    for (const ModelInfo& info : registry.readyEntries(ModelKind::Model))
        addChoice(info.path, QString(), tr("%1 (%2 M parameters)").arg(info.name, locale.toString(static_cast<double>(info.parameters) / 1e6, 'f', 1)));
    for (const ModelInfo& info : registry.readyEntries(ModelKind::Adapter))
        if (!info.basePath.isEmpty())
            addChoice(info.basePath, info.path, tr("%1 (LoRA adapter on %2)").arg(info.name, QFileInfo(info.basePath).fileName()));
    for (const QVariantMap& extra : extras) addItem(extra.value(QStringLiteral("label")).toString(), extra);
    if (count() == 0) addItem(tr("No model registered: add one on the Models page"), QVariantMap());
    int index = 0;
    for (int i = 0; i < count(); ++i) {
        const QVariantMap d = itemData(i).toMap();
        const QString key = adapterOf(d).isEmpty() ? modelOf(d) : adapterOf(d);
        if (!wanted.isEmpty() && key == wanted) index = i;
    }
    setCurrentIndex(index);
}

bool TrainModelCombo::selectPath(const QString& path) {
    const QString clean = QDir::cleanPath(path);
    for (int i = 0; i < count(); ++i) {
        const QVariantMap d = itemData(i).toMap();
        if (adapterOf(d) == clean || (adapterOf(d).isEmpty() && modelOf(d) == clean)) {
            setCurrentIndex(i);
            return true;
        }
    }
    return false;
}

QString TrainModelCombo::modelDir() const { return modelOf(currentData().toMap()); }

QString TrainModelCombo::adapterDir() const { return adapterOf(currentData().toMap()); }

QString TrainModelCombo::chosenPath() const {
    const QString adapter = adapterDir();
    return adapter.isEmpty() ? modelDir() : adapter;
}

const ModelInfo* TrainModelCombo::chosenModel(const ModelRegistry& registry, const AdapterSummary** adapter) const {
    *adapter = nullptr;
    const int row = registry.rowOfPath(chosenPath());
    if (row < 0 || registry.state(row) != ModelRegistry::State::Ready) return nullptr;
    const ModelInfo& info = registry.info(row);
    if (!adapterDir().isEmpty()) *adapter = &info.adapter;
    return &info;
}
