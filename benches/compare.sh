#!/usr/bin/env bash
# Benchmarks HarmonyQL against harmony-py, h5py, xarray and matplotlib in one run and prints ratios
# (benches/compare.py says what is measured). Release builds; the venv from scripts/setup.sh.
#   benches/compare.sh [--json F]        # every measurement at every size (photons 1e6,1e7,3e7; files 10,100,500; …)
#   benches/compare.sh [--scale 20] [--granules 3] [--rounds 5000] [--photons 1e6,1e7,3e7] [--only photons] [--json F]
# --photons takes one size or a list; the photons and subset measurements run at each. CI runs small sizes only to
# check they work (scripts/test.sh, stage bench-smoke).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh
setup_debian_packages libhdf5-dev pkg-config
setup_venv
log "building release binaries"
cargo build --release --locked --quiet --bin hq
bench=$(cargo bench --locked --no-run --bench hq 2>&1 | grep -o 'target/release/deps/hq-[0-9a-f]*' | tail -n 1)
[ -x "$bench" ] || { echo "cannot find the bench executable" >&2; exit 1; }
log "measuring"
.venv/bin/python benches/compare.py --hq target/release/hq --bench "$bench" "$@"
