#include "engine/training/training_data.h"

#include "engine/data/dialogsum.h"
#include "engine/data/prompt.h"
#include "engine/text/tokenizer.h"
#include "base/errors.h"

#include <algorithm>

namespace sumlab {

namespace {

constexpr uint64_t kValidationEpoch = ~uint64_t{0};  // the validation split's corruption stream: the same at every evaluation

TokenizedExample corrupted(const SpanCorruptor& corrupt, const TokenIds& source, uint64_t seed) {
    CorruptedExample c = corrupt(source, seed);
    return {std::move(c.input_ids), std::move(c.labels)};
}

}  // namespace

TrainingData prepare_training_data(const std::string& data_path, const TrainingArguments& args, const T5Tokenizer& tokenizer) {
    LoadOptions load;
    load.lone_file_split = Split::train;
    DialogSumDataset dataset = load_dialogsum(data_path, load);
    const DialogSumSplit* train = dataset.find(Split::train);
    if (!train) {
        if (dataset.splits.size() != 1) throw DataError(data_path, 0, "has no training split (train.csv, dialogsum.train.jsonl, ...)");
        train = &dataset.splits.front();
    }
    Selection selection;
    selection.every_kth = static_cast<size_t>(args.every_kth);
    if (args.limit > 0) selection.limit = static_cast<size_t>(args.limit);
    PromptTemplate prompt = resolve_prompt(args.prompt);
    auto tokenize = [&](const DialogSumSplit& split) {
        std::vector<TokenizedExample> out;
        for (const auto& ex : split.examples)
            out.push_back({tokenizer.encode(prompt.render(ex.dialogue), true, args.max_source_length),
                           tokenizer.encode(ex.references.front(), true, args.max_target_length)});
        return out;
    };
    TrainingData data;
    data.notes = dataset.notes;
    if (args.objective != TrainingObjective::seq2seq)
        data.corruption = make_span_corruptor(tokenizer, args.mlm_probability, args.mean_noise_span_length, args.max_source_length);
    if (args.objective == TrainingObjective::text_infilling) data.corruption->full_labels_max_length = args.max_target_length;
    data.train = tokenize(select_examples(*train, selection));
    data.files.push_back(train->path);
    if (data.train.empty()) throw DataError(train->path, 0, "no training examples left after the selection");
    if (args.eval_strategy == IntervalStrategy::no) return data;

    const DialogSumSplit* validation = dataset.find(Split::validation);
    if (!validation) throw DataError(data_path, 0, "eval_strategy needs a validation split (validation.csv or dialogsum.dev.jsonl)");
    data.validation = tokenize(*validation);
    data.files.push_back(validation->path);
    for (size_t i = 0; data.corruption && i < data.validation.size(); ++i)
        data.validation[i] = corrupted(*data.corruption, data.validation[i].source, span_corruption_seed(args.seed, kValidationEpoch, i));
    const size_t limit = args.eval_generate_limit > 0 ? static_cast<size_t>(args.eval_generate_limit) : validation->examples.size();
    for (size_t i = 0; args.predict_with_generate && i < std::min(limit, validation->examples.size()); ++i) {
        const DialogSumExample& ex = validation->examples[i];
        data.generation.push_back({ex.id, prompt.render(ex.dialogue), ex.references});
    }
    return data;
}

Seq2SeqBatch training_batch(const TrainingData& data, const BatchIndices& indices, const TrainingArguments& args, int64_t epoch,
                            int64_t pad_token_id, torch::Device device) {
    if (!data.corruption) return collate(data.train, indices, pad_token_id, device);
    std::vector<TokenizedExample> examples;
    BatchIndices local;
    for (size_t i : indices) {
        local.push_back(examples.size());
        examples.push_back(corrupted(*data.corruption, data.train[i].source,
                                     span_corruption_seed(static_cast<uint64_t>(args.seed), static_cast<uint64_t>(epoch), i)));
    }
    return collate(examples, local, pad_token_id, device);
}

}  // namespace sumlab
