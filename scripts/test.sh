#!/usr/bin/env bash
# Runs every check and test of the project, installing what they need first (Debian packages via
# apt-get, Python packages via pip). This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
# This script installs every interop peer (ffmpeg, GStreamer, Xvfb, djpeg, a C compiler), so a
# test that finds one missing is a failed install: with CI set, such tests fail instead of skipping.
export CI="${CI:-true}"
# One clean build: incremental caches would double the target's size on disk for no gain.
export CARGO_INCREMENTAL=0

step() { printf '\n==> %s\n' "$*"; }

# Disk is the resource a CI machine runs short of first; say how much there was.
disk() { df -h . | awk 'NR == 2 {print "disk: " $4 " free of " $2}'; }
disk

step "system packages"
bash scripts/deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "protocol core without the runtime feature (no sockets, threads, mio, socket2, libc)"
cargo check -p rtsp-core --no-default-features --quiet

step "C header drift (cbindgen, pinned)"
bash scripts/check-header.sh

step "minimum Rust version (rust-version) against the locked dependencies"
bash scripts/check-msrv.sh

step "cargo test (workspace)"
cargo test --workspace 2>&1 | tee target/cargo-test.log
passed=$(grep -E '^test result:' target/cargo-test.log | awk '{s+=$4} END {print s+0}')
failed=$(grep -E '^test result:' target/cargo-test.log | awk '{s+=$6} END {print s+0}')

printf '\nRust tests: %s passed, %s failed\n' "$passed" "$failed"
disk; du -sh target 2>/dev/null || true

step "Python bindings (pip install ./py-bindings, ruff, mypy, pytest)"
bash scripts/test-python.sh 2>&1 | tee target/pytest.log
# pytest's summary line names only the outcomes that occurred ("91 passed in 20.0s"): a count
# that is absent is zero, and grep finding nothing must not end the script.
summary=$(grep -E '^[0-9]+ (passed|failed)' target/pytest.log | tail -1 || true)
py_passed=$({ grep -oE '[0-9]+ passed' <<<"$summary" || true; } | awk '{print $1}')
py_failed=$({ grep -oE '[0-9]+ failed' <<<"$summary" || true; } | awk '{print $1}')

printf '\nAll tests: %s passed, %s failed\n' "$((passed + ${py_passed:-0}))" "$((failed + ${py_failed:-0}))"
