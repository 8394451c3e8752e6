"""The fairness runner itself (tools/fairness.py): it finds each exercise, and its judge fails
an accepted wrong answer, a rejected alternative, a message that names the wrong problem and a
chapter cell broken by the probes."""

from __future__ import annotations

import nbformat

from tools.fairness import exercises, judge, trailing_checks

md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell


def _probe(role: str, outputs: list, message: str = "") -> nbformat.NotebookNode:
    cell = code("answer = 1\nhelpers.check_value(answer, 2)")
    cell.metadata["fairness"] = {"label": "ex", "role": role, "message": message}
    cell.outputs = outputs
    return cell


def _error(ename: str, evalue: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def _stream(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_exercises_are_found_when_markers_share_a_cell() -> None:
    nb = nbformat.v4.new_notebook(cells=[
        md("```{exercise-start}\n:label: a\n```"),
        code("x = 1\nanswer = ...\nhelpers.check_value(answer, 2)"),
        md("```{exercise-end}\n```\n```{solution-start} a\n```"),
        code("answer = 2\nhelpers.check_value(answer, 2)"),
        md("```{solution-end}\n```\n\n```{exercise-start}\n:label: b\n```"), code("helpers.check_that(ok)"),
        md("```{exercise-end}\n```\n```{solution-start} b\n```"), code("ok = True\nhelpers.check_that(ok)"),
        md("```{solution-end}\n```"),
    ])  # fmt: skip
    found = exercises(nb)
    assert [(e.label, e.starter, e.solution, e.end) for e in found] == [("a", 1, [3], 4), ("b", 5, [7], 8)]
    assert found[0].checks == "helpers.check_value(answer, 2)"
    assert trailing_checks("a = 1\nhelpers.check_that(a)\nprint(a)") == "helpers.check_that(a)\nprint(a)"


def test_judge_accepts_fair_checks_and_joins_wrapped_messages() -> None:
    nb = nbformat.v4.new_notebook(cells=[
        _probe("alternative", [_stream("✔ correct: answer\n")]),
        _probe("wrong", [_error("ExerciseError", "answer: 1 is\ntoo small.")], message="1 is too small"),
        _probe("restore", []),
    ])  # fmt: skip
    assert judge(nb) == []


def test_judge_names_every_unfair_or_broken_case() -> None:
    broken = code("model(x)")
    broken.outputs = [_error("RuntimeError", "shapes do not match")]
    nb = nbformat.v4.new_notebook(cells=[
        _probe("alternative", [_error("ExerciseError", "answer: 3 is too large.")]),
        _probe("alternative", [_stream("done\n")]),
        _probe("wrong", [_stream("✔ correct: answer\n")], message="x"),
        _probe("wrong", [_error("NameError", "name 'y' is not defined")], message="x"),
        _probe("wrong", [_error("ExerciseError", "answer: wrong dtype")], message="too small"),
        broken,
    ])  # fmt: skip
    problems = judge(nb)
    assert len(problems) == 6
    assert "3 is too large" in problems[0] and "no '✔ correct'" in problems[1]
    assert "wrong answer was accepted" in problems[2] and "not ExerciseError" in problems[3]
    assert "does not match 'too small'" in problems[4] and "cell 5 of the chapter failed" in problems[5]
