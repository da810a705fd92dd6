#include "ui/ModelsPage.h"

#include "ui/Accessible.h"
#include "ui/DownloadDialog.h"
#include "ui/ModelRegistry.h"
#include "ui/NewModelDialog.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace {

QString millions(qint64 n) {
    const QLocale locale;
    if (n >= 1000000) return QObject::tr("%1 (%2 M)").arg(locale.toString(n), locale.toString(static_cast<double>(n) / 1e6, 'f', 1));
    if (n >= 1000) return QObject::tr("%1 (%2 k)").arg(locale.toString(n), locale.toString(static_cast<double>(n) / 1e3, 'f', 1));
    return locale.toString(n);
}

QString row(const QString& key, const QString& value) {
    return QStringLiteral("<tr><td valign=\"top\"><b>%1</b></td><td>%2</td></tr>").arg(key.toHtmlEscaped(), value);
}

}  // namespace

ModelsPage::ModelsPage(ModelRegistry* registry, QWidget* parent) : QWidget(parent), m_registry(registry) {
    setObjectName("modelsPage");
    setAccessibleName(tr("Models page"));
    auto* layout = new QVBoxLayout(this);

    auto* pathRow = new QHBoxLayout;
    auto* pathLabel = new QLabel(tr("&Folder:"), this);
    m_pathEdit = new QLineEdit(this);
    m_pathEdit->setPlaceholderText(tr("A model folder (config.json + weights) or a PEFT adapter folder (adapter_config.json)"));
    Accessible::describe(m_pathEdit, "modelPathEdit", tr("Model folder path"),
                         tr("A Hugging Face model folder (config.json and model.safetensors or pytorch_model.bin) or a PEFT LoRA adapter folder"));
    pathLabel->setBuddy(m_pathEdit);
    m_browseButton = new QPushButton(tr("&Browse…"), this);
    Accessible::describe(m_browseButton, "browseModelButton", tr("Browse for a model folder"), tr("Choose a model or adapter folder and register it"));
    m_registerButton = new QPushButton(tr("&Register"), this);
    Accessible::describe(m_registerButton, "registerModelButton", tr("Register model folder"),
                         tr("Check the folder and add it to the list (weights are loaded and checked on a background thread)"));
    pathRow->addWidget(pathLabel);
    pathRow->addWidget(m_pathEdit, 1);
    pathRow->addWidget(m_browseButton);
    m_hubButton = new QPushButton(tr("Download from &Hub…"), this);
    Accessible::describe(m_hubButton, "downloadModelButton", tr("Download a model from the Hub"),
                         tr("Download a model (google/flan-t5-base, …) into the Hugging Face cache and register it"));
    pathRow->addWidget(m_registerButton);
    pathRow->addWidget(m_hubButton);
    m_newModelButton = new QPushButton(tr("&New model…"), this);
    Accessible::describe(m_newModelButton, "newModelButton", tr("New model"),
                         tr("Create a randomly initialised T5 of a chosen shape (and its tokenizer), to train from scratch"));
    pathRow->addWidget(m_newModelButton);
    layout->addLayout(pathRow);

    m_errorFrame = new QFrame(this);
    m_errorFrame->setFrameShape(QFrame::StyledPanel);
    auto* errorLayout = new QHBoxLayout(m_errorFrame);
    auto* icon = new QLabel(m_errorFrame);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(20, 20));
    icon->setAlignment(Qt::AlignTop);
    m_errorLabel = new QLabel(m_errorFrame);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    Accessible::describe(m_errorLabel, "modelErrorLabel", tr("Model folder error"), tr("Why the folder was not registered"));
    errorLayout->addWidget(icon);
    errorLayout->addWidget(m_errorLabel, 1);
    m_errorFrame->hide();
    layout->addWidget(m_errorFrame);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->setChildrenCollapsible(false);
    auto* listBox = new QWidget(splitter);
    auto* listLayout = new QVBoxLayout(listBox);
    listLayout->setContentsMargins(0, 0, 0, 0);
    m_view = new QTableView(listBox);
    Accessible::describe(m_view, "modelsView", tr("Registered models"), tr("Registered models and adapters; select one to see its details"));
    m_view->setModel(m_registry);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->verticalHeader()->hide();
    m_view->setAlternatingRowColors(true);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(ModelRegistry::PathColumn, QHeaderView::Stretch);
    listLayout->addWidget(m_view, 1);
    auto* buttons = new QHBoxLayout;
    m_recheckButton = new QPushButton(tr("Re-&check"), listBox);
    Accessible::describe(m_recheckButton, "recheckModelButton", tr("Re-check model"), tr("Check the selected folder again (after it changed on disk)"));
    m_removeButton = new QPushButton(tr("Re&move"), listBox);
    Accessible::describe(m_removeButton, "removeModelButton", tr("Remove model"), tr("Remove the selected folder from the list (nothing is deleted on disk)"));
    buttons->addWidget(m_recheckButton);
    buttons->addWidget(m_removeButton);
    buttons->addStretch(1);
    listLayout->addLayout(buttons);

    auto* detailsBox = new QGroupBox(tr("Details"), splitter);
    auto* detailsLayout = new QVBoxLayout(detailsBox);
    auto* baseRow = new QHBoxLayout;
    m_baseLabel = new QLabel(tr("&Base model of this adapter:"), detailsBox);
    m_baseCombo = new QComboBox(detailsBox);
    m_baseCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    Accessible::describe(m_baseCombo, "adapterBaseCombo", tr("Adapter base model"),
                         tr("The registered model this adapter was trained on; its shapes are checked against it"));
    m_baseLabel->setBuddy(m_baseCombo);
    baseRow->addWidget(m_baseLabel);
    baseRow->addWidget(m_baseCombo);
    baseRow->addStretch(1);
    detailsLayout->addLayout(baseRow);
    m_details = new QTextBrowser(detailsBox);
    Accessible::describe(m_details, "modelDetails", tr("Model details"), tr("Config, parameter count and weights of the selected entry"));
    detailsLayout->addWidget(m_details, 1);
    splitter->addWidget(listBox);
    splitter->addWidget(detailsBox);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);
    layout->addWidget(splitter, 1);

    connect(m_registerButton, &QPushButton::clicked, this, [this] { registerFolder(m_pathEdit->text()); });
    connect(m_pathEdit, &QLineEdit::returnPressed, this, [this] { registerFolder(m_pathEdit->text()); });
    connect(m_browseButton, &QPushButton::clicked, this, &ModelsPage::browse);
    connect(m_hubButton, &QPushButton::clicked, this, &ModelsPage::downloadFromHub);
    connect(m_newModelButton, &QPushButton::clicked, this, &ModelsPage::newModel);
    connect(m_recheckButton, &QPushButton::clicked, this, &ModelsPage::recheckSelected);
    connect(m_removeButton, &QPushButton::clicked, this, &ModelsPage::removeSelected);
    connect(m_registry, &ModelRegistry::registrationFailed, this, &ModelsPage::onRegistrationFailed);
    connect(m_registry, &ModelRegistry::registered, this, &ModelsPage::onRegistered);
    connect(m_registry, &ModelRegistry::dataChanged, this, &ModelsPage::showDetails);
    connect(m_registry, &ModelRegistry::entriesChanged, this, &ModelsPage::refreshBaseChoices);
    connect(m_registry, &ModelRegistry::modelReset, this, &ModelsPage::showDetails);
    connect(m_registry, &ModelRegistry::rowsRemoved, this, &ModelsPage::showDetails);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &ModelsPage::showDetails);
    connect(m_baseCombo, qOverload<int>(&QComboBox::activated), this, &ModelsPage::chooseAdapterBase);

    setTabOrder(m_pathEdit, m_browseButton);
    setTabOrder(m_browseButton, m_registerButton);
    setTabOrder(m_registerButton, m_hubButton);
    setTabOrder(m_hubButton, m_newModelButton);
    setTabOrder(m_newModelButton, m_view);
    setTabOrder(m_view, m_recheckButton);
    setTabOrder(m_recheckButton, m_removeButton);
    setTabOrder(m_removeButton, m_baseCombo);
    setTabOrder(m_baseCombo, m_details);
    showDetails();
}

