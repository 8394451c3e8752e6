"""Grade a folder of submissions, each in a sandbox: a CSV grade sheet and feedback per student.

Usage: python -m tools.classroom.grade SUBMISSIONS [--course DIR] [--cell-timeout S]
                                       [--notebook-timeout S] [--jobs N] [--force] [--unsandboxed]
       (`make grade SUBMISSIONS=<folder>`; run `make assignments` first)

SUBMISSIONS may hold either layout, or both:
- nbgrader's: <student>/<chapter>/<chapter>.ipynb (what `nbgrader collect` or a JupyterHub
  exchange gives);
- flat: <student>_<chapter>.ipynb, e.g. ana_03_autograd.ipynb.
A notebook may be the assignment handed out by `make assignments` or a `make student` copy.

Before any student's code runs, every file is copied, read-only, into <course>/collected/ (the
folder given is only read; grading reads the copies). Each submission then runs in its own
sandbox (tools/classroom/sandbox.py), several at a time (--jobs), which hands out each
exercise's answers as data; this process compares them with the expected answers (the book's
solutions, run once per assignment into <course>/grader/) and writes, itself and atomically,
<course>/results/<student>/<chapter>.json, <course>/grades.csv (student, chapter, exercise,
points, max_points, reason), <course>/reports/<student>.md and <course>/logs/. A submission
whose file and assignment are unchanged keeps its result (--force grades everything again); a
student graded before whose file is gone keeps their rows, with the reason "submission
missing". A file that is replaced with different content is first moved to
<course>/archive/<time>/.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from tools.classroom import sandbox, verdict
from tools.classroom.assignments import CELL_TIMEOUT_S, COURSE, write_keeping_old

NOTEBOOK_TIMEOUT_S = 600  # a whole chapter runs in under 2 minutes; this leaves room for slow answers
FLAT = re.compile(r"^(?P<student>.+)_(?P<chapter>\d\d_[A-Za-z0-9]+)\.ipynb$")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
FIELDS = ["student", "chapter", "exercise", "points", "max_points", "reason"]
GRADER_FILES = ("runner.py", "sandbox.py", "verdict.py", "grade.py")
MISSING = "submission missing"


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


def write_atomic(path: Path, data: bytes, course: Path) -> None:
    """Write `path` in one step (a temporary file renamed over it); an older, different one is archived."""
    if path.exists():
        if path.read_bytes() == data:
            return
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        keep = course / "archive" / stamp / path.relative_to(course)
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, keep)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _grader_version() -> bytes:
    here = Path(__file__).parent
    return b"".join((here / name).read_bytes() for name in GRADER_FILES)


def _spec(course: Path, chapter: str) -> dict:
    path = course / "grader" / f"{chapter}.json"
    if not path.exists():
        raise SystemExit(f"{path} does not exist: run `make assignments` again (this grader needs it).")
    return json.loads(path.read_text())


class Grader:
    """Grades one class: the course folder, the limits and the expected answers per chapter."""

    def __init__(self, course: Path, cell_timeout: int, notebook_timeout: int, sandboxed: bool, jobs: int):
        self.course, self.cell_timeout, self.notebook_timeout = course, cell_timeout, notebook_timeout
        self.sandboxed, self.jobs = sandboxed, jobs
        self.expected: dict[str, tuple[str, dict]] = {}

    def run_plan(self, plan: dict, log_name: str) -> sandbox.Result:
        work = Path(tempfile.mkdtemp(prefix="grade-"))
        try:
            (work / "input").mkdir()
            limits = sandbox.Limits(wall_s=self.notebook_timeout)
            inner = {"procs": limits.procs // 2, "memory_mb": limits.memory_mb // 2}  # one exercise
            (work / "input" / "plan.json").write_text(json.dumps({**plan, "limits": inner}))
            scratch = work / "scratch"
            scratch.mkdir()
            result = sandbox.run(work / "input", scratch, limits, sandboxed=self.sandboxed)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        text = result.output
        if result.dropped:
            text += f"\n[... {result.dropped} more bytes of output left out]\n".encode()
        if result.stopped:
            text += f"\n[the grader stopped the sandbox: {result.stopped}]\n".encode()
        write_atomic(self.course / "logs" / log_name, text, self.course)
        return result

    def expected_for(self, chapter: str) -> tuple[str, dict]:
        """(key, records) of the book's solutions for the chapter, run once and kept in grader/."""
        if chapter in self.expected:
            return self.expected[chapter]
        source_path = self.course / "source" / chapter / f"{chapter}.ipynb"
        spec = _spec(self.course, chapter)
        h = hashlib.sha256(source_path.read_bytes())
        h.update(json.dumps(spec, sort_keys=True).encode() + _grader_version())
        key = h.hexdigest()
        store = self.course / "grader" / f"{chapter}.expected"
        if store.exists() and (store / "key").read_text() == key:
            frames = sandbox._frames((store / "frames.bin").read_bytes())
        else:
            source = nbformat.read(source_path, as_version=4)
            plan = verdict.build(source, spec, None, max(self.cell_timeout, 60))
            start = time.perf_counter()
            result = self.run_plan(plan.plan, f"_solutions-{chapter}.log")
            got, status, _ = verdict.records(result.frames)
            problems = verdict.expected_ok(spec, got, status, plan.code)
            if problems:
                raise SystemExit(
                    f"the book's solutions do not pass in the grader for {chapter} "
                    f"(log: {self.course / 'logs' / f'_solutions-{chapter}.log'}):\n  "
                    + "\n  ".join(problems)
                )
            blob = b"".join(
                sandbox.struct.pack("<II", len(h_ := json.dumps(head).encode()), len(p)) + h_ + p
                for head, p in result.frames
            )
            write_atomic(store / "frames.bin", blob, self.course)
            write_atomic(store / "key", key.encode(), self.course)
            print(
                f"{time.perf_counter() - start:6.1f} s  expected answers of {chapter} (the book's solutions)"
            )
            frames = result.frames
        got, _, _ = verdict.records(frames)
        self.expected[chapter] = (key, got)
        return self.expected[chapter]

    def grade_one(self, item: Item, data: bytes) -> list[dict]:
        """Run one valid submission in its sandbox and judge its answers here."""
        course, chapter = self.course, item.chapter
        release = nbformat.read(course / "release" / chapter / f"{chapter}.ipynb", as_version=4)
        spec = _spec(course, chapter)
        _, expected = self.expected[chapter]
        plan = verdict.build(release, spec, json.loads(data), self.cell_timeout)
        result = self.run_plan(plan.plan, f"{item.student}-{chapter}.log")
        got, status, done = verdict.records(result.frames)
        any_hashed = any(e["hashed"] for e in spec["exercises"])
        all_code = "\n".join(plan.code.values())
        points = dict(exercises_of(course, chapter))
        rows = []
        for e in spec["exercises"]:
            label = e["label"]
            st = status.get(label, "did not run")
            if label not in status and result.stopped:
                st = f"the grader stopped the notebook: {result.stopped}"
            elif label not in status and not done:
                st = "the notebook's run ended before this exercise"
            why = verdict.judge(
                e, expected[label], got.get(label), st, plan.code.get(label, ""), all_code,
                any_hashed, plan.notes.get(label, ""), self.cell_timeout,
            )  # fmt: skip
            rows.append(
                dict(
                    student=item.student,
                    chapter=chapter,
                    exercise=label,
                    points="0" if why else _points(points[label]),
                    max_points=_points(points[label]),
                    reason=why,
                )
            )
        return rows


