"""Drift watch: does every notebook still run on the newest torch and torchvision?

Usage (from the repository root):
    python -m tools.drift run      # in the drift venv (`make drift`): lax nbval over book/,
                                   # then a report of the failing cells in _build/drift/
    python -m tools.drift issue    # in CI (the weekly workflow): open, update or close the one
                                   # GitHub issue labelled `drift`, with the `gh` CLI

Lax mode (`--nbval-lax`) fails a cell only when it raises (or its output is marked
NBVAL_CHECK_OUTPUT): new versions may print other numbers, but code that stops running is what
readers complain about. Standard library only, so any Python runs the `issue` step.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "_build" / "drift"
LABEL = "drift"
DESCRIPTION = "newest PyTorch breaks a chapter"
WATCHED = ["torch", "torchvision", "numpy", "jupyter-book", "nbval"]  # versions in the report
ANSI = re.compile(r"(\x1b|#x1B)\[[0-9;]*m")  # pytest's JUnit XML writes ESC as the text #x1B
ERROR_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(Error|Exception|Warning|Interrupt)|Timeout\w*)\b.*")


@dataclass
class Failure:
    """One failing cell: where it is, how it starts, and the error it raised."""

    notebook: str
    cell: int  # nbval's number: the index among the notebook's code cells, from 0
    source: str  # the cell's first line
    error: str


def versions() -> dict[str, str]:
    """The Python and package versions this check ran with."""
    found = {"python": platform.python_version()}
    for name in WATCHED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def first_line(notebook: Path, cell: int) -> str:
    """The first non-empty line of the notebook's code cell number `cell` (nbval's numbering)."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        source = [c for c in cells if c["cell_type"] == "code"][cell]["source"]
    except (OSError, ValueError, KeyError, IndexError):
        return ""
    text = "".join(source) if isinstance(source, list) else source
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else ""


def error_summary(text: str) -> str:
    """The most telling line of nbval's failure text: the last `SomeError: message` line."""
    lines = [ANSI.sub("", line).rstrip() for line in text.splitlines()]
    errors = [line.strip() for line in lines if ERROR_LINE.match(line)]
    if errors:
        return errors[-1][:300]
    rest = [line.strip() for line in lines if line.strip()]
    return rest[0][:300] if rest else "failed (no message)"


def failures(junit: Path) -> tuple[list[Failure], dict[str, int]]:
    """Read pytest's JUnit XML: the failing cells, and the counts of passed/failed/skipped cells."""
    tree = ET.parse(junit)
    found: list[Failure] = []
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for case in tree.iter("testcase"):
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if case.find("skipped") is not None:
            counts["skipped"] += 1
            continue
        if bad is None:
            counts["passed"] += 1
            continue
        counts["failed"] += 1
        dotted = case.get("classname", "").removesuffix(".ipynb")  # book.06_training.ipynb
        path = case.get("file") or dotted.replace(".", "/") + ".ipynb"
        match = re.search(r"Cell (\d+)", case.get("name", ""))
        cell = int(match.group(1)) if match else -1
        message = (bad.get("message") or "") + "\n" + (bad.text or "")
        found.append(Failure(path, cell, first_line(ROOT / path, cell), error_summary(message)))
    return found, counts


def run_url() -> str:
    """The URL of this GitHub Actions run ("" outside GitHub Actions)."""
    if not os.environ.get("GITHUB_RUN_ID"):
        return ""
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    return f"{server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{os.environ['GITHUB_RUN_ID']}"


