#!/usr/bin/env bash
# Runs every test of HarmonyQL on a fresh Debian machine or a warm one: installs what is missing
# (Debian packages, the Python venv in .venv, cargo-fuzz), then formatting and lint checks, the Rust
# tests, a bounded fuzz run of every decoder of untrusted input, the Python tests that use real clients
# as the oracle, and the notebook in JupyterLab in headless Chromium. Each stage prints its duration; the
# last lines sum them up.
# Idempotent: a second run installs nothing new.
#
#   HQ_FUZZ_SECONDS=0 scripts/test.sh     # skip the fuzz run (default 60 s, shared by the targets)
#   HQ_SKIP_BROWSER=1 scripts/test.sh     # skip the browser test
#   HQ_STAGE_LIMIT_S=1800 scripts/test.sh # a slower machine: stop a stage after 30 min, not 15 (clippy and
#                                         # cargo-test get twice that; a stage past its limit fails)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/setup.sh
. scripts/setup.sh

# A child process spawned by a test inherits the test binary's open HDF5 files, and with them HDF5's file
# locks, so an in-process server in the same binary could not open its granules ("unable to lock file").
export HDF5_USE_FILE_LOCKING=FALSE

stage setup setup_debian_packages libhdf5-dev hdf5-tools pkg-config
stage venv setup_venv

# ---- Rust: formatting, lints, tests ---------------------------------------------------------
stage fmt cargo fmt --all -- --check
stage --limit $((2 * STAGE_LIMIT_DEFAULT)) clippy cargo clippy --locked --workspace --all-targets -- -D warnings
# One feature set for tests and builds, so the `cargo build` calls below and in the notebook and browser tests
# reuse what `cargo test` compiled.
stage features python3 scripts/check_features.py
stage --limit $((2 * STAGE_LIMIT_DEFAULT)) cargo-test cargo test --locked --workspace

# ---- fuzzing every decoder of untrusted bytes for a bounded time ----------------------------
# One instrumented build for all targets, then each target runs for its share of HQ_FUZZ_SECONDS from its
# committed seeds (fuzz/seeds/<target>) and the corpus kept from earlier runs. What each target feeds and
# what must hold: docs/security/fuzzing.md.
fuzz_targets=(parse api_json wkt shape params multipart geotiff)
fuzz_all() {
  local seconds=$1
  if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
  fi
  # cargo fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them. A dev
  # build compiles in a fraction of the release build's time and still finds panics.
  RUSTC_BOOTSTRAP=1 cargo fuzz build --dev --sanitizer none
  # At least 5 s each, so a short HQ_FUZZ_SECONDS still runs every target.
  local share=$(( seconds / ${#fuzz_targets[@]} ))
  [ "$share" -ge 5 ] || share=5
  local target
  for target in "${fuzz_targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    log "fuzzing $target for ${share}s"
    # The language's inputs are typed lines: short inputs keep the parser's executions fast. The others
    # take the length of their largest seed (a 41 KB zip bomb for `shape`).
    local max_len=()
    [ "$target" != parse ] || max_len=(-max_len=512)
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: over 2 GB is unbounded memory (a zip
    # bomb inflated, a million-vertex shape built). Both fail the run like a panic does.
    local output="fuzz/artifacts/$target.log"
    mkdir -p fuzz/artifacts
    if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" --dev --sanitizer none "fuzz/corpus/$target" \
      "fuzz/seeds/$target" -- -max_total_time="$share" -timeout=10 -rss_limit_mb=2048 "${max_len[@]}" \
      -print_final_stats=1 >"$output" 2>&1; then
      # The panic message, the failing input's path and the command that replays it.
      grep -m1 -A30 -E "panicked at|ERROR: libFuzzer" "$output" || tail -n 60 "$output"
      grep -E "^(Test unit written to|Reproduce with)|cargo fuzz run" "$output" | tail -n 4
      return 1
    fi
    tail -n 8 "$output"
  done
  if [ "${HQ_CLEAN_FUZZ_BUILD:-0}" = 1 ]; then
    # CI's disk is small and the instrumented build is never used again there.
    rm -rf fuzz/target
  fi
}
fuzz_seconds="${HQ_FUZZ_SECONDS:-60}"
if [ "$fuzz_seconds" -gt 0 ]; then
  stage --limit $((STAGE_LIMIT_DEFAULT + fuzz_seconds)) fuzz fuzz_all "$fuzz_seconds"
fi

# ---- Python: real harmony-py, h5py, jupyter_client as the oracles ----------------------------
stage build-hq cargo build --locked
stage pytest env HQ_BIN="$PWD/target/debug/hq" .venv/bin/python -m pytest tests/python -q -p no:cacheprovider \
  --durations=15 --ignore=tests/python/wheel
# The pip wheel, from the debug build above (a release build of every dependency does not fit CI's budget),
# installed into a fresh venv without cargo on PATH: hq, the kernelspec, both tutorial notebooks, the lexer.
# ---- the benchmarks at a small size: they still run (numbers belong in BENCHMARKS.md, never asserted) ----
# The read and the subsetter at two small sizes (the list of sizes is what the growth tables use), debug builds
# of two small examples whose dependencies the debug hq build above already compiled.
bench_smoke() {
  cargo build --locked -p harmonyql-data --example read_photons
  cargo build --locked -p harmonyql-server --example subset
  .venv/bin/python benches/compare.py --only photons --only subset --photons 100000,200000 \
    --reader target/debug/examples/read_photons --subsetter target/debug/examples/subset
  local bench
  bench=$(cargo build --locked --bench hq --message-format=json |
    .venv/bin/python -c 'import json, sys; print([m["executable"] for m in map(json.loads, sys.stdin) if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "hq" and "bench" in m["target"]["kind"]][-1])')
  # Every other measurement at a tiny size too (debug builds; hq is from the build-hq stage).
  .venv/bin/python benches/compare.py --hq target/debug/hq --bench "$bench" --only compile --only download \
    --only downloads --only plots --only kernel --rounds 100 --scale 1 --granules 1 --download-large 2x1 \
    --download-small 5 --download-latency-ms 10 --download-repeat 1 --plot-photons 100000 --kernel-starts 2 \
    --kernel-cells 10
}
stage bench-smoke bench_smoke

stage wheel env HQ_WHEEL_PROFILE=dev .venv/bin/python -m pytest tests/python/wheel -q -p no:cacheprovider \
  --durations=10

# ---- the tutorial notebook in JupyterLab in headless Chromium -------------------------------
if [ "${HQ_SKIP_BROWSER:-0}" != 1 ]; then
  stage browser bash tests/browser/run.sh
fi

stage_summary
