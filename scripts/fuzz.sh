#!/usr/bin/env bash
# Runs the cargo-fuzz targets (needs a nightly toolchain and `cargo install cargo-fuzz`).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   fuzz each target for the given time
#   scripts/fuzz.sh --minimize [TARGET...]             refresh the checked-in corpus
# Fuzzing reads the checked-in seeds (rtsp-core/fuzz/seeds/<target>) and minimized corpus
# (rtsp-core/fuzz/corpus/<target>) and writes new inputs to rtsp-core/fuzz/corpus-work/<target>
# (not versioned); it prints executions and findings per target. Crashes land in
# rtsp-core/fuzz/artifacts/<target>.
# --minimize merges corpus-work and corpus into the smallest set of inputs that keeps the code edges
# the seeds do not already reach, skipping inputs over MAX_INPUT bytes (default 4096). Edges only
# (no hit counts): that keeps every edge with about a fifth of the files, so the checked-in corpus
# stays small; `cargo test -p rtsp-core --test fuzz_corpus` replays it on stable.
set -euo pipefail
cd "$(dirname "$0")/../rtsp-core/fuzz"

list_targets() {
  if (($# == 0)); then cargo +nightly fuzz list; else printf '%s\n' "$@"; fi
}

minimize() {
  local t=$1 max=${MAX_INPUT:-4096} stage out dir f
  stage=$(mktemp -d) out=$(mktemp -d)
  mkdir -p "corpus-work/$t" "corpus/$t"
  # Candidates: everything grown so far that is small enough to check in.
  # (One copy per folder: both may hold the same file, and one cp refuses to write a name twice.)
  for dir in "corpus-work/$t" "corpus/$t"; do
    find "$dir" -type f -size -"$((max + 1))"c -exec cp -t "$stage" {} +
  done
  # Starting the merge from the seeds keeps only inputs that add coverage beyond them.
  cp seeds/"$t"/* "$out"/
  cargo +nightly fuzz run "$t" "$out" "$stage" -- -merge=1 -use_counters=0 -max_len="$max" \
    >"corpus-work/$t.minimize.log" 2>&1
  for f in seeds/"$t"/*; do rm -f "$out/$(basename "$f")"; done
  rm -rf "corpus/$t" && mkdir -p "corpus/$t" && cp "$out"/* "corpus/$t"/ 2>/dev/null || true
  rm -rf "$stage" "$out"
  echo "  $t: $(find "corpus/$t" -type f | wc -l) inputs, $(du -sb "corpus/$t" | cut -f1) bytes"
}

if [[ ${1:-} == --minimize ]]; then
  shift
  mapfile -t targets < <(list_targets "$@")
  echo "minimize into rtsp-core/fuzz/corpus/<target>:"
  for t in "${targets[@]}"; do minimize "$t"; done
  exit 0
fi

secs=${1:-300}
shift || true
mapfile -t targets < <(list_targets "$@")
for t in "${targets[@]}"; do
  mkdir -p "corpus-work/$t" "corpus/$t" "seeds/$t"
  log="corpus-work/$t.log"
  echo "fuzz: $t for ${secs}s"
  # A parser needing 10 s for one input of at most 64 KiB is a finding, not a slow machine.
  if cargo +nightly fuzz run "$t" "corpus-work/$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -max_len=65536 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    echo "  ok: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') executions" \
      "in $(grep -oE 'in [0-9]+ second' "$log" | tail -1 | awk '{print $2}') s," \
      "corpus $(find "corpus-work/$t" -type f | wc -l) inputs"
  else
    echo "  FAILED, see $log"
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -8
  fi
done
