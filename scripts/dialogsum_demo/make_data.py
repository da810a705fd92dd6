#!/usr/bin/env python3
"""The two training sets of runs A and M (docs/RESULTS.md, session 11), from DialogSum's CSV.

    python3 make_data.py DIALOGSUM_CSV_DIR OUT_DIR

OUT_DIR/turns: stage 1, a copy task. Each row is 1-3 consecutive turns of a training dialogue (under 400
  characters) and its summary is the same text, so that a T5 trained from scratch might learn to read its encoder on short
  inputs first (on whole dialogues its decoder ignores the encoder for epochs; it did not help: docs/RESULTS.md).
OUT_DIR/mix: stage 2, DialogSum's training split with each dialogue already written into the lab's prompt,
  shuffled 1:1 with copy rows (so the encoder keeps being read), and the validation and test splits in the
  lab's prompt. Training on it with --prompt '{dialogue}' gives the model exactly the input that
  --prompt dialogsum gives it at evaluation.
Seeds are fixed: the same CSV gives the same files.
"""
import csv
import os
import random
import sys

LAB_PROMPT = "Summarize the following conversation.\n\n{dialogue}\n\nSummary: "
FIELDS = ["id", "dialogue", "summary", "topic"]


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    os.replace(path + ".tmp", path)


def chunks(rows, n, rng):
    """Up to n chunks of 1-3 consecutive turns, shuffled."""
    out = []
    for r in rows:
        turns = [t.strip() for t in r["dialogue"].split("\n") if t.strip()]
        i = 0
        while i < len(turns):
            k = rng.randint(1, 3)
            c = "\n".join(turns[i:i + k])
            i += k
            if len(c) < 400:
                out.append(c)
    rng.shuffle(out)
    return out[:n]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    splits = {s: read(os.path.join(src, s + ".csv")) for s in ("train", "validation", "test")}
    rng = random.Random(7)
    copy = lambda name, cs: [{"id": f"{name}_{i}", "dialogue": c, "summary": c, "topic": "copy"} for i, c in enumerate(cs)]
    turns_train = copy("train", chunks(splits["train"], 40000, rng))
    write(os.path.join(dst, "turns/train.csv"), turns_train)
    write(os.path.join(dst, "turns/validation.csv"), copy("validation", chunks(splits["validation"], 500, rng)))
    # A test split only because a data folder needs one; nothing scores it.
    write(os.path.join(dst, "turns/test.csv"), copy("test", chunks(splits["validation"], 10, rng)))

    rng = random.Random(11)
    for split, rows in splits.items():
        out = [{"id": r["id"], "dialogue": LAB_PROMPT.replace("{dialogue}", r["dialogue"]), "summary": r["summary"],
                "topic": r["topic"]} for r in rows]
        if split == "train":
            out += [dict(t, id="copy_" + t["id"]) for t in turns_train[-len(rows):]]
            rng.shuffle(out)
        write(os.path.join(dst, "mix", split + ".csv"), out)


if __name__ == "__main__":
    main()
