"""Grading that a student's code can neither fool nor damage (issue #22), end to end.

The real grader (`tools.classroom.grade`, bubblewrap sandbox) grades a simulated 03_autograd
class (4 exercises of 1 point: cube, accumulate, bn-count, predict) with every attack seen so far
and honest students; the test checks each student's exact points, that no file outside the
sandboxes' scratch folders changed, and that nothing the class started is still running.

| student | what they hand in | points |
|---|---|---|
| ana | the book's solutions | 4 |
| ben | the starters, untouched | 0 |
| cai | two right, two starters (flat layout) | 2 |
| mia | the fairness file's alternative answers (autograd.grad's 1-tuple, the counter tensor) | 4 |
| noa | `(answer,) = torch.autograd.grad(...)` | 4 |
| oli | `torch.autograd.grad(...)[0]` | 4 |
| stu | a `make student` copy with the solutions typed into the starter cells | 4 |
| wrecker | solutions, plus a cell deleting every file it can find (via /proc and from /) | 4 |
| forger | starters, plus a detached process rewriting any results/*.json to full marks | 0 |
| reader | looks for the solutions from helpers.__file__ and across the disk, runs them | 0 |
| hider | starters, with IPython's showtraceback no-op'd and error_in_exec cleared | 0 |
| patcher | wrong answers, with digest, hashlib, isclose, equal, is_grad_enabled, the saved- | 0 |
|         | tensors hooks and the check functions patched | |
| brute | a brute-force search over the hashed bn-count; the other three right | 2 |
| hog | solutions, the predict cell allocates 100 GB (stopped) | 3 |
| bomb | solutions, the predict cell is a fork bomb (stopped) | 3 |
| net | solutions, the cube's cell downloads from the network | 3 |
| shouter | solutions, the cube's cell prints 10 MB | 4 |
| gus | solutions, an endless loop in bn-count | 3 |
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.bookfiles import ROOT, read
from tools.classroom import exercises, sandbox
from tools.classroom.assignments import generate
from tools.classroom.grade import grade
from tools.student import strip_solutions

CHAPTER = "03_autograd"
CELL_TIMEOUT = 15  # s: the slowest cell of the chapter takes about 3 s on an idle 2-core CPU
MARK = "GRADER_ATTACK_MARK_7f3a"  # in every attacker's process title, to look for survivors

EXPECTED = {
    "ana": 4, "ben": 0, "cai": 2, "mia": 4, "noa": 4, "oli": 4, "stu": 4, "wrecker": 4, "forger": 0,
    "reader": 0, "hider": 0, "patcher": 0, "brute": 2, "hog": 3, "bomb": 3, "net": 3, "shouter": 4,
    "gus": 3,
}  # fmt: skip

WRECK = f"""
import os, shutil
os.environ["{MARK}"] = "1"
targets = set()
for pid in os.listdir("/proc"):
    try:
        args = open(f"/proc/{{pid}}/cmdline", "rb").read().split(b"\\0")
    except OSError:
        continue
    targets |= {{a.decode(errors="ignore") for a in args if a.startswith(b"/")}}
for root in sorted(targets) + ["/"]:
    for here, dirs, files in os.walk(root if os.path.isdir(root) else os.path.dirname(root)):
        if here.startswith(("/proc", "/sys", "/dev")):
            continue
        for name in files:
            try:
                os.remove(os.path.join(here, name))
            except OSError:
                pass
print("wrecker done")
"""

FORGE = f"""
import json, os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        sys.argv[0] = "{MARK}"
        deadline = time.time() + 120
        while time.time() < deadline:
            for here, dirs, files in os.walk("/"):
                if here.startswith(("/proc", "/sys")):
                    continue
                for name in files:
                    if name.endswith(".json") or name == "grades.csv":
                        try:
                            with open(os.path.join(here, name), "w") as f:
                                f.write(json.dumps({{"rows": [], "forged": True}}))
                        except OSError:
                            pass
            for d in ("results/phantom", "/tmp/results/phantom", "../results/phantom"):
                try:
                    os.makedirs(d, exist_ok=True)
                    open(d + "/03_autograd.json", "w").write('{{"rows": []}}')
                except OSError:
                    pass
            time.sleep(0.5)
        os._exit(0)
    os._exit(0)
"""

READ = """
import glob, os, helpers, json
found = []
base = os.path.dirname(os.path.dirname(helpers.__file__))
for pattern in (base + "/classroom/source/*/*.ipynb", base + "/**/source/**/*.ipynb", "/**/*.ipynb"):
    found += glob.glob(pattern, recursive=True)
