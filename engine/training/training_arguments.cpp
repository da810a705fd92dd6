#include "engine/training/training_arguments.h"

#include "models/t5/generation_config.h"

#include "base/errors.h"

#include <algorithm>
#include <cmath>

namespace sumlab {

std::string to_string(TrainingMethod m) { return m == TrainingMethod::lora ? "lora" : "full"; }
std::string to_string(SchedulerType s) {
    return s == SchedulerType::constant ? "constant" : s == SchedulerType::cosine ? "cosine" : "linear";
}
std::string to_string(OptimizerType o) { return o == OptimizerType::adafactor ? "adafactor" : "adamw_torch"; }
std::string to_string(TrainingObjective o) {
    switch (o) {
    case TrainingObjective::span_corruption: return "span_corruption";
    case TrainingObjective::text_infilling: return "text_infilling";
    case TrainingObjective::seq2seq: break;
    }
    return "seq2seq";
}
std::string to_string(IntervalStrategy s) { return s == IntervalStrategy::steps ? "steps" : s == IntervalStrategy::epoch ? "epoch" : "no"; }

namespace {

using Kind = SettingSpec::Kind;
using json = nlohmann::json;

template <typename Enum>
Enum parse_choice(const std::string& text, std::initializer_list<std::pair<const char*, Enum>> options, const std::string& key) {
    for (auto& [name, value] : options)
        if (text == name) return value;
    std::string names;
    for (auto& [name, value] : options) names += (names.empty() ? "" : ", ") + std::string(name);
    throw ConfigError("training settings", key, "\"" + text + "\" is not one of " + names);
}

SettingSpec integer(std::string key, std::string help, double min, double max, int64_t TrainingArguments::*field, bool lora_only = false) {
    SettingSpec s;
    s.key = key;
    s.flag = "--" + key;
    std::replace(s.flag.begin(), s.flag.end(), '_', '-');
    s.kind = Kind::integer;
    s.help = std::move(help);
    s.origin = "Hugging Face: " + s.key;
    s.min = min;
    s.max = max;
    s.lora_only = lora_only;
    s.get = [field](const TrainingArguments& a) { return json(a.*field); };
    s.set = [field](TrainingArguments& a, const json& v) { a.*field = v.get<int64_t>(); };
    return s;
}

SettingSpec real(std::string key, std::string help, double min, double max, double TrainingArguments::*field) {
    SettingSpec s = integer(key, help, min, max, nullptr);
    s.kind = Kind::real;
    s.get = [field](const TrainingArguments& a) { return json(a.*field); };
    s.set = [field](TrainingArguments& a, const json& v) { a.*field = v.get<double>(); };
    return s;
}

SettingSpec boolean(std::string key, std::string help, bool TrainingArguments::*field) {
    SettingSpec s = integer(key, help, 0, 0, nullptr);
    s.kind = Kind::boolean;
    s.get = [field](const TrainingArguments& a) { return json(a.*field); };
    s.set = [field](TrainingArguments& a, const json& v) { a.*field = v.get<bool>(); };
    return s;
}

// A free-text setting of SumLab's own (no Hugging Face origin).
SettingSpec text(std::string key, std::string help, std::string TrainingArguments::*field) {
    SettingSpec s = integer(key, help, 0, 0, nullptr);
    s.kind = Kind::text;
    s.origin.clear();
    s.get = [field](const TrainingArguments& a) { return json(a.*field); };
    s.set = [field](TrainingArguments& a, const json& v) { a.*field = v.get<std::string>(); };
    return s;
}

// A row whose null is HF's None ("not set": the model's own value, or a default resolved later), read and
// written through an optional field.
template <typename T>
SettingSpec nullable(SettingSpec s, std::optional<T> TrainingArguments::*field) {
    s.is_nullable = true;
    s.get = [field](const TrainingArguments& a) { return a.*field ? json(*(a.*field)) : json(nullptr); };
    s.set = [field](TrainingArguments& a, const json& v) {
        if (v.is_null()) (a.*field).reset();
        else a.*field = v.get<T>();
    };
    return s;
}

SettingSpec optional_integer(std::string key, std::string help, double min, double max, std::optional<int64_t> TrainingArguments::*field) {
    return nullable(integer(key, help, min, max, nullptr), field);
}

// The metrics an evaluation writes, with and without HF's "eval_" prefix (metric_for_best_model's choices).
const std::vector<std::string>& metric_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (const char* m : {"loss", "rouge1", "rouge2", "rougeL", "rougeLsum", "gen_len"}) {
            n.push_back(m);
            n.push_back(std::string("eval_") + m);
        }
        return n;
    }();
    return names;
}