def _key(course: Path, item: Item, data: bytes, grader: Grader) -> str:
    h = hashlib.sha256(data)
    if item.chapter != "?":
        h.update((course / "release" / item.chapter / f"{item.chapter}.ipynb").read_bytes())
        h.update(grader.expected_for(item.chapter)[0].encode())
    h.update(f"{grader.cell_timeout}/{grader.notebook_timeout}/{item.problem}/{grader.sandboxed}".encode())
    h.update(_grader_version())
    return h.hexdigest()


def keep_copies(submissions: Path, course: Path) -> None:
    """Copy every file handed in to <course>/collected/, read-only, before anything runs."""
    for path in sorted(submissions.rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts:
            target = course / "collected" / path.relative_to(submissions)
            data = path.read_bytes()
            if target.exists() and target.read_bytes() == data:
                continue
            write_keeping_old(target, data, course)
            target.chmod(stat.S_IRUSR | stat.S_IRGRP)


def grade(
    submissions: Path,
    course: Path = COURSE,
    cell_timeout: int = CELL_TIMEOUT_S,
    notebook_timeout: int = NOTEBOOK_TIMEOUT_S,
    force: bool = False,
    sandboxed: bool = True,
    jobs: int | None = None,
) -> list[dict]:
    """Grade every submission in `submissions`; write the sheet and the feedback; return all rows."""
    course, submissions = course.resolve(), submissions.resolve()
    if not (course / "release").is_dir():
        raise SystemExit(f"{course / 'release'} does not exist: run `make assignments` first.")
    if sandboxed and (problem := sandbox.bwrap_problem()):
        raise SystemExit(problem)
    jobs = jobs or max(1, min(8, os.cpu_count() or 1))
    grader = Grader(course, cell_timeout, notebook_timeout, sandboxed, jobs)
    chapters = {d.name for d in (course / "release").iterdir() if d.is_dir()}
    keep_copies(submissions, course)
    items = collect(submissions, chapters)
    todo = []
    for item in items:
        data = b""
        if item.path:  # read the grader's own copy, never the folder handed in again
            data = (course / "collected" / item.path.relative_to(submissions)).read_bytes()
            if not item.problem:
                try:
                    nbformat.validate(nbformat.reads(data.decode("utf-8"), as_version=4))
                except Exception as err:  # invalid JSON, not a notebook, bad encoding
                    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
                    item.problem = f"not a valid notebook file ({type(err).__name__}: {first[:160]})"
        result = course / "results" / item.student / f"{item.chapter}.json"
        key = _key(course, item, data, grader)
        if not force and result.exists() and json.loads(result.read_text()).get("key") == key:
            print(f"unchanged  {item.student} {item.chapter}")
            continue
        todo.append((item, data, result, key))

    def one(job: tuple[Item, bytes, Path, str]) -> None:
        item, data, result, key = job
        start = time.perf_counter()
        if item.problem:
            rows = _rows(item.student, item.chapter, course, item.problem)
        else:
            rows = grader.grade_one(item, data)
        seconds = time.perf_counter() - start
        total = sum(float(r["points"]) for r in rows)
        print(f"{seconds:6.1f} s  {item.student} {item.chapter}: {_points(total)} points", flush=True)
        record = {
            "key": key,
            "graded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "rows": rows,
        }
        write_atomic(result, json.dumps(record, indent=1).encode(), course)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, todo))
    present = {(item.student, item.chapter) for item in items}
    rows = write_sheet(course, present)
    write_feedback(course, rows)
    return rows


