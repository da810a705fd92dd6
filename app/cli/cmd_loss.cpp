// sumlab-cli loss: token-weighted cross-entropy of targets given sources, as HF computes it.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/text/batcher.h"
#include "engine/data/jsonl.h"
#include "engine/text/tokenizer.h"
#include "models/checkpoint.h"

#include <torch/torch.h>

#include <iostream>

namespace sumlab::cli {

void add_loss_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("loss", "Loss of {\"id\", \"text\", \"target\"} lines: mean over all label tokens, and per example");
    struct Opts {
        ModelOptions model;
        std::string input;
    };
    auto o = std::make_shared<Opts>();
    o->model.add_to(*cmd, true);
    cmd->add_option("--input", o->input, "JSON lines {\"id\":…, \"text\":…, \"target\":…}")->required();
    cmd->callback([o] {
        const torch::Device device = parse_device(o->model.device, "--device");
        auto records = read_jsonl(o->input);
        LoadedSystem system = o->model.load();
        LoadedModel& m = system.model;
        const T5Tokenizer& tok = system.tokenizer;
        std::vector<TokenIds> sources, targets;
        for (const auto& r : records) {
            sources.push_back(tok.encode(require_string(r, "text", o->input), true, o->model.max_source_length));
            targets.push_back(tok.encode(require_string(r, "target", o->input), true, o->model.max_target_length));
        }
        torch::InferenceMode guard;
        double total_loss = 0.0;
        int64_t total_tokens = 0;
        nlohmann::json per_example = nlohmann::json::array();
        const size_t bs = static_cast<size_t>(o->model.batch_size);
        for (size_t start = 0; start < records.size(); start += bs) {
            size_t end = std::min(records.size(), start + bs);
            std::vector<TokenIds> src(sources.begin() + start, sources.begin() + end);
            std::vector<TokenIds> tgt(targets.begin() + start, targets.begin() + end);
            auto batch = make_batch(src, tgt, tok.pad_token_id()).to(device);
            auto out = m.model->forward(batch.input_ids, batch.attention_mask, batch.labels);
            auto logits = out.logits.to(torch::kFloat32);
            auto token_loss = torch::nn::functional::cross_entropy(
                logits.reshape({-1, logits.size(-1)}), batch.labels.reshape({-1}),
                torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kNone));
            auto row_sum = token_loss.view({batch.labels.size(0), -1}).to(torch::kFloat64).sum(1).to(torch::kCPU);
            for (size_t i = start; i < end; ++i) {
                int64_t n = static_cast<int64_t>(targets[i].size());
                double s = row_sum[static_cast<int64_t>(i - start)].item<double>();
                total_loss += s;
                total_tokens += n;
                per_example.push_back({{"id", records[i].value.contains("id") ? records[i].value["id"] : nlohmann::json(records[i].line)},
                                       {"loss", n > 0 ? s / static_cast<double>(n) : 0.0},
                                       {"tokens", n}});
            }
        }
        nlohmann::json j;
        j["mean_loss"] = total_tokens > 0 ? total_loss / static_cast<double>(total_tokens) : 0.0;
        j["tokens"] = total_tokens;
        j["per_example"] = per_example;
        write_json_line(std::cout, j);
    });
}

}  // namespace sumlab::cli
