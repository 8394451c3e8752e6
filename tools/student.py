"""Write student copies of the notebooks: solutions removed, outputs cleared.

Usage: python -m tools.student [OUT_DIR]   (default: student/; `make student`)

A solution is everything from a `{solution-start}` fence to the matching `{solution-end}` fence
(across cells: prose and code in between go too), and every one-cell `{solution}` directive.
Exercises, starter cells and their self-checks stay. A student copy is as gradeable as the
nbgrader assignment (`make assignments`): the grader finds each exercise's answer by the
starter cell's id or its self-check lines (tools/classroom/verdict.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

from tools.bookfiles import ROOT, notebooks, read

START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}", re.M)
END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}[^\n]*\n\1[ \t]*$\n?", re.M)
ONE_CELL = re.compile(r"^(`{3,}|:{3,})\{solution\}.*?^\1[ \t]*$\n?", re.M | re.S)


def _strip_markdown(text: str, inside: bool) -> tuple[str, bool]:
    """Remove solution blocks (which may span cells) from one markdown cell's text."""
    text = ONE_CELL.sub("", text)
    kept, pos = [], 0
    while True:
        if not inside:
            m = START.search(text, pos)
            if m is None:
                kept.append(text[pos:])
                return "".join(kept).strip(), False
            kept.append(text[pos : m.start()])
            inside, pos = True, m.end()
        else:
            m = END.search(text, pos)
            if m is None:
                return "".join(kept).strip(), True
            inside, pos = False, m.end()


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return `nb` without solutions and with every output cleared."""
    kept, inside = [], False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source, inside = _strip_markdown(cell.source, inside)
            if cell.source:
                kept.append(cell)
        elif not inside:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            kept.append(cell)
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
