# Run by tst_tokenizer_train (with the reference stack on PYTHONPATH): loads a tokenizer folder written by
# sumlab-cli tokenizer train with transformers 4.28's T5Tokenizer and prints one JSON object: its special ids,
# len(tokenizer), and for each text of the JSON list in argv[2] the ids (</s> appended), the pieces and the
# decoded ids (skip_special_tokens=True, and False).
import json
import sys

from transformers import T5Tokenizer

tok = T5Tokenizer.from_pretrained(sys.argv[1])
texts = json.load(open(sys.argv[2], encoding="utf-8"))
out = {
    "len": len(tok),
    "pad": tok.pad_token_id,
    "eos": tok.eos_token_id,
    "unk": tok.unk_token_id,
    "extra_id_0": tok.convert_tokens_to_ids("<extra_id_0>"),
    "ids": [], "pieces": [], "decode": [], "decode_all": [],
}
for text in texts:
    ids = tok(text).input_ids
    out["ids"].append(ids)
    out["pieces"].append(tok.tokenize(text))
    out["decode"].append(tok.decode(ids, skip_special_tokens=True))
    out["decode_all"].append(tok.decode(ids, skip_special_tokens=False))
print(json.dumps(out, ensure_ascii=False))
