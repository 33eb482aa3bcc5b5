#!/usr/bin/env bash
# Checks that the workspace's declared minimum Rust version (rust-version in Cargo.toml) is true:
# - no locked dependency declares a higher rust-version (cargo would refuse to build with the
#   declared minimum);
# - the toolchain running this script is at least that version.
# Our own code's use of newer standard-library APIs is checked by clippy's `incompatible_msrv`
# lint, which reads the same field (scripts/test.sh runs clippy with -D warnings).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo metadata --format-version 1 --locked | python3 -c '
import json, re, subprocess, sys

def version(text):
    return tuple(int(x) for x in text.split("."))

def show(v):
    return ".".join(map(str, v))

meta = json.load(sys.stdin)
ours = set(meta["workspace_members"])
declared = {p["rust_version"] for p in meta["packages"] if p["id"] in ours}
if len(declared) != 1 or None in declared:
    sys.exit(f"msrv: workspace crates must all inherit one rust-version, found {sorted(map(str, declared))}")
msrv = declared.pop()
above = sorted(
    (version(p["rust_version"]), p["name"], p["version"])
    for p in meta["packages"]
    if p["id"] not in ours and p.get("rust_version") and version(p["rust_version"]) > version(msrv)
)
if above:
    needed = show(above[-1][0])
    names = ", ".join(f"{n} {v} (needs {show(r)})" for r, n, v in above[-5:])
    sys.exit(f"msrv: rust-version = {msrv} is false: {len(above)} dependencies need more, up to {needed}: {names}")
rustc = re.search(r"(\d+\.\d+)", subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True).stdout)
if rustc is None or version(rustc.group(1)) < version(msrv):
    sys.exit(f"msrv: this toolchain is older than rust-version = {msrv}")
print(f"msrv: rust-version = {msrv} holds for every locked dependency")
'