// The rows of evaluation with generation, the best checkpoint and early stopping (Seq2SeqTrainingArguments,
// TrainingArguments, EarlyStoppingCallback).
void add_evaluation_rows(std::vector<SettingSpec>& t) {
    t.push_back(boolean("predict_with_generate",
                        "At each evaluation, also generate summaries of the first eval_generate_limit validation examples and "
                        "score them with ROUGE (eval_rouge1, eval_rouge2, eval_rougeL, eval_rougeLsum; stemmer on)",
                        &TrainingArguments::predict_with_generate));
    t.push_back(optional_integer("generation_max_length",
                                 "max_length of those summaries, the start token counted (not set: the model's generation config)", 2,
                                 1 << 20, &TrainingArguments::generation_max_length));
    // The generation table's range, so a run.json the trainer accepts never fails at its first evaluation.
    const auto& beams = generation_setting("num_beams", "generation_num_beams");
    t.push_back(optional_integer("generation_num_beams", "Beams for those summaries (not set: the model's generation config)",
                                 static_cast<int64_t>(beams.min), static_cast<int64_t>(beams.max),
                                 &TrainingArguments::generation_num_beams));
    t.push_back(integer("eval_generate_limit",
                        "Validation examples generated at each evaluation, always the first ones (0 = all; generating is slow on a CPU)",
                        0, 1e12, &TrainingArguments::eval_generate_limit));
    t.back().origin.clear();  // SumLab's own
    t.push_back(boolean("load_best_model_at_end",
                        "Track the best checkpoint by metric_for_best_model, never delete it, and make final/ the best checkpoint's "
                        "weights (save_strategy must equal eval_strategy)",
                        &TrainingArguments::load_best_model_at_end));
    {
        SettingSpec s;
        s.key = "metric_for_best_model";
        s.flag = "--metric-for-best-model";
        s.kind = Kind::choice;
        s.help = "The evaluation metric that picks the best checkpoint, with or without eval_ (not set: loss when "
                 "load_best_model_at_end); ROUGE needs predict_with_generate";
        s.origin = "Hugging Face: metric_for_best_model";
        s.choices = metric_names();
        t.push_back(nullable(s, &TrainingArguments::metric_for_best_model));
    }
    t.push_back(nullable(boolean("greater_is_better", "Whether a higher metric_for_best_model is better (not set: false for loss, true otherwise)", nullptr),
                         &TrainingArguments::greater_is_better));
    t.push_back(integer("early_stopping_patience",
                        "Stop when metric_for_best_model has not improved for this many evaluations in a row (0 = never; needs "
                        "load_best_model_at_end)",
                        0, 1e9, &TrainingArguments::early_stopping_patience));
    t.back().origin = "Hugging Face EarlyStoppingCallback: early_stopping_patience";
    t.push_back(real("early_stopping_threshold", "How much metric_for_best_model must improve to count as an improvement for early stopping",
                     0.0, 1e12, &TrainingArguments::early_stopping_threshold));
    t.back().origin = "Hugging Face EarlyStoppingCallback: early_stopping_threshold";
}

