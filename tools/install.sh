#!/usr/bin/env bash
# The one install script of LPU Lab. `make install`, the class hub's read-only install (tools/hub.py install) and
# the Kubernetes user image (deploy/Dockerfile) all run exactly this; tests/test_classroom_deploy.py checks it.
#
#   tools/install.sh [VENV]          # default VENV: .venv in the course folder
#   PYTHON=/usr/bin/python3.11       # the interpreter the venv is made from (default: python3.11 on the PATH)
#   LPU_LAB_PROXY=1                  # also install the hub's configurable-http-proxy (npm, hub/package-lock.json)
#
# Steps: a venv with pip's pinned packages (pyproject.toml: runtime, test and hub extras) and labsim installed
# editable from this folder; optionally the proxy; then labsim.warmup() compiles every numba kernel once into the
# package's own cache (labsim/**/__pycache__), the cache every later user loads from (labsim/_numba_cache.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
VENV="${1:-.venv}"
PIP=(--quiet --disable-pip-version-check)

command -v "$PYTHON" >/dev/null || { echo "error: $PYTHON not found; LPU Lab needs Python 3.11 (set PYTHON=...)" >&2; exit 1; }
test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
# pip runs again only when the pins or this script change (labsim itself is installed editable)
pins="$(cat pyproject.toml tools/install.sh | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.lpu-lab-pins" 2>/dev/null)" != "$pins" ]; then
  "$VENV/bin/python" -m pip install "${PIP[@]}" --upgrade pip
  "$VENV/bin/python" -m pip install "${PIP[@]}" -e '.[test,hub]'
  echo "$pins" > "$VENV/.lpu-lab-pins"
fi

if [ "${LPU_LAB_PROXY:-0}" = 1 ]; then
  command -v npm >/dev/null || { echo "error: npm not found; the class hub's proxy needs Node.js >= 20 and npm (apt-get install nodejs npm)" >&2; exit 1; }
  lock="$(sha256sum < hub/package-lock.json | cut -d' ' -f1)"
  if [ "$(cat hub/node_modules/.lpu-lab-lock 2>/dev/null)" != "$lock" ]; then
    (cd hub && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock" > hub/node_modules/.lpu-lab-lock
  fi
fi

"$VENV/bin/python" -c "import labsim, time; t = time.perf_counter(); labsim.warmup(); print(f'numba warm-up: {time.perf_counter() - t:.1f} s')"
