# Run by tst_cross_attention (with the reference stack on PYTHONPATH): transformers 4.28's own cross-attention of
# one teacher-forced pass. argv: a model folder and a JSON file {"source", "summary", "max_source_length"}.
# Prints one JSON object:
#   input_ids, pieces    the slow T5Tokenizer's ids of the source (truncated) and their tokens (</s> included)
#   summary_ids          the summary's ids (</s> appended): the labels
#   cross_attentions     model(..., output_attentions=True).cross_attentions: [layer][head][summary token][source token]
import json
import sys

import torch
from transformers import T5ForConditionalGeneration, T5Tokenizer

folder, request = sys.argv[1], json.load(open(sys.argv[2], encoding="utf-8"))
tok = T5Tokenizer.from_pretrained(folder)
model = T5ForConditionalGeneration.from_pretrained(folder)
model.eval()
enc = tok(request["source"], max_length=request["max_source_length"], truncation=True, return_tensors="pt")
labels = tok(text_target=request["summary"], return_tensors="pt").input_ids
with torch.no_grad():
    out = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, labels=labels, output_attentions=True)
json.dump({
    "input_ids": enc.input_ids[0].tolist(),
    "pieces": tok.convert_ids_to_tokens(enc.input_ids[0].tolist()),
    "summary_ids": labels[0].tolist(),
    "cross_attentions": [layer[0].tolist() for layer in out.cross_attentions],
}, sys.stdout)