// The training method and PEFT's LoraConfig.
void add_method_rows(std::vector<SettingSpec>& t) {
    {
        SettingSpec s;
        s.key = "method";
        s.flag = "--method";
        s.kind = Kind::choice;
        s.help = "full: fine-tune every weight (the lab's instruct model); lora: train a small LoRA adapter (PEFT)";
        s.choices = {"full", "lora"};
        s.get = [](const TrainingArguments& a) { return json(to_string(a.method)); };
        s.set = [](TrainingArguments& a, const json& v) {
            a.method = parse_choice<TrainingMethod>(v.get<std::string>(), {{"full", TrainingMethod::full}, {"lora", TrainingMethod::lora}}, "method");
        };
        t.push_back(s);
    }
    {
        SettingSpec s;
        s.key = "objective";
        s.flag = "--objective";
        s.kind = Kind::choice;
        s.help = "seq2seq: learn prompt -> summary; span_corruption: learn to restore spans hidden in the prompts, T5's "
                 "pretraining objective, for a new model before it learns to summarise; text_infilling: learn to write out "
                 "the whole prompt from one with spans hidden (BART's objective), which teaches a new model to copy";
        s.choices = {"seq2seq", "span_corruption", "text_infilling"};
        s.get = [](const TrainingArguments& a) { return json(to_string(a.objective)); };
        s.set = [](TrainingArguments& a, const json& v) {
            a.objective = parse_choice<TrainingObjective>(
                v.get<std::string>(), {{"seq2seq", TrainingObjective::seq2seq},
                                    {"span_corruption", TrainingObjective::span_corruption},
                                    {"text_infilling", TrainingObjective::text_infilling}},
                "objective");
        };
        t.push_back(s);
    }
    t.push_back(real("mlm_probability", "span_corruption, text_infilling: the share of each prompt's tokens hidden", 0.0, 1.0,
                     &TrainingArguments::mlm_probability));
    t.back().origin = "run_t5_mlm_flax.py: mlm_probability";
    t.push_back(real("mean_noise_span_length", "span_corruption, text_infilling: the mean length of a hidden span, in tokens", 1.0, 1e6,
                     &TrainingArguments::mean_noise_span_length));
    t.back().origin = "run_t5_mlm_flax.py: mean_noise_span_length";
    {
        SettingSpec s = integer("r", "LoRA rank: the inner size of the adapter matrices A (r x in) and B (out x r)", 1, 4096, nullptr, true);
        s.flag = "--lora-r";
        s.origin = "PEFT LoraConfig: r";
        s.get = [](const TrainingArguments& a) { return json(a.lora.r); };
        s.set = [](TrainingArguments& a, const json& v) { a.lora.r = v.get<int64_t>(); };
        t.push_back(s);
        SettingSpec alpha = real("lora_alpha", "LoRA scaling numerator: the adapter's output is multiplied by lora_alpha / r", 1e-6, 1e6, nullptr);
        alpha.lora_only = true;
        alpha.origin = "PEFT LoraConfig: lora_alpha";
        alpha.get = [](const TrainingArguments& a) { return json(a.lora.lora_alpha); };
        alpha.set = [](TrainingArguments& a, const json& v) { a.lora.lora_alpha = v.get<double>(); };
        t.push_back(alpha);
        SettingSpec drop = real("lora_dropout", "Dropout on the adapter's input during training", 0.0, 0.99, nullptr);
        drop.lora_only = true;
        drop.origin = "PEFT LoraConfig: lora_dropout";
        drop.get = [](const TrainingArguments& a) { return json(a.lora.lora_dropout); };
        drop.set = [](TrainingArguments& a, const json& v) { a.lora.lora_dropout = v.get<double>(); };
        t.push_back(drop);
        SettingSpec targets;
        targets.key = "target_modules";
        targets.flag = "--lora-target-modules";
        targets.kind = Kind::list;
        targets.lora_only = true;
        targets.origin = "PEFT LoraConfig: target_modules";
        targets.help = "Linear layers that get an adapter, comma-separated: q, k, v, o (attention), wi / wi_0, wi_1, wo (feed-forward)";
        targets.choices = {"q", "k", "v", "o", "wi", "wi_0", "wi_1", "wo"};
        targets.get = [](const TrainingArguments& a) { return json(a.lora.target_modules); };
        targets.set = [](TrainingArguments& a, const json& v) { a.lora.target_modules = v.get<std::vector<std::string>>(); };
        t.push_back(targets);
    }
}

