// A T5 from scratch (models/t5/t5_init.h): every tensor drawn with the standard deviation of transformers
// 4.28's _init_weights (or filled), for a gated-gelu untied and a relu tied shape; the folder is written
// whole, refuses to overwrite, loads with SumLab's loader and runs; transformers loads it to the same model.
#include "tests/common/golden_torch.h"

#include "models/checkpoint.h"
#include "base/errors.h"
#include "base/file_util.h"
#include "models/safetensors.h"
#include "base/staged_folder.h"
#include "models/t5/t5_init.h"
#include "tests/common/reference_python.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace sumlab;
using namespace sumlab::test;

class TestT5Init : public QObject {
    Q_OBJECT

private slots:
    void stds_match_formula_data();
    void stds_match_formula();
    void same_seed_same_weights();
    void staged_folder_leaves_nothing_on_failure();
    void rules_reject_unknown_names();
    void initializer_factor_is_checked();
    void writes_a_loadable_folder_data();
    void writes_a_loadable_folder();
    void refuses_occupied_output();
    void config_must_fit_tokenizer();
    void transformers_loads_folder_data();
    void transformers_loads_folder();
};

namespace {

// Two shapes where every formula gives a different number: inner = heads * d_kv != d_model, d_ff != d_model,
// d_kv > 1, and a factor other than 1 in one of them.
nlohmann::json gated_untied_config() {
    return {{"d_model", 32}, {"d_kv", 12}, {"num_heads", 4}, {"d_ff", 80}, {"num_layers", 2}, {"num_decoder_layers", 3},
            {"feed_forward_proj", "gated-gelu"}, {"tie_word_embeddings", false}, {"vocab_size", 2112}, {"n_positions", 512}};
}
nlohmann::json relu_tied_config() {
    return {{"d_model", 48}, {"d_kv", 8}, {"num_heads", 3}, {"d_ff", 100}, {"num_layers", 3}, {"num_decoder_layers", 1},
            {"feed_forward_proj", "relu"}, {"tie_word_embeddings", true}, {"vocab_size", 2112}, {"initializer_factor", 0.5}};
}
nlohmann::json config_named(const QString& name) { return name == "gated-untied" ? gated_untied_config() : relu_tied_config(); }

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// modeling_t5.py 4.28 _init_weights, written out again here (not through t5_init_rule) so a wrong rule fails.
// Returns the std of a normal tensor, or sets *fill for a T5LayerNorm weight; -1 for a name it does not know.
double expected_std(const std::string& name, const T5Config& c, double f, bool* fill) {
    *fill = false;
    const double d = static_cast<double>(c.d_model);
    if (name == "shared.weight" || name == "lm_head.weight") return f;
    if (ends_with(name, "layer_norm.weight")) {
        *fill = true;
        return f;
    }
    if (ends_with(name, "relative_attention_bias.weight")) return f / std::sqrt(d);
    if (ends_with(name, ".q.weight")) return f / std::sqrt(d * static_cast<double>(c.d_kv));
    if (ends_with(name, ".k.weight") || ends_with(name, ".v.weight")) return f / std::sqrt(d);
    if (ends_with(name, ".o.weight")) return f / std::sqrt(static_cast<double>(c.num_heads * c.d_kv));
    if (ends_with(name, ".wi.weight") || ends_with(name, ".wi_0.weight") || ends_with(name, ".wi_1.weight")) return f / std::sqrt(d);
    if (ends_with(name, ".wo.weight")) return f / std::sqrt(static_cast<double>(c.d_ff));
    return -1;
}

// Tolerances from the sample size n of one tensor drawn from N(0, sigma^2):
//   the sample mean has standard error sigma / sqrt(n);
//   the sample std s has standard error sigma / sqrt(2 (n - 1)) (Var(s^2) = 2 sigma^4 / (n - 1), s ~ sigma (1 + e/2)).
// Five standard errors: a correct draw fails with probability 5.7e-7 per check (the seeds are fixed, so a pass
// is repeatable). A wrong formula is caught when it moves sigma by more than 5 / sqrt(2 (n - 1)): 37% for the
// smallest tensor here (relative_attention_bias, n = 96), 10% or less for the projections (n >= 1152). The
// closest two formulas of the shapes above differ by 22% (gated: k, v d_model^-0.5 vs o inner^-0.5, n = 1536),
// the relative bias's from the nearest by 41%.
constexpr double kSigmas = 5.0;
double mean_tolerance(double sigma, double n) { return kSigmas * sigma / std::sqrt(n); }
double std_tolerance(double sigma, double n) { return kSigmas * sigma / std::sqrt(2.0 * (n - 1.0)); }

struct Stat {
    double std = 0, mean = 0, n = 0, min = 0, max = 0;
};
Stat stat_of(const torch::Tensor& t) {
    auto d = t.to(torch::kFloat64);
    return {d.std().item<double>(), d.mean().item<double>(), static_cast<double>(d.numel()), d.min().item<double>(),
            d.max().item<double>()};
}

// Checks one tensor's statistics against the formula; names the tensor on failure.
void check_tensor(const std::string& name, const Stat& s, const T5Config& c, double factor, const char* who) {
    bool fill = false;
    const double sigma = expected_std(name, c, factor, &fill);
    const QByteArray tag = QByteArray(who) + " " + QByteArray::fromStdString(name);
    QVERIFY2(sigma > 0, tag + ": not a T5 parameter");
    if (fill) {
        QVERIFY2(s.min == factor && s.max == factor,
                 tag + ": not filled with " + QByteArray::number(factor) + " (min " + QByteArray::number(s.min) + ", max " +
                     QByteArray::number(s.max) + ")");
        return;
    }
    QVERIFY2(std::abs(s.mean) <= mean_tolerance(sigma, s.n),
             tag + ": mean " + QByteArray::number(s.mean) + " beyond " + QByteArray::number(mean_tolerance(sigma, s.n)));
    QVERIFY2(std::abs(s.std - sigma) <= std_tolerance(sigma, s.n),
             tag + ": std " + QByteArray::number(s.std, 'g', 8) + ", formula " + QByteArray::number(sigma, 'g', 8) + " +- " +
                 QByteArray::number(std_tolerance(sigma, s.n)));
}

std::string write_config(const QTemporaryDir& tmp, const nlohmann::json& j, const char* name = "config.json") {
    std::string path = (tmp.path() + "/" + name).toStdString();
    write_atomically(path, j.dump(2));
    return path;
}

std::string golden_tokenizer_dir() { return shared_path("golden/t5/tiny-flan"); }

// The facts T5Tokenizer reports for tiny-flan's spiece.model (2000 pieces + 100 extra ids; README of the goldens),
// so these cases need no SentencePiece.
TokenizerFacts golden_tokenizer_facts() { return {golden_tokenizer_dir() + "/spiece.model", 2100, 0, 1}; }

int64_t expected_parameters(const T5Config& c) {
    const int64_t d = c.d_model, inner = c.inner_dim(), ff = (c.is_gated() ? 3 : 2) * d * c.d_ff;
    const int64_t attention = 4 * d * inner, bias = c.relative_attention_num_buckets * c.num_heads;
    return c.vocab_size * d * (c.tie_word_embeddings ? 1 : 2) + c.num_layers * (attention + ff + 2 * d) +
           c.num_decoder_layers * (2 * attention + ff + 3 * d) + 2 * bias + 2 * d;
}

}  // namespace

