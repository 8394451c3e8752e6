"""`make student` writes notebooks without solutions or outputs, keeping the self-checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools.bookfiles import ROOT, notebooks, read
from tools.classroom import exercises, verdict
from tools.classroom.assignments import chapters, source_notebook
from tools.student import strip_solutions


def test_student_copies_have_no_solutions_and_keep_self_checks(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "tools.student", str(tmp_path)], cwd=ROOT, check=True)
    for original in notebooks():
        copy = nbformat.read(tmp_path / original.relative_to(ROOT / "book"), as_version=4)
        solved = read(original)
        text = "\n".join(c.source for c in copy.cells)
        assert "solution-start" not in text and "{solution}" not in text
        for cell in copy.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
        exercises = "\n".join(c.source for c in solved.cells).count("{exercise-start}")
        if not re.match(r"\d\d", original.name):
            continue  # appendix notebooks have no exercises
        assert exercises >= 3
        assert text.count("{exercise-start}") == text.count("{exercise-end}") == exercises
        assert sum("helpers.check_" in c.source for c in copy.cells if c.cell_type == "code") >= exercises
        assert len(copy.cells) < len(solved.cells)


def test_strip_solutions_removes_gated_and_single_cell_solutions() -> None:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(cells=[
        md("```{exercise-start}\n:label: ex\n```"), code("answer = ...\nhelpers.check_value(answer, 1)"),
        md("```{exercise-end}\n```\n\n```{solution-start} ex\n:class: dropdown\n```\nWhy it works."),
        code("answer = 1"),
        md("```{solution-end}\n```\n\n```{exercise-start}\n:label: ex2\n```\nSecond task."),
        md("Prose.\n\n:::{solution} ex2\n:class: dropdown\nJust prose.\n:::\n\nAfter the exercises."),
    ])  # fmt: skip
    kept = [c.source for c in strip_solutions(nb).cells]
    assert kept == [
        "```{exercise-start}\n:label: ex\n```",
        "answer = ...\nhelpers.check_value(answer, 1)",
        "```{exercise-end}\n```",
        "```{exercise-start}\n:label: ex2\n```\nSecond task.",
        "Prose.\n\n\nAfter the exercises.",
    ]


def test_an_unclosed_solution_is_an_error() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{solution-start} x\n```")])
    with pytest.raises(ValueError, match="no matching"):
        strip_solutions(nb)


@pytest.mark.parametrize("chapter", [p.stem for p in chapters()])
def test_a_student_copy_is_graded_like_the_assignment(chapter: str) -> None:
    """The grader finds every answer of a `make student` copy, as in the nbgrader release."""
    book = read(ROOT / "book" / f"{chapter}.ipynb")
    found = exercises.find(book)
    release, _ = source_notebook(ROOT / "book" / f"{chapter}.ipynb")
    copy = strip_solutions(read(ROOT / "book" / f"{chapter}.ipynb"))
    for ex in found:  # the student types the book's solution between the set-up and the checks
        cell = next(c for c in copy.cells if c.get("id") == ex.starter_id)
        cell.source = "\n".join(part for part in (ex.setup, ex.solution, ex.test) if part.strip())
    plan = verdict.build(release, verdict.spec(book), json.loads(nbformat.writes(copy)), 60)
    assert not plan.notes
    for ex in found:
        assert plan.code[ex.label].strip() == ex.solution.strip(), ex.label
    steps = [s for s in plan.plan["steps"] if s["kind"] == "exercise"]
    assert [s["label"] for s in steps] == [ex.label for ex in found]
