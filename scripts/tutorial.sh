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

mkdir -p out
# Granules are generated once into this directory and reused by later runs.
data_dir="$PWD/target/hq-tutorial-data"
server_log="$PWD/out/hq-serve.log"
# The preview threshold is low so large_requests.ipynb can show a preview pause with the sample collections.
"$hq" serve --port 0 --data-dir "$data_dir" --preview-threshold 4 >"$server_log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT

url=""
for _ in $(seq 1 100); do # at most 20 s
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$server_log" | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$url" ]; then
  echo "hq serve did not start; its log:" >&2
  cat "$server_log" >&2
  exit 1
fi
log "local Harmony at $url"

status=0
HARMONY_ROOT_URL="local:${url##*:}" .venv/bin/python scripts/run_notebooks.py --out out --workdir out/work \
  "${notebooks[@]}" || status=$?

log "results"
for notebook in "${notebooks[@]}"; do
  stem=$(basename "$notebook" .ipynb)
  printf '  %s\n  %s\n' "$PWD/out/$stem.html" "$PWD/out/$stem.ipynb"
done
echo "  downloads: $PWD/out/work/downloads   server log: $server_log"
exit "$status"
