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
# The version macros come from the crate's version, so a version bump shows up as header drift
# (cbindgen cannot evaluate env!): they are added to a copy of the config as `after_includes`,
# which must precede the config's first table.
version=$(cargo pkgid -p rtsp-core | sed 's/.*[#@]//')
core=${version%%[-+]*}
IFS=. read -r major minor patch <<<"$core"
config=$(mktemp)
trap 'rm -f "$generated" "$config"' EXIT
{
  echo 'after_includes = """'
  echo
  echo '// The version of the rtsp-core this header was generated from. rtsp_core_version() returns'
  echo '// the version of the library actually loaded, to compare with RTSP_CORE_VERSION_STRING.'
  echo "#define RTSP_CORE_VERSION_MAJOR $major"
  echo "#define RTSP_CORE_VERSION_MINOR $minor"
  echo "#define RTSP_CORE_VERSION_PATCH $patch"
  # The closing quotes on the same line: cbindgen already ends the block with a blank line.
  printf '#define RTSP_CORE_VERSION_STRING "%s""""\n' "$version"
  cat rtsp-core/cbindgen.toml
} >"$config"
# The whole crate is parsed; only what the ffi functions use is emitted (see rtsp-core/cbindgen.toml).
(cd rtsp-core && cbindgen --quiet --config "$config" --output "$generated" src/lib.rs)

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
