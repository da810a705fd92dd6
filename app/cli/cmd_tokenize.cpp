// sumlab-cli tokenize --model DIR --input IN.jsonl: {"id", "text"} lines -> {"id", "input_ids"} lines.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "app/cli/model_options.h"
#include "engine/data/jsonl.h"
#include "engine/text/tokenizer.h"

#include <iostream>

namespace sumlab::cli {

void add_tokenize_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("tokenize", "Tokenize {\"id\", \"text\"} JSON lines as Hugging Face's T5Tokenizer does");
    struct Opts {
        std::string model, input = "-";
        int64_t max_length = 0;
        bool pieces = false, no_eos = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("--model", o->model, "Model folder holding spiece.model, or a Hub id")->required()->transform(hub_folder(hub::RepoType::Model));
    cmd->add_option("--input", o->input, "JSON lines {\"id\":…, \"text\":…} (- for standard input)");
    cmd->add_option("--max-length", o->max_length, "Truncate to this many ids, keeping </s> (0 = no limit)")->check(CLI::NonNegativeNumber);
    cmd->add_flag("--pieces", o->pieces, "Also print the SentencePiece pieces");
    cmd->add_flag("--no-eos", o->no_eos, "Do not append </s>");
    cmd->callback([o] {
        T5Tokenizer tok = T5Tokenizer::from_directory(o->model);
        auto records = read_jsonl(o->input);
        for (const auto& r : records) {
            std::string text = require_string(r, "text", o->input);
            nlohmann::json out;
            out["id"] = r.value.contains("id") ? r.value["id"] : nlohmann::json(r.line);
            out["input_ids"] = tok.encode(text, !o->no_eos, o->max_length);
            if (o->pieces) out["pieces"] = tok.tokenize(text);
            write_json_line(std::cout, out);
        }
    });
}

}  // namespace sumlab::cli