// How long and in which batches: epochs, steps, batch sizes, warm-up and the learning-rate schedule.
void add_schedule_rows(std::vector<SettingSpec>& t) {
    t.push_back(real("learning_rate", "Peak learning rate of the optimizer (the lab: 1e-5 for full fine-tuning, 1e-3 for LoRA)", 0.0, 10.0,
                     &TrainingArguments::learning_rate));
    t.push_back(real("num_train_epochs", "Passes over the training data (ignored when max_steps > 0)", 0.0, 1e6, &TrainingArguments::num_train_epochs));
    t.push_back(integer("max_steps", "Optimizer steps to run; > 0 overrides num_train_epochs, -1 = use epochs", -1, 1e12, &TrainingArguments::max_steps));
    t.push_back(integer("per_device_train_batch_size", "Examples per forward/backward pass", 1, 65536, &TrainingArguments::per_device_train_batch_size));
    t.push_back(integer("per_device_eval_batch_size", "Examples per forward pass when computing the eval loss", 1, 65536,
                        &TrainingArguments::per_device_eval_batch_size));
    t.push_back(integer("gradient_accumulation_steps",
                        "Batches whose gradients add up before one optimizer step (loss normalised over the whole accumulated batch)", 1,
                        65536, &TrainingArguments::gradient_accumulation_steps));
    t.push_back(integer("warmup_steps", "Steps of linear warm-up from 0 to learning_rate; overrides warmup_ratio", 0, 1e12,
                        &TrainingArguments::warmup_steps));
    t.push_back(real("warmup_ratio", "Share of all steps used for linear warm-up", 0.0, 1.0, &TrainingArguments::warmup_ratio));
    {
        SettingSpec s;
        s.key = "lr_scheduler_type";
        s.flag = "--lr-scheduler-type";
        s.kind = Kind::choice;
        s.help = "How the learning rate changes after warm-up: linear decay to 0, constant, or cosine decay";
        s.origin = "Hugging Face: lr_scheduler_type";
        s.choices = {"linear", "constant", "cosine"};
        s.get = [](const TrainingArguments& a) { return json(to_string(a.lr_scheduler_type)); };
        s.set = [](TrainingArguments& a, const json& v) {
            a.lr_scheduler_type = parse_choice<SchedulerType>(
                v.get<std::string>(), {{"linear", SchedulerType::linear}, {"constant", SchedulerType::constant}, {"cosine", SchedulerType::cosine}},
                "lr_scheduler_type");
        };
        t.push_back(s);
    }
}

// AdamW, clipping, the loss's label smoothing and the seed.
void add_optimizer_rows(std::vector<SettingSpec>& t) {
    t.push_back(real("weight_decay", "Decoupled weight decay, AdamW's or Adafactor's (not applied to biases and layer-norm weights)", 0.0, 10.0,
                     &TrainingArguments::weight_decay));
    t.push_back(real("adam_beta1", "AdamW's first-moment decay", 0.0, 0.999999, &TrainingArguments::adam_beta1));
    t.push_back(real("adam_beta2", "AdamW's second-moment decay", 0.0, 0.999999999, &TrainingArguments::adam_beta2));
    t.push_back(real("adam_epsilon", "AdamW's epsilon", 0.0, 1.0, &TrainingArguments::adam_epsilon));
    {
        SettingSpec s;
        s.key = "optim";
        s.flag = "--optim";
        s.kind = Kind::choice;
        s.help = "The optimizer: adamw_torch (torch.optim.AdamW), or adafactor (transformers' Adafactor as HF's Trainer builds it: "
                 "no first moment, factored second moments, update clipping at RMS 1; the adam_* settings do not apply)";
        s.origin = "Hugging Face: optim";
        s.choices = {"adamw_torch", "adafactor"};
        s.get = [](const TrainingArguments& a) { return json(to_string(a.optim)); };
        s.set = [](TrainingArguments& a, const json& v) {
            a.optim = parse_choice<OptimizerType>(v.get<std::string>(),
                                                  {{"adamw_torch", OptimizerType::adamw_torch}, {"adafactor", OptimizerType::adafactor}}, "optim");
        };
        t.push_back(s);
    }
    t.push_back(boolean("adafactor_scale_parameter",
                        "Adafactor's scale_parameter: each tensor's step is learning_rate x the tensor's RMS (at least 1e-3), as T5 "
                        "was pretrained; for a model trained from scratch. HF's Trainer passes False",
                        &TrainingArguments::adafactor_scale_parameter));
    t.back().origin.clear();  // SumLab's own: an argument of transformers' Adafactor, not of TrainingArguments
    t.push_back(real("max_grad_norm", "Clip the gradients' global norm to this value before each step (0 = no clipping)", 0.0, 1e6,
                     &TrainingArguments::max_grad_norm));
    t.push_back(real("label_smoothing_factor",
                     "Label smoothing of the loss: (1 - factor) x the usual loss + factor x the mean of -log p over the vocabulary "
                     "(0 = none)",
                     0.0, 1.0, &TrainingArguments::label_smoothing_factor));
    t.back().max = 0.999999;  // HF's LabelSmoother accepts [0, 1); 1 would ignore the labels
    t.push_back(integer("seed", "Seed of data order, dropout and adapter initialisation", 0, 4294967295.0, &TrainingArguments::seed));
}

