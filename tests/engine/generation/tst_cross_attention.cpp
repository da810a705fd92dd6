// compute_cross_attention on the tiny golden models: every summary token's weights sum to 1 over the source (per
// head, per layer, and averaged); they equal a hand computation from the model's own weights (q of the layer-normed
// decoder state, k of the encoder output, the padding bias, softmax) and transformers 4.28's output_attentions
// (when the reference stack is installed); the source tokens are HF's; words and turns follow the dialogue; the
// per-word shares add up to the token weights; and a flagged word's origin follows kMeaningfulShare.
#include "tests/common/golden_torch.h"
#include "tests/common/reference_python.h"
#include "tests/common/sanitizer.h"

#include "base/errors.h"
#include "engine/generation/cross_attention.h"
#include "engine/generation/system.h"
#include "models/t5/t5_model.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace sumlab;
using namespace sumlab::test;

namespace {

struct GoldenCase {
    std::string model_dir, adapter_dir;
    std::string source, summary;
};

// Row `row` of the golden sources (the lab's prompt around a DialogSum dialogue) with its human summary, which
// stands in for a generated one: teacher forcing takes any text.
GoldenCase golden_case(const QString& model, const QString& adapter, int row) {
    GoldenCase c;
    c.model_dir = shared_path("golden/t5/" + model.toStdString());
    if (!adapter.isEmpty()) c.adapter_dir = shared_path("golden/t5/" + adapter.toStdString());
    const auto tok = load_json(c.model_dir + ".goldens/tokenizer.json");
    c.source = tok["sources"][row]["text"].get<std::string>();
    c.summary = tok["labels"][row]["decode_skip_special"].get<std::string>();
    return c;
}

void add_model_rows() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("adapter");
    QTest::addColumn<int>("row");
    QTest::newRow("tiny-flan/row3") << "tiny-flan" << "" << 3;
    // 537 tokens: truncated to 511 + </s>.
    QTest::newRow("tiny-flan/row5-truncated") << "tiny-flan" << "" << 5;
    QTest::newRow("tiny-t5v1/row3") << "tiny-t5v1" << "" << 3;
    QTest::newRow("tiny-flan-lora/row4") << "tiny-flan" << "tiny-flan-lora-r4" << 4;
}

// A CrossAttention written by hand: 1 layer, 1 head, the given rows over the given source.
CrossAttention hand_made(const std::string& source, const std::string& summary, const std::vector<std::vector<float>>& rows) {
    CrossAttention a;
    a.source = source;
    a.summary = summary;
    SourceLayout layout = segment_source(source);
    a.words = layout.words;
    a.turns = layout.turns;
    for (size_t w = 0; w < a.words.size(); ++w) {
        a.source_pieces.push_back({"w", 5, a.words[w].begin, a.words[w].end, static_cast<int64_t>(w)});
        a.words[w].first_piece = static_cast<int64_t>(w);
        a.words[w].piece_count = 1;
    }
    a.source_pieces.push_back({"</s>", 1, source.size(), source.size(), -1});
    // One summary piece per space-separated word of the summary, then </s>.
    SourceLayout sum = segment_source(summary);
    for (const AttentionWord& w : sum.words) a.summary_pieces.push_back({"p", 5, w.begin, w.end, -1});
    a.summary_pieces.push_back({"</s>", 1, summary.size(), summary.size(), -1});
    a.num_layers = a.num_heads = 1;
    for (const auto& r : rows) a.layer_weights.insert(a.layer_weights.end(), r.begin(), r.end());
    a.head_weights = a.layer_weights;
    return a;
}

// The first place two token lists differ, for a failure message.
QString first_difference(const std::vector<std::string>& got, const std::vector<std::string>& want) {
    for (size_t i = 0; i < std::max(got.size(), want.size()); ++i)
        if (i >= got.size() || i >= want.size() || got[i] != want[i])
            return QString("token %1 of %2/%3: \"%4\" vs \"%5\"")
                .arg(i)
                .arg(got.size())
                .arg(want.size())
                .arg(QString::fromStdString(i < got.size() ? got[i] : "-"), QString::fromStdString(i < want.size() ? want[i] : "-"));
    return {};
}

}  // namespace

