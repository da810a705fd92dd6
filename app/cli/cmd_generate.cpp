// sumlab-cli generate: summaries for JSON lines, with Hugging Face's generation flags.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/generation/generation.h"
#include "engine/data/jsonl.h"
#include "engine/data/prompt.h"
#include "engine/text/tokenizer.h"
#include "models/checkpoint.h"
#include "base/errors.h"
#include "base/file_util.h"

#include <iostream>
#include <sstream>

namespace sumlab::cli {

void add_generate_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("generate", "Generate a summary for each {\"id\", \"text\"} (or {\"id\", \"dialogue\"} with --prompt) line");
    struct Opts {
        ModelOptions model;
        GenerationOptions gen;
        std::string input, output, prompt;
        int64_t seed = 0;
        bool quiet = false;
    };
    auto o = std::make_shared<Opts>();
    o->model.add_to(*cmd, false);
    o->gen.add_to(*cmd);
    cmd->add_option("--input", o->input, "JSON lines {\"id\":…, \"text\":…}")->required();
    cmd->add_option("--output", o->output, "Output JSON lines {\"id\", \"text\", \"token_ids\"}; with --num-return-sequences N, N lines per input with \"sample\" 0..N-1")->required();
    cmd->add_option("--prompt", o->prompt,
                    "Prompt template with {dialogue}, or a preset name (dialogsum = the lab's prompt); lines may then carry \"dialogue\"");
    cmd->add_option("--seed", o->seed,
                    "Seed of the draws with --do-sample (default 0): the same seed, input and --batch-size give the same summaries");
    cmd->add_flag("--quiet", o->quiet, "No progress on standard error");
    cmd->callback([o] {
        parse_device(o->model.device, "--device");  // the flag's error before the input is read
        std::optional<PromptTemplate> prompt;
        if (!o->prompt.empty()) prompt = resolve_prompt(o->prompt);
        auto records = read_jsonl(o->input);
        std::vector<std::string> texts;
        std::vector<nlohmann::json> ids;
        for (const auto& r : records) {
            if (!r.value.is_object()) throw DataError(o->input, r.line, "expected a JSON object");
            std::string text;
            if (prompt && !r.value.contains("text")) {
                text = prompt->render(require_string(r, "dialogue", o->input));
            } else {
                text = require_string(r, "text", o->input);
                if (prompt) text = prompt->render(text);
            }
            texts.push_back(std::move(text));
            ids.push_back(r.value.contains("id") ? r.value["id"] : nlohmann::json(r.line));
        }
        LoadedSystem system = o->model.load();
        LoadedModel& m = system.model;
        const T5Tokenizer& tok = system.tokenizer;
        GenerationConfig config = system.generation;
        o->gen.apply(config);
        config.seed = o->seed;
        config.validate("command line");
        auto progress = [&](size_t done, size_t total) {
            if (!o->quiet) std::cerr << "\rgenerate: " << done << "/" << total << std::flush;
        };
        auto results = generate_texts(*m.model, tok, texts, config, o->model.batch_size, o->model.max_source_length, {}, progress);
        if (!o->quiet && !texts.empty()) std::cerr << "\n";
        std::ostringstream out;
        size_t truncated = 0;
        // num_return_sequences summaries per input, next to each other; "sample" numbers them from 0.
        const size_t per_input = static_cast<size_t>(config.num_return_sequences);
        for (size_t i = 0; i < results.size(); ++i) {
            nlohmann::json j;
            j["id"] = ids[i / per_input];
            if (per_input > 1) j["sample"] = i % per_input;
            j["text"] = results[i].text;
            j["token_ids"] = results[i].token_ids;
            truncated += results[i].hit_max_new_tokens ? 1 : 0;
            write_json_line(out, j);
        }
        write_atomically(o->output, out.str());
        if (!o->quiet && truncated * 2 > results.size())
            std::cerr << "generate: warning: " << truncated << " of " << results.size()
                      << " summaries stopped at max_new_tokens (" << config.resolved_max_new_tokens() << ") before </s>\n";
    });
}

}  // namespace sumlab::cli
