// Which examples make up each batch (engine/training/sampler.h) and how the collator pads them
// (engine/text/batcher.h): the per-epoch shuffle, group_by_length's mega-batches, DistributedSampler
// shards, and make_batch's padding with pad ids and -100 labels.
#include "engine/training/sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <QtTest>

#include <set>

using namespace sumlab;

class TestSampler : public QObject {
    Q_OBJECT

private slots:
    void epoch_order_is_a_seeded_permutation();
    void group_by_length_sorts_within_mega_batches();
    void shards_are_distributed_sampler_s();
    void collator_pads_sources_and_labels();
};

namespace {

// n examples whose source i has length lengths[i] (targets of one token).
std::vector<TokenizedExample> examples_of(const std::vector<size_t>& lengths) {
    std::vector<TokenizedExample> out;
    for (size_t n : lengths) out.push_back({TokenIds(n, 5), TokenIds{1}});
    return out;
}

std::vector<size_t> flat(const std::vector<BatchIndices>& batches) {
    std::vector<size_t> out;
    for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
    return out;
}

}  // namespace

void TestSampler::epoch_order_is_a_seeded_permutation() {
    const auto examples = examples_of(std::vector<size_t>(10, 3));
    TrainingArguments args;
    args.per_device_train_batch_size = 4;
    const auto epoch0 = epoch_batches(examples, args, 0);
    QCOMPARE(epoch0.size(), size_t{3});  // 4 + 4 + 2, the last batch short (drop_last false)
    QCOMPARE(epoch0.back().size(), size_t{2});
    const auto order = flat(epoch0);
    QCOMPARE(std::set<size_t>(order.begin(), order.end()).size(), size_t{10});
    // randperm from a generator seeded with seed * 1000003 + epoch: the order a resumed run must repeat.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(uint64_t{42} * 1000003ULL + 1);
    auto perm = torch::randperm(10, gen, torch::kLong);
    const auto epoch1 = flat(epoch_batches(examples, args, 1));
    for (int64_t i = 0; i < 10; ++i) QCOMPARE(static_cast<int64_t>(epoch1[static_cast<size_t>(i)]), perm[i].item<int64_t>());
    QVERIFY(epoch1 != order);                                   // a new order each epoch
    QCOMPARE(flat(epoch_batches(examples, args, 0)), order);     // the same order again (a resume)
    args.seed = 43;
    QVERIFY(flat(epoch_batches(examples, args, 0)) != order);
}

void TestSampler::group_by_length_sorts_within_mega_batches() {
    // 120 examples, batch 1: mega-batches of 50 are [0, 50), [50, 100), [100, 120) of the shuffled order.
    std::vector<size_t> lengths;
    for (size_t i = 0; i < 120; ++i) lengths.push_back(1 + (i * 37) % 11);  // many ties
    const auto examples = examples_of(lengths);
    std::vector<size_t> order(120);
    for (size_t i = 0; i < order.size(); ++i) order[i] = (i * 7) % 120;  // a fixed "shuffle"
    const auto grouped = flat(batches_from_order(order, examples, 1, true));
    for (size_t start : {size_t{0}, size_t{50}, size_t{100}}) {
        const size_t end = std::min<size_t>(start + 50, 120);
        // The same examples as the block of the order (nothing crosses a mega-batch) ...
        QCOMPARE(std::multiset<size_t>(grouped.begin() + static_cast<std::ptrdiff_t>(start), grouped.begin() + static_cast<std::ptrdiff_t>(end)),
                 std::multiset<size_t>(order.begin() + static_cast<std::ptrdiff_t>(start), order.begin() + static_cast<std::ptrdiff_t>(end)));
        for (size_t i = start + 1; i < end; ++i) {
            const size_t a = lengths[grouped[i - 1]], b = lengths[grouped[i]];
            QVERIFY2(a >= b, qPrintable(QString("position %1: length %2 before %3").arg(i).arg(a).arg(b)));  // longest first
            if (a == b) {  // ties keep the shuffled order (a stable sort)
                auto pos = [&](size_t ex) { return std::find(order.begin(), order.end(), ex) - order.begin(); };
                QVERIFY2(pos(grouped[i - 1]) < pos(grouped[i]), qPrintable(QString("tie at position %1 reordered").arg(i)));
            }
        }
    }
    // Off, the order is only cut into batches.
    const auto batches = batches_from_order(order, examples, 32, false);
    QCOMPARE(batches.size(), size_t{4});
    QCOMPARE(flat(batches), order);
}

