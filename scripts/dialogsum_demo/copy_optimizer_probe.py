# Copy-task probe (docs/RESULTS.md, session 12): the same copy rows, init and schedule under torch AdamW or
# transformers Adafactor, in transformers 4.28. Usage (from /tmp, after ../shared/reference/env.sh):
#   /usr/bin/python3 copy_optimizer_probe.py adamw|adafactor|adafactor_noscale LR STEPS [train.csv] [init folder]
import sys, csv, random, time, torch, json
from transformers import T5ForConditionalGeneration, T5Tokenizer
from transformers.optimization import Adafactor
torch.set_num_threads(1)
opt_name, lr, steps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
data = sys.argv[4] if len(sys.argv) > 4 else '/work/train21/copy/train.csv'
init = sys.argv[5] if len(sys.argv) > 5 else '/work/train21/initE'
tok = T5Tokenizer.from_pretrained(init)
model = T5ForConditionalGeneration.from_pretrained(init, dropout_rate=0.0)
rows = list(csv.DictReader(open(data)))
torch.manual_seed(0); random.seed(0)
if opt_name == 'adamw':
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
elif opt_name == 'adafactor':
    opt = Adafactor(model.parameters(), lr=lr, scale_parameter=True, relative_step=False, warmup_init=False)
elif opt_name == 'adafactor_noscale':
    opt = Adafactor(model.parameters(), lr=lr, scale_parameter=False, relative_step=False, warmup_init=False)
warm = 50
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / warm) * max(0.0, (steps - s) / (steps - warm)) if s >= warm else s / warm)
model.train(); t0 = time.time(); acc = 0.0; n = 0
for step in range(1, steps + 1):
    b = random.sample(rows, 16)
    enc = tok([r['dialogue'] for r in b], return_tensors='pt', padding=True, truncation=True, max_length=512)
    lab = tok([r['summary'] for r in b], return_tensors='pt', padding=True, truncation=True, max_length=128).input_ids
    lab[lab == 0] = -100
    loss = model(**enc, labels=lab).loss
    loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step(); sched.step(); opt.zero_grad()
    acc += loss.item(); n += 1
    if step % 100 == 0:
        print(json.dumps({'opt': opt_name, 'lr': lr, 'step': step, 'loss': round(acc / n, 3), 's': round(time.time() - t0)}), flush=True); acc = 0; n = 0
model.eval()
val = list(csv.DictReader(open(data.replace('train.csv', 'validation.csv'))))[:20]
ok = 0
for r in val:
    enc = tok(r['dialogue'], return_tensors='pt')
    out = tok.decode(model.generate(**enc, max_new_tokens=64)[0], skip_special_tokens=True)
    ok += out.strip() == r['summary'].strip()
    if r is val[0] or r is val[1]: print('REF', r['summary'][:120], '\nGOT', out[:120], flush=True)
print(json.dumps({'opt': opt_name, 'lr': lr, 'exact_copies_of_20': ok}), flush=True)