void TestT5Init::stds_match_formula_data() {
    QTest::addColumn<QString>("shape");
    QTest::newRow("gated-gelu untied") << "gated-untied";
    QTest::newRow("relu tied, factor 0.5") << "relu-tied";
}

void TestT5Init::stds_match_formula() {
    QFETCH(QString, shape);
    const nlohmann::json j = config_named(shape);
    const T5Config c = T5Config::from_json(j, "test");
    const double factor = read_initializer_factor(j, "test");
    T5ForConditionalGeneration model(c);
    init_t5_weights(*model, 1234, factor);
    int normals = 0, fills = 0;
    for (const auto& p : model->named_parameters(true)) {
        bool fill = false;
        expected_std(p.key(), c, factor, &fill);
        (fill ? fills : normals)++;
        check_tensor(p.key(), stat_of(p.value()), c, factor, "SumLab");
    }
    // Every parameter is one _init_weights sets: layer norms 2 per encoder block, 3 per decoder block, 2 final;
    // normals: shared (+ lm_head), 4 per attention, 2 or 3 per feed-forward, 2 relative biases.
    const int64_t ff = c.is_gated() ? 3 : 2;
    QCOMPARE(int64_t{fills}, 2 * c.num_layers + 3 * c.num_decoder_layers + 2);
    QCOMPARE(int64_t{normals}, (c.tie_word_embeddings ? 1 : 2) + c.num_layers * (4 + ff) + c.num_decoder_layers * (8 + ff) + 2);
    QCOMPARE(model->named_parameters(true).contains("lm_head.weight"), !c.tie_word_embeddings);
}

