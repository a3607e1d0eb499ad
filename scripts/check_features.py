#!/usr/bin/env python3
"""Fails when `cargo build` and `cargo test` would resolve different features for a shared dependency.

A dev-dependency that turns on a feature of a crate the build also uses makes cargo compile that crate, and
everything above it, twice: once for the tests and once for `hq`. In CI that doubled the build and filled the
disk. The fix is a feature pin in Cargo.toml's [dependencies] (see the bitflags line there).
"""
import collections
import subprocess
import sys


def features(edges: str) -> dict[str, set[str]]:
    out = subprocess.run(
        ["cargo", "tree", "--locked", "--workspace", "-e", edges, "--prefix", "none", "-f", "{p}|{f}", "--no-dedupe"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    found: dict[str, set[str]] = collections.defaultdict(set)
    for line in out.splitlines():
        if "|" not in line:
            continue
        package, names = line.split("|", 1)
        package = package.split(" (")[0].strip()
        found[package] |= {name for name in names.replace("(*)", "").strip().split(",") if name}
    return found


def main() -> int:
    differ = set()
    # Without build edges: the crates compiled into our binaries (build scripts' dependencies resolve apart,
    # and merging them in would hide a difference); with them, for crates used both ways.
    for edges in ("normal", "normal,build"):
        build = features(edges)
        test = features(edges + ",dev")
        differ |= {(p, tuple(sorted(test[p] - build[p]))) for p in build if build[p] != test[p]}
    for package, extra in sorted(differ):
        print(f"{package}: the tests turn on {', '.join(extra)}; pin them in the root Cargo.toml's [dependencies]", file=sys.stderr)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