def write_sheet(course: Path, present: set[tuple[str, str]] | None = None) -> list[dict]:
    """Write <course>/grades.csv from the grader's results and return its rows.

    A (student, chapter) graded before but not handed in this time keeps its rows, at 0 points,
    with the reason "submission missing" and the points it had.
    """
    rows = []
    for result in sorted((course / "results").glob("*/*.json")):
        record = json.loads(result.read_text())
        student, chapter = result.parent.name, result.stem
        if present is not None and (student, chapter) not in present:
            for r in record["rows"]:
                was = f"{r['points']} of {r['max_points']}"
                kept = f"{MISSING} (graded {record.get('graded', 'before')}: {was}; copy in collected/)"
                rows.append({**r, "points": "0", "reason": kept})
            continue
        rows += record["rows"]
    order = {}
    for chapter in {r["chapter"] for r in rows if r["chapter"] != "?"}:
        order.update({(chapter, label): i for i, (label, _) in enumerate(exercises_of(course, chapter))})
    rows.sort(key=lambda r: (r["student"], r["chapter"], order.get((r["chapter"], r["exercise"]), 0)))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(course / "grades.csv", text.getvalue().encode(), course)
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
        write_atomic(course / "reports" / f"{student}.md", "\n".join(lines).encode(), course)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path)
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT_S, help="seconds per cell")
    parser.add_argument(
        "--notebook-timeout", type=int, default=NOTEBOOK_TIMEOUT_S, help="seconds per notebook"
    )
    parser.add_argument("--jobs", type=int, default=0, help="submissions graded at a time (default: cores)")
    parser.add_argument("--force", action="store_true", help="grade again even if nothing changed")
    parser.add_argument(
        "--unsandboxed",
        action="store_true",
        help="run the students' code without the sandbox, as your user, with your files and network",
    )
    args = parser.parse_args(argv)
    if args.unsandboxed:
        print("UNSANDBOXED: the students' code runs as your user, with your files and network.")
    start = time.perf_counter()
    rows = grade(
        args.submissions, args.course, args.cell_timeout, args.notebook_timeout, args.force,
        sandboxed=not args.unsandboxed, jobs=args.jobs or None,
    )  # fmt: skip
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
