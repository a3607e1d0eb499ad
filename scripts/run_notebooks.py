"""Executes HarmonyQL notebooks headlessly with nbclient and writes the executed notebook and its HTML rendering.

Used by scripts/tutorial.sh (the main job) and by tests/python/notebooks. The kernel is the one named in each
notebook's metadata (`harmonyql`); its Harmony is whatever HARMONY_ROOT_URL says (the caller starts `hq serve`).

    .venv/bin/python scripts/run_notebooks.py --out out --workdir out/work notebooks/icesat2_atl03_subset.ipynb

Exit status 1 if any cell produced an error output or the kernel failed; the files are still written so the
failure can be read in the HTML.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbconvert import HTMLExporter

# A cell waits for Harmony jobs and downloads; ten minutes is far above the slowest tutorial cell (under a minute).
CELL_TIMEOUT_S = 600
STARTUP_TIMEOUT_S = 60


def execute_notebook(path: Path, workdir: Path, timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """Runs every cell of `path` in a fresh kernel whose working directory is `workdir`; keeps error outputs."""
    nb = nbformat.read(path, as_version=4)
    workdir.mkdir(parents=True, exist_ok=True)
    client = NotebookClient(
        nb,
        timeout=timeout,
        startup_timeout=STARTUP_TIMEOUT_S,
        allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    return nb


def error_outputs(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(cell number from 1, "ename: evalue") for every error output, except in cells tagged `raises-exception`
    (Jupyter's tag for a cell that shows an error on purpose, e.g. Harmony refusing to pause a finished job)."""
    found = []
    for number, cell in enumerate(nb.cells, start=1):
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((number, f"{output.get('ename')}: {output.get('evalue')}"))
            # evcxr reports a panicking cell on stderr, not as an error output.
            elif output.get("output_type") == "stream" and "panicked at" in output.get("text", ""):
                found.append((number, "panic: " + output["text"].strip().splitlines()[-1][:300]))
    return found


def write_atomically(target: Path, text: str) -> None:
    """Writes to a temporary file beside `target` and renames it, so a crash never leaves half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render(nb: nbformat.NotebookNode, out: Path, stem: str) -> tuple[Path, Path]:
    """Writes `out/stem.ipynb` and `out/stem.html`."""
    notebook_path, html_path = out / f"{stem}.ipynb", out / f"{stem}.html"
    write_atomically(notebook_path, nbformat.writes(nb))
    html, _ = HTMLExporter().from_notebook_node(nb)
    write_atomically(html_path, html)
    return notebook_path, html_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("out"), help="where executed notebooks and HTML go")
    parser.add_argument("--workdir", type=Path, default=None, help="the kernels' working directory (downloads)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S, help="seconds a cell may take")
    args = parser.parse_args()
    workdir = (args.workdir or args.out / "work").resolve()
    failed = False
    for path in args.notebooks:
        started = time.monotonic()
        print(f"executing {path} …", flush=True)
        try:
            nb = execute_notebook(path, workdir, args.timeout)
        except (CellExecutionError, DeadKernelError, TimeoutError, RuntimeError) as error:
            print(f"  {path}: the kernel failed: {error}", file=sys.stderr)
            failed = True
            continue
        notebook_path, html_path = render(nb, args.out, path.stem)
        errors = error_outputs(nb)
        for number, message in errors:
            print(f"  {path}: cell {number}: {message}", file=sys.stderr)
        failed |= bool(errors)
        outputs = sum(len(cell.get("outputs", [])) for cell in nb.cells)
        print(
            f"  {len(nb.cells)} cells, {outputs} outputs, {len(errors)} errors, "
            f"{time.monotonic() - started:.1f} s → {notebook_path}, {html_path}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
