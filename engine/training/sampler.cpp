#include "engine/training/sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>

namespace sumlab {

namespace {

// randperm(n) from a CPU generator seeded with `seed`, as torch.randperm(n, generator=g).
std::vector<size_t> seeded_permutation(size_t n, uint64_t seed) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    auto perm = torch::randperm(static_cast<int64_t>(n), gen, torch::kLong);
    std::vector<size_t> order(n);
    const int64_t* shuffled = perm.data_ptr<int64_t>();
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<size_t>(shuffled[i]);
    return order;
}

}  // namespace

std::vector<size_t> distributed_sampler_indices(size_t dataset_size, int64_t seed, int64_t epoch, int rank, int world_size) {
    std::vector<size_t> all = seeded_permutation(dataset_size, static_cast<uint64_t>(seed + epoch));
    const size_t w = static_cast<size_t>(world_size);
    const size_t total = (dataset_size + w - 1) / w * w;
    for (size_t i = 0; all.size() < total; ++i) all.push_back(all[i % dataset_size]);
    std::vector<size_t> mine;
    for (size_t i = static_cast<size_t>(rank); i < total; i += w) mine.push_back(all[i]);
    return mine;
}

std::vector<BatchIndices> batches_from_order(std::vector<size_t> order, const std::vector<TokenizedExample>& examples,
                                             int64_t batch_size, bool group_by_length) {
    const size_t bs = static_cast<size_t>(batch_size);
    if (group_by_length) {
        const size_t mega = bs * 50;
        for (size_t start = 0; start < order.size(); start += mega) {
            auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + mega));
            std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(start), end,
                             [&](size_t a, size_t b) { return examples[a].source.size() > examples[b].source.size(); });
        }
    }
    std::vector<BatchIndices> batches;
    for (size_t start = 0; start < order.size(); start += bs)
        batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                             order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + bs)));
    return batches;
}

std::vector<BatchIndices> epoch_batches(const std::vector<TokenizedExample>& examples, const TrainingArguments& args, int64_t epoch) {
    // SumLab's own seeding (not DistributedSampler's seed + epoch), kept so that existing runs resume in the same order.
    std::vector<size_t> order = seeded_permutation(examples.size(), static_cast<uint64_t>(args.seed) * 1000003ULL + static_cast<uint64_t>(epoch));
    return batches_from_order(std::move(order), examples, args.per_device_train_batch_size, args.group_by_length);
}

std::vector<BatchIndices> rank_epoch_batches(const std::vector<TokenizedExample>& examples, const TrainingArguments& args,
                                             int64_t epoch, int rank, int world_size) {
    std::vector<size_t> order = distributed_sampler_indices(examples.size(), args.seed, epoch, rank, world_size);
    return batches_from_order(std::move(order), examples, args.per_device_train_batch_size, args.group_by_length);
}

Seq2SeqBatch collate(const std::vector<TokenizedExample>& examples, const BatchIndices& indices, int64_t pad_token_id,
                     torch::Device device) {
    std::vector<TokenIds> src, tgt;
    for (size_t i : indices) {
        src.push_back(examples[i].source);
        tgt.push_back(examples[i].target);
    }
    return make_batch(src, tgt, pad_token_id).to(device);
}

}  // namespace sumlab