class TestCrossAttention : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { torch::manual_seed(0); }
    void weights_sum_to_one_data() { add_model_rows(); }
    void weights_sum_to_one();
    void matches_hand_computation_data() { add_model_rows(); }
    void matches_hand_computation();
    void matches_transformers_data() { add_model_rows(); }
    void matches_transformers();
    void source_tokens_are_the_tokenizers();
    void word_shares_add_up_to_token_weights();
    void words_and_turns_follow_the_dialogue();
    void align_survives_normalisation();
    void origin_of_flagged_words();
    void leaves_other_paths_alone();
};

// Tolerance 1e-5: each weight is one fp32 softmax output, exp(x - max) / Σ exp, whose relative error is a few ulps
// (6e-8 each) plus the error of the sum, which torch reduces in vectorised, cascaded blocks (~log2(S) ulps, S <= 512:
// ~6e-7); the mean over heads adds one rounding. So a row sums to 1 within ~1e-6 (5.4e-7 observed over 512 tokens);
// we add the row up in double, and allow 1e-5. A softmax over the wrong axis or a missing one is off by O(1).
void TestCrossAttention::weights_sum_to_one() {
    QFETCH(QString, model);
    QFETCH(QString, adapter);
    QFETCH(int, row);
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/" + model.toStdString() + ".goldens/tokenizer.json"));
    SUMLAB_REQUIRE_SENTENCEPIECE();
    const GoldenCase c = golden_case(model, adapter, row);
    LoadedSystem system = load_system({c.model_dir, c.adapter_dir});
    const CrossAttention a = compute_cross_attention(*system.model.model, system.tokenizer, c.source, c.summary);
    QCOMPARE(a.num_layers, system.model.config.num_decoder_layers);
    QCOMPARE(a.num_heads, system.model.config.num_heads);
    QVERIFY(a.has_heads());
    QCOMPARE(a.layer_weights.size(), static_cast<size_t>(a.num_layers) * a.summary_len() * a.source_len());
    QCOMPARE(a.head_weights.size(), static_cast<size_t>(a.num_layers * a.num_heads) * a.summary_len() * a.source_len());
    double worst = 0;
    for (size_t t = 0; t < a.summary_len(); ++t) {
        std::vector<std::pair<int64_t, int64_t>> views{{-1, -1}};
        for (int64_t l = 0; l < a.num_layers; ++l) {
            views.push_back({l, -1});
            for (int64_t h = 0; h < a.num_heads; ++h) views.push_back({l, h});
        }
        for (int64_t h = 0; h < a.num_heads; ++h) views.push_back({-1, h});
        for (auto [l, h] : views) {
            const std::vector<double> w = a.token_weights(t, l, h);
            QCOMPARE(w.size(), a.source_len());
            double sum = 0;
            for (double x : w) {
                QVERIFY2(x >= 0 && x <= 1, qPrintable(QString("token %1 layer %2 head %3: weight %4").arg(t).arg(l).arg(h).arg(x)));
                sum += x;
            }
            worst = std::max(worst, std::abs(sum - 1));
            QVERIFY2(std::abs(sum - 1) <= 1e-5, qPrintable(QString("token %1 layer %2 head %3 sums to %4").arg(t).arg(l).arg(h).arg(repr(sum))));
        }
    }
    qInfo("largest |sum - 1|: %.3g over %zu summary tokens x %zu source tokens", worst, a.summary_len(), a.source_len());
}

