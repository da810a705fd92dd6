# Run by tst_t5_init (with the reference stack on PYTHONPATH): loads a folder written by
# sumlab-cli init with transformers 4.28 and prints one JSON object:
#   loading_info      from_pretrained(output_loading_info=True)
#   file_vs_loaded    keys of model.safetensors whose tensor differs from the loaded state dict
#   missing_in_file   loaded keys absent from the file that are not aliases of shared.weight
#   hf_init           {key: [std, mean, numel, min, max]} of a model HF initialises itself from the same config
#   logits            the loaded model's logits (eval) for input_ids / decoder_input_ids given on argv
import json
import sys

import torch
from safetensors.torch import load_file
from transformers import T5Config, T5ForConditionalGeneration

folder, input_ids, decoder_input_ids = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
model, info = T5ForConditionalGeneration.from_pretrained(folder, output_loading_info=True)
model.eval()
state = model.state_dict()
weights = load_file(folder + "/model.safetensors")
differs = sorted(k for k, t in weights.items() if k not in state or not torch.equal(t, state[k]))
aliases = {"encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"}
missing = sorted(k for k in state if k not in weights and not (k in aliases and torch.equal(state[k], state["shared.weight"])))

torch.manual_seed(0)
fresh = T5ForConditionalGeneration(T5Config.from_pretrained(folder))
hf_init = {}
for k, t in fresh.state_dict().items():
    t = t.double()
    hf_init[k] = [t.std().item() if t.numel() > 1 else 0.0, t.mean().item(), t.numel(), t.min().item(), t.max().item()]

with torch.no_grad():
    logits = model(input_ids=torch.tensor(input_ids), decoder_input_ids=torch.tensor(decoder_input_ids)).logits
print(json.dumps({
    "loading_info": {k: [str(x) for x in v] for k, v in info.items()},
    "file_vs_loaded": differs,
    "missing_in_file": missing,
    "hf_init": hf_init,
    "logits": logits[0].tolist(),
}))
