#!/bin/bash
# Runs A and M of docs/RESULTS.md (session 11), the recipe tried for resources/models/dialogsum-demo, with SumLab
# alone from DialogSum's CSV (it ended in the template summary; the model was not shipped):
#   scripts/dialogsum_demo/train.sh DIALOGSUM_CSV_DIR WORK_DIR
# Stages: tokenizer, a fresh T5 (config.json here), data (make_data.py), stage 1 copy task (2,000 steps), stage 2
# summaries mixed with copy rows (4 epochs, best checkpoint by validation loss), fp16 conversion. Each training
# resumes where it stopped when the script is run again (--resume). About 2 hours on a 2-core AVX-512 machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csv=${1:?DialogSum CSV folder (train.csv, validation.csv, test.csv)}
work=${2:?work folder}
cli=${SUMLAB_CLI:-sumlab-cli}
mkdir -p "$work"
work=$(cd "$work" && pwd)  # absolute, so each run.json names the model it started from
cd "$work"
resume() { [ -n "$(ls -d "$1"/checkpoint-* 2>/dev/null)" ] && echo --resume || true; }

[ -f tok/spiece.model ] || "$cli" tokenizer train --data "$csv" --vocab-size 8000 --output tok
[ -f init/model.safetensors ] || "$cli" init --config "$here/config.json" --tokenizer tok --output init --seed 42
[ -f mix/train.csv ] || python3 "$here/make_data.py" "$csv" .

common=(--per-device-train-batch-size 16 --per-device-eval-batch-size 32 --bf16 --group-by-length
        --max-target-length 128 --lr-scheduler-type linear --quiet)
[ -f stage1/final/model.safetensors ] || "$cli" train --model "$work/init" --data "$work/turns" --output stage1 \
  --prompt '{dialogue}' --learning-rate 1e-3 --warmup-steps 100 --max-steps 2000 --dropout-rate 0 \
  --max-source-length 128 --logging-steps 50 --eval-strategy steps --eval-steps 1000 --save-strategy steps \
  --save-steps 1000 "${common[@]}" $(resume stage1)
[ -f stage2/final/model.safetensors ] || "$cli" train --model "$work/stage1/final" --data "$work/mix" --output stage2 \
  --prompt '{dialogue}' --learning-rate 5e-4 --warmup-steps 200 --num-train-epochs 4 --dropout-rate 0.1 \
  --max-source-length 512 --logging-steps 25 --eval-strategy steps --eval-steps 779 --save-strategy steps \
  --save-steps 779 --save-total-limit 2 --load-best-model-at-end --metric-for-best-model eval_loss \
  --predict-with-generate --eval-generate-limit 100 --generation-max-length 100 "${common[@]}" $(resume stage2)
[ -f dialogsum-demo/model.safetensors ] || "$cli" convert --model "$work/stage2/final" --output dialogsum-demo --torch-dtype float16
echo "model: $work/dialogsum-demo"
