// TrainingArguments: the settings of a training run, named and defaulted as Hugging Face's
// Seq2SeqTrainingArguments (and PEFT's LoraConfig for the adapter). Every setting is described
// once in training_settings(): that table drives `sumlab-cli train` flags, run.json validation
// and the GUI's form and tooltips.
#pragma once

#include "models/lora.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sumlab {

enum class TrainingMethod { full, lora };
enum class SchedulerType { linear, constant, cosine };
// HF's `optim`: torch's AdamW, or transformers' Adafactor (T5's own optimizer; factored second moments).
enum class OptimizerType { adamw_torch, adafactor };
// What the model learns: prompt -> summary, or T5's denoising of the prompts (pretraining a new model).
enum class TrainingObjective { seq2seq, span_corruption, text_infilling };
enum class IntervalStrategy { no, steps, epoch };

struct TrainingArguments {
    TrainingMethod method = TrainingMethod::full;  // "full" fine-tuning (the lab's instruct model) or "lora" (PEFT)
    TrainingObjective objective = TrainingObjective::seq2seq;  // SumLab's own; span_corruption = DataCollatorForT5MLM, text_infilling = BART's
    double mlm_probability = 0.15;                 // run_t5_mlm_flax.py default 0.15: share of each prompt's tokens hidden
    double mean_noise_span_length = 3.0;           // run_t5_mlm_flax.py default 3.0
    LoraConfig lora;                               // used when method == lora
    double learning_rate = 5e-5;                   // HF default 5e-5; lab: 1e-5 full, 1e-3 LoRA
    double num_train_epochs = 3.0;                 // HF default 3
    int64_t max_steps = -1;                        // HF: > 0 overrides num_train_epochs
    int64_t per_device_train_batch_size = 8;       // HF default 8
    int64_t per_device_eval_batch_size = 8;        // HF default 8
    int64_t gradient_accumulation_steps = 1;       // HF default 1
    int64_t warmup_steps = 0;                      // HF default 0; overrides warmup_ratio when > 0
    double warmup_ratio = 0.0;                     // HF default 0
    SchedulerType lr_scheduler_type = SchedulerType::linear;  // HF default linear
    double weight_decay = 0.0;                     // HF default 0; AdamW, decoupled, not on biases / layer norms
    double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;  // HF defaults
    OptimizerType optim = OptimizerType::adamw_torch;
    // Adafactor's scale_parameter (HF Trainer passes False): each tensor's step is learning_rate x its RMS.
    bool adafactor_scale_parameter = false;
    double max_grad_norm = 1.0;                    // HF default 1.0; 0 disables clipping
    int64_t seed = 42;                             // HF default 42
    int64_t logging_steps = 500;                   // HF default 500
    std::vector<std::string> report_to;            // integrations that get the logs: empty or "none" = none (SumLab's default;
                                                   // HF's is "all" installed), "tensorboard" (TensorBoardCallback)
    std::optional<std::string> logging_dir;        // HF default None: <output_dir>/runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname>
    IntervalStrategy eval_strategy = IntervalStrategy::no;
    int64_t eval_steps = 500;
    IntervalStrategy save_strategy = IntervalStrategy::steps;
    int64_t save_steps = 500;                      // HF default 500
    int64_t save_total_limit = 0;                  // 0 = keep every checkpoint (HF: None)
    int64_t max_source_length = 512;               // the lab truncates dialogues to 512 tokens
    int64_t max_target_length = 128;
    bool group_by_length = false;                  // batches of similar source lengths (less padding)
    bool bf16 = false;                             // HF bf16=True: forward and loss under bfloat16 autocast, fp32 master weights
    bool gradient_checkpointing = false;           // HF default False: recompute each T5 block's activations in backward
    std::optional<double> dropout_rate;            // overrides config.json's dropout_rate when set
    std::string prompt = "dialogsum";              // prompt template or preset
    std::string device = "cpu";
    int64_t ddp_timeout = 60;                      // HF default 1800 s; seconds a collective waits for the other ranks
    // Data selection (the lab's quick demo trains on every 100th example).
    int64_t limit = 0;                             // 0 = all
    int64_t every_kth = 1;
    // ROUGE at each evaluation (Seq2SeqTrainingArguments), on the first eval_generate_limit validation examples.
    bool predict_with_generate = false;            // HF default False
    std::optional<int64_t> generation_max_length;  // HF default None: the model's generation config (max_length)
    std::optional<int64_t> generation_num_beams;   // HF default None: the model's generation config (num_beams)
    int64_t eval_generate_limit = 100;             // SumLab's own: examples generated per evaluation, 0 = all
    // The best checkpoint (HF TrainingArguments) and early stopping (HF EarlyStoppingCallback).
    bool load_best_model_at_end = false;           // HF default False; final/ is then the best checkpoint
    std::optional<std::string> metric_for_best_model;  // HF default None ("loss" when load_best_model_at_end)
    std::optional<bool> greater_is_better;         // HF default None: false for "loss" / "eval_loss", else true
    int64_t early_stopping_patience = 0;           // EarlyStoppingCallback(early_stopping_patience); 0 = no callback
    double early_stopping_threshold = 0.0;         // EarlyStoppingCallback default 0.0
    double label_smoothing_factor = 0.0;           // HF default 0.0 (LabelSmoother's epsilon)

    // HF's resolved metric_for_best_model with the "eval_" prefix ("eval_loss"), or empty when none is tracked.
    std::string best_metric_key() const;
    // HF's greater_is_better once __post_init__ filled it in.
    bool resolved_greater_is_better() const;

    void validate(const std::string& where) const;
    void validate_evaluation(const std::string& where) const;  // part of validate()
    nlohmann::json to_json() const;
    static TrainingArguments from_json(const nlohmann::json& j, const std::string& path);
};

// One row of the settings table.
struct SettingSpec {
    enum class Kind { integer, real, boolean, choice, text, list };
    std::string key;           // Hugging Face's name: "learning_rate", "lora_alpha", ...
    std::string flag;          // CLI flag: "--learning-rate"
    Kind kind;
    std::string help;          // one sentence, also the GUI tooltip
    std::string origin;        // where users know the key from, shown after the help: "Hugging Face: learning_rate",
                               // "PEFT LoraConfig: r"; empty for SumLab's own settings
    double min = 0, max = 0;   // for integer / real
    std::vector<std::string> choices;
    std::vector<std::string> aliases;  // list: also accepted, set() maps them onto choices (report_to's "none", "all")
    bool lora_only = false;
    bool is_nullable = false;  // null is a value (HF's None: "use the model's" or "not set")
    std::function<nlohmann::json(const TrainingArguments&)> get;
    std::function<void(TrainingArguments&, const nlohmann::json&)> set;  // value already range-checked
};
const std::vector<SettingSpec>& training_settings();
// The help text with its origin, as --help and the GUI's tooltips show it.
std::string setting_help(const SettingSpec& s);

// Presets with the values the labs use.
struct TrainingPreset {
    std::string name;
    std::string description;
    TrainingArguments arguments;
};
const std::vector<TrainingPreset>& training_presets();

std::string to_string(TrainingMethod m);
std::string to_string(SchedulerType s);
std::string to_string(OptimizerType o);
std::string to_string(TrainingObjective o);
std::string to_string(IntervalStrategy s);

}  // namespace sumlab