void ModelsPage::registerFolder(const QString& path) {
    m_errorFrame->hide();
    m_errorLabel->clear();
    if (m_registry->addFolder(path)) {
        QSettings().setValue(QStringLiteral("models/lastFolder"), QFileInfo(path.trimmed()).absolutePath());
        emit statusMessage(tr("Checking %1 …").arg(path.trimmed()));
    }
}

void ModelsPage::browse() {
    const QString start = QSettings().value(QStringLiteral("models/lastFolder"), QDir::homePath()).toString();
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Register Model or Adapter Folder"), start);
    if (dir.isEmpty()) return;
    m_pathEdit->setText(dir);
    registerFolder(dir);
}

void ModelsPage::downloadFromHub() {
    auto* dialog = new DownloadDialog(DownloadDialog::Kind::Model, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &DownloadDialog::downloaded, this, [this](const QString& folder) {
        m_pathEdit->setText(folder);
        if (m_registry->rowOfPath(folder) < 0) registerFolder(folder);
    });
    dialog->open();
}

void ModelsPage::newModel() {
    auto* dialog = new NewModelDialog(m_registry, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &NewModelDialog::created, this, [this](const QString& folder) { emit statusMessage(tr("Created %1").arg(folder)); });
    dialog->open();
}

void ModelsPage::showError(const QString& message) {
    m_errorLabel->setText(message);
    m_errorFrame->show();
}

