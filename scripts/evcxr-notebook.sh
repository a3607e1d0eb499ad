#!/usr/bin/env bash
# Opt-in (not part of scripts/test.sh): runs notebooks/rust_api_evcxr.ipynb in evcxr_jupyter against a
# local `hq serve`, headless with nbclient, and fails on any error output.
#
# Installs evcxr_jupyter 0.22.0 with its own lock file (`--locked`: a fresh resolution picks a salsa that
# does not compile) into target/evcxr, and its kernelspec into .venv/share/jupyter, so nothing is installed
# outside the work tree. The first run compiles evcxr (several minutes) and then harmonyql inside evcxr.
# Writes the executed notebook to target/evcxr/rust_api_evcxr.executed.ipynb.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EVCXR_ROOT=$ROOT/target/evcxr
EVCXR_VERSION=0.22.0

if [ ! -x "$EVCXR_ROOT/bin/evcxr_jupyter" ]; then
    cargo install evcxr_jupyter --version "$EVCXR_VERSION" --locked --root "$EVCXR_ROOT"
fi
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install -q -r tests/python/requirements.txt
fi
export JUPYTER_PATH=$ROOT/.venv/share/jupyter
mkdir -p "$JUPYTER_PATH"
"$EVCXR_ROOT/bin/evcxr_jupyter" --install >/dev/null

cargo build --quiet --bin hq
WORK=$(mktemp -d)
target/debug/hq serve --port 0 --data-dir "$WORK/data" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
trap 'kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true' EXIT
URL=
for _ in $(seq 1 100); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/serve.out" | head -n 1 || true)
    [ -n "$URL" ] && break
    sleep 0.2
done
if [ -z "$URL" ]; then
    echo "hq serve did not start:" >&2
    cat "$WORK/serve.err" >&2
    exit 1
fi
export HQ_URL=$URL

.venv/bin/python - <<'PY'
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

source = "notebooks/rust_api_evcxr.ipynb"
executed = "target/evcxr/rust_api_evcxr.executed.ipynb"
nb = nbformat.read(source, as_version=4)
# Compiling harmonyql inside evcxr is slow on a cold cache: allow an hour per cell.
client = NotebookClient(nb, timeout=3600, kernel_name="rust", resources={"metadata": {"path": "notebooks"}})
try:
    client.execute()
except CellExecutionError as error:
    nbformat.write(nb, executed)
    print(f"the notebook failed (see {executed}):\n{error}", file=sys.stderr)
    sys.exit(1)
nbformat.write(nb, executed)
errors = [
    output
    for cell in nb.cells
    if cell.cell_type == "code"
    for output in cell.get("outputs", [])
    if output.get("output_type") == "error"
]
if errors:
    print(f"error outputs in {executed}: {errors}", file=sys.stderr)
    sys.exit(1)
rich = sum(
    1
    for cell in nb.cells
    if cell.cell_type == "code"
    for output in cell.get("outputs", [])
    if "text/html" in output.get("data", {}) or "image/png" in output.get("data", {})
)
print(f"{source}: {len(nb.cells)} cells ran without errors, {rich} rich outputs; executed copy in {executed}")
PY