// When to log, evaluate and save (HF's IntervalStrategy settings).
void add_logging_eval_save_rows(std::vector<SettingSpec>& t) {
    t.push_back(integer("logging_steps", "Write a metrics line every this many optimizer steps", 1, 1e12, &TrainingArguments::logging_steps));
    {
        SettingSpec s;
        s.key = "report_to";
        s.flag = "--report-to";
        s.kind = Kind::list;
        s.help = "Also send each metrics line to tensorboard (event files in logging_dir), or none: SumLab's default (Hugging "
                 "Face's is all installed integrations; here all = tensorboard)";
        s.origin = "Hugging Face: report_to";
        s.choices = {"tensorboard"};
        s.aliases = {"none", "all"};
        s.get = [](const TrainingArguments& a) { return json(a.report_to); };
        s.set = [](TrainingArguments& a, const json& v) {
            a.report_to = v.get<std::vector<std::string>>();
            // HF's __post_init__: "none" -> [], "all" -> the installed integrations.
            if (a.report_to == std::vector<std::string>{"none"}) a.report_to.clear();
            if (a.report_to == std::vector<std::string>{"all"}) a.report_to = {"tensorboard"};
        };
        t.push_back(s);
    }
    t.push_back(nullable(text("logging_dir",
                              "TensorBoard's folder (not set: <output_dir>/runs/<date>_<time>_<hostname>, a new one for each "
                              "attempt, as Hugging Face's)",
                              nullptr),
                         &TrainingArguments::logging_dir));
    t.back().origin = "Hugging Face: logging_dir";
    auto interval = [](std::string key, std::string help, IntervalStrategy TrainingArguments::*field) {
        SettingSpec s;
        s.key = key;
        s.flag = "--" + key;
        std::replace(s.flag.begin(), s.flag.end(), '_', '-');
        s.kind = Kind::choice;
        s.help = std::move(help);
        s.origin = "Hugging Face: " + key;
        s.choices = {"no", "steps", "epoch"};
        s.get = [field](const TrainingArguments& a) { return json(to_string(a.*field)); };
        s.set = [field, key](TrainingArguments& a, const json& v) {
            a.*field = parse_choice<IntervalStrategy>(
                v.get<std::string>(), {{"no", IntervalStrategy::no}, {"steps", IntervalStrategy::steps}, {"epoch", IntervalStrategy::epoch}}, key);
        };
        return s;
    };
    t.push_back(interval("eval_strategy", "When to compute the eval loss on the validation split: no, every eval_steps, or each epoch",
                         &TrainingArguments::eval_strategy));
    t.back().origin = "Hugging Face: evaluation_strategy, eval_strategy from 4.41";
    t.push_back(integer("eval_steps", "Optimizer steps between evaluations (eval_strategy steps)", 1, 1e12, &TrainingArguments::eval_steps));
    t.push_back(interval("save_strategy", "When to write a checkpoint: no, every save_steps, or each epoch", &TrainingArguments::save_strategy));
    t.push_back(integer("save_steps", "Optimizer steps between checkpoints (save_strategy steps)", 1, 1e12, &TrainingArguments::save_steps));
    t.push_back(integer("save_total_limit", "Keep only the newest this many checkpoints (0 = keep all)", 0, 1e9, &TrainingArguments::save_total_limit));
}

