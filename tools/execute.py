"""Regenerate the stored outputs: execute notebooks in place, each in a fresh kernel.

Usage: python -m tools.execute [NOTEBOOK ...]   (no argument: every notebook; `make outputs`)

Deterministic by construction: a fresh kernel per notebook, PYTHONHASHSEED fixed, no timing
metadata stored, and consecutive outputs of one stream joined (how the kernel chunks a print
varies from run to run; nbval and the pages join them too), so a regenerated notebook differs
only where what it prints differs. Prints how long each notebook took.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools.bookfiles import notebooks, read

TIMEOUT_S = 600  # per cell


def coalesce_streams(cell: nbformat.NotebookNode) -> None:
    """Join each run of consecutive outputs of the same stream (stdout or stderr) into one."""
    merged: list[nbformat.NotebookNode] = []
    for out in cell.get("outputs", []):
        last = merged[-1] if merged else None
        if last is not None and out.output_type == last.output_type == "stream" and out.name == last.name:
            last.text += out.text
        else:
            merged.append(out)
    if "outputs" in cell:
        cell.outputs = merged


def execute(path: Path) -> float:
    """Execute one notebook in place and return the seconds it took."""
    nb = read(path)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        coalesce_streams(cell)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> None:
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    paths = [Path(a).resolve() for a in argv] or notebooks()
    total = 0.0
    for path in paths:
        seconds = execute(path)
        total += seconds
        print(f"{seconds:7.1f} s  {path.name}", flush=True)
    print(f"{total:7.1f} s  total")


if __name__ == "__main__":
    main(sys.argv[1:])
