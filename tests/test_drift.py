"""tools.drift: the report lists the failing cells, and the issue step opens, updates or closes one issue."""

from __future__ import annotations

import argparse
import json
import stat
from pathlib import Path

import pytest

from tools import drift

# What pytest --junitxml -o junit_family=xunit1 writes for nbval items (shortened).
JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="2" skipped="1" tests="5">
<testcase classname="book.02_tensors.ipynb" name="Cell 0" file="book/02_tensors.ipynb" time="0.1"/>
<testcase classname="book.02_tensors.ipynb" name="Cell 3" file="book/02_tensors.ipynb" time="0.3">
<failure message="#x1B[91mCell execution caused an exception">Input:
x = torch.old_function()
Traceback:
#x1B[0;31mAttributeError#x1B[0m: module 'torch' has no attribute 'old_function'
</failure></testcase>
<testcase classname="book.appendix.pitfalls.ipynb" name="Cell 5" time="0.2">
<failure message="Cell execution caused an exception">Traceback (most recent call last):
TypeError: f() got an unexpected keyword argument 'weights'
</failure></testcase>
<testcase classname="book.02_tensors.ipynb" name="Cell 4" time="0.0"><skipped message="skip"/></testcase>
<testcase classname="book.02_tensors.ipynb" name="Cell 5" time="0.1"/>
</testsuite></testsuites>
"""  # pytest writes the kernel's ANSI colour codes (not allowed in XML) as the text #x1B


@pytest.fixture
def junit(tmp_path: Path) -> Path:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT, encoding="utf-8")
    return path


def test_failures_name_the_notebook_cell_and_error(junit: Path) -> None:
    found, counts = drift.failures(junit)
    assert counts == {"passed": 2, "failed": 2, "skipped": 1}
    assert [(f.notebook, f.cell) for f in found] == [
        ("book/02_tensors.ipynb", 3),
        ("book/appendix/pitfalls.ipynb", 5),  # from classname when there is no file attribute
    ]
    assert found[0].error == "AttributeError: module 'torch' has no attribute 'old_function'"
    assert found[1].error == "TypeError: f() got an unexpected keyword argument 'weights'"


def test_first_line_is_the_code_cell_nbval_numbers(tmp_path: Path) -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": "# T"},
            {"cell_type": "code", "source": ["\n", "a = 1\n"]},
        ]
    }
    nb["cells"].append({"cell_type": "code", "source": "# comment\nb = 2"})
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert [drift.first_line(path, 0), drift.first_line(path, 1), drift.first_line(path, 9)] == [
        "a = 1",
        "# comment",
        "",
    ]


def test_report_has_versions_counts_and_a_row_per_failure(junit: Path) -> None:
    found, counts = drift.failures(junit)
    text = drift.report(found, counts, {"python": "3.13.1", "torch": "2.15.0"})
    assert "Versions: python 3.13.1, torch 2.15.0" in text
    assert "Cells: 2 passed, 2 failed, 1 skipped." in text
    rows = [line for line in text.splitlines() if line.startswith("| book/")]
    assert len(rows) == 2 and rows[0].startswith("| book/02_tensors.ipynb | 3 |")
    assert "No cell failed." in drift.report([], {"passed": 3, "failed": 0, "skipped": 0}, {})


def fake_gh(tmp_path: Path, open_issues: str) -> Path:
    """A `gh` that logs its arguments and answers `issue list` with the given issue numbers."""
    log = tmp_path / "gh.log"
    script = tmp_path / "gh"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {log}\n'
        f'case "$1 $2" in "issue list") echo "{open_issues}";; "issue create") echo https://x/1;; esac\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


@pytest.mark.parametrize(
    ("failed", "open_issues", "action", "status"),
    [
        (1, "", "issue create --title Drift watch: 1 cell(s) fail with torch 2.15.0 --label drift", 1),
        (1, "7", "issue edit 7 --title Drift watch: 1 cell(s) fail with torch 2.15.0", 1),
        (0, "7", "issue comment 7 --body-file", 0),
        (0, "", None, 0),
    ],
)
def test_issue_is_opened_updated_or_closed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failed: int,
    open_issues: str,
    action: str | None,
    status: int,
) -> None:
    log = fake_gh(tmp_path, open_issues)
    monkeypatch.setenv("GH", str(tmp_path / "gh"))
    monkeypatch.setattr(drift, "OUT", tmp_path / "out")
    failures = [{"notebook": "book/02_tensors.ipynb", "cell": 3, "source": "x", "error": "E"}] * failed
    data = {"versions": {"torch": "2.15.0"}, "counts": {}, "failures": failures}
    (tmp_path / "report.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "report.md").write_text("the report\n", encoding="utf-8")
    assert drift.issue(argparse.Namespace(report=str(tmp_path / "report.md"))) == status
    calls = log.read_text().splitlines()
    assert calls[0].startswith("label create drift --force")
    assert calls[1] == "issue list --label drift --state open --json number --jq .[].number"
    if action is None:
        assert len(calls) == 2, "nothing to open or close"
    elif action.startswith("issue comment"):
        assert calls[2].startswith(action) and calls[3] == "issue close 7", calls
    else:
        assert len(calls) == 3 and calls[2].startswith(action), calls


def test_no_report_opens_an_issue_about_the_check_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = fake_gh(tmp_path, "")
    monkeypatch.setenv("GH", str(tmp_path / "gh"))
    monkeypatch.setattr(drift, "OUT", tmp_path / "out")
    monkeypatch.delenv("GITHUB_RUN_ID", raising=False)
    assert drift.issue(argparse.Namespace(report=str(tmp_path / "missing.md"))) == 1
    assert "issue create --title Drift watch: the check itself failed (no report)" in log.read_text()
    assert "wrote no report" in (tmp_path / "out" / "issue-body.md").read_text()