QString ModelsPage::errorText() const { return m_errorFrame->isHidden() ? QString() : m_errorLabel->text(); }

void ModelsPage::onRegistrationFailed(const QString& path, const QString& reason) {
    showError(tr("%1 was not registered: %2").arg(path, reason));
    emit statusMessage(tr("Not registered: %1").arg(path));
}

void ModelsPage::onRegistered(const QString& path) {
    const int row = m_registry->rowOfPath(path);
    if (row >= 0) m_view->setCurrentIndex(m_registry->index(row, 0));
    emit statusMessage(tr("Registered %1").arg(path));
}

int ModelsPage::selectedRow() const {
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() ? current.row() : -1;
}

void ModelsPage::removeSelected() { m_registry->removeFolder(selectedRow()); }

void ModelsPage::recheckSelected() { m_registry->recheck(selectedRow()); }

void ModelsPage::refreshBaseChoices() {
    const int row = selectedRow();
    const QString current = row >= 0 ? m_registry->info(row).basePath : QString();
    QSignalBlocker blocker(m_baseCombo);
    m_baseCombo->clear();
    m_baseCombo->addItem(tr("(from adapter_config.json)"), QString());
    for (const ModelInfo& info : m_registry->readyEntries(ModelKind::Model)) m_baseCombo->addItem(info.name, info.path);
    const int index = m_baseCombo->findData(current);
    m_baseCombo->setCurrentIndex(index < 0 ? 0 : index);
}

void ModelsPage::chooseAdapterBase(int comboIndex) {
    const int row = selectedRow();
    if (row < 0 || m_registry->info(row).kind != ModelKind::Adapter) return;
    m_registry->setAdapterBase(row, m_baseCombo->itemData(comboIndex).toString());
}

