"""Prove each exercise's self-check fair: it accepts another correct answer and rejects a wrong one.

For every exercise of a chapter, `tests/exercises/<chapter>.yml` holds an `alternative` (a
different correct answer), a `wrong` answer (a plausible mistake) and the `message` regex the
check's error must match. `run(chapter)` executes the chapter with three cells added right after
each exercise's solution:

1. the alternative, then the starter's self-check statements: must print "✔ correct";
2. the wrong answer, then the same checks: must raise `ExerciseError` whose message, joined
   into one line with single spaces (wrapping aside), matches the regex `message` (and so on for
   each entry of `wrong_more`);
3. the book's solution again, so the rest of the chapter runs on the state it expects.

Usage: python -m tools.fairness book/03_autograd.ipynb   (prints one line per exercise)
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml
from nbclient import NotebookClient

from tools.bookfiles import ROOT, read
from tools.kernel_logs import ATTEMPTS, gave_up, log_dir, record_failed_start

ANSWERS = ROOT / "tests" / "exercises"
EXERCISE_START = re.compile(r"\{exercise-start\}[^\n]*\n:label:\s*(\S+)")
EXERCISE_END = re.compile(r"\{exercise-end\}")
SOLUTION_START = re.compile(r"\{solution-start\}\s*(\S+)")
SOLUTION_END = re.compile(r"\{solution-end\}")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Exercise:
    """Where one exercise sits in its chapter."""

    label: str
    starter: int  # index of the starter code cell
    checks: str  # the starter's trailing self-check statements
    solution: list[int]  # indices of the solution's code cells
    end: int  # index of the cell that closes the solution


def _calls_check(node: ast.AST) -> bool:
    return any(
        isinstance(sub, ast.Call)
        and isinstance(sub.func, ast.Attribute)
        and isinstance(sub.func.value, ast.Name)
        and sub.func.value.id == "helpers"
        and sub.func.attr.startswith("check_")
        for sub in ast.walk(node)
    )


def trailing_checks(source: str) -> str:
    """Return the statements of `source` from its first `helpers.check_*` statement to the end."""
    body = ast.parse(source).body
    lines = source.splitlines()
    first = next((i for i, stmt in enumerate(body) if _calls_check(stmt)), None)
    if first is None:
        raise ValueError("the starter cell has no helpers.check_* statement")
    return "\n".join(lines[body[first].lineno - 1 :])


def exercises(nb: nbformat.NotebookNode) -> list[Exercise]:
    """Return the exercises of a chapter, in order (the shape CONTRIBUTING.md describes)."""
    found: list[Exercise] = []
    label, starter, solution, open_label = None, None, [], None
    markers = re.compile(f"{EXERCISE_START.pattern}|{SOLUTION_START.pattern}|{SOLUTION_END.pattern}")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for m in markers.finditer(cell.source):  # in the order they appear in the cell
                if m.group(1):  # {exercise-start} with its :label:
                    label, starter = m.group(1), None
                elif m.group(2):  # {solution-start} <label>
                    if m.group(2) == label:
                        open_label, solution = label, []
                elif open_label:  # {solution-end}
                    if starter is None:
                        raise ValueError(f"{label}: no starter code cell ending in a self-check")
                    checks = trailing_checks(nb.cells[starter].source)
                    found.append(Exercise(label, starter, checks, solution, i))
                    open_label = None
        elif cell.cell_type == "code":
            if open_label:
                solution.append(i)
            elif label and starter is None and _calls_check(ast.parse(cell.source)):
                starter = i
    return found


def answers(chapter: Path) -> dict:
    """Return the chapter's fairness entries (empty when it has no file)."""
    path = ANSWERS / f"{chapter.stem}.yml"
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _code(source: str, label: str, role: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["fairness"] = {"label": label, "role": role}
    return cell


def probe(chapter: Path) -> nbformat.NotebookNode:
    """Return the chapter with the fairness cells added after each exercise's solution."""
    nb = read(chapter)
    entries = answers(chapter)
    cells = list(nb.cells)
    for ex in reversed(exercises(nb)):  # insert from the end so earlier indices stay valid
        entry = entries.get(ex.label)
        if entry is None:
            continue
        added = [_code(f"{entry['alternative'].rstrip()}\n{ex.checks}", ex.label, "alternative")]
        for n, wrong in enumerate([entry] + list(entry.get("wrong_more", []))):
            code = wrong["wrong"] if n == 0 else wrong["code"]
            cell = _code(f"{code.rstrip()}\n{ex.checks}", ex.label, "wrong")
            cell.metadata["fairness"]["message"] = wrong["message"]
            added.append(cell)
        added.append(_code("\n\n".join(nb.cells[i].source for i in ex.solution), ex.label, "restore"))
        cells[ex.end + 1 : ex.end + 1] = added
    nb.cells = cells
    return nb


def _errors(cell: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def _one_line(message: str) -> str:
    """The message as one line of single spaces: an entry's regex must not depend on the wrapping."""
    return " ".join(ANSI.sub("", message).split())


def judge(nb: nbformat.NotebookNode) -> list[str]:
    """Return one line per problem in an executed probe notebook (empty: every check is fair)."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors, meta = _errors(cell), cell.metadata.get("fairness")
        if meta is None:
            if errors and "raises-exception" not in cell.metadata.get("tags", []):
                e = errors[0]
                problems.append(f"cell {i} of the chapter failed after the probes: {e.ename}: {e.evalue}")
            continue
        where = f"{meta['label']} ({meta['role']})"
        if meta["role"] == "wrong":
            if not errors:
                problems.append(f"{where}: the wrong answer was accepted: {_stdout(cell).strip()!r}")
            elif errors[0].ename != "ExerciseError":
                problems.append(f"{where}: raised {errors[0].ename}: {errors[0].evalue}, not ExerciseError")
            elif not re.search(meta["message"], _one_line(errors[0].evalue)):
                problems.append(f"{where}: message {errors[0].evalue!r} does not match {meta['message']!r}")
        elif errors:
            problems.append(f"{where}: {errors[0].ename}: {ANSI.sub('', errors[0].evalue)}")
        elif meta["role"] == "alternative" and "✔ correct" not in _stdout(cell):
            problems.append(f"{where}: the check printed no '✔ correct'")
    return problems


class _Client(NotebookClient):
    """nbclient's client, counting the cells it began (none: the kernel failed to start)."""

    cells_begun = 0

    async def async_execute_cell(self, *args: Any, **kwargs: Any) -> Any:
        self.cells_begun += 1
        return await super().async_execute_cell(*args, **kwargs)


def run(chapter: Path) -> list[str]:
    """Execute the chapter with its probes (in a fresh kernel, in book/) and judge the result.

    The kernel's stderr is kept in `_build/kernel-logs/<chapter>.fairness.<attempt>.log`; a
    kernel that fails before any cell began is started once more (as `tools/nbval_retry.py`
    does for nbval), a failing cell never is.
    """
    folder, name = log_dir(), f"{chapter.stem}.fairness"
    for attempt in range(1, ATTEMPTS + 1):
        nb = probe(chapter)
        client = _Client(
            nb,
            timeout=600,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(chapter.parent)}},
        )
        log = folder / f"{name}.{attempt}.log"
        with open(log, "w") as stderr:
            try:
                client.execute(stderr=stderr)
                return judge(nb)
            except Exception as err:
                if client.cells_begun:
                    raise
                error = err
        record_failed_start(name, attempt, error, log)
    raise gave_up(name, folder, error) from error


def main(argv: list[str]) -> int:
    failed = 0
    for arg in argv:
        problems = run(Path(arg).resolve())
        failed += len(problems)
        print(f"{arg}: {'fair' if not problems else f'{len(problems)} problem(s)'}")
        for line in problems:
            print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
