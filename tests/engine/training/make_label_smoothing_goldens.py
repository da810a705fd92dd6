# Writes label_smoothing.json: transformers 4.28's LabelSmoother (trainer_pt_utils.py) applied to the tiny golden
# models' logits on the golden batch (../shared/golden/t5/<model>.goldens/meta.json: 8 DialogSum rows, labels with
# -100 for padding), in eval mode (no dropout), for a few label_smoothing_factor values. tst_trainer_eval compares
# the trainer's first logged loss with label_smoothing_factor set against these numbers.
# Run with the reference stack:  . ../shared/reference/env.sh && $PY tests/engine/training/make_label_smoothing_goldens.py
import json
import os

import torch
import transformers
from transformers import T5ForConditionalGeneration
from transformers.trainer_pt_utils import LabelSmoother

here = os.path.dirname(os.path.abspath(__file__))
golden = os.path.join(here, "..", "..", "..", "..", "shared", "golden", "t5")
if not os.path.isdir(golden):
    golden = "/work/shared/golden/t5"

out = {"transformers": transformers.__version__, "torch": torch.__version__, "models": {}}
for name in ["tiny-flan", "tiny-t5v1"]:
    meta = json.load(open(os.path.join(golden, name + ".goldens", "meta.json")))
    model = T5ForConditionalGeneration.from_pretrained(os.path.join(golden, name)).eval()
    input_ids = torch.tensor(meta["input_ids"])
    attention_mask = torch.tensor(meta["attention_mask"])
    labels = torch.tensor(meta["labels"])
    with torch.no_grad():
        # As Trainer.compute_loss with a label smoother: labels popped, the model given decoder inputs only
        # (DataCollatorForSeq2Seq's prepare_decoder_input_ids_from_labels), the smoother applied to its logits.
        outputs = model(input_ids=input_ids, attention_mask=attention_mask,
                        decoder_input_ids=model.prepare_decoder_input_ids_from_labels(labels=labels))
        losses = {}
        for epsilon in [0.0, 0.1, 0.3]:
            losses[str(epsilon)] = LabelSmoother(epsilon=epsilon)(outputs, labels).item()
    out["models"][name] = {"label_tokens": int((labels != -100).sum()), "loss": losses}

path = os.path.join(here, "label_smoothing.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print(path, json.dumps(out))
