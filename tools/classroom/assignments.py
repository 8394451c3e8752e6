"""Make one nbgrader assignment per chapter, from the chapter's own exercises.

Usage: python -m tools.classroom.assignments [--course DIR] [CHAPTER ...]
       (`make assignments`; default course folder: classroom/, default: every chapter)

For each chapter `NN_name` it writes nbgrader's source version
`<course>/source/NN_name/NN_name.ipynb` (the chapter without its solution blocks; each exercise
becomes a locked set-up cell, an answer cell holding the book's solution between nbgrader's
solution markers, and a locked, graded test cell with the chapter's self-checks followed by
hidden tests), then runs nbgrader's own `generate_assignment`, which writes the students'
copy to `<course>/release/NN_name/NN_name.ipynb` (answer cells back to the chapter's starter,
hidden tests removed) and records every locked cell in the gradebook so that `autograde`
restores it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import ClearSolutions

from tools.bookfiles import ROOT, notebooks, read
from tools.classroom import exercises, verdict
from tools.student import strip_solutions

COURSE = ROOT / "classroom"
POINTS = 1  # per exercise
CELL_TIMEOUT_S = 60  # nbgrader's per-cell limit when grading (a chapter cell takes a few seconds)
COURSE_ID = "pytorch-in-practice"


class StarterStubs(ClearSolutions):
    """nbgrader's ClearSolutions, but the student gets the chapter's starter, not a generic stub."""

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        starter = cell.metadata.pop("classroom", {}).get("starter")
        if starter is not None and utils.is_solution(cell):
            cell.source = starter
        return cell, resources


def nbgrader_config(course: Path, cell_timeout: int = CELL_TIMEOUT_S):
    """Return the traitlets config for the course (the same as the nbgrader_config.py we write)."""
    from nbgrader.converters.generate_assignment import GenerateAssignment
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.root = str(course)
    cfg.CourseDirectory.course_id = COURSE_ID
    cfg.Exchange.root = str(course / "exchange")  # unused (no JupyterHub exchange); keeps nbgrader quiet
    cfg.GenerateAssignment.preprocessors = [
        StarterStubs if p is ClearSolutions else p
        for p in GenerateAssignment.class_traits()["preprocessors"].default()
    ]
    cfg.Execute.timeout = cell_timeout
    cfg.Execute.interrupt_on_timeout = True
    cfg.Execute.raise_on_iopub_timeout = False  # a busy machine delays the messages after an interrupt
    cfg.Execute.iopub_timeout = 10
    return cfg


CONFIG_FILE = """# nbgrader configuration, written by `make assignments` (edit the book instead).
import sys

sys.path.insert(0, {root!r})  # for tools.classroom

from nbgrader.converters.generate_assignment import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions
from tools.classroom.assignments import StarterStubs

