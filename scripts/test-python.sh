#!/usr/bin/env bash
# Builds the Python bindings the way a user installs them (`pip install ./py-bindings`, which
# runs maturin in release mode) into a private virtualenv, checks the Python code (ruff, mypy)
# and runs the pytest suite (the Tk tests under a private Xvfb). Prints pytest's summary line;
# exits non-zero on any failure. The Rust side is covered by the workspace's fmt and clippy.
#
#   scripts/test-python.sh [PYTEST_ARGS...]
#
# PYTHON picks the interpreter (default: python3; it needs >= 3.11, venv and tkinter; on Debian
# that is python3-venv and python3-tk, which scripts/deps.sh installs).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=target/py-venv

bash scripts/deps.sh

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "test-python: $PYTHON is $("$PYTHON" --version 2>&1); rtsp_core needs Python >= 3.11" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import tkinter' 2>/dev/null; then
  echo "test-python: warning: $PYTHON has no tkinter; the Tk tests will be skipped" >&2
fi

# A venv keeps the test from touching the interpreter's own packages (Debian's python3 refuses
# plain `pip install` anyway, PEP 668). Recreated if its interpreter went away.
if ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 RUFF_CACHE_DIR=target/ruff-cache

echo "test-python: pip install ./py-bindings (maturin, release build of the engine)"
start=$(date +%s)
# Pinned so a new release's rules cannot fail an unchanged tree.
"$PY" -m pip install --quiet pytest pillow ruff==0.17.6 mypy==2.4.1
"$PY" -m pip install --quiet --force-reinstall --no-deps ./py-bindings
echo "test-python: installed in $(($(date +%s) - start)) s"

"$PY" -c 'import rtsp_core; print("test-python: import rtsp_core OK, engine", rtsp_core.__version__)'

echo "test-python: ruff (lint, format) and mypy --strict"
"$VENV/bin/ruff" check --quiet --config py-bindings/pyproject.toml py-bindings examples/python
"$VENV/bin/ruff" format --quiet --check --config py-bindings/pyproject.toml py-bindings examples/python
"$VENV/bin/mypy" --strict --no-error-summary --cache-dir target/mypy-cache py-bindings/python/rtsp_core

cd py-bindings
# -p no:cacheprovider: leave no .pytest_cache in the source tree.
"../$PY" -m pytest -q -p no:cacheprovider "$@"
