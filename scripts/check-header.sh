#!/usr/bin/env bash
# Regenerates rtsp-core/include/rtsp_core.h with the pinned cbindgen and fails if the checked-in
# header differs (CI runs it). `--update` writes the regenerated header instead of failing.
set -euo pipefail
cd "$(dirname "$0")/.."

CBINDGEN_VERSION=0.29.4

have=$(cbindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$CBINDGEN_VERSION" ]; then
  echo "check-header: installing cbindgen $CBINDGEN_VERSION (found: ${have:-none})"
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
fi

header=rtsp-core/include/rtsp_core.h
generated=$(mktemp)
trap 'rm -f "$generated"' EXIT
# The whole crate is parsed; only what the ffi functions use is emitted (see rtsp-core/cbindgen.toml).
(cd rtsp-core && cbindgen --quiet --config cbindgen.toml --output "$generated" src/lib.rs)

if [ "${1:-}" = "--update" ]; then
  cp "$generated" "$header"
  echo "check-header: $header regenerated"
  exit 0
fi

if ! diff -u "$header" "$generated"; then
  echo "check-header: $header is out of date; run scripts/check-header.sh --update and commit it" >&2
  exit 1
fi
echo "check-header: $header is up to date (cbindgen $CBINDGEN_VERSION)"
