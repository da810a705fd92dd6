# Writes bf16_autocast.json: what transformers 4.28's Trainer computes with `bf16=True` on the CPU --
# forward and loss under torch.cpu.amp.autocast(dtype=bfloat16), backward outside it, fp32 master
# weights and AdamW -- on the golden models' training batch, the reference tst_trainer's bf16 cases
# compare SumLab's autocast with. Run with the reference stack:
#   . ../shared/reference/env.sh && $PY tests/engine/training/make_bf16_goldens.py ../shared/golden/t5
import json
import os
import sys

import torch
import transformers
from peft import PeftModel
from transformers import T5ForConditionalGeneration

golden = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../../shared/golden/t5")
torch.set_num_threads(2)


def batch(name):
    meta = json.load(open(os.path.join(golden, name + ".goldens", "meta.json")))
    return (torch.tensor(meta["input_ids"]), torch.tensor(meta["attention_mask"]), torch.tensor(meta["labels"]))


def loss_of(model, ids, mask, labels):
    with torch.cpu.amp.autocast(dtype=torch.bfloat16):
        return model(input_ids=ids, attention_mask=mask, labels=labels).loss


def adamw(model):
    # The HF Trainer's grouping as train.json's: no decay for layer norms and names containing "bias".
    decay = [p for n, p in model.named_parameters() if p.requires_grad and "layer_norm" not in n and "bias" not in n]
    rest = [p for n, p in model.named_parameters() if p.requires_grad and ("layer_norm" in n or "bias" in n)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                             lr=1e-3, betas=(0.9, 0.999), eps=1e-8)


def train_steps(model, ids, mask, labels, steps=3):
    model.train()
    opt = adamw(model)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_of(model, ids, mask, labels)
        loss.backward()
        params = [p for p in model.parameters() if p.requires_grad]
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        out.append({"loss": loss.item(), "total_grad_norm_before_clip": norm.item()})
    return out


result = {"transformers": transformers.__version__, "torch": torch.__version__, "models": {}}
for name in ["tiny-flan", "tiny-t5v1"]:
    ids, mask, labels = batch(name)
    path = os.path.join(golden, name)
    model = T5ForConditionalGeneration.from_pretrained(path, dropout_rate=0.0).eval()
    with torch.no_grad():
        eval_loss = loss_of(model, ids, mask, labels).item()
    full = train_steps(model, ids, mask, labels)
    base = T5ForConditionalGeneration.from_pretrained(path, dropout_rate=0.0)
    lora_model = PeftModel.from_pretrained(base, os.path.join(golden, name + "-lora-r4"), is_trainable=True)
    lora = train_steps(lora_model, ids, mask, labels)
    result["models"][name] = {"eval_loss": eval_loss, "full_steps": full, "lora_steps": lora}
    print(name, eval_loss, [s["loss"] for s in full], [s["loss"] for s in lora])

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bf16_autocast.json")
with open(out, "w") as f:
    json.dump(result, f, indent=1)
print(out)
