#!/usr/bin/env python3
"""Generate summaries with Hugging Face transformers from a model folder SumLab wrote, to compare with
`sumlab-cli generate` on the same input (the same JSON lines: {"id", "text"} or {"id", "dialogue"}).

    . ../shared/reference/env.sh   # transformers 4.28 on Debian's python3-torch
    $PY scripts/hf_generate.py --model resources/models/dialogsum-demo --input in.jsonl --output hf.jsonl \\
        --prompt dialogsum --max-new-tokens 200

Writes {"id", "summary", "token_ids"} per line, greedy unless --num-beams > 1; float32, one dialogue at a
time (no padding), the prompt truncated to --max-source-length tokens as SumLab truncates it.
"""
import argparse
import json
import sys

PRESETS = {"dialogsum": "Summarize the following conversation.\n\n{dialogue}\n\nSummary: "}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--prompt", default=None, help="dialogsum, or a template with {dialogue}; without it the input's text is used as it is")
    ap.add_argument("--max-new-tokens", type=int, default=200)
    ap.add_argument("--num-beams", type=int, default=1)
    ap.add_argument("--max-source-length", type=int, default=512)
    args = ap.parse_args()

    import torch
    from transformers import T5ForConditionalGeneration, T5Tokenizer

    torch.set_num_threads(max(1, torch.get_num_threads()))
    tokenizer = T5Tokenizer.from_pretrained(args.model)
    model = T5ForConditionalGeneration.from_pretrained(args.model, torch_dtype=torch.float32).eval()
    template = PRESETS.get(args.prompt, args.prompt)
    out = []
    with open(args.input, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            text = row.get("text")
            if text is None:
                if "dialogue" not in row:
                    sys.exit(f"{args.input}:{n}: needs \"text\" or \"dialogue\"")
                text = row["dialogue"]
            if template:
                text = template.replace("{dialogue}", text)
            enc = tokenizer(text, return_tensors="pt", truncation=True, max_length=args.max_source_length)
            with torch.no_grad():
                ids = model.generate(**enc, max_new_tokens=args.max_new_tokens, num_beams=args.num_beams, do_sample=False)[0].tolist()
            ids = ids[1:]  # after the decoder start token, as SumLab's token_ids
            out.append({"id": row.get("id", n), "summary": tokenizer.decode(ids, skip_special_tokens=True), "token_ids": ids})
    with open(args.output + ".tmp", "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    import os
    os.replace(args.output + ".tmp", args.output)


if __name__ == "__main__":
    main()
