"""transformers 4.28's beam-search sampling (generate(do_sample=True, num_beams>1)) on a golden model, for
tst_beam_sample: check_beam_sample.py MODEL_DIR META_JSON ROWS SETTINGS_JSON SEED prints the generated ids
of the first ROWS golden inputs, one list per returned sequence (start token dropped, cut after </s>)."""
import json
import sys

import torch
from transformers import T5ForConditionalGeneration

model_dir, meta_path, rows, settings, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]), int(sys.argv[5])
meta = json.load(open(meta_path))
model = T5ForConditionalGeneration.from_pretrained(model_dir).eval()
input_ids = torch.tensor(meta["input_ids"][:rows])
attention_mask = torch.tensor(meta["attention_mask"][:rows])
torch.manual_seed(seed)
with torch.no_grad():
    out = model.generate(input_ids=input_ids, attention_mask=attention_mask, do_sample=True, **settings)
result = []
for row in out.tolist():
    ids = []
    for t in row[1:]:
        ids.append(t)
        if t == model.config.eos_token_id:
            break
    result.append(ids)
print(json.dumps(result))
