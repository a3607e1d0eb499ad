#!/usr/bin/env bash
# The main job: runs the HarmonyQL tutorial notebooks against a local Harmony and writes the executed notebooks
# and their HTML renderings to out/. Installs what is missing (Debian packages, .venv, the kernelspec inside
# .venv), builds hq, starts `hq serve` on a free loopback port, executes the notebooks with nbclient, stops the
# server. Idempotent; a second run reuses the build, the venv and the server's generated granules.
#
#   scripts/tutorial.sh                 # the two tutorial notebooks
#   scripts/tutorial.sh notebooks/*.ipynb
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh

notebooks=("$@")
((${#notebooks[@]})) || notebooks=(notebooks/icesat2_atl03_subset.ipynb notebooks/smap_harmony.ipynb)

setup_debian_packages libhdf5-dev pkg-config
setup_venv
log "building hq"
cargo build --locked --quiet
hq="$PWD/target/debug/hq"
install_kernelspec "$hq"

# HQ_OUT moves the results (the notebook tests use a temporary directory).
out="${HQ_OUT:-$PWD/out}"
mkdir -p "$out"
# Granules are generated once into this directory and reused by later runs (HQ_DATA_DIR moves it).
data_dir="${HQ_DATA_DIR:-$PWD/target/hq-tutorial-data}"
server_log="$out/hq-serve.log"
trap stop_local_harmony EXIT
# The preview threshold is low so large_requests.ipynb can show a preview pause with the sample collections.
start_local_harmony "$hq" "$data_dir" "$server_log" --preview-threshold 4 --prepare
log "local Harmony at $HQ_URL"

status=0
HARMONY_ROOT_URL="local:${HQ_URL##*:}" .venv/bin/python scripts/run_notebooks.py --out "$out" --workdir "$out/work" \
  "${notebooks[@]}" || status=$?

log "results"
for notebook in "${notebooks[@]}"; do
  stem=$(basename "$notebook" .ipynb)
  printf '  %s\n  %s\n' "$out/$stem.html" "$out/$stem.ipynb"
done
echo "  downloads: $out/work/downloads   server log: $server_log"
exit "$status"
