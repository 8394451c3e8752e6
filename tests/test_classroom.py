"""Classroom autograding end to end: a chapter becomes an nbgrader assignment, a simulated class
submits, the sandboxed grader grades, and the sheet has the exact points and reasons expected.
(The attacks on the grader are in tests/test_grading_sandbox.py.)

The simulated class for 03_autograd (4 exercises of 1 point: cube, accumulate, bn-count, predict):

| student | what they hand in | points |
|---|---|---|
| ana | the book's solutions (nbgrader layout) | 4 |
| ben | all starters, each with a fake "✔ correct" print added | 0 |
| cai | two solutions, two starters (flat layout: cai_03_autograd.ipynb) | 2 |
| dan | tampered checks: check cells edited into prints, helpers patched, a digest brute force, | 0 |
|     | the gradient typed in, the reference copied | |
| fay | invalid JSON | 0 |
| gus | solutions, but an infinite loop in one answer cell | 3 |
| hal | solutions, and a cell that breaks the imports with sys.modules (hidden test: the | 2 |
|     | hashed exercises forbid it; it is undone before the checks of the others) | |
| ivy | solutions, one check cell deleted, one moved above its answer (the locked ones run) | 4 |
| joe | renamed file (nbgrader layout) | 0 |
| kim_autograd.ipynb | flat name without a chapter | 0 |
| mia | the solutions, the cube's gradient from torch.autograd.grad (a 1-tuple) | 4 |
"""

from __future__ import annotations

import copy
import csv
import json
import time
from pathlib import Path

import nbformat
import pytest

from tools.bookfiles import ROOT, read
from tools.classroom import exercises
from tools.classroom.assignments import chapters, generate, source_notebook
from tools.classroom.grade import grade

CHAPTER = "03_autograd"
CELL_TIMEOUT = 30  # s: the slowest cell of the chapter takes about 3 s on an idle 2-core CPU


