#include "engine/text/batcher.h"

#include <torch/torch.h>

#include <algorithm>

namespace sumlab {

namespace {
torch::Tensor pad_rows(const std::vector<TokenIds>& rows, int64_t fill, int64_t* real_tokens) {
    size_t width = 1;
    for (const auto& r : rows) width = std::max(width, r.size());
    auto t = torch::full({static_cast<int64_t>(rows.size()), static_cast<int64_t>(width)}, fill, torch::kLong);
    auto acc = t.accessor<int64_t, 2>();
    int64_t n = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        for (size_t j = 0; j < rows[i].size(); ++j) acc[i][j] = rows[i][j];
        n += static_cast<int64_t>(rows[i].size());
    }
    if (real_tokens) *real_tokens = n;
    return t;
}
}  // namespace

Seq2SeqBatch make_batch(const std::vector<TokenIds>& sources, const std::vector<TokenIds>& targets, int64_t pad_token_id) {
    Seq2SeqBatch b;
    b.input_ids = pad_rows(sources, pad_token_id, &b.source_tokens);
    std::vector<TokenIds> ones;
    ones.reserve(sources.size());
    for (const auto& s : sources) ones.emplace_back(s.size(), 1);
    b.attention_mask = pad_rows(ones, 0, nullptr);
    if (!targets.empty()) b.labels = pad_rows(targets, -100, &b.label_tokens);
    return b;
}

Seq2SeqBatch Seq2SeqBatch::to(torch::Device device) const {
    Seq2SeqBatch b = *this;
    b.input_ids = input_ids.to(device);
    b.attention_mask = attention_mask.to(device);
    if (labels.defined()) b.labels = labels.to(device);
    return b;
}

}  // namespace sumlab
