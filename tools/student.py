"""Write student copies of the notebooks: solutions removed, outputs cleared.

Usage: python -m tools.student [OUT_DIR]   (default: student/; `make student`)

A solution is everything from a markdown cell opening a `{solution-start}` directive to the cell
closing it with `{solution-end}`, plus any markdown cell holding a one-cell `{solution}`
directive. Exercises, starter cells and their self-checks stay.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

from tools.bookfiles import ROOT, notebooks, read

START = re.compile(r"\{solution-start\}")
END = re.compile(r"\{solution-end\}")
ONE_CELL = re.compile(r"\{solution\}")


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return `nb` without solution cells and with every output cleared."""
    kept, inside = [], False
    for cell in nb.cells:
        text = cell.source if cell.cell_type == "markdown" else ""
        if START.search(text):
            inside = True
        if not inside and not ONE_CELL.search(text):
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            kept.append(cell)
        if END.search(text):
            inside = False
    if inside:
        raise ValueError("a {solution-start} has no matching {solution-end}")
    nb.cells = kept
    return nb


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else ROOT / "student"
    for path in notebooks():
        target = out / path.relative_to(ROOT / "book")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(strip_solutions(read(path)), target)
        print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1:])