def _cells(nb: nbformat.NotebookNode, grade_id: str) -> int:
    return next(
        i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def _answer(nb: nbformat.NotebookNode, label: str, source: str) -> None:
    nb.cells[_cells(nb, f"{label}-answer")].source = source


def _simulated_class(release: nbformat.NotebookNode, folder: Path) -> None:
    solutions = {ex.label: ex.solution for ex in exercises.find(read(ROOT / "book" / f"{CHAPTER}.ipynb"))}
    labels = list(solutions)

    def submit(student: str, nb: nbformat.NotebookNode, flat: bool = False) -> None:
        path = (
            folder / f"{student}_{CHAPTER}.ipynb" if flat else folder / student / CHAPTER / f"{CHAPTER}.ipynb"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)

    def solved(only: list[str] = labels) -> nbformat.NotebookNode:
        nb = copy.deepcopy(release)
        for label in only:
            _answer(nb, label, solutions[label])
        return nb

    submit("ana", solved())
    ben = copy.deepcopy(release)  # the starters as handed out, plus a fake success line each
    for label in labels:
        i = _cells(ben, f"{label}-answer")
        ben.cells[i].source += f'\nprint("✔ correct: {label}")'
    submit("ben", ben)
    submit("cai", solved(labels[:2]), flat=True)

    dan = copy.deepcopy(release)
    for label in labels:  # "tampered checks": the visible checks become prints
        dan.cells[_cells(dan, label)].source = f'print("✔ correct: {label}")'
    _answer(dan, "autograd-ex-cube", "answer = torch.tensor([3.0, 12.0, 27.0])  # typed in, no autograd")
    _answer(dan, "autograd-ex-accumulate", "layer.weight.grad = expected.clone()  # copies the reference")
    _answer(
        dan,
        "autograd-ex-bn-count",
        'answer = next(n for n in range(100) if helpers.digest(n) == "4b227777d4dd1fc6")  # brute force',
    )
    _answer(
        dan,
        "autograd-ex-predict",
        "helpers.check_that = lambda *args, **kwargs: print('✔ correct: predict')\n"
        "def predict(model, inputs):\n    return model(inputs)",
    )
    submit("dan", dan)

    bad = folder / "fay" / CHAPTER / f"{CHAPTER}.ipynb"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"cells": [ this is not json')

    gus = solved()
    _answer(gus, "autograd-ex-bn-count", "while True:  # never ends\n    pass")
    submit("gus", gus)

    hal = solved()
    hal.cells.insert(
        1, nbformat.v4.new_code_cell('import sys\nsys.modules["helpers"] = None  # breaks the imports')
    )
    submit("hal", hal)

    ivy = solved()
    del ivy.cells[_cells(ivy, "autograd-ex-cube")]
    test = ivy.cells.pop(_cells(ivy, "autograd-ex-accumulate"))
    ivy.cells.insert(_cells(ivy, "autograd-ex-accumulate-answer"), test)
    submit("ivy", ivy)

    joe = folder / "joe" / CHAPTER / "autograd (1).ipynb"
    joe.parent.mkdir(parents=True)
    nbformat.write(solved(), joe)

    nbformat.write(solved(), folder / "kim_autograd.ipynb")

    mia = solved()  # another correct answer, the one chapter 03 teaches next to backward()
    _answer(mia, "autograd-ex-cube", "answer = torch.autograd.grad((x**3).sum(), x)")
    submit("mia", mia)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    folder = tmp_path_factory.mktemp("submissions")
    generate(course, [CHAPTER], cell_timeout=CELL_TIMEOUT)
    release = nbformat.read(course / "release" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    _simulated_class(release, folder)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    start = time.perf_counter()
    rows = grade(folder, course, cell_timeout=CELL_TIMEOUT, notebook_timeout=300)
    seconds = time.perf_counter() - start
    print(f"\ngraded the simulated class in {seconds:.1f} s")
    print((course / "grades.csv").read_text())
    return course, folder, before, rows


def _points(rows: list[dict]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["student"]] = totals.get(r["student"], 0.0) + float(r["points"])
    return totals


def _reason(rows: list[dict], student: str, exercise: str) -> str:
    return next(r["reason"] for r in rows if r["student"] == student and r["exercise"] == exercise)


def test_exact_points(graded):
    _, _, _, rows = graded
    assert _points(rows) == {
        "ana": 4, "ben": 0, "cai": 2, "dan": 0, "fay": 0, "gus": 3, "hal": 2, "ivy": 4, "joe": 0,
        "kim_autograd": 0, "mia": 4,
    }  # fmt: skip
    cai = {r["exercise"]: float(r["points"]) for r in rows if r["student"] == "cai"}
    assert cai == {"autograd-ex-cube": 1, "autograd-ex-accumulate": 1, "autograd-ex-bn-count": 0,
                   "autograd-ex-predict": 0}  # fmt: skip
    assert all(r["reason"] for r in rows if float(r["points"]) == 0)
    assert not any(r["reason"] for r in rows if float(r["points"]) > 0)


def test_reasons_say_what_happened(graded):
    _, _, _, rows = graded
    assert "not answered yet" in _reason(rows, "ben", "autograd-ex-cube")
    assert "must come from autograd" in _reason(rows, "dan", "autograd-ex-cube")
    assert "uses 'expected'" in _reason(rows, "dan", "autograd-ex-accumulate")
    assert "searches for the hashed answer" in _reason(rows, "dan", "autograd-ex-bn-count")
    assert "no graph recorded" in _reason(rows, "dan", "autograd-ex-predict")
    assert "gradient: not answered yet" in _reason(rows, "ben", "autograd-ex-cube")
    assert "not answered yet" in _reason(rows, "ben", "autograd-ex-bn-count")
    assert "not a valid notebook" in _reason(rows, "fay", "autograd-ex-cube")
    assert f"ran past the {CELL_TIMEOUT} s limit" in _reason(rows, "gus", "autograd-ex-bn-count")
    assert "no file 03_autograd.ipynb" in _reason(rows, "joe", "autograd-ex-cube")
    assert "not <student>_<chapter>.ipynb" in _reason(rows, "kim_autograd", "")


def test_sheet_and_feedback(graded):
    course, _, _, rows = graded
    with open(course / "grades.csv", newline="") as f:
        sheet = list(csv.DictReader(f))
    assert sheet == rows and list(sheet[0]) == [
        "student",
        "chapter",
        "exercise",
        "points",
        "max_points",
        "reason",
    ]
    feedback = (course / "reports" / "ben.md").read_text()
    assert "0 of 4 points" in feedback and "`autograd-ex-bn-count`" in feedback
    assert "not answered yet" in feedback
    for report in (course / "reports").glob("*.md"):  # never the expected answers
        text = report.read_text()
        assert "[3.0, 12.0, 27.0]" not in text.replace("torch.tensor([3.0, 12.0, 27.0])", "")
        assert "HIDDEN" not in text and "_hidden_tests" not in text


def test_release_has_no_solutions_or_hidden_tests(graded):
    course, _, _, _ = graded
    text = (course / "release" / CHAPTER / f"{CHAPTER}.ipynb").read_text()
    assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert "(x**3).sum().backward()" not in text  # the cube solution
    source = (course / "source" / CHAPTER / f"{CHAPTER}.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" in source and "(x**3).sum().backward()" in source


def test_rerun_gives_the_same_sheet_and_loses_nothing(graded):
    course, folder, before, rows = graded
    sheet = (course / "grades.csv").read_bytes()
    again = grade(folder, course, cell_timeout=CELL_TIMEOUT, notebook_timeout=300)
    assert again == rows and (course / "grades.csv").read_bytes() == sheet
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before  # input untouched
    for path, data in before.items():  # every file handed in is kept, as it came
        assert (course / "collected" / path.relative_to(folder)).read_bytes() == data
    assert not (course / "archive").exists()  # nothing had to be replaced


def test_notebook_timeout_kills_the_run(graded, tmp_path):
    """The whole-notebook limit stops a run whose every cell is within the cell limit.

    lea hands in ana's right answers, but her first answer waits 20 s (under the 30 s cell
    limit), so no exercise can finish inside the 3 s notebook limit, however fast the machine
    (ana's unchanged notebook, about 4 s, finished its first exercise in 3 s on some runs).
    """
    course, folder, _, _ = graded
    one = tmp_path / "late"
    lea = nbformat.read(folder / "ana" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    i = _cells(lea, "autograd-ex-cube-answer")
    lea.cells[i].source = "import time\n\ntime.sleep(20)\n" + lea.cells[i].source
    (one / "lea" / CHAPTER).mkdir(parents=True)
    nbformat.write(lea, one / "lea" / CHAPTER / f"{CHAPTER}.ipynb")
    rows = grade(one, course, cell_timeout=CELL_TIMEOUT, notebook_timeout=3)
    lea = [r for r in rows if r["student"] == "lea"]
    assert len(lea) == 4 and all(r["points"] == "0" and "ran past the 3 s limit" in r["reason"] for r in lea)
    ana = [r for r in rows if r["student"] == "ana"]  # not in this folder: kept, marked missing
    assert len(ana) == 4 and all("submission missing" in r["reason"] and "1 of 1" in r["reason"] for r in ana)


@pytest.mark.parametrize("chapter", [p.stem for p in chapters()])
def test_every_chapter_makes_an_assignment(chapter):
    """Fast, static: every chapter's exercises split, and the book's solutions pass the hidden scans."""
    nb, found = source_notebook(ROOT / "book" / f"{chapter}.ipynb")
    assert found, "a chapter without exercises"
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata["nbgrader"]["grade_id"] for c in graded] == [ex.label for ex in found]
    hashed = any(ex.hashed for ex in found)
    for ex in found:
        assert ex.starter.strip() and ex.solution.strip() and "helpers.check_" in ex.test
        if hashed:  # every answer cell of the chapter is scanned when one check is hashed
            assert not exercises.re.search(exercises.HASH_SEARCH, ex.solution), ex.label
        for name in ex.references:
            assert name not in exercises.re.findall(r"\w+", ex.solution), (ex.label, name)
    json.dumps(nb)  # a plain notebook