// The probabilities recomputed here from the model's own modules: the decoder state entering each block's
// cross-attention (through the model's self-attention), then softmax(q kᵀ + mask) in float64 with q = the layer-
// normed state times the block's q, k = the encoder output times its k, and no 1/sqrt(d_kv) (T5). 2e-6: the fp32
// and float64 softmaxes of the same scores differ by the fp32 rounding of weights <= 1, ~10 ulps (6e-8 each) at
// most: 5.3e-7 observed over 512 source tokens. A wrong layer, head order or mask is off by 1e-2 and more.
void TestCrossAttention::matches_hand_computation() {
    QFETCH(QString, model);
    QFETCH(QString, adapter);
    QFETCH(int, row);
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/" + model.toStdString() + ".goldens/tokenizer.json"));
    SUMLAB_REQUIRE_SENTENCEPIECE();
    const GoldenCase c = golden_case(model, adapter, row);
    LoadedSystem system = load_system({c.model_dir, c.adapter_dir});
    T5ForConditionalGenerationImpl& m = *system.model.model;
    const CrossAttention a = compute_cross_attention(m, system.tokenizer, c.source, c.summary);

    torch::NoGradGuard no_grad;
    auto ids = torch::tensor(system.tokenizer.encode(c.source, true, 512), torch::kLong).unsqueeze(0);
    auto labels = torch::tensor(system.tokenizer.encode(c.summary, true), torch::kLong).unsqueeze(0);
    QCOMPARE(static_cast<size_t>(ids.size(1)), a.source_len());
    QCOMPARE(static_cast<size_t>(labels.size(1)), a.summary_len());
    auto mask = torch::ones_like(ids);
    auto encoder_out = m.encode(ids, mask);
    auto encoder_bias = T5StackImpl::mask_to_bias(mask, torch::kFloat32);
    const int64_t T = labels.size(1), S = ids.size(1), H = m.config().num_heads, d_kv = m.config().d_kv;
    auto hidden = m.shared->forward(m.shift_right(labels));
    auto& first = m.decoder->block->at<T5BlockImpl>(0);
    auto self_bias = first.self_attention->attention->compute_bias(T, T) +
                     torch::full({T, T}, T5StackImpl::lowest(torch::kFloat32)).triu(1).view({1, 1, T, T});
    const size_t L = m.decoder->block->size();
    double worst = 0;
    for (size_t l = 0; l < L; ++l) {
        auto& block = m.decoder->block->at<T5BlockImpl>(l);
        hidden = block.self_attention->forward(hidden, {}, self_bias, nullptr);
        T5AttentionImpl& att = *block.cross_attention->attention;
        auto q = att.q->forward(block.cross_attention->layer_norm->forward(hidden)).view({1, T, H, d_kv}).transpose(1, 2);
        auto k = att.k->forward(encoder_out).view({1, S, H, d_kv}).transpose(1, 2);
        auto scores = torch::matmul(q, k.transpose(-1, -2)) + encoder_bias;
        auto want = torch::softmax(scores.to(torch::kFloat64), -1)[0];  // (H, T, S)
        auto want_mean = want.mean(0);                                  // (T, S)
        for (int64_t t = 0; t < T; ++t) {
            const std::vector<double> got = a.token_weights(static_cast<size_t>(t), static_cast<int64_t>(l));
            auto got_t = torch::tensor(got, torch::kFloat64);
            worst = std::max(worst, (got_t - want_mean[t]).abs().max().item<double>());
            for (int64_t h = 0; h < H; ++h)
                worst = std::max(worst, (torch::tensor(a.token_weights(static_cast<size_t>(t), static_cast<int64_t>(l), h), torch::kFloat64) -
                                         want[h][t]).abs().max().item<double>());
        }
        hidden = block.cross_attention->forward(hidden, encoder_out, encoder_bias, nullptr);
        hidden = block.feed_forward->forward(hidden);
    }
    qInfo("largest difference from the hand computation: %.3g", worst);
    QVERIFY2(worst <= 2e-6, qPrintable(QString("max |difference| %1").arg(repr(worst))));
}

