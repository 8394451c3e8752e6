"""Each chapter's fairness entries (tests/exercises/<chapter>.yml) cover its exercises, and each
starter's stored message fits the page. (The entries are run by tests/exercises/test_fairness.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.bookfiles import notebooks, read
from tools.fairness import ANSI, answers, exercises

CHAPTERS = [p for p in notebooks() if re.match(r"\d\d_", p.name)]
IDS = [p.stem for p in CHAPTERS]
WIDTH = 66  # a message line wider than this scrolls sideways on the page (68 columns show)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_every_exercise_has_a_fairness_entry(chapter: Path) -> None:
    labels = [ex.label for ex in exercises(read(chapter))]
    entries = answers(chapter)
    assert labels, "a chapter has exercises"
    assert sorted(entries) == sorted(labels), f"tests/exercises/{chapter.stem}.yml must list each exercise"
    for label, entry in entries.items():
        wrongs = [(entry.get("wrong"), entry.get("message"))]
        wrongs += [(w.get("code"), w.get("message")) for w in entry.get("wrong_more", [])]
        assert entry.get("alternative", "").strip(), f"{label}: no alternative answer"
        for code, message in wrongs:
            assert code and code.strip() and message, f"{label}: a wrong answer needs code and message"
            re.compile(message)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_starter_messages_fit_the_page_and_show_no_machine_path(chapter: Path) -> None:
    nb = read(chapter)
    for ex in exercises(nb):
        errors = [o for o in nb.cells[ex.starter].outputs if o.output_type == "error"]
        assert errors, f"{ex.label}: the starter's stored output shows the self-check's message"
        assert errors[0].ename == "ExerciseError", f"{ex.label}: {errors[0].ename}: {errors[0].evalue}"
        lines = f"{errors[0].ename}: {errors[0].evalue}".splitlines()
        assert all(len(line) <= WIDTH for line in lines), f"{ex.label}: a message line scrolls sideways"
        traceback = ANSI.sub("", "\n".join(errors[0].traceback))
        assert not re.search(r"^File /", traceback, re.M), f"{ex.label}: a file path in the traceback"


def test_make_test_runs_every_chapter_with_exercises_through_its_probes() -> None:
    from tools.colab_check import FAIRNESS, PLAIN, targets

    found = targets(notebooks())
    assert len(found) == len(notebooks()), "every notebook runs once"
    assert [t for t in found if t.startswith(FAIRNESS)] == [f"{FAIRNESS}[{p.stem}]" for p in CHAPTERS]
    others = [p for p in notebooks() if p not in CHAPTERS]
    assert others, "pitfalls has no exercises: it runs as a plain notebook"
    assert [t for t in found if t.startswith(PLAIN)] == [f"{PLAIN}[{p.stem}]" for p in others]
