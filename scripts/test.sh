#!/usr/bin/env bash
# Runs every check and test of the project, installing what they need first (Debian packages via
# apt-get, Python packages via pip). This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "system packages"
bash scripts/deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "C header drift (cbindgen, pinned)"
bash scripts/check-header.sh

step "cargo test (workspace)"
cargo test --workspace 2>&1 | tee target/cargo-test.log
passed=$(grep -E '^test result:' target/cargo-test.log | awk '{s+=$4} END {print s+0}')
failed=$(grep -E '^test result:' target/cargo-test.log | awk '{s+=$6} END {print s+0}')

printf '\nRust tests: %s passed, %s failed\n' "$passed" "$failed"