void TestSampler::shards_are_distributed_sampler_s() {
    // 10 examples over 3 ranks: 4 each, the permutation padded with its first 2 entries.
    std::vector<std::vector<size_t>> shards;
    for (int r = 0; r < 3; ++r) shards.push_back(distributed_sampler_indices(10, 42, 0, r, 3));
    std::vector<size_t> interleaved;
    for (size_t i = 0; i < 4; ++i)
        for (int r = 0; r < 3; ++r) {
            QCOMPARE(shards[static_cast<size_t>(r)].size(), size_t{4});
            interleaved.push_back(shards[static_cast<size_t>(r)][i]);
        }
    QCOMPARE(std::set<size_t>(interleaved.begin(), interleaved.begin() + 10).size(), size_t{10});
    QCOMPARE(interleaved[10], interleaved[0]);
    QCOMPARE(interleaved[11], interleaved[1]);
    // The permutation is randperm from a generator seeded with seed + epoch.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(uint64_t{43});
    auto perm = torch::randperm(10, gen, torch::kLong);
    const auto one = distributed_sampler_indices(10, 42, 1, 0, 1);
    for (int64_t i = 0; i < 10; ++i) QCOMPARE(static_cast<int64_t>(one[static_cast<size_t>(i)]), perm[i].item<int64_t>());
    QVERIFY(distributed_sampler_indices(10, 42, 0, 0, 1) != one);  // a new order each epoch
    QCOMPARE(distributed_sampler_indices(10, 41, 2, 0, 1), one);   // seed 41 + epoch 2 == seed 42 + epoch 1
    // A rank's batches are its shard cut into per-device batches.
    TrainingArguments args;
    args.per_device_train_batch_size = 3;
    const auto examples = examples_of(std::vector<size_t>(10, 2));
    const auto rank1 = rank_epoch_batches(examples, args, 0, 1, 3);
    QCOMPARE(rank1.size(), size_t{2});
    QCOMPARE(flat(rank1), shards[1]);
}

void TestSampler::collator_pads_sources_and_labels() {
    std::vector<TokenizedExample> examples{{{5, 6, 7, 1}, {9, 1}}, {{8, 1}, {10, 11, 12, 1}}, {{4, 1}, {1}}};
    const Seq2SeqBatch b = collate(examples, {1, 0}, 0, torch::kCPU);  // in the batch's order, not the examples'
    QCOMPARE(b.input_ids.sizes().vec(), (std::vector<int64_t>{2, 4}));
    QCOMPARE(b.labels.sizes().vec(), (std::vector<int64_t>{2, 4}));
    const std::vector<int64_t> ids(b.input_ids.data_ptr<int64_t>(), b.input_ids.data_ptr<int64_t>() + 8);
    QCOMPARE(ids, (std::vector<int64_t>{8, 1, 0, 0, 5, 6, 7, 1}));  // right-padded with pad (0)
    const std::vector<int64_t> mask(b.attention_mask.data_ptr<int64_t>(), b.attention_mask.data_ptr<int64_t>() + 8);
    QCOMPARE(mask, (std::vector<int64_t>{1, 1, 0, 0, 1, 1, 1, 1}));
    const std::vector<int64_t> labels(b.labels.data_ptr<int64_t>(), b.labels.data_ptr<int64_t>() + 8);
    QCOMPARE(labels, (std::vector<int64_t>{10, 11, 12, 1, 9, 1, -100, -100}));  // -100: ignored by the loss
    QCOMPARE(b.label_tokens, int64_t{6});
    QCOMPARE(b.source_tokens, int64_t{6});
}

QTEST_GUILESS_MAIN(TestSampler)
#include "tst_sampler.moc"