def report(found: list[Failure], counts: dict[str, int], env: dict[str, str]) -> str:
    """The Markdown report: versions, counts, and one row per failing cell."""
    lines = [
        "Drift watch: every notebook executed (nbval, lax mode) with the newest torch and "
        "torchvision that pip offers, installed without `constraints.txt`.",
        "",
        "Versions: " + ", ".join(f"{name} {version}" for name, version in env.items()),
        "",
        f"Cells: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped.",
    ]
    if run_url():
        lines += ["", f"Run: {run_url()}"]
    if found:
        lines += ["", "| notebook | cell | starts with | error |", "|---|---|---|---|"]
        for f in found:
            cells = [f.notebook, str(f.cell), f"`{f.source}`" if f.source else "", f.error]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines += [
            "",
            "Reproduce: `make drift` (or `make nbval NB=<notebook>` after updating the pins). "
            "A cell that now fails needs a fix that works on every torch version the book "
            "supports: branch on the feature (hasattr / try), not on a version string.",
        ]
    else:
        lines += ["", "No cell failed."]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Execute every notebook in lax mode and write _build/drift/report.{md,json}."""
    OUT.mkdir(parents=True, exist_ok=True)
    junit = OUT / "junit.xml"
    junit.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", "--color=no"]
    command += ["--nbval-cell-timeout=600", f"--junitxml={junit}", "-o", "junit_family=xunit1"]
    command += args.pytest_args.split() + args.paths
    print("drift:", " ".join(command), flush=True)
    status = subprocess.run(command, cwd=ROOT).returncode
    if not junit.exists():
        print(f"drift: pytest wrote no report (exit {status})", file=sys.stderr)
        return status or 1
    found, counts = failures(junit)
    env = versions()
    text = report(found, counts, env)
    (OUT / "report.md").write_text(text, encoding="utf-8")
    data = {"versions": env, "counts": counts, "failures": [asdict(f) for f in found]}
    (OUT / "report.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print("\n" + text)
    print(f"drift: report in {OUT.relative_to(ROOT)}/report.md")
    if status not in (0, 1):  # 1: some cells failed (reported); anything else: pytest itself broke
        return status
    return 1 if found else 0


def gh(*args: str) -> str:
    """Run the GitHub CLI (`$GH` if set, for the tests) and return what it printed."""
    command = [os.environ.get("GH", "gh"), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def issue(args: argparse.Namespace) -> int:
    """Open or update the `drift` issue when cells fail; close it when they pass again."""
    path = Path(args.report)
    data = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").exists() else None
    if data is None:
        body = f"The drift check wrote no report: the install or the run itself failed.\n\n{run_url()}\n"
        title, failing = "Drift watch: the check itself failed (no report)", True
    else:
        body = path.read_text(encoding="utf-8")
        count, torch = len(data["failures"]), data["versions"].get("torch", "?")
        title, failing = f"Drift watch: {count} cell(s) fail with torch {torch}", count > 0
    gh("label", "create", LABEL, "--force", "--color", "D93F0B", "--description", DESCRIPTION)
    listed = gh(
        "issue", "list", "--label", LABEL, "--state", "open", "--json", "number", "--jq", ".[].number"
    )
    open_issue = listed.split()[0] if listed.split() else None  # the oldest open one is "the" issue
    body_file = OUT / "issue-body.md"
    body_file.parent.mkdir(parents=True, exist_ok=True)
    body_file.write_text(body, encoding="utf-8")
    if failing and open_issue:
        gh("issue", "edit", open_issue, "--title", title, "--body-file", str(body_file))
        print(f"drift: updated issue #{open_issue}")
    elif failing:
        url = gh("issue", "create", "--title", title, "--label", LABEL, "--body-file", str(body_file))
        print(f"drift: opened {url}")
    elif open_issue:
        body_file.write_text("Every notebook runs again.\n\n" + body, encoding="utf-8")
        gh("issue", "comment", open_issue, "--body-file", str(body_file))
        gh("issue", "close", open_issue)
        print(f"drift: closed issue #{open_issue}")
    else:
        print("drift: nothing fails and no issue is open")
    return 1 if failing else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.drift", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="execute every notebook in lax mode and write the report")
    p_run.add_argument("paths", nargs="*", default=["book"], help="notebooks or folders (default: book)")
    p_run.add_argument("--pytest-args", default="", help="extra pytest arguments ('-n 2')")
    p_issue = sub.add_parser("issue", help="open/update/close the drift issue from the report (gh CLI)")
    p_issue.add_argument("--report", default=str(OUT / "report.md"))
    args = parser.parse_args(argv)
    return run(args) if args.command == "run" else issue(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