c = get_config()  # noqa: F821
c.CourseDirectory.root = {course!r}
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
c.GenerateAssignment.preprocessors = [
    StarterStubs if p is ClearSolutions else p
    for p in GenerateAssignment.class_traits()["preprocessors"].default()
]
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.Execute.raise_on_iopub_timeout = False
c.Execute.iopub_timeout = 10
"""


def use_venv_tools() -> None:
    """Put this interpreter's bin/ on PATH: nbgrader runs the `alembic` command by name."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def write_keeping_old(path: Path, data: bytes, course: Path) -> None:
    """Write `data` to `path`; a different file already there is first moved to course/archive/."""
    if path.exists():
        if path.read_bytes() == data:
            return
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        keep = course / "archive" / stamp / path.relative_to(course)
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, keep)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _meta(grade_id: str, *, locked: bool, solution: bool = False, points: int | None = None) -> dict:
    meta = {
        "grade": points is not None,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return meta


def _code(source: str, nbgrader: dict, **extra) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = nbgrader
    if nbgrader["locked"]:
        cell.metadata.update(editable=False, deletable=False)
    cell.metadata.update(extra)
    return cell


def source_notebook(chapter: Path) -> tuple[nbformat.NotebookNode, list[exercises.Exercise]]:
    """Return nbgrader's source version of a chapter and its exercises."""
    found = exercises.find(read(chapter))
    by_starter = {ex.starter_id: ex for ex in found}
    nb = strip_solutions(read(chapter))
    cells, tests = [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            cell.metadata.update(editable=False, deletable=False)
            cells.append(cell)
            continue
        ex = by_starter.get(cell.get("id"))
        if ex is None:
            cell.metadata["nbgrader"] = _meta(f"locked-{cell.get('id')}", locked=True)
            cell.metadata.update(editable=False, deletable=False)
            cell.outputs, cell.execution_count = [], None
            cells.append(cell)
            continue
        if ex.setup:
            cells.append(_code(ex.setup, _meta(f"{ex.label}-setup", locked=True)))
        answer = f"### BEGIN SOLUTION\n{ex.solution}\n### END SOLUTION"
        cells.append(
            _code(
                answer,
                _meta(f"{ex.label}-answer", locked=False, solution=True),
                classroom={"starter": ex.starter},
            )
        )
        test = _code(ex.test, _meta(ex.label, locked=True, points=POINTS))
        cells.append(test)
        tests.append((test, ex))
    for cell in cells:  # stable ids, so a regenerated assignment is the same file
        if "nbgrader" in cell.metadata:
            cell["id"] = re.sub(r"[^A-Za-z0-9_-]", "-", cell.metadata["nbgrader"]["grade_id"])[:64]
    nb.cells = cells
    locked = {
        exercises.normalized_hash(c.source)
        for c in cells
        if c.cell_type == "code" and c.metadata["nbgrader"]["locked"]
    }
    for cell, ex in tests:
        cell.source = f"{ex.test}\n{exercises.hidden_tests(ex, locked)}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb, found


def chapters() -> list[Path]:
    """The chapter notebooks (book/NN_*.ipynb) that have exercises."""
    return [p for p in notebooks() if p.parent.name == "book" and p.name[:2].isdigit()]


def generate(
    course: Path, names: list[str] | None = None, cell_timeout: int = CELL_TIMEOUT_S
) -> dict[str, float]:
    """Write the course folder and run nbgrader's generate_assignment; return seconds per chapter."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    use_venv_tools()
    course = course.resolve()
    course.mkdir(parents=True, exist_ok=True)
    config = CONFIG_FILE.format(
        root=str(ROOT),
        course=str(course),
        course_id=COURSE_ID,
        timeout=cell_timeout,
        exchange=str(course / "exchange"),
    )
    write_keeping_old(course / "nbgrader_config.py", config.encode(), course)
    cfg = nbgrader_config(course, cell_timeout)
    api = NbGraderAPI(CourseDirectory(config=cfg), config=cfg)
    wanted = [p for p in chapters() if names is None or p.stem in names]
    if names and len(wanted) != len(names):
        raise SystemExit(f"unknown chapter(s): {sorted(set(names) - {p.stem for p in wanted})}")
    seconds = {}
    for path in wanted:
        start = time.perf_counter()
        nb, _ = source_notebook(path)
        target = course / "source" / path.stem / path.name
        write_keeping_old(target, nbformat.writes(nb).encode(), course)
        spec = json.dumps(verdict.spec(read(path)), indent=1).encode()
        write_keeping_old(course / "grader" / f"{path.stem}.json", spec, course)
        result = api.generate_assignment(path.stem, force=True, create=True)
        if not result["success"]:
            raise SystemExit(
                f"nbgrader generate_assignment failed for {path.stem}:\n{result['log']}\n{result['error']}"
            )
        seconds[path.stem] = time.perf_counter() - start
    return seconds


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=COURSE, help="course folder (default: classroom/)")
    parser.add_argument("chapters", nargs="*", help="chapter names such as 03_autograd (default: all)")
    args = parser.parse_args(argv)
    seconds = generate(args.course, args.chapters or None)
    for name, s in seconds.items():
        print(f"{s:6.1f} s  {args.course / 'release' / name / (name + '.ipynb')}")
    print(f"{sum(seconds.values()):6.1f} s  total: hand out the notebooks under {args.course / 'release'}")


if __name__ == "__main__":
    main(sys.argv[1:])
