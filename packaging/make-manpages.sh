#!/usr/bin/env bash
# Writes sumlab.1 and sumlab-cli.1 from the programs' own --help (the option tables that drive it),
# so the man pages never drift from the programs. Usage: make-manpages.sh BIN_DIR OUT_DIR
set -euo pipefail
bin=$1; out=$2
mkdir -p "$out"
include=$(mktemp)
trap 'rm -f "$include"' EXIT
{
  echo "[SUBCOMMANDS]"
  for sub in $("$bin/sumlab-cli" --help | awk '/^Subcommands:/{on=1; next} on && NF {print $1}'); do
    echo ".SS \"sumlab-cli $sub\""
    echo ".nf"
    "$bin/sumlab-cli" "$sub" --help | sed 's/\\/\\\\/g; s/^\./\\\&./'
    echo ".fi"
  done
  echo "[SEE ALSO]"
  echo "sumlab(1). /usr/share/doc/SumLab/README.md"
} > "$include"
help2man --no-info --section=1 --name="FLAN-T5 dialogue summarization from the command line" \
  --include="$include" --output="$out/sumlab-cli.1" "$bin/sumlab-cli"
printf '[SEE ALSO]\nsumlab-cli(1). /usr/share/doc/SumLab/README.md\n' > "$include"
help2man --no-info --section=1 --name="workbench for fine-tuning FLAN-T5 on dialogue summarization" \
  --include="$include" --output="$out/sumlab.1" "$bin/sumlab"
gzip -9nf "$out/sumlab-cli.1" "$out/sumlab.1"
