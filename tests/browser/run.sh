#!/usr/bin/env bash
# The browser test: the ATL03 tutorial notebook run in JupyterLab in Debian's headless Chromium.
# Starts hq serve and JupyterLab on loopback (the notebook copied into a temporary root, so nothing in the
# repository changes), runs tests/browser/jupyterlab.mjs, stops both. The screenshot goes to out/ (HQ_OUT moves it).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh

setup_debian_packages libhdf5-dev pkg-config chromium
command -v npm >/dev/null 2>&1 || setup_debian_packages nodejs npm
setup_venv
cargo build --locked --quiet
hq="$PWD/target/debug/hq"
install_kernelspec "$hq"

# playwright-core only: it drives the system's Chromium and downloads no browser.
lock_stamp=tests/browser/node_modules/.package-lock.sha256
if ! sha256sum --status -c "$lock_stamp" 2>/dev/null; then
  log "installing playwright-core"
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
  sha256sum tests/browser/package-lock.json > "$lock_stamp"
fi

out="${HQ_OUT:-$PWD/out}"
mkdir -p "$out"
scratch=$(mktemp -d)
cleanup() {
  stop_jupyterlab
  stop_local_harmony
  rm -rf "$scratch"
}
trap cleanup EXIT
mkdir -p "$scratch/root" "$scratch/home"
cp notebooks/icesat2_atl03_subset.ipynb "$scratch/root/"

start_local_harmony "$hq" "$scratch/hq-data" "$out/browser-hq-serve.log" --preview-threshold 4
log "local Harmony at $HQ_URL"
# A throw-away Jupyter config, data and workspace state: the test starts from what a new user sees.
export JUPYTER_CONFIG_DIR="$scratch/home/config" JUPYTERLAB_WORKSPACES_DIR="$scratch/home/workspaces"
export JUPYTER_RUNTIME_DIR="$scratch/home/runtime"
# The "get notified about Jupyter news?" toast would cover part of the screenshot.
.venv/bin/jupyter labextension disable --level=user "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1
start_jupyterlab "$scratch/root" "$(free_port)" "$out/browser-jupyterlab.log"
log "JupyterLab at $LAB_URL"

LAB_URL="$LAB_URL" NOTEBOOK=icesat2_atl03_subset.ipynb SCREENSHOT="$out/jupyterlab-icesat2_atl03_subset.png" \
  timeout 420 node tests/browser/jupyterlab.mjs