void TestT5Init::same_seed_same_weights() {
    const T5Config c = T5Config::from_json(gated_untied_config(), "test");
    T5ForConditionalGeneration a(c), b(c), other(c);
    init_t5_weights(*a, 7);
    init_t5_weights(*b, 7);
    init_t5_weights(*other, 8);
    auto pb = b->named_parameters(true), po = other->named_parameters(true);
    for (const auto& p : a->named_parameters(true)) {
        QVERIFY2(torch::equal(p.value(), pb[p.key()]), p.key().c_str());
        if (!ends_with(p.key(), "layer_norm.weight")) QVERIFY2(!torch::equal(p.value(), po[p.key()]), p.key().c_str());
    }
}

void TestT5Init::staged_folder_leaves_nothing_on_failure() {
    QTemporaryDir tmp;
    const std::string final_dir = (tmp.path() + "/out").toStdString();
    {
        StagedFolder out(final_dir);
        write_atomically(join_path(out.path(), "model.safetensors"), "half");
        QVERIFY(!is_directory(final_dir));  // nothing visible under the final name before commit()
    }  // a failure: destroyed without commit()
    QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{});
    {
        StagedFolder out(final_dir);
        write_atomically(join_path(out.path(), "config.json"), "{}");
        out.commit();
        QCOMPARE(out.path(), final_dir);
    }
    QCOMPARE(read_file(final_dir + "/config.json"), std::string("{}"));
    QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{"out"});
}

void TestT5Init::rules_reject_unknown_names() {
    const T5Config c = T5Config::from_json(gated_untied_config(), "test");
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, t5_init_rule("encoder.block.0.layer.0.SelfAttention.q.bias", c));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, t5_init_rule("encoder.block.0.layer.0.SelfAttention.q.lora_A.weight", c));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, t5_init_rule("decoder.block.1.layer.1.EncDecAttention.relative_attention_bias.weight", c));
}

void TestT5Init::initializer_factor_is_checked() {
    QCOMPARE(read_initializer_factor(nlohmann::json::object(), "c.json"), 1.0);
    QCOMPARE(read_initializer_factor({{"initializer_factor", 0.25}}, "c.json"), 0.25);
    for (const nlohmann::json& bad : {nlohmann::json(0.0), nlohmann::json(-1.0), nlohmann::json("1")}) {
        try {
            read_initializer_factor({{"initializer_factor", bad}}, "c.json");
            QFAIL(("accepted initializer_factor " + bad.dump()).c_str());
        } catch (const ConfigError& e) {
            QCOMPARE(e.key(), std::string("initializer_factor"));
            QVERIFY2(std::string(e.what()).find("c.json") != std::string::npos, e.what());
        }
    }
}

void TestT5Init::writes_a_loadable_folder_data() { stds_match_formula_data(); }

