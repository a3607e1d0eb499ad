"""`hq kernel install` as Jupyter sees it: `jupyter kernelspec list` shows the spec with its logos,
and `hq kernel uninstall` removes it. Installs into a temporary prefix only.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def hq() -> str:
    subprocess.run(["cargo", "build", "--quiet", "--bin", "hq"], cwd=REPO, check=True, timeout=1200)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return str(target / "debug" / "hq")


def kernelspecs(data_dir: Path) -> dict:
    env = dict(os.environ, JUPYTER_PATH=str(data_dir))
    jupyter = Path(sys.executable).with_name("jupyter")
    listing = subprocess.run(
        [str(jupyter), "kernelspec", "list", "--json"], env=env, check=True, capture_output=True, text=True, timeout=60
    )
    return json.loads(listing.stdout)["kernelspecs"]


def test_jupyter_lists_the_installed_kernelspec_and_uninstall_removes_it(tmp_path):
    program = hq()
    subprocess.run([program, "kernel", "install", "--prefix", str(tmp_path)], check=True, timeout=60)
    data_dir = tmp_path / "share" / "jupyter"

    # JUPYTER_PATH comes first, so our temporary spec wins over any installed elsewhere.
    specs = kernelspecs(data_dir)
    assert "harmonyql" in specs
    spec = specs["harmonyql"]
    assert Path(spec["resource_dir"]) == data_dir / "kernels" / "harmonyql"
    assert spec["spec"]["argv"] == [program, "kernel", "--connection-file", "{connection_file}"]
    assert spec["spec"]["language"] == "harmonyql"
    assert spec["spec"]["interrupt_mode"] == "message"
    resources = sorted(p.name for p in Path(spec["resource_dir"]).iterdir())
    assert resources == ["kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg"]

    subprocess.run([program, "kernel", "uninstall", "--prefix", str(tmp_path)], check=True, timeout=60)
    remaining = kernelspecs(data_dir).get("harmonyql", {}).get("resource_dir", "")
    assert not remaining.startswith(str(tmp_path)), remaining
