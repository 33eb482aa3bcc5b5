#!/usr/bin/env bash
# Runs the cargo-fuzz targets (needs a nightly toolchain and `cargo install cargo-fuzz`).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# New inputs go to rtsp-core/fuzz/corpus-work/<target> (not versioned); the checked-in seeds under
# rtsp-core/fuzz/seeds/<target> are read too. Prints executions and findings per target.
set -euo pipefail
cd "$(dirname "$0")/../rtsp-core/fuzz"
secs=${1:-300}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
for t in "${targets[@]}"; do
  mkdir -p "corpus-work/$t" "seeds/$t"
  log="corpus-work/$t.log"
  echo "fuzz: $t for ${secs}s"
  if cargo +nightly fuzz run "$t" "corpus-work/$t" "seeds/$t" -- \
      -max_total_time="$secs" -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    echo "  ok: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') executions, corpus $(ls "corpus-work/$t" | wc -l) inputs"
  else
    echo "  FAILED, see $log"; grep -E 'panicked|ERROR|SUMMARY' "$log" | head -5
  fi
done
