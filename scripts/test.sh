#!/usr/bin/env bash
# Runs every test of HarmonyQL on a fresh Debian machine or a warm one: installs what is missing
# (Debian packages, the Python venv in .venv, cargo-fuzz), then formatting and lint checks, the Rust
# tests, a bounded fuzz run of the parser and the Python tests that use real harmony-py as the oracle.
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/setup.sh
. scripts/setup.sh

setup_debian_packages libhdf5-dev hdf5-tools pkg-config
setup_venv

# A child process spawned by a test inherits the test binary's open HDF5 files, and with them HDF5's file
# locks, so an in-process server in the same binary could not open its granules ("unable to lock file").
export HDF5_USE_FILE_LOCKING=FALSE

# ---- Rust: formatting, lints, tests ---------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
log "cargo test"
# One feature set for tests and builds, so the `cargo build` calls below and in the notebook and browser tests
# reuse what `cargo test` compiled.
python3 scripts/check_features.py
cargo test --locked

# ---- fuzzing the parser for a bounded time --------------------------------------------------
fuzz_seconds="${HQ_FUZZ_SECONDS:-60}"
if [ "$fuzz_seconds" -gt 0 ]; then
  if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
  fi
  log "fuzzing the parser for ${fuzz_seconds}s"
  mkdir -p fuzz/corpus/parse
  # cargo fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them. A dev
  # build compiles in a fraction of the release build's time and still finds panics.
  RUSTC_BOOTSTRAP=1 cargo fuzz run parse --dev --sanitizer none fuzz/corpus/parse fuzz/seeds \
    -- -max_total_time="$fuzz_seconds" -max_len=512 -print_final_stats=1 2>&1 | tail -n 12
  if [ "${HQ_CLEAN_FUZZ_BUILD:-0}" = 1 ]; then
    # CI's disk is small and the instrumented build is never used again there.
    rm -rf fuzz/target
  fi
fi

# ---- Python: real harmony-py as the oracle --------------------------------------------------
log "building hq for the Python tests (already built by cargo test)"
cargo build --locked
log "pytest"
HQ_BIN="$PWD/target/debug/hq" .venv/bin/python -m pytest tests/python -q -p no:cacheprovider

# ---- the tutorial notebook in JupyterLab in headless Chromium -------------------------------
log "browser test (JupyterLab, Chromium)"
bash tests/browser/run.sh
