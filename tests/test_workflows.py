"""The GitHub workflows only run things that exist here, so none can rot unnoticed.

Every command in a `run:` step must be a `make` target of this repository (with variables the
Makefiles use), a script in the repository run with bash, or a `python -m` module of it.
actionlint (`make workflows-lint`) checks the rest: syntax, expressions, action inputs.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from tools.bookfiles import ROOT, repo_url

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
MAKEFILES = [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]


def make_targets() -> set[str]:
    """Every target make knows in this repository (from its database, nothing is run)."""
    out = subprocess.run(
        ["make", "-pRrq", "-C", str(ROOT), ":"], capture_output=True, text=True, check=False
    ).stdout
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.-]+):(?!=)", out, re.MULTILINE)}


def make_variables() -> set[str]:
    """Every variable the Makefiles mention ($(NAME) or NAME ?= / := / =)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in MAKEFILES)
    return set(re.findall(r"\$\(([A-Z_]+)\)", text)) | set(re.findall(r"^([A-Z_]+)\s*[?:]?=", text, re.M))


def run_commands(workflow: Path) -> list[str]:
    """Each shell command of each `run:` step (one per line, comments and blank lines dropped)."""
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    commands = []
    for job in data["jobs"].values():
        for step in job.get("steps", []):
            script = step.get("run", "").replace("\\\n", " ")
            commands += [line.strip() for line in script.splitlines() if line.strip() and line[0] != "#"]
    return commands


def uses(workflow: Path) -> list[str]:
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    return [s["uses"] for job in data["jobs"].values() for s in job.get("steps", []) if "uses" in s]


def test_the_three_workflows_exist() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "drift.yml", "pages.yml"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_run_command_exists_here(workflow: Path) -> None:
    targets, variables = make_targets(), make_variables()
    commands = run_commands(workflow)
    assert commands, "the workflow runs something"
    for command in commands:
        words = shlex.split(command)
        if words[0] == "make":
            goals = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
            assigned = [w.split("=", 1)[0] for w in words[1:] if "=" in w]
            assert goals and set(goals) <= targets, f"{command!r}: no such make target"
            assert set(assigned) <= variables, f"{command!r}: the Makefiles use no such variable"
        elif words[0] == "bash":
            assert (ROOT / words[1]).is_file(), f"{command!r}: no such script"
        elif words[:2] in (["python", "-m"], ["python3", "-m"]):
            module = ROOT / Path(*words[2].split("."))
            assert module.with_suffix(".py").is_file(), f"{command!r}: no such module"
        else:
            pytest.fail(f"{workflow.name}: {command!r} is not a make target, script or module of this repo")


def test_ci_runs_the_readme_test_command() -> None:
    assert run_commands(ROOT / ".github/workflows/ci.yml") == ["bash .ci/run"]
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_pages_deploys_with_the_official_actions_after_ci() -> None:
    data = yaml.safe_load((ROOT / ".github/workflows/pages.yml").read_text(encoding="utf-8"))
    triggers = data[True]  # YAML reads the key `on` as True
    assert triggers["workflow_run"] == {"workflows": ["CI"], "types": ["completed"], "branches": ["main"]}
    names = [u.split("@")[0] for u in uses(ROOT / ".github/workflows/pages.yml")]
    for action in ["actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages"]:
        assert action in names
    assert data["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert run_commands(ROOT / ".github/workflows/pages.yml") == ["make site"]  # the HTML and the PDF


def test_pages_reuses_the_environment_ci_caches() -> None:
    def cache_keys(name: str) -> list[str]:
        data = yaml.safe_load((ROOT / ".github/workflows" / name).read_text(encoding="utf-8"))
        steps = [s for job in data["jobs"].values() for s in job.get("steps", [])]
        return [s["with"]["key"] for s in steps if s.get("uses", "").startswith("actions/cache")]

    assert cache_keys("ci.yml") == cache_keys("pages.yml") and len(cache_keys("ci.yml")) == 1


def test_drift_is_weekly_and_keeps_one_issue() -> None:
    data = yaml.safe_load((ROOT / ".github/workflows/drift.yml").read_text(encoding="utf-8"))
    (cron,) = [c["cron"] for c in data[True]["schedule"]]
    assert cron.split()[2:] == ["*", "*", "1"], "once a week (Mondays)"
    assert data["permissions"]["issues"] == "write"
    commands = run_commands(ROOT / ".github/workflows/drift.yml")
    assert commands[0].startswith("make drift") and commands[1] == "python -m tools.drift issue"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_release(workflow: Path) -> None:
    for action in uses(workflow):
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+|[0-9a-f]{40})", action), action


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_the_repository_url_is_not_repeated(workflow: Path) -> None:
    """A fork publishes under its own URL after changing _config.yml alone."""
    path = repo_url().removeprefix("https://github.com/")
    assert path not in workflow.read_text(encoding="utf-8")


def test_the_readme_lists_each_stage_of_make_test_with_its_target() -> None:
    from tools.stages import STAGES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| ([^|`]+?) \| `make ([a-z-]+)[^`]*` \|", readme, re.M))
    targets = make_targets()
    for stage in STAGES:
        if stage.background or stage.name == "system packages":
            continue  # overlapped or apt only: described in the text around the table
        assert stage.name in rows, f"README's table of `make test` lacks the stage {stage.name!r}"
        assert stage.command[-1] == rows[stage.name], f"{stage.name}: README says make {rows[stage.name]}"
        assert rows[stage.name] in targets
    assert set(rows) <= {s.name for s in STAGES}, "README lists a stage `make test` no longer runs"
