"""Shared fixtures: where the Rust integration tests left their outputs."""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def outputs() -> pathlib.Path:
    """The directory `cargo test --test it data` writes (target/tmp/hq-data-outputs)."""
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = target / "tmp" / "hq-data-outputs"
    if not (path / "granules").is_dir():
        pytest.fail(f"{path} is missing: run `cargo test --test it data` first", pytrace=False)
    return path


@pytest.fixture(scope="session")
def real_fixture() -> pathlib.Path:
    """The real ATL03 file, as NASA published it."""
    return ROOT / "assets" / "real" / "ATL03_gt1l.h5"
