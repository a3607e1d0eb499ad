#!/usr/bin/env bash
# JupyterLab with the HarmonyQL kernel and a local Harmony, for interactive use (`make lab`).
# Installs what is missing, starts `hq serve` on a free loopback port and JupyterLab on 127.0.0.1 (port LAB_PORT,
# default 8888) serving notebooks/; kernels talk to the local Harmony. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh

setup_debian_packages libhdf5-dev pkg-config
setup_venv
cargo build --locked --quiet
hq="$PWD/target/debug/hq"
install_kernelspec "$hq"

mkdir -p out
trap 'stop_jupyterlab; stop_local_harmony' EXIT
start_local_harmony "$hq" "$PWD/target/hq-tutorial-data" "$PWD/out/lab-hq-serve.log" --preview-threshold 4 --prepare
start_jupyterlab "$PWD/notebooks" "${LAB_PORT:-8888}" "$PWD/out/lab-jupyterlab.log"
log "local Harmony at $HQ_URL (log: out/lab-hq-serve.log)"
log "JupyterLab at $LAB_URL/lab/tree/icesat2_atl03_subset.ipynb (loopback only, no token; Ctrl-C stops it)"
wait "$LAB_PID"
