"""Every exercise's self-check is fair: another correct answer passes, a plausible wrong one fails.

The entries are in this folder, one YAML file per chapter (see tools/fairness.py). The chapters
run here with the probes added, so this takes a few minutes: `make test` runs it once, in the
Colab-like environment with the oldest torch (`make colab-check`, which also proves that every
chapter runs there); `make exercises` runs it in the book's own environment. The checks of the
entries themselves are in tests/test_exercise_entries.py (`make test-fast`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.bookfiles import notebooks
from tools.fairness import answers, run

CHAPTERS = [p for p in notebooks() if re.match(r"\d\d_", p.name)]
IDS = [p.stem for p in CHAPTERS]
OTHERS = [p for p in notebooks() if p not in CHAPTERS]  # no exercises: the pitfalls appendix


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_checks_accept_another_answer_and_reject_a_wrong_one(chapter: Path) -> None:
    problems = run(chapter)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("notebook", OTHERS, ids=[p.stem for p in OTHERS])
def test_a_notebook_without_exercises_runs_without_an_unexpected_error(notebook: Path) -> None:
    """The same runner with no probes to add: what nbval's lax mode checks, so that the Colab
    stage of `make test` runs every notebook once, in one way."""
    assert not answers(notebook), "a notebook with fairness entries is a chapter"
    problems = run(notebook)
    assert not problems, "\n".join(problems)
