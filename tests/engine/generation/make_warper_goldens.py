# Writes warpers.json: transformers 4.28's sampling warpers applied to seeded random logits, the
# goldens tst_generation compares apply_top_k / apply_top_p / apply_typical_p and the warper order with.
# Run with the reference stack:  . ../shared/reference/env.sh && $PY tests/engine/generation/make_warper_goldens.py
import json
import os

import torch
from transformers import GenerationConfig
from transformers.generation.utils import GenerationMixin
import transformers

torch.manual_seed(1234)
# Rows of different shapes: peaked (one clear winner), flat, and ordinary logits; 96 tokens each.
rows = torch.randn(4, 96) * torch.tensor([[1.0], [6.0], [0.3], [2.5]])
rows[0, 7] += 8.0  # a peaked row: top_p keeps one token

cases = []
settings = [
    {"top_k": 1}, {"top_k": 5}, {"top_k": 50}, {"top_k": 200},
    {"top_k": 0, "top_p": 0.5}, {"top_k": 0, "top_p": 0.9}, {"top_k": 0, "top_p": 0.95},
    {"top_k": 0, "typical_p": 0.2}, {"top_k": 0, "typical_p": 0.9},
    {"temperature": 0.7, "top_k": 10, "top_p": 0.9},
    {"temperature": 1.8, "top_k": 0, "top_p": 0.8},
    {"temperature": 0.5, "top_k": 20, "top_p": 0.7, "typical_p": 0.95},
]
for s in settings:
    config = GenerationConfig(do_sample=True, **s)
    warpers = GenerationMixin._get_logits_warper(None, config)
    out = warpers(torch.zeros(rows.size(0), 1, dtype=torch.long), rows.clone())
    cases.append({"settings": s, "warped": [[None if v == float("-inf") else v for v in r] for r in out.tolist()],
                  "warpers": [type(w).__name__ for w in warpers]})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "warpers.json")
with open(path, "w") as f:
    json.dump({"transformers": transformers.__version__, "torch": torch.__version__,
               "logits": rows.tolist(), "cases": cases}, f)
print(path, len(cases), "cases")