// Lengths, batching, precision, prompt, device and the data selection.
void add_data_and_runtime_rows(std::vector<SettingSpec>& t) {
    t.push_back(integer("max_source_length", "Truncate prompts to this many tokens, keeping </s> (the lab: 512)", 1, 1 << 20,
                        &TrainingArguments::max_source_length));
    t.back().origin = "run_summarization.py: max_source_length";
    t.push_back(integer("max_target_length", "Truncate summaries to this many tokens, keeping </s> (the lab: 128)", 1, 1 << 20,
                        &TrainingArguments::max_target_length));
    t.back().origin = "run_summarization.py: max_target_length";
    t.push_back(boolean("group_by_length", "Batch examples of similar length together to waste less compute on padding",
                        &TrainingArguments::group_by_length));
    t.push_back(boolean("bf16",
                        "Mixed precision: matmuls of the forward pass and the loss in bfloat16 (autocast), weights, gradients and "
                        "the optimizer in fp32; fast where the CPU has bf16 units (avx512_bf16, AMX)",
                        &TrainingArguments::bf16));
    t.push_back(boolean("gradient_checkpointing",
                        "Keep only each block's input during the forward pass and recompute the block in backward: "
                        "less activation memory for about one more forward pass of compute per step; same losses and gradients",
                        &TrainingArguments::gradient_checkpointing));
    {
        SettingSpec s = real("dropout_rate", "Dropout inside the model during training (overrides config.json; 0 disables it)", 0.0, 0.99, nullptr);
        s.origin = "T5 config.json: dropout_rate";
        t.push_back(nullable(s, &TrainingArguments::dropout_rate));
    }
    t.push_back(text("prompt", "Prompt template with {dialogue}, or a preset (dialogsum = the lab's prompt)", &TrainingArguments::prompt));
    t.push_back(text("device", "cpu, cuda or cuda:N", &TrainingArguments::device));
    t.push_back(integer("ddp_timeout",
                        "Distributed runs: seconds to wait for the other processes at each collective before failing with an error (a dead or hung rank)",
                        1, 86400, &TrainingArguments::ddp_timeout));
    t.push_back(integer("limit", "Train on the first N examples only (0 = all)", 0, 1e12, &TrainingArguments::limit));
    t.push_back(integer("every_kth", "Train on every k-th example (the lab's quick demo uses 100)", 1, 1e9, &TrainingArguments::every_kth));
    for (const char* own : {"limit", "every_kth"})
        std::find_if(t.begin(), t.end(), [&](const SettingSpec& s) { return s.key == own; })->origin.clear();  // SumLab's own
}

// The table in the order --help and the GUI form show it.
std::vector<SettingSpec> build_table() {
    std::vector<SettingSpec> t;
    add_method_rows(t);
    add_schedule_rows(t);
    add_optimizer_rows(t);
    add_logging_eval_save_rows(t);
    add_evaluation_rows(t);
    add_data_and_runtime_rows(t);
    return t;
}

// A value from the file for an error message: lists and objects are not printed (dump() recurses,
// and a hostile run.json can nest them thousands deep), long strings are cut.
std::string shown(const json& v) {
    if (v.is_array()) return "a list";
    if (v.is_object()) return "an object";
    std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
    return text.size() <= 80 ? text : text.substr(0, 80) + "...";
}

