"""Grade a folder of submissions with nbgrader: a CSV grade sheet and feedback for each student.

Usage: python -m tools.classroom.grade SUBMISSIONS [--course DIR] [--cell-timeout S]
                                       [--notebook-timeout S] [--force]
       (`make grade SUBMISSIONS=<folder>`; run `make assignments` first)

SUBMISSIONS may hold either layout, or both:
- nbgrader's: <student>/<chapter>/<chapter>.ipynb (what `nbgrader collect` or a JupyterHub
  exchange gives; the folder may also hold other files the notebook needs);
- flat: <student>_<chapter>.ipynb, e.g. ana_03_autograd.ipynb.

Every file is copied into <course>/collected/ as it came (the folder given is only read); valid
notebooks go to <course>/submitted/<student>/<chapter>/ and nbgrader's `autograde` grades each
(student, chapter) in its own process, with nbgrader's per-cell timeout and a per-notebook
timeout around it. Results land in <course>/results/ (one JSON file per student and chapter,
reused while the submission and the assignment are unchanged, so a re-run gives the same sheet),
then <course>/grades.csv (student, chapter, exercise, points, max_points, reason) and one
feedback file per student, <course>/reports/<student>.md. A file that is replaced with
different content is first moved to <course>/archive/<time>/.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tools.bookfiles import ROOT
from tools.classroom.assignments import (
    CELL_TIMEOUT_S,
    COURSE,
    nbgrader_config,
    use_venv_tools,
    write_keeping_old,
)

NOTEBOOK_TIMEOUT_S = 600  # a whole chapter runs in under 2 minutes; this leaves room for slow answers
FLAT = re.compile(r"^(?P<student>.+)_(?P<chapter>\d\d_[A-Za-z0-9]+)\.ipynb$")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIMEOUT_ERRORS = {"CellTimeoutError", "KeyboardInterrupt", "TimeoutError"}
FIELDS = ["student", "chapter", "exercise", "points", "max_points", "reason"]


@dataclass
class Item:
    """One submitted file (or a problem found instead of one)."""

    student: str
    chapter: str
    path: Path | None
    problem: str = ""


def exercises_of(course: Path, chapter: str) -> list[tuple[str, float]]:
    """(grade_id, points) of each graded cell in the chapter's release, in order."""
    nb = nbformat.read(course / "release" / chapter / f"{chapter}.ipynb", as_version=4)
    graded = [c.metadata["nbgrader"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    return [(m["grade_id"], float(m["points"])) for m in graded]


def collect(folder: Path, chapters: set[str]) -> list[Item]:
    """Find the submissions in `folder` (both layouts) and what is wrong with the odd ones."""
    items = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            m = FLAT.match(entry.name)
            if m and m["chapter"] in chapters:
                items.append(Item(m["student"], m["chapter"], entry))
            elif entry.suffix == ".ipynb":
                why = f"file name {entry.name!r} is not <student>_<chapter>.ipynb for a chapter of the course"
                items.append(Item(entry.stem, "?", None, why))
            continue
        student = entry.name
        for sub in sorted(entry.iterdir()):
            if sub.name.startswith("."):
                continue
            if sub.is_dir() and sub.name in chapters:
                expected = sub / f"{sub.name}.ipynb"
                if expected.is_file():
                    items.append(Item(student, sub.name, expected))
                else:
                    found = sorted(p.name for p in sub.glob("*.ipynb")) or ["no notebook"]
                    why = f"no file {expected.name} (found: {', '.join(found)}); "
                    why += "a submission keeps the assignment's file name"
                    items.append(Item(student, sub.name, None, why))
            elif sub.is_file() and sub.suffix == ".ipynb" and sub.stem in chapters:
                items.append(Item(student, sub.stem, sub))
            elif sub.suffix == ".ipynb" or sub.is_dir():
                items.append(Item(student, "?", None, f"{sub.name!r} is not a chapter of the course"))
    for item in items:
        if not STUDENT_ID.match(item.student):
            item.problem = (
                item.problem or f"student name {item.student!r} has characters nbgrader does not accept"
            )
    return items


REASON_CHARS = 400  # a reason is one CSV cell: the whole message of a check, cut if it is a dump


def _error_line(output: dict) -> str:
    """`Name: message` on one line: a check's message wraps over lines (its hint on the last)."""
    value = " ".join(ANSI.sub("", str(output.get("evalue", ""))).split())
    if len(value) > REASON_CHARS:
        value = value[: REASON_CHARS - 1] + "…"
    return f"{output.get('ename', 'Error')}: {value}" if value else str(output.get("ename", "Error"))


def _errors(cell: dict) -> list[dict]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def reasons(
    release: nbformat.NotebookNode, submitted: dict, graded: dict | None, cell_timeout: int
) -> dict[str, str]:
    """Why each exercise failed, from the submitted notebook's structure and the graded one's errors."""
    order = [_grade_id(c) for c in release.cells]
    labels = [_grade_id(c) for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    mine = [_grade_id(c) for c in submitted.get("cells", [])]
    position = {gid: i for i, gid in enumerate(mine) if gid}
    out = {}
    graded_cells = graded["cells"] if graded else []
    index = {_grade_id(c): i for i, c in enumerate(graded_cells) if _grade_id(c)}
    expected_errors = {
        _grade_id(c) for c in release.cells if "raises-exception" in c.metadata.get("tags", [])
    }
    own_ids = {gid for gid in order if gid and (gid in labels or gid.endswith(("-answer", "-setup")))}
    first_other = None
    for i, cell in enumerate(graded_cells):
        if _errors(cell) and _grade_id(cell) not in expected_errors | own_ids:
            first_other = (i, _error_line(_errors(cell)[0]))
            break
    previous_test = -1
    for label in labels:
        ids = [gid for gid in (f"{label}-setup", f"{label}-answer", label) if gid in order]
        missing = [gid for gid in ids if gid not in position]
        notes = []
        if missing:
            notes.append(f"cell(s) deleted from the notebook: {', '.join(missing)}")
        elif [position[g] for g in ids] != sorted(position[g] for g in ids):
            notes.append("the cells of this exercise were reordered")
        if label in index:
            here = index[label]
            span = graded_cells[previous_test + 1 : here + 1]
            if any(o.get("ename") in TIMEOUT_ERRORS for c in span for o in _errors(c)):
                notes.append(f"a cell ran past the {cell_timeout} s limit and was stopped")
            test_errors = _errors(graded_cells[here])
            if test_errors:
                notes.append(_error_line(test_errors[0]))
            answer = index.get(f"{label}-answer")
            for c in graded_cells[previous_test + 1 : here]:
                if _grade_id(c) in (None, f"{label}-answer") and _errors(c) and answer is not None:
                    err = _errors(c)[0]
                    if err.get("ename") not in TIMEOUT_ERRORS:
                        notes.append(f"your cell raised {_error_line(err)}")
                    break
            if first_other and first_other[0] < here and test_errors:
                if test_errors[0].get("ename") in (
                    "NameError",
                    "ImportError",
                    "ModuleNotFoundError",
                    "AttributeError",
                ):
                    notes.append(f"first error in the notebook: cell {first_other[0] + 1}: {first_other[1]}")
            previous_test = here
        elif graded is not None and not missing:
            notes.append("the check cell was not graded")
        out[label] = "; ".join(notes) or "no points from the autograder"
    return out


def _points(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _rows(student: str, chapter: str, course: Path, problem: str) -> list[dict]:
    if chapter == "?":
        return [dict(student=student, chapter="?", exercise="", points="0", max_points="0", reason=problem)]
    return [
        dict(
            student=student,
            chapter=chapter,
            exercise=label,
            points="0",
            max_points=_points(pts),
            reason=problem,
        )
        for label, pts in exercises_of(course, chapter)
    ]


def _worker(course: Path, student: str, chapter: str, cell_timeout: int) -> int:
    """Run nbgrader's autograde for one student and chapter (in its own process)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    use_venv_tools()
    cfg = nbgrader_config(course, cell_timeout)
    api = NbGraderAPI(CourseDirectory(config=cfg), config=cfg)
    result = api.autograde(chapter, student, force=True, create=True)
    print(result.get("log", ""))
    if not result["success"]:
        print(result.get("error", ""), file=sys.stderr)
    return 0 if result["success"] else 1


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc; elsewhere none: the process group kill must do)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def grade_one(course: Path, item: Item, cell_timeout: int, notebook_timeout: int) -> list[dict]:
    """Autograde one valid submission and return its rows."""
    log = course / "logs" / f"{item.student}-{item.chapter}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "tools.classroom.grade", "--one", str(course), item.student, item.chapter]
    cmd += ["--cell-timeout", str(cell_timeout)]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=notebook_timeout)
        except subprocess.TimeoutExpired:
            kernels = _descendants(proc.pid)  # jupyter_client starts each kernel in its own session
            os.killpg(proc.pid, signal.SIGKILL)
            for pid in kernels:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()
            why = (
                f"grading stopped after {notebook_timeout} s: the notebook runs too long (per-notebook limit)"
            )
            return _rows(item.student, item.chapter, course, why)
    if code != 0:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        last = next(
            (ln for ln in reversed(lines) if re.match(r"^\w*(Error|Exception)\b", ln)),
            lines[-1] if lines else "",
        )
        return _rows(
            item.student, item.chapter, course, f"nbgrader could not grade it ({last.strip()[:200]})"
        )
    from nbgrader.api import Gradebook

    release = nbformat.read(course / "release" / item.chapter / f"{item.chapter}.ipynb", as_version=4)
    submitted = json.loads(
        (course / "submitted" / item.student / item.chapter / f"{item.chapter}.ipynb").read_text()
    )
    graded_path = course / "autograded" / item.student / item.chapter / f"{item.chapter}.ipynb"
    graded = json.loads(graded_path.read_text()) if graded_path.exists() else None
    why = reasons(release, submitted, graded, cell_timeout)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(item.chapter, item.chapter, item.student)
        scores = {g.name: (g.score, g.max_score) for g in notebook.grades}
    rows = []
    for label, pts in exercises_of(course, item.chapter):
        score, max_score = scores.get(label, (0.0, pts))
        reason = "" if score > 0 else why.get(label, "not graded")
        rows.append(
            dict(
                student=item.student,
                chapter=item.chapter,
                exercise=label,
                points=_points(score),
                max_points=_points(max_score),
                reason=reason,
            )
        )
    return rows


def _key(course: Path, item: Item, data: bytes, cell_timeout: int, notebook_timeout: int) -> str:
    source = course / "source" / item.chapter / f"{item.chapter}.ipynb"
    h = hashlib.sha256(data)
    h.update(source.read_bytes() if source.exists() else b"")
    h.update(f"{cell_timeout}/{notebook_timeout}/{item.problem}".encode())
    return h.hexdigest()


def grade(
    submissions: Path,
    course: Path = COURSE,
    cell_timeout: int = CELL_TIMEOUT_S,
    notebook_timeout: int = NOTEBOOK_TIMEOUT_S,
    force: bool = False,
) -> list[dict]:
    """Grade every submission in `submissions`; write the sheet and the feedback; return all rows."""
    use_venv_tools()
    course, submissions = course.resolve(), submissions.resolve()
    if not (course / "release").is_dir():
        raise SystemExit(f"{course / 'release'} does not exist: run `make assignments` first.")
    chapters = {d.name for d in (course / "release").iterdir() if d.is_dir()}
    for path in sorted(submissions.rglob("*")):  # keep everything that came in, as it came
        if path.is_file() and ".ipynb_checkpoints" not in path.parts:
            write_keeping_old(course / "collected" / path.relative_to(submissions), path.read_bytes(), course)
    for item in collect(submissions, chapters):
        data = item.path.read_bytes() if item.path else b""
        if item.path and not item.problem:
            try:
                nbformat.validate(nbformat.reads(data.decode("utf-8"), as_version=4))
            except Exception as err:  # invalid JSON, not a notebook, bad encoding
                first = (str(err).strip().splitlines() or [type(err).__name__])[0]
                item.problem = f"not a valid notebook file ({type(err).__name__}: {first[:160]})"
        result = course / "results" / f"{item.student}" / f"{item.chapter}.json"
        key = _key(course, item, data, cell_timeout, notebook_timeout)
        if not force and result.exists() and json.loads(result.read_text()).get("key") == key:
            print(f"unchanged  {item.student} {item.chapter}")
            continue
        start = time.perf_counter()
        if item.problem:
            rows = _rows(item.student, item.chapter, course, item.problem)
        else:
            folder = course / "submitted" / item.student / item.chapter
            for extra in item.path.parent.iterdir() if item.path.parent != submissions else []:
                if extra.is_file() and extra != item.path:
                    write_keeping_old(folder / extra.name, extra.read_bytes(), course)
            write_keeping_old(folder / f"{item.chapter}.ipynb", data, course)
            rows = grade_one(course, item, cell_timeout, notebook_timeout)
        seconds = time.perf_counter() - start
        total = sum(float(r["points"]) for r in rows)
        print(f"{seconds:6.1f} s  {item.student} {item.chapter}: {_points(total)} points")
        write_keeping_old(result, json.dumps({"key": key, "rows": rows}, indent=1).encode(), course)
    rows = write_sheet(course)
    write_feedback(course, rows)
    return rows


def write_sheet(course: Path) -> list[dict]:
    """Write <course>/grades.csv from every result so far and return its rows."""
    rows = []
    for result in sorted((course / "results").glob("*/*.json")):
        rows += json.loads(result.read_text())["rows"]
    order = {}
    for chapter in {r["chapter"] for r in rows if r["chapter"] != "?"}:
        order.update({(chapter, label): i for i, (label, _) in enumerate(exercises_of(course, chapter))})
    rows.sort(key=lambda r: (r["student"], r["chapter"], order.get((r["chapter"], r["exercise"]), 0)))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_keeping_old(course / "grades.csv", text.getvalue().encode(), course)
    return rows


def write_feedback(course: Path, rows: list[dict]) -> None:
    """One markdown file per student: points per chapter and why each failed exercise failed."""
    for student in sorted({r["student"] for r in rows}):
        mine = [r for r in rows if r["student"] == student]
        lines = [f"# Feedback for {student}", ""]
        for chapter in sorted({r["chapter"] for r in mine}):
            part = [r for r in mine if r["chapter"] == chapter]
            got = sum(float(r["points"]) for r in part)
            out_of = sum(float(r["max_points"]) for r in part)
            lines += [f"## {chapter}: {_points(got)} of {_points(out_of)} points", ""]
            for r in part:
                if r["exercise"] and float(r["points"]) > 0:
                    lines.append(f"- ✔ `{r['exercise']}`: {r['points']} of {r['max_points']}")
                else:
                    name = f"`{r['exercise']}`" if r["exercise"] else "submission"
                    lines.append(f"- ✘ {name}: 0 of {r['max_points']}. {r['reason']}")
            lines.append("")
        write_keeping_old(course / "reports" / f"{student}.md", "\n".join(lines).encode(), course)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        parser = argparse.ArgumentParser()
        parser.add_argument("--one", nargs=3, metavar=("COURSE", "STUDENT", "CHAPTER"))
        parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT_S)
        args = parser.parse_args(argv)
        course, student, chapter = args.one
        raise SystemExit(_worker(Path(course), student, chapter, args.cell_timeout))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path)
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell")
    parser.add_argument(
        "--notebook-timeout", type=int, default=NOTEBOOK_TIMEOUT_S, help="seconds per notebook"
    )
    parser.add_argument("--force", action="store_true", help="grade again even if nothing changed")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = grade(args.submissions, args.course, args.cell_timeout, args.notebook_timeout, args.force)
    totals: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        t = totals.setdefault((r["student"], r["chapter"]), [0.0, 0.0])
        t[0] += float(r["points"])
        t[1] += float(r["max_points"])
    for (student, chapter), (got, out_of) in sorted(totals.items()):
        print(f"{student:>16}  {chapter:<16} {_points(got):>4} / {_points(out_of)}")
    print(
        f"{time.perf_counter() - start:.1f} s; sheet: {args.course / 'grades.csv'}; "
        f"feedback: {args.course / 'reports'}/"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