void ModelsPage::showDetails() {
    const int r = selectedRow();
    const bool has = r >= 0 && r < m_registry->rowCount();
    m_removeButton->setEnabled(has && !m_registry->isBuiltIn(r));  // shipped with SumLab: always listed
    m_recheckButton->setEnabled(has);
    const bool isAdapter = has && m_registry->info(r).kind == ModelKind::Adapter;
    m_baseLabel->setVisible(isAdapter);
    m_baseCombo->setVisible(isAdapter);
    if (!has) {
        m_details->setHtml(m_registry->rowCount() == 0
                               ? tr("<p>No models registered yet. Register a FLAN-T5 folder (for example google/flan-t5-base downloaded with "
                                    "<code>huggingface-cli download</code>), a fine-tuned model from a run's <code>final/</code> folder, or a "
                                    "PEFT adapter folder.</p>")
                               : tr("<p>Select an entry to see its details.</p>"));
        return;
    }
    if (isAdapter) refreshBaseChoices();
    const ModelInfo& i = m_registry->info(r);
    const ModelRegistry::State state = m_registry->state(r);
    const QLocale locale;
    QString html = QStringLiteral("<h3>%1</h3><table cellspacing=\"2\" cellpadding=\"2\">").arg(i.name.toHtmlEscaped());
    html += row(tr("Kind"), ModelRegistry::kindName(i.kind).toHtmlEscaped());
    html += row(tr("Folder"), i.path.toHtmlEscaped());
    if (m_registry->isBuiltIn(r)) html += row(tr("Built in"), tr("shipped with SumLab; works offline (its README.md is the model card)"));
    if (state == ModelRegistry::State::Checking) {
        m_details->setHtml(html + QStringLiteral("</table><p>%1</p>").arg(tr("Checking the folder …")));
        return;
    }
    if (state == ModelRegistry::State::Unavailable) {
        m_details->setHtml(html + QStringLiteral("</table><p><b>%1</b> %2</p>").arg(tr("Unavailable:"), i.error.toHtmlEscaped()));
        return;
    }
    html += row(tr("Origin"), i.origin.toHtmlEscaped());
    html += row(tr("Weights"), tr("%1 (%2, %3)").arg(QFileInfo(i.weightsFile).fileName().toHtmlEscaped(), i.weightsFormat,
                                                     ModelRegistry::formatBytes(i.weightsBytes)));
    if (i.kind == ModelKind::Adapter) {
        const AdapterSummary& a = i.adapter;
        html += row(tr("LoRA rank r"), locale.toString(a.r));
        html += row(tr("lora_alpha"), tr("%1 (scaling alpha / r = %2)").arg(locale.toString(a.loraAlpha), locale.toString(a.r ? a.loraAlpha / static_cast<double>(a.r) : 0.0)));
        html += row(tr("lora_dropout"), locale.toString(a.loraDropout));
        html += row(tr("target_modules"), a.targetModules.join(QStringLiteral(", ")).toHtmlEscaped());
        html += row(tr("base_model_name_or_path"), a.baseModelNameOrPath.toHtmlEscaped());
        if (i.basePath.isEmpty()) {
            html += row(tr("Base model"), tr("unknown: choose the registered model it was trained on above"));
        } else {
            html += row(tr("Base model"), i.basePath.toHtmlEscaped());
            html += row(tr("Adapter parameters"), millions(i.adapterParameters));
            html += row(tr("PEFT"), i.peftText.toHtmlEscaped());
        }
    } else {
        html += row(tr("Parameters"), millions(i.parameters));
    }
    if (i.hasShape()) {
        const ModelShape& s = i.shape;
        const QString prefix = i.kind == ModelKind::Adapter ? tr("Base ") : QString();
        html += row(prefix + tr("d_model / d_ff"), QStringLiteral("%1 / %2").arg(s.dModel).arg(s.dFf));
        html += row(prefix + tr("heads × d_kv"), QStringLiteral("%1 × %2 = %3").arg(s.numHeads).arg(s.dKv).arg(s.innerDim()));
        html += row(prefix + tr("layers (encoder / decoder)"), QStringLiteral("%1 / %2").arg(s.numLayers).arg(s.numDecoderLayers));
        html += row(prefix + tr("vocab_size"), locale.toString(s.vocabSize));
        html += row(prefix + tr("feed_forward_proj"), i.feedForwardProj.toHtmlEscaped());
        html += row(prefix + tr("tie_word_embeddings"), s.tieWordEmbeddings ? tr("yes") : tr("no"));
        html += row(prefix + tr("torch_dtype"), i.torchDtype.toHtmlEscaped());
        if (i.kind == ModelKind::Adapter) html += row(tr("Base parameters"), millions(i.parameters));
        html += row(tr("Tokenizer"), i.hasTokenizer ? tr("spiece.model present") : tr("none (spiece.model missing)"));
    }
    html += QStringLiteral("</table>");
    m_details->setHtml(html);
}
