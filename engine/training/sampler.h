// Which examples go into which batch, epoch by epoch, as Hugging Face's Trainer picks them: a seeded
// shuffle per epoch (RandomSampler), a rank's shard in a data-parallel run (DistributedSampler),
// mega-batches sorted by source length (group_by_length, LengthGroupedSampler's idea), cut into
// per_device_train_batch_size batches; collate() then hands a batch's examples to the collator
// (engine/text/batcher.h), which pads them into tensors.
#pragma once

#include "engine/text/batcher.h"
#include "engine/training/training_arguments.h"

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sumlab {

// One example as the trainer feeds it: the rendered prompt's tokens and the reference summary's.
struct TokenizedExample {
    TokenIds source, target;
};

using BatchIndices = std::vector<size_t>;  // indices into the examples

// The indices rank `rank` reads in `epoch`, as PyTorch's DistributedSampler(shuffle=True,
// seed=seed, drop_last=False): randperm(dataset_size) from a generator seeded with seed + epoch,
// padded by repeating its head to a multiple of world_size, then every world_size-th index from
// rank. Every rank gets ceil(dataset_size / world_size) indices.
std::vector<size_t> distributed_sampler_indices(size_t dataset_size, int64_t seed, int64_t epoch, int rank, int world_size);

// An epoch's example order cut into batches of batch_size; with group_by_length, mega-batches of 50
// batches are first sorted by source length, longest first (a stable sort: ties keep the order).
std::vector<BatchIndices> batches_from_order(std::vector<size_t> order, const std::vector<TokenizedExample>& examples,
                                             int64_t batch_size, bool group_by_length);

// The batches of one epoch of a single-process run: a shuffle seeded by (seed, epoch), the same for a
// resumed run, batched by batches_from_order.
std::vector<BatchIndices> epoch_batches(const std::vector<TokenizedExample>& examples, const TrainingArguments& args, int64_t epoch);

// A rank's batches for one epoch of a data-parallel run: its DistributedSampler shard, batched by
// batches_from_order (group_by_length sorts mega-batches within the shard).
std::vector<BatchIndices> rank_epoch_batches(const std::vector<TokenizedExample>& examples, const TrainingArguments& args,
                                             int64_t epoch, int rank, int world_size);

// The examples at `indices` padded into one batch on `device` (make_batch: pad, labels -100).
Seq2SeqBatch collate(const std::vector<TokenizedExample>& examples, const BatchIndices& indices, int64_t pad_token_id,
                     torch::Device device);

}  // namespace sumlab