void TestT5Init::writes_a_loadable_folder() {
    QFETCH(QString, shape);
    SUMLAB_REQUIRE_SHARED(golden_tokenizer_dir() + "/spiece.model");
    QTemporaryDir tmp;
    const nlohmann::json given = config_named(shape);
    T5InitSpec spec;
    spec.config_path = write_config(tmp, given);
    spec.tokenizer_dir = golden_tokenizer_dir();
    spec.tokenizer = golden_tokenizer_facts();
    spec.output_dir = (tmp.path() + "/models/new").toStdString();  // parents are created
    spec.seed = 99;
    const T5InitResult r = create_initialized_model(spec);
    QCOMPARE(r.parameters, expected_parameters(r.config));

    // Nothing but the finished folder is left beside it.
    QCOMPARE(QDir(tmp.path() + "/models").entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{"new"});
    const std::string dir = spec.output_dir;
    for (const char* f : {"spiece.model", "tokenizer_config.json", "special_tokens_map.json"})
        QVERIFY2(read_file(join_path(dir, f)) == read_file(join_path(golden_tokenizer_dir(), f)), f);

    // config.json: the given keys as given, HF's defaults written out, fp32.
    const nlohmann::json written = nlohmann::json::parse(read_file(join_path(dir, "config.json")));
    for (const auto& [key, value] : given.items()) QCOMPARE(written.at(key).dump(), value.dump());
    QCOMPARE(written.at("torch_dtype").get<std::string>(), std::string("float32"));
    QCOMPARE(written.at("model_type").get<std::string>(), std::string("t5"));
    QCOMPARE(written.value("initializer_factor", 0.0), read_initializer_factor(given, "given"));
    const nlohmann::json gen = nlohmann::json::parse(read_file(join_path(dir, "generation_config.json")));
    QCOMPARE(gen.at("decoder_start_token_id").get<int64_t>(), int64_t{0});
    QCOMPARE(gen.at("eos_token_id").get<int64_t>(), int64_t{1});
    QCOMPARE(gen.at("pad_token_id").get<int64_t>(), int64_t{0});

    // The file holds F32 tensors with the init's statistics, and the same weights as an init with that seed.
    SafetensorsFile file(join_path(dir, "model.safetensors"));
    T5ForConditionalGeneration again(r.config);
    init_t5_weights(*again, spec.seed, r.initializer_factor);
    auto params = again->named_parameters(true);
    QCOMPARE(file.entries().size(), params.size());
    for (const auto& e : file.entries()) {
        QCOMPARE(e.dtype, std::string("F32"));
        QVERIFY2(params.contains(e.name), e.name.c_str());
        const torch::Tensor t = file.load(e.name);
        QVERIFY2(torch::equal(t, params[e.name]), e.name.c_str());
        check_tensor(e.name, stat_of(t), r.config, r.initializer_factor, "file");
    }

    // SumLab's loader takes it and the model runs.
    LoadedModel m = load_model(dir);
    QCOMPARE(m.config.tie_word_embeddings, given.at("tie_word_embeddings").get<bool>());
    torch::NoGradGuard no_grad;
    auto ids = torch::tensor({{5, 17, 300, 1}}, torch::kLong);
    auto out = m.model->forward(ids, torch::ones_like(ids), {}, torch::tensor({{0, 5, 17}}, torch::kLong));
    QCOMPARE(out.logits.sizes().vec(), (std::vector<int64_t>{1, 3, r.config.vocab_size}));
    QVERIFY(torch::isfinite(out.logits).all().item<bool>());
    QVERIFY(out.logits.std().item<double>() > 0);
}

void TestT5Init::refuses_occupied_output() {
    SUMLAB_REQUIRE_SHARED(golden_tokenizer_dir() + "/spiece.model");
    QTemporaryDir tmp;
    T5InitSpec spec;
    spec.config_path = write_config(tmp, gated_untied_config());
    spec.tokenizer_dir = golden_tokenizer_dir();
    spec.tokenizer = golden_tokenizer_facts();
    spec.output_dir = (tmp.path() + "/taken").toStdString();
    QVERIFY(QDir(tmp.path()).mkdir("taken"));
    write_atomically(spec.output_dir + "/notes.txt", "mine");
    try {
        create_initialized_model(spec);
        QFAIL("overwrote a non-empty folder");
    } catch (const FileError& e) {
        QCOMPARE(e.path(), spec.output_dir);
        QVERIFY2(std::string(e.what()).find("not empty") != std::string::npos, e.what());
    }
    QCOMPARE(read_file(spec.output_dir + "/notes.txt"), std::string("mine"));
    QCOMPARE(QDir(spec.output_dir.c_str()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), QStringList{"notes.txt"});
    QCOMPARE(QDir(tmp.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot), (QStringList{"config.json", "taken"}));

    // An empty folder is taken over.
    spec.output_dir = (tmp.path() + "/empty").toStdString();
    QVERIFY(QDir(tmp.path()).mkdir("empty"));
    create_initialized_model(spec);
    QVERIFY(is_file(spec.output_dir + "/model.safetensors"));
}

void TestT5Init::config_must_fit_tokenizer() {
    SUMLAB_REQUIRE_SHARED(golden_tokenizer_dir() + "/spiece.model");
    QTemporaryDir tmp;
    struct Case {
        const char* key;
        nlohmann::json value;
    };
    for (const Case& bad : {Case{"vocab_size", 2099}, Case{"pad_token_id", 3}, Case{"eos_token_id", 2}}) {
        nlohmann::json j = gated_untied_config();
        j[bad.key] = bad.value;
        T5InitSpec spec;
        spec.config_path = write_config(tmp, j);
        spec.tokenizer_dir = golden_tokenizer_dir();
        spec.tokenizer = golden_tokenizer_facts();
        spec.output_dir = (tmp.path() + "/out").toStdString();
        try {
            create_initialized_model(spec);
            QFAIL(qPrintable(QString("accepted %1 = %2").arg(bad.key, QString::fromStdString(bad.value.dump()))));
        } catch (const ConfigError& e) {
            QCOMPARE(e.path(), spec.config_path);
            QCOMPARE(e.key(), std::string(bad.key));
        }
        QVERIFY(!is_directory(spec.output_dir));
    }
}

