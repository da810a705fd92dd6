// load_system, the one way every command and page loads a model with its adapter and tokenizer: the adapter is
// attached and in eval mode (the golden PEFT forward loss), the tokenizer is the model folder's, the generation
// settings are its generation_config.json, and bad devices or adapters are errors naming what is wrong.
#include "tests/common/golden_torch.h"
#include "tests/common/sanitizer.h"

#include "engine/generation/system.h"
#include "base/errors.h"

#include <QtTest>

using namespace sumlab;
using namespace sumlab::test;

class TestSystem : public QObject {
    Q_OBJECT

private slots:
    void loads_model_adapter_and_tokenizer();
    void bad_device_and_adapter();
};

void TestSystem::loads_model_adapter_and_tokenizer() {
    const std::string model = shared_path("golden/t5/tiny-flan"), gold = model + ".goldens";
    SUMLAB_REQUIRE_SHARED(gold + "/lora.json");
    SUMLAB_REQUIRE_SENTENCEPIECE();
    LoadedSystem system = load_system({model, model + "-lora-r4"});
    QVERIFY(!system.model.model->is_training());  // dropout off: generation and scoring are deterministic
    auto meta = load_json(gold + "/meta.json");
    torch::NoGradGuard no_grad;
    auto out = system.model.model->forward(long_tensor(meta["input_ids"]), long_tensor(meta["attention_mask"]), long_tensor(meta["labels"]));
    // PEFT's forward loss with this adapter (golden README: loss abs 1e-5); without the adapter it is forward.json's.
    QVERIFY2(std::abs(out.loss.item<double>() - load_json(gold + "/lora.json")["forward_eval_with_adapter"]["loss"].get<double>()) < 1e-5,
             qPrintable(QString::number(out.loss.item<double>(), 'g', 10)));
    const auto tok = load_json(gold + "/tokenizer.json");
    QCOMPARE(system.tokenizer.encode(tok["sources"][0]["text"].get<std::string>(), true),
             tok["sources"][0]["input_ids"].get<std::vector<int64_t>>());
    QCOMPARE(system.generation.eos_token_id, system.model.config.eos_token_id);
}

void TestSystem::bad_device_and_adapter() {
    const std::string model = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(model + "/config.json");
    try {
        load_system({model, "", "gpu7"});
        QFAIL("a device named gpu7 was accepted");
    } catch (const ConfigError& e) {
        QVERIFY2(QString(e.what()).contains("gpu7"), e.what());
    }
    QTemporaryDir empty;
    try {
        load_system({model, empty.path().toStdString()});
        QFAIL("an empty adapter folder was accepted");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("adapter_config.json"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestSystem)
#include "tst_system.moc"