void check_value(const SettingSpec& s, const json& v, const std::string& path) {
    if (v.is_null() && s.is_nullable) return;
    switch (s.kind) {
        case Kind::integer:
            if (!v.is_number_integer()) throw ConfigError(path, s.key, "must be an integer, got " + shown(v));
            if (v.get<double>() < s.min || v.get<double>() > s.max)
                throw ConfigError(path, s.key, shown(v) + " is outside [" + json(static_cast<int64_t>(s.min)).dump() + ", " +
                                                   json(static_cast<int64_t>(s.max)).dump() + "]");
            break;
        case Kind::real:
            if (!v.is_number()) throw ConfigError(path, s.key, "must be a number, got " + shown(v));
            if (!(v.get<double>() >= s.min && v.get<double>() <= s.max))
                throw ConfigError(path, s.key, shown(v) + " is outside [" + json(s.min).dump() + ", " + json(s.max).dump() + "]");
            break;
        case Kind::boolean:
            if (!v.is_boolean()) throw ConfigError(path, s.key, "must be true or false");
            break;
        case Kind::choice:
        case Kind::text:
            if (!v.is_string()) throw ConfigError(path, s.key, "must be a string");
            if (s.kind == Kind::choice && std::find(s.choices.begin(), s.choices.end(), v.get<std::string>()) == s.choices.end()) {
                std::string names;
                for (const auto& c : s.choices) names += (names.empty() ? "" : ", ") + c;
                throw ConfigError(path, s.key, shown(v) + " is not one of " + names);
            }
            break;
        case Kind::list:
            if (!v.is_array()) throw ConfigError(path, s.key, "must be a list");
            for (const auto& x : v) {
                const auto known = [&](const std::vector<std::string>& names) {
                    return x.is_string() && std::find(names.begin(), names.end(), x.get<std::string>()) != names.end();
                };
                if (known(s.choices) || known(s.aliases)) continue;
                if (s.key == "target_modules") throw ConfigError(path, s.key, shown(x) + " is not a T5 linear layer (q, k, v, o, wi, wi_0, wi_1, wo)");
                std::string names;
                for (const auto* list : {&s.choices, &s.aliases})
                    for (const auto& c : *list) names += (names.empty() ? "" : ", ") + c;
                throw ConfigError(path, s.key, shown(x) + " is not one of " + names);
            }
            break;
    }
}

}  // namespace

std::string setting_help(const SettingSpec& s) { return s.origin.empty() ? s.help : s.help + " (" + s.origin + ")"; }

const std::vector<SettingSpec>& training_settings() {
    static const std::vector<SettingSpec> table = build_table();
    return table;
}

void TrainingArguments::validate(const std::string& where) const {
    json j = to_json();
    for (const auto& s : training_settings()) check_value(s, j.at(s.key), where);
    if (method == TrainingMethod::lora) lora.validate(where);
    for (const std::string& integration : report_to)  // "none" / "all" are mapped by the row only when alone (HF's ValueError)
        if (integration != "tensorboard") throw ConfigError(where, "report_to", "\"" + integration + "\" must be the only entry");
    if (max_steps <= 0 && !(num_train_epochs > 0))
        throw ConfigError(where, "num_train_epochs", "must be positive unless max_steps is set");
    validate_evaluation(where);
}

// HF's TrainingArguments.__post_init__ checks and EarlyStoppingCallback.on_train_begin's asserts, as errors
// before anything runs; plus a ROUGE metric without predict_with_generate (HF's KeyError at the first save).
void TrainingArguments::validate_evaluation(const std::string& where) const {
    if (load_best_model_at_end && eval_strategy != save_strategy)
        throw ConfigError(where, "load_best_model_at_end",
                          "requires the save and eval strategy to match, but found eval_strategy " + to_string(eval_strategy) +
                              " and save_strategy " + to_string(save_strategy));
    if (load_best_model_at_end && eval_strategy == IntervalStrategy::steps && save_steps % eval_steps != 0)
        throw ConfigError(where, "save_steps",
                          "load_best_model_at_end requires the saving steps to be a round multiple of the evaluation steps, but found " +
                              std::to_string(save_steps) + ", which is not a round multiple of " + std::to_string(eval_steps));
    if (early_stopping_patience > 0 && !load_best_model_at_end)
        throw ConfigError(where, "early_stopping_patience", "early stopping requires load_best_model_at_end (HF's EarlyStoppingCallback)");
    if (early_stopping_patience > 0 && eval_strategy == IntervalStrategy::no)
        throw ConfigError(where, "early_stopping_patience", "early stopping requires an eval_strategy of steps or epoch");
    if (objective != TrainingObjective::seq2seq && predict_with_generate)
        throw ConfigError(where, "predict_with_generate", "scores generated summaries; the " + to_string(objective) + " objective has none to score");
    const std::string key = best_metric_key();
    if (!key.empty() && key != "eval_loss" && !predict_with_generate)
        throw ConfigError(where, "metric_for_best_model", key + " is computed only with predict_with_generate");
}

