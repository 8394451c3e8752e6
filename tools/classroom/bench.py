"""Time the sandboxed grader on a simulated class: seconds per submission and in total.

Usage: python -m tools.classroom.bench [--chapter 03_autograd] [--students 40] [--jobs N]
       (`make bench-grade`; not a test: it prints figures)

The class: three in five hand in the book's solutions, one in five half of them, one in ten the
starters, and one in twenty an endless loop in one answer (stopped at the cell limit).
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from tools.bookfiles import ROOT, read
from tools.classroom import exercises
from tools.classroom.assignments import generate
from tools.classroom.grade import Grader, grade


def simulated_class(release: nbformat.NotebookNode, chapter: str, n: int, folder: Path) -> None:
    """Write n submissions of `chapter` into `folder` (nbgrader layout)."""
    solutions = {ex.label: ex.solution for ex in exercises.find(read(ROOT / "book" / f"{chapter}.ipynb"))}
    labels = list(solutions)
    for i in range(n):
        nb = copy.deepcopy(release)
        kind = i % 20
        chosen = labels if kind < 12 else labels[: len(labels) // 2] if kind < 16 else []
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            label = gid.removesuffix("-answer")
            if gid.endswith("-answer") and label in chosen:
                cell.source = solutions[label]
            if kind == 19 and gid == f"{labels[-1]}-answer":
                cell.source = "while True:\n    pass"
        path = folder / f"s{i:03d}" / chapter / f"{chapter}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="03_autograd")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--cell-timeout", type=int, default=60)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        course, folder = work / "course", work / "submissions"
        generate(course, [args.chapter], cell_timeout=args.cell_timeout)
        release = nbformat.read(course / "release" / args.chapter / f"{args.chapter}.ipynb", as_version=4)
        simulated_class(release, args.chapter, args.students, folder)
        grader = Grader(course.resolve(), args.cell_timeout, 600, True, 1)
        grader.expected_for(args.chapter)  # the solutions run once per assignment
        start = time.perf_counter()
        grade(folder, course, args.cell_timeout, jobs=args.jobs or None, force=True)
        total = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"bench-grade: {args.students} submissions of {args.chapter} in {total:.1f} s "
        f"({total / args.students:.2f} s per submission; a class of 100: about "
        f"{100 * total / args.students / 60:.1f} min)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
