// Turns tokenized examples into padded tensors: sources right-padded with pad (attention mask 0),
// labels right-padded with -100 so the loss ignores them (HF's DataCollatorForSeq2Seq).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace sumlab {

using TokenIds = std::vector<int64_t>;

struct Seq2SeqBatch {
    torch::Tensor input_ids;       // (b, longest source), long
    torch::Tensor attention_mask;  // (b, longest source), long 0/1
    torch::Tensor labels;          // (b, longest target), long, -100 at padding; undefined without targets
    int64_t label_tokens = 0;      // labels != -100
    int64_t source_tokens = 0;     // attention_mask == 1

    Seq2SeqBatch to(torch::Device device) const;
};

// Pads to the longest row of this batch (dynamic padding). `targets` may be empty.
Seq2SeqBatch make_batch(const std::vector<TokenIds>& sources, const std::vector<TokenIds>& targets, int64_t pad_token_id);

}  // namespace sumlab
