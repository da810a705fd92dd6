#!/usr/bin/env bash
# Runs the libFuzzer targets of a -DSUMLAB_FUZZ=ON build one after another and prints, per target,
# the executions, coverage (cov: edges after half, three quarters and all of the executions; ft:
# features), corpus size and any crash files.
#   fuzz/run_fuzzers.sh BUILD_DIR SECONDS [TARGET...]      (default: every fuzz_* in BUILD_DIR/bin)
# The growing corpus goes to BUILD_DIR/fuzz-work/<target>, crashes to BUILD_DIR/fuzz-artifacts/<target>;
# the small seed corpora in fuzz/corpus/<target> are only read.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: $0 BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: $0 BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in "$build"/bin/fuzz_*; do targets+=("$(basename "$t")"); done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/scripts/sanitizers/lsan.supp:print_suppressions=0}
for t in "${targets[@]}"; do
  work="$build/fuzz-work/$t"; artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$work" "$artifacts"
  log="$build/fuzz-work/$t.log"
  # -malloc_limit_mb: a single allocation this large is reported as a crash (a parser must refuse
  # absurd sizes before allocating); -timeout: an input taking longer is a hang.
  "$build/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -malloc_limit_mb=1024 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work" "$here/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
  # The plateau check: coverage after half and three quarters of this round's executions.
  cov_at() { grep -E '^#[0-9]+' "$log" | awk -v limit="$1" '{ n = substr($1, 2) + 0; if (n <= limit) for (i = 1; i < NF; i++) if ($i == "cov:") c = $(i + 1) } END { print c }'; }
  half=$(cov_at "$(( ${execs:-0} / 2 ))"); threeq=$(cov_at "$(( ${execs:-0} * 3 / 4 ))")
  crashes=$(ls "$artifacts" | wc -l)
  echo "$t rc=$rc seconds=$seconds execs=${execs:-?} cov=${half:-?}/${threeq:-?}/${cov:-?} (at 1/2, 3/4, end) ft=${ft:-?} corpus=$(ls "$work" | wc -l) artifacts=$crashes"
done