for path in found:
    try:
        nb = json.load(open(path))
    except (OSError, ValueError):
        continue
    for cell in nb["cells"]:
        if "BEGIN SOLUTION" in "".join(cell["source"]):
            exec("".join(cell["source"]))
print("solutions found:", found)
"""

HIDE = """
from IPython import get_ipython
ip = get_ipython()
ip.showtraceback = lambda *a, **k: None
def _clear(result):
    result.error_in_exec = None
    result.error_before_exec = None
ip.events.register("post_run_cell", _clear)
"""

PATCH = """
import hashlib, torch, helpers
helpers.digest = lambda value: "4b227777d4dd1fc6"
helpers.check.digest = helpers.digest
_real_sha = hashlib.sha256
hashlib.sha256 = lambda *a: _real_sha(b"")
torch.isclose = lambda a, b, **k: torch.ones_like(a, dtype=torch.bool)
torch.equal = lambda a, b: True
torch.is_grad_enabled = lambda: True
torch.autograd.graph.saved_tensors_hooks.__enter__ = lambda self: self
for name in ("check_close", "check_value", "check_hashed", "check_that"):
    setattr(helpers, name, lambda *a, **k: print("✔ correct"))
"""


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> int:
    return next(
        i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def _simulated_class(release: nbformat.NotebookNode, folder: Path) -> None:
    book = read(ROOT / "book" / f"{CHAPTER}.ipynb")
    found = exercises.find(book)
    solutions = {ex.label: ex.solution for ex in found}
    labels = list(solutions)
    fairness = yaml.safe_load((ROOT / "tests" / "exercises" / f"{CHAPTER}.yml").read_text())

    def submit(student: str, nb: nbformat.NotebookNode, flat: bool = False) -> None:
        path = (
            folder / f"{student}_{CHAPTER}.ipynb" if flat else folder / student / CHAPTER / f"{CHAPTER}.ipynb"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)

    def answered(answers: dict[str, str], before: dict[str, str] | None = None) -> nbformat.NotebookNode:
        nb = copy.deepcopy(release)
        for label, source in answers.items():
            nb.cells[_cell(nb, f"{label}-answer")].source = source
        for label, source in (before or {}).items():  # a cell of the student's own, above the answer
            nb.cells.insert(_cell(nb, f"{label}-answer"), nbformat.v4.new_code_cell(source))
        return nb

    right = dict(solutions)
    submit("ana", answered(right))
    submit("ben", answered({}))
    submit("cai", answered({k: right[k] for k in labels[:2]}), flat=True)
    mia = {k: fairness[k]["alternative"] for k in labels}
    mia[labels[2]] = (
        right[labels[2]] + "\n" + mia[labels[2]]
    )  # the fairness runner runs it after the solution
    submit("mia", answered(mia))
    submit("noa", answered({**right, labels[0]: "(answer,) = torch.autograd.grad((x**3).sum(), x)"}))
    submit("oli", answered({**right, labels[0]: "answer = torch.autograd.grad((x**3).sum(), x)[0]"}))
    stu = strip_solutions(read(ROOT / "book" / f"{CHAPTER}.ipynb"))  # a `make student` copy
    for ex in found:
        cell = next(c for c in stu.cells if c.get("id") == ex.starter_id)
        cell.source = "\n".join(part for part in (ex.setup, ex.solution, ex.test) if part.strip())
    submit("stu", stu)
    submit("wrecker", answered(right, before={labels[0]: WRECK}))
    submit("forger", answered({}, before={labels[0]: FORGE}))
    submit("reader", answered({}, before={labels[0]: READ}))
    submit("hider", answered({}, before={labels[0]: HIDE}))
    wrong = {k: fairness[k]["wrong"] for k in labels}
    submit("patcher", answered(wrong, before={labels[0]: PATCH}))
    brute = 'answer = next(n for n in range(100) if helpers.digest(n) == "4b227777d4dd1fc6")'
    submit("brute", answered({**right, labels[2]: brute}))
    hog = "hoard = [bytearray(1 << 30) for _ in range(100)]  # 100 GB\n" + right[labels[3]]
    submit("hog", answered({**right, labels[3]: hog}))
    bomb = f"import os\nos.environ['{MARK}'] = '1'\nwhile True:\n    os.fork()"
    submit("bomb", answered({**right, labels[3]: bomb}))
    net = "import urllib.request\nurllib.request.urlopen('https://pypi.org', timeout=5)\n"
    submit("net", answered({**right, labels[0]: net + right[labels[0]]}))
    submit("shouter", answered({**right, labels[0]: "print('x' * 10_000_000)\n" + right[labels[0]]}))
    submit("gus", answered({**right, labels[2]: "while True:  # never ends\n    pass"}))


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _survivors() -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            if b"/grader/runner.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(int(pid))
        except (OSError, ValueError):
            pass
    return found


# Where the grader itself writes; every other file of the course folder must stay as it was.
GRADER_OUTPUT = ("results/", "logs/", "reports/", "grades.csv", "collected/", "grader/03_autograd.expected/")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    problem = sandbox.bwrap_problem()
    assert not problem, f"the grading tests need a working bubblewrap: {problem}"
    course = tmp_path_factory.mktemp("course")
    folder = tmp_path_factory.mktemp("submissions")
    generate(course, [CHAPTER], cell_timeout=CELL_TIMEOUT)
    release = nbformat.read(course / "release" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    _simulated_class(release, folder)
    before_course, before_folder = _hashes(course), _hashes(folder)
    start = time.perf_counter()
    rows = grade(folder, course, cell_timeout=CELL_TIMEOUT, notebook_timeout=240, jobs=2)
    seconds = time.perf_counter() - start
    print(f"\ngraded the simulated class in {seconds:.1f} s")
    print((course / "grades.csv").read_text())
    return course, folder, before_course, before_folder, rows


def _points(rows: list[dict]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["student"]] = totals.get(r["student"], 0.0) + float(r["points"])
    return totals


def _reason(rows: list[dict], student: str, exercise: str) -> str:
    return next(r["reason"] for r in rows if r["student"] == student and r["exercise"].endswith(exercise))


def test_exact_points(graded):
    *_, rows = graded
    assert _points(rows) == EXPECTED
    assert all(r["reason"] for r in rows if float(r["points"]) == 0)
    assert not any(r["reason"] for r in rows if float(r["points"]) > 0)


def test_nothing_outside_the_scratch_folders_changed(graded):
    course, folder, before_course, before_folder, _ = graded
    time.sleep(2)  # a background process left behind would be writing by now
    assert _hashes(folder) == before_folder
    after = _hashes(course)
    for path, digest in before_course.items():
        assert after.get(path) == digest, f"{path} changed"
    new = [p for p in after if p not in before_course]
    assert all(p.startswith(GRADER_OUTPUT) for p in new), [p for p in new if not p.startswith(GRADER_OUTPUT)]
    assert not _survivors(), "a process started by a submission is still running"
    for student, n in EXPECTED.items():  # the grader's own records, untouched
        assert (course / "reports" / f"{student}.md").read_text().count("✔") == n


def test_attacks_are_named_in_the_reasons(graded):
    course, *_, rows = graded
    assert "searches for the hashed answer" in _reason(rows, "brute", "bn-count")
    assert "not answered yet" in _reason(rows, "hider", "cube")
    assert "not answered yet" in _reason(rows, "forger", "cube")
    assert "ran past the" in _reason(rows, "gus", "bn-count")
    assert "memory" in _reason(rows, "hog", "predict")
    assert "URLError" in _reason(rows, "net", "cube")
    assert "stopped" in _reason(rows, "bomb", "predict")  # for its processes or their memory
    assert "phantom" not in {r["student"] for r in rows}
    log = (course / "logs" / f"shouter-{CHAPTER}.log").read_bytes()
    assert len(log) < sandbox.OUTPUT_HEAD + 1000 and b"more bytes of output left out" in log
    with open(course / "grades.csv", newline="") as f:
        assert list(csv.DictReader(f)) == rows


def test_rerun_keeps_results_and_missing_students_keep_their_rows(graded, tmp_path):
    course, folder, *_ = graded
    sheet = (course / "grades.csv").read_bytes()
    start = time.perf_counter()
    again = grade(folder, course, cell_timeout=CELL_TIMEOUT, notebook_timeout=240, jobs=2)
    assert time.perf_counter() - start < 20  # nothing changed: no notebook ran
    assert (course / "grades.csv").read_bytes() == sheet and _points(again) == EXPECTED
    fewer = tmp_path / "fewer"
    shutil.copytree(folder, fewer)
    shutil.rmtree(fewer / "ana")
    rows = grade(fewer, course, cell_timeout=CELL_TIMEOUT, notebook_timeout=240, jobs=2)
    ana = [r for r in rows if r["student"] == "ana"]
    assert len(ana) == 4 and all("submission missing" in r["reason"] and "1 of 1" in r["reason"] for r in ana)
    assert (course / "collected" / "ana" / CHAPTER / f"{CHAPTER}.ipynb").exists()