void TestT5Init::transformers_loads_folder_data() { stds_match_formula_data(); }

void TestT5Init::transformers_loads_folder() {
    QFETCH(QString, shape);
    SUMLAB_REQUIRE_SHARED(golden_tokenizer_dir() + "/spiece.model");
    if (QString why = reference_python_unavailable(); !why.isEmpty()) QSKIP(qPrintable(why));
    QTemporaryDir tmp;
    T5InitSpec spec;
    spec.config_path = write_config(tmp, config_named(shape));
    spec.tokenizer_dir = golden_tokenizer_dir();
    spec.tokenizer = golden_tokenizer_facts();
    spec.output_dir = (tmp.path() + "/model").toStdString();
    const T5InitResult r = create_initialized_model(spec);

    const std::vector<std::vector<int64_t>> input = {{5, 17, 300, 1999, 1}}, decoder_input = {{0, 5, 17, 300}};
    auto py = run_reference_python(SUMLAB_SOURCE_DIR "/tests/models/check_t5_init.py",
                                   {QString::fromStdString(spec.output_dir), QString::fromStdString(nlohmann::json(input).dump()),
                                    QString::fromStdString(nlohmann::json(decoder_input).dump())});
    QVERIFY2(py.exit_code == 0, py.err.right(3000).constData());
    const nlohmann::json got = nlohmann::json::parse(py.out.toStdString());
    for (const char* k : {"missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"})
        QVERIFY2(got["loading_info"][k].empty(), (std::string(k) + ": " + got["loading_info"][k].dump()).c_str());
    QVERIFY2(got["file_vs_loaded"].empty(), got["file_vs_loaded"].dump().c_str());
    QVERIFY2(got["missing_in_file"].empty(), got["missing_in_file"].dump().c_str());

    // HF's own initialisation of this config has the statistics the test's formula gives (so the formula
    // SumLab was checked against above is HF's), under the same tolerances.
    int checked = 0;
    for (const auto& [name, s] : got["hf_init"].items()) {
        if (name == "encoder.embed_tokens.weight" || name == "decoder.embed_tokens.weight" ||
            (r.config.tie_word_embeddings && name == "lm_head.weight"))
            continue;  // aliases of shared.weight
        check_tensor(name, {s[0].get<double>(), s[1].get<double>(), s[2].get<double>(), s[3].get<double>(), s[4].get<double>()},
                     r.config, r.initializer_factor, "transformers");
        ++checked;
    }
    QCOMPARE(int64_t{checked}, static_cast<int64_t>(load_model(spec.output_dir).model->named_parameters(true).size()));

    // The same model: SumLab's logits equal transformers' up to fp32 rounding. Logits here are O(10), each the end
    // of ~10 layers of dot products a hundred terms long: with fp32's 6e-8 unit roundoff that is ~1e-5 at most
    // (8e-6 observed for the gated shape); 1e-4 leaves a factor 10, while any real difference is O(1).
    LoadedModel m = load_model(spec.output_dir);
    torch::NoGradGuard no_grad;
    auto ids = torch::tensor(input[0], torch::kLong).unsqueeze(0);
    auto logits = m.model->forward(ids, torch::ones_like(ids), {}, torch::tensor(decoder_input[0], torch::kLong).unsqueeze(0)).logits[0];
    const auto hf = got["logits"].get<std::vector<std::vector<double>>>();
    QCOMPARE(static_cast<int64_t>(hf.size()), logits.size(0));
    double max_diff = 0;
    for (size_t t = 0; t < hf.size(); ++t) {
        QCOMPARE(static_cast<int64_t>(hf[t].size()), logits.size(1));
        auto row = torch::tensor(hf[t], torch::kFloat64);
        max_diff = std::max(max_diff, (row - logits[t].to(torch::kFloat64)).abs().max().item<double>());
    }
    QVERIFY2(max_diff <= 1e-4, qPrintable(QString("max |logit difference| %1").arg(max_diff)));
}

QTEST_GUILESS_MAIN(TestT5Init)
#include "tst_t5_init.moc"