std::string TrainingArguments::best_metric_key() const {
    std::string m = metric_for_best_model ? *metric_for_best_model : load_best_model_at_end ? "loss" : "";
    if (m.empty()) return m;
    return m.rfind("eval_", 0) == 0 ? m : "eval_" + m;
}

bool TrainingArguments::resolved_greater_is_better() const {
    if (greater_is_better) return *greater_is_better;
    // HF: metric_for_best_model not in ["loss", "eval_loss"]; with no metric (None) greater_is_better stays None.
    const std::string m = metric_for_best_model ? *metric_for_best_model : load_best_model_at_end ? "loss" : "";
    return !m.empty() && m != "loss" && m != "eval_loss";
}

nlohmann::json TrainingArguments::to_json() const {
    json j = json::object();
    for (const auto& s : training_settings()) j[s.key] = s.get(*this);
    return j;
}

TrainingArguments TrainingArguments::from_json(const nlohmann::json& j, const std::string& path) {
    if (!j.is_object()) throw ConfigError(path, "", "training settings must be a JSON object");
    TrainingArguments a;
    for (const auto& item : j.items()) {
        // Not a structured binding: C++17 lambdas cannot capture those (clang refuses it).
        const std::string& key = item.key();
        const auto& value = item.value();
        auto it = std::find_if(training_settings().begin(), training_settings().end(), [&](const SettingSpec& s) { return s.key == key; });
        if (it == training_settings().end()) throw ConfigError(path, key, "is not a training setting");
        check_value(*it, value, path);
        it->set(a, value);
    }
    a.validate(path);
    return a;
}

const std::vector<TrainingPreset>& training_presets() {
    static const std::vector<TrainingPreset> presets = [] {
        std::vector<TrainingPreset> p;
        TrainingArguments full;
        full.learning_rate = 1e-5;
        full.weight_decay = 0.01;
        full.num_train_epochs = 1;
        full.logging_steps = 1;
        full.max_steps = -1;
        p.push_back({"Lab – full fine-tuning", "The lab's instruct model: learning_rate 1e-5, weight_decay 0.01, 1 epoch, logging every step", full});
        TrainingArguments lora;
        lora.method = TrainingMethod::lora;
        lora.lora.r = 32;
        lora.lora.lora_alpha = 32;
        lora.lora.lora_dropout = 0.05;
        lora.learning_rate = 1e-3;
        lora.num_train_epochs = 1;
        lora.logging_steps = 1;
        p.push_back({"Lab – LoRA r=32", "The lab's PEFT model: r 32, alpha 32, dropout 0.05, q and v, learning_rate 1e-3, 1 epoch", lora});
        TrainingArguments small_full;
        small_full.learning_rate = 1e-4;
        small_full.per_device_train_batch_size = 8;
        small_full.per_device_eval_batch_size = 8;
        small_full.num_train_epochs = 10;
        small_full.weight_decay = 0.01;
        small_full.eval_strategy = IntervalStrategy::epoch;
        small_full.save_strategy = IntervalStrategy::epoch;
        small_full.logging_steps = 25;
        p.push_back({"FLAN-T5-small – full fine-tuning",
                     "learning_rate 1e-4, batch 8, 10 epochs, weight_decay 0.01, eval and save each epoch, logging every 25 steps", small_full});
        TrainingArguments small_lora;
        small_lora.method = TrainingMethod::lora;
        small_lora.lora.r = 8;
        small_lora.lora.lora_alpha = 16;
        small_lora.lora.lora_dropout = 0.05;
        small_lora.learning_rate = 1e-3;
        small_lora.num_train_epochs = 20;
        p.push_back({"FLAN-T5-small – LoRA r=8", "r 8, alpha 16, dropout 0.05, q and v, learning_rate 1e-3, 20 epochs", small_lora});
        return p;
    }();
    return presets;
}

}  // namespace sumlab