// transformers 4.28: model(..., output_attentions=True).cross_attentions, eval mode, its own tokenizer. 1e-5: the
// two stacks do the same fp32 operations in other orders (logits of the same models agree to 1e-4 at magnitudes of
// ~10, tst_t5_model); the weights are <= 1 and agree within 4.2e-7 here.
void TestCrossAttention::matches_transformers() {
    QFETCH(QString, model);
    QFETCH(QString, adapter);
    QFETCH(int, row);
    if (!adapter.isEmpty()) QSKIP("the reference script loads plain model folders (the adapter is covered by the hand computation)");
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/" + model.toStdString() + ".goldens/tokenizer.json"));
    SUMLAB_REQUIRE_SENTENCEPIECE();
    if (QString why = reference_python_unavailable(); !why.isEmpty()) QSKIP(qPrintable(why));
    const GoldenCase c = golden_case(model, adapter, row);
    LoadedSystem system = load_system({c.model_dir, ""});
    const CrossAttention a = compute_cross_attention(*system.model.model, system.tokenizer, c.source, c.summary);

    QTemporaryDir tmp;
    const std::string request = tmp.filePath("request.json").toStdString();
    std::ofstream(request) << nlohmann::json{{"source", c.source}, {"summary", c.summary}, {"max_source_length", 512}}.dump();
    auto py = run_reference_python(SUMLAB_SOURCE_DIR "/tests/engine/generation/check_cross_attention.py",
                                   {QString::fromStdString(c.model_dir), QString::fromStdString(request)});
    QVERIFY2(py.exit_code == 0, py.err.right(3000).constData());
    const nlohmann::json hf = nlohmann::json::parse(py.out.toStdString());
    std::vector<int64_t> ids, summary_ids;
    std::vector<std::string> pieces;
    for (const AttentionPiece& p : a.source_pieces) {
        ids.push_back(p.id);
        pieces.push_back(p.piece);
    }
    for (const AttentionPiece& p : a.summary_pieces) summary_ids.push_back(p.id);
    QCOMPARE(ids, hf["input_ids"].get<std::vector<int64_t>>());
    QVERIFY2(pieces == hf["pieces"].get<std::vector<std::string>>(), qPrintable(first_difference(pieces, hf["pieces"].get<std::vector<std::string>>())));
    QCOMPARE(summary_ids, hf["summary_ids"].get<std::vector<int64_t>>());
    const auto& layers = hf["cross_attentions"];
    QCOMPARE(static_cast<int64_t>(layers.size()), a.num_layers);
    double worst = 0;
    for (int64_t l = 0; l < a.num_layers; ++l) {
        QCOMPARE(static_cast<int64_t>(layers[l].size()), a.num_heads);
        for (size_t t = 0; t < a.summary_len(); ++t) {
            std::vector<double> mean(a.source_len(), 0.0);
            for (int64_t h = 0; h < a.num_heads; ++h) {
                const auto want = layers[l][h][t].get<std::vector<double>>();
                const std::vector<double> got = a.token_weights(t, l, h);
                QCOMPARE(want.size(), got.size());
                for (size_t s = 0; s < got.size(); ++s) {
                    worst = std::max(worst, std::abs(got[s] - want[s]));
                    mean[s] += want[s] / static_cast<double>(a.num_heads);
                }
            }
            const std::vector<double> got = a.token_weights(t, l);  // the mean over heads
            for (size_t s = 0; s < got.size(); ++s) worst = std::max(worst, std::abs(got[s] - mean[s]));
        }
    }
    qInfo("largest difference from transformers: %.3g", worst);
    QVERIFY2(worst <= 1e-5, qPrintable(QString("max |difference| %1").arg(repr(worst))));
}

