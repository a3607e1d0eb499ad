#!/usr/bin/env bash
# Opt-in (not part of scripts/test.sh, because it compiles Rust inside the notebook): runs
# notebooks/rust_api_evcxr.ipynb in evcxr_jupyter against a local `hq serve`, headless with nbclient, and fails
# on any error output. The executed notebook and its HTML go to target/evcxr/.
#
# Installs evcxr_jupyter 0.22.0 with its own lock file (`--locked`: a fresh resolution picks a salsa that does
# not compile) into target/evcxr, and its kernelspec into .venv/share/jupyter, so nothing is installed outside
# the work tree. The first run compiles evcxr (several minutes) and then harmonyql inside evcxr (longer).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh

evcxr_root="$PWD/target/evcxr"
setup_debian_packages libhdf5-dev pkg-config
setup_venv
if [ ! -x "$evcxr_root/bin/evcxr_jupyter" ]; then
  log "installing evcxr_jupyter 0.22.0 into target/evcxr"
  cargo install evcxr_jupyter --version 0.22.0 --locked --root "$evcxr_root"
fi
export JUPYTER_PATH="$PWD/.venv/share/jupyter"
mkdir -p "$JUPYTER_PATH"
"$evcxr_root/bin/evcxr_jupyter" --install >/dev/null

cargo build --locked --quiet --bin hq
scratch=$(mktemp -d)
trap 'stop_local_harmony; rm -rf "$scratch"' EXIT
start_local_harmony "$PWD/target/debug/hq" "$scratch/data" "$scratch/serve.log"
log "local Harmony at $HQ_URL"
# The notebook reads HQ_URL; its `:dep harmonyql = { path = "../crates/harmonyql" }` (the library alone, never the server) is relative to notebooks/, the kernel's cwd.
# Compiling harmonyql inside evcxr on a cold cache takes long: an hour per cell at most.
HQ_URL="$HQ_URL" .venv/bin/python scripts/run_notebooks.py --timeout 3600 --out "$evcxr_root" \
  --workdir notebooks notebooks/rust_api_evcxr.ipynb
