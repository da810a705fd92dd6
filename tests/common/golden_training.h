// The training settings of the goldens' train.json / lora.json (and bf16_autocast.json): 3 steps of one
// batch of the 8 golden rows, AdamW lr 1e-3 with weight decay 0.01, constant schedule, dropout off.
#pragma once

#include "engine/training/training_arguments.h"

namespace sumlab::test {

inline TrainingArguments golden_training_arguments(TrainingMethod method) {
    TrainingArguments a;
    a.method = method;
    a.max_steps = 3;
    a.per_device_train_batch_size = 8;  // one batch holding every example, as the goldens
    a.learning_rate = 1e-3;
    a.weight_decay = 0.01;
    a.lr_scheduler_type = SchedulerType::constant;
    a.dropout_rate = 0.0;
    a.logging_steps = 1;
    a.save_strategy = IntervalStrategy::no;
    return a;
}

}  // namespace sumlab::test