// The source tokens are the golden tokenizer's (HF's pieces and ids, truncated to 511 + </s>), and each text piece
// spans its own characters in the prompt.
void TestCrossAttention::source_tokens_are_the_tokenizers() {
    const std::string dir = shared_path("golden/t5/tiny-flan");
    SUMLAB_REQUIRE_SHARED(dir + ".goldens/tokenizer.json");
    SUMLAB_REQUIRE_SENTENCEPIECE();
    const auto tok = load_json(dir + ".goldens/tokenizer.json");
    LoadedSystem system = load_system({dir, ""});
    for (int row : {3, 5}) {
        const auto& src = tok["sources"][row];
        const std::string text = src["text"].get<std::string>();
        const CrossAttention a = compute_cross_attention(*system.model.model, system.tokenizer, text, "A summary.");
        auto want_ids = src["input_ids_trunc512"].get<std::vector<int64_t>>();
        auto want_pieces = src["pieces"].get<std::vector<std::string>>();
        if (want_pieces.size() > want_ids.size()) {  // pieces are of the untruncated ids: keep 511, then </s>
            want_pieces.resize(want_ids.size() - 1);
            want_pieces.push_back("</s>");
        }
        std::vector<int64_t> ids;
        std::vector<std::string> pieces;
        for (const AttentionPiece& p : a.source_pieces) {
            ids.push_back(p.id);
            pieces.push_back(p.piece);
        }
        QCOMPARE(ids, want_ids);
        QVERIFY2(pieces == want_pieces, qPrintable(first_difference(pieces, want_pieces)));
        const AttentionPiece& last = a.source_pieces.back();
        QCOMPARE(last.piece, std::string("</s>"));
        QCOMPARE(last.word, int64_t{-1});  // the appended </s> is no word of the dialogue
        QCOMPARE(last.begin, text.size());
        for (size_t s = 0; s + 1 < a.source_len(); ++s) {
            const AttentionPiece& p = a.source_pieces[s];
            std::string surface = p.piece;
            if (surface.rfind("\xE2\x96\x81", 0) == 0) surface = surface.substr(3);
            QCOMPARE(text.substr(p.begin, p.end - p.begin), surface);
            QVERIFY(p.word >= 0);
            const AttentionWord& w = a.words[static_cast<size_t>(p.word)];
            QVERIFY2(p.begin >= w.begin && p.end <= w.end, qPrintable(QString::fromStdString(p.piece)));
        }
        // Truncation: the words after the 511th piece are none of the model's (no pieces).
        int64_t cut = 0;
        for (const AttentionWord& w : a.words) cut += w.first_piece < 0;
        QCOMPARE(cut > 0, row == 5);
        QCOMPARE(a.summary_pieces.back().piece, std::string("</s>"));
    }
}

// Each word's share is the sum of its pieces' weights (counted here through first_piece / piece_count, the other
// way round from word_shares' piece -> word), and the words plus the final </s> hold the token's whole mass.
void TestCrossAttention::word_shares_add_up_to_token_weights() {
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/tiny-flan.goldens/tokenizer.json"));
    SUMLAB_REQUIRE_SENTENCEPIECE();
    const GoldenCase c = golden_case("tiny-flan", "", 3);
    LoadedSystem system = load_system({c.model_dir, ""});
    const CrossAttention a = compute_cross_attention(*system.model.model, system.tokenizer, c.source, c.summary);
    for (size_t t = 0; t < a.summary_len(); ++t) {
        for (int64_t l = -1; l < a.num_layers; ++l) {
            const std::vector<double> w = a.token_weights(t, l);
            const WordShares shares = word_shares(a, w);
            QCOMPARE(shares.words.size(), a.words.size());
            double total = shares.end_of_source, tokens = 0;
            for (double x : w) tokens += x;
            for (size_t i = 0; i < a.words.size(); ++i) {
                const AttentionWord& word = a.words[i];
                double sum = 0;
                for (int64_t p = word.first_piece; p >= 0 && p < word.first_piece + word.piece_count; ++p) sum += w[static_cast<size_t>(p)];
                QVERIFY2(std::abs(shares.words[i] - sum) <= 1e-12, qPrintable(QString("word %1").arg(i)));
                total += shares.words[i];
            }
            QVERIFY2(std::abs(shares.end_of_source - w.back()) <= 1e-12, "end of source is the final </s>");
            QVERIFY2(std::abs(total - tokens) <= 1e-12, qPrintable(QString("token %1: %2 vs %3").arg(t).arg(repr(total), repr(tokens))));
        }
    }
}

void TestCrossAttention::words_and_turns_follow_the_dialogue() {
    const std::string text = "Summarize the following conversation.\n\n#Person1#: Hello,  Mr. Smith!\n#Person2#: Hi.\n"
                             "  It is 5 o'clock.\n#Person10#: Bye\n\nSummary: ";
    const SourceLayout layout = segment_source(text);
    std::vector<std::string> words;
    for (const AttentionWord& w : layout.words) words.push_back(text.substr(w.begin, w.end - w.begin));
    QCOMPARE(words, (std::vector<std::string>{"Summarize", "the", "following", "conversation.", "#Person1#:", "Hello,", "Mr.", "Smith!",
                                              "#Person2#:", "Hi.", "It", "is", "5", "o'clock.", "#Person10#:", "Bye", "Summary:"}));
    std::vector<std::string> speakers;
    std::vector<int64_t> counts;
    for (const AttentionTurn& t : layout.turns) {
        speakers.push_back(t.speaker);
        counts.push_back(t.word_count);
    }
    // A line without a tag right after a turn continues it; after a blank line it is the prompt's own text.
    QCOMPARE(speakers, (std::vector<std::string>{"", "#Person1#", "#Person2#", "#Person10#", ""}));
    QCOMPARE(counts, (std::vector<int64_t>{4, 4, 6, 2, 1}));
    int64_t next = 0;
    for (size_t i = 0; i < layout.turns.size(); ++i) {
        QCOMPARE(layout.turns[i].first_word, next);
        for (int64_t w = next; w < next + layout.turns[i].word_count; ++w) QCOMPARE(layout.words[static_cast<size_t>(w)].turn, static_cast<int64_t>(i));
        next += layout.turns[i].word_count;
    }
    QCOMPARE(text.substr(layout.turns[2].begin, layout.turns[2].end - layout.turns[2].begin), std::string("#Person2#: Hi.\n  It is 5 o'clock."));
    QVERIFY(segment_source("").words.empty());
    QCOMPARE(segment_source("#Person1x#: no tag").turns.front().speaker, std::string());
}

void TestCrossAttention::align_survives_normalisation() {
    // NFKC turned "…" into "...", and "ﬁ" into "fi": those pieces get the text between their neighbours.
    const std::string text = "Wait\xE2\x80\xA6 the \xEF\xAC\x81le is here";
    const auto spans = align_pieces(text, {"\xE2\x96\x81Wait", "...", "\xE2\x96\x81the", "\xE2\x96\x81", "fi", "le", "\xE2\x96\x81is",
                                           "\xE2\x96\x81here"});
    auto at = [&](size_t i) { return text.substr(spans[i].first, spans[i].second - spans[i].first); };
    QCOMPARE(at(0), std::string("Wait"));
    QCOMPARE(at(1), std::string("\xE2\x80\xA6"));
    QCOMPARE(at(2), std::string("the"));
    QCOMPARE(spans[3].first, spans[3].second);  // a lone ▁: empty, at the next character
    QCOMPARE(spans[3].first, text.find("\xEF\xAC\x81"));
    QCOMPARE(at(4), std::string("\xEF\xAC\x81"));
    QCOMPARE(at(5), std::string("le"));
    QCOMPARE(at(7), std::string("here"));
    // A piece never found (at the end) takes what is left.
    const auto tail = align_pieces("ab \xC2\xBD", {"\xE2\x96\x81" "ab", "\xE2\x96\x81" "1/2"});
    QCOMPARE(tail[1].first, size_t{3});
    QCOMPARE(tail[1].second, size_t{5});
}

// attention_origin averages the rows of the summary tokens that overlap the flagged bytes and names the top words;
// below kMeaningfulShare for every word it came from nowhere.
void TestCrossAttention::origin_of_flagged_words() {
    // Source words: "#Person1#:" "I" "am" "Tom." + </s>. Summary tokens: "Tom" "meets" "Zed" + </s>.
    const CrossAttention a = hand_made("#Person1#: I am Tom.", "Tom meets Zed",
                                       {{0.05f, 0.05f, 0.1f, 0.7f, 0.1f},
                                        {0.2f, 0.3f, 0.3f, 0.1f, 0.1f},
                                        {0.09f, 0.09f, 0.09f, 0.09f, 0.64f},
                                        {0.1f, 0.1f, 0.1f, 0.1f, 0.6f}});
    AttentionOrigin tom = attention_origin(a, 0, 3);
    QCOMPARE(tom.tokens, size_t{1});
    QVERIFY(!tom.from_nowhere);
    QCOMPARE(tom.words.front().first, int64_t{3});
    QVERIFY(std::abs(tom.words.front().second - 0.7) < 1e-6);
    QCOMPARE(tom.words.size(), size_t{3});
    QVERIFY(tom.words[1].second >= tom.words[2].second);
    // "Zed": 9% on every word, 64% on </s>: nowhere, whatever the sink holds.
    AttentionOrigin zed = attention_origin(a, 10, 13);
    QVERIFY(zed.from_nowhere);
    QVERIFY(std::abs(zed.end_of_source - 0.64) < 1e-6);
    // A range over two tokens averages them: "meets Zed" -> word "am" (0.3 + 0.09) / 2 = 0.195, the top one.
    AttentionOrigin both = attention_origin(a, 4, 13);
    QCOMPARE(both.tokens, size_t{2});
    QVERIFY(!both.from_nowhere);
    QVERIFY(std::abs(both.words.front().second - 0.195) < 1e-6);
    QCOMPARE(attention_origin(a, 100, 120).tokens, size_t{0});
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, a.token_weights(9));
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, a.token_weights(0, 1));
}

// The extra output leaves the model's own paths as they were: the decoder's states are bit for bit the same with
// and without it, and the model's training flag survives. A model in bfloat16 is refused.
void TestCrossAttention::leaves_other_paths_alone() {
    SUMLAB_REQUIRE_SHARED(shared_path("golden/t5/tiny-flan.goldens/tokenizer.json"));
    SUMLAB_REQUIRE_SENTENCEPIECE();
    const GoldenCase c = golden_case("tiny-flan", "", 3);
    LoadedSystem system = load_system({c.model_dir, ""});
    T5ForConditionalGenerationImpl& m = *system.model.model;
    torch::NoGradGuard no_grad;
    auto ids = torch::tensor(system.tokenizer.encode(c.source, true), torch::kLong).unsqueeze(0);
    auto dec = m.shift_right(torch::tensor(system.tokenizer.encode(c.summary, true), torch::kLong).unsqueeze(0));
    auto mask = torch::ones_like(ids);
    auto enc = m.encode(ids, mask);
    auto bias = T5StackImpl::mask_to_bias(mask, torch::kFloat32);
    std::vector<torch::Tensor> weights;
    auto with = m.decoder->decode(dec, enc, bias, &weights);
    auto without = m.decoder->decode(dec, enc, bias);
    QVERIFY(with.equal(without));
    QCOMPARE(weights.size(), m.decoder->block->size());
    QCOMPARE(weights[0].sizes().vec(), (std::vector<int64_t>{1, m.config().num_heads, dec.size(1), ids.size(1)}));
    m.train();
    compute_cross_attention(m, system.tokenizer, c.source, c.summary);
    QVERIFY(m.is_training());
    m.eval();
    m.to(torch::kBFloat16);
    QVERIFY_THROWS_EXCEPTION(ConfigError, compute_cross_attention(m, system.tokenizer, c.source, c.summary));
}

QTEST_GUILESS_MAIN(TestCrossAttention)
#include "tst_cross_attention.moc"
