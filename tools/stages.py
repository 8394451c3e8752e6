"""`make test`: every quality gate in order, timed, ending with a table of stages and seconds.

Each stage is a make target, so any one can be run alone. The stages run one after another
(each uses both cores), except the Colab-like environment's download and install: mostly
network and disk, it runs in the background from the start and the Colab stage waits for it.
The table is printed at the end, pass or fail, and kept in `_build/stages.md`; on a failure the
kernels that failed to start (`_build/kernel-logs/failed-starts.log`) are printed too.

Standard library only: it runs before the virtual environment exists.
Usage: python3 -m tools.stages   (what `make test` runs)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
MAKE = ["make", "--no-print-directory"]


@dataclass
class Stage:
    name: str
    command: list[str]
    proves: str
    background: bool = False
    waits_for: str | None = None


STAGES = [
    Stage("install", [*MAKE, "install"], "the pinned environment (cached by the hash of what it installs)"),
    Stage("Colab image", [".venv/bin/python", "-m", "tools.colab_check", "--prepare"],
          "Python 3.12, torch 2.9.1 and Colab's packages, cached like the venv", background=True),
    Stage("system packages", [*MAKE, "browser-deps", "grade-deps"], "Chromium, ChromeDriver, bubblewrap"),
    Stage("lint", [*MAKE, "lint"], "ruff on code and notebooks, actionlint on the workflows"),
    Stage("unit and structure tests", [*MAKE, "test-fast"],
          "helpers, book structure, tools, grading sandbox, no credentials"),
    Stage("strict nbval", [*MAKE, "nbval"], "stored outputs are what the code prints, on this CPU"),
    Stage("another machine", [*MAKE, "nbval-perturbed"],
          "the same outputs under another CPU's numerics, spawn workers and a CPU-only torch build"),
    Stage("Colab, oldest torch, exercise fairness", [*MAKE, "colab-check"],
          "set-up cells change none of Colab's packages; every notebook runs on torch 2.9.1, "
          "the chapters with probes: each self-check accepts another right answer, rejects a wrong one",
          waits_for="Colab image"),
    Stage("book build", [*MAKE, "book"], "jupyter-book build with warnings as errors"),
    Stage("browser", [*MAKE, "browser"], "the built pages in headless Chromium, offline"),
]  # fmt: skip


def table(rows: list[tuple[str, float, str]], total: float) -> str:
    lines = ["| stage | seconds | result |", "|---|---:|---|"]
    lines += [f"| {name} | {seconds:.0f} | {result} |" for name, seconds, result in rows]
    lines.append(f"| **total (wall)** | **{total:.0f}** | |")
    return "\n".join(lines)


def main() -> int:
    BUILD.mkdir(exist_ok=True)
    shutil.rmtree(BUILD / "kernel-logs", ignore_errors=True)  # this run's logs only
    start = time.perf_counter()
    rows: list[tuple[str, float, str]] = []
    background: dict[str, tuple[subprocess.Popen, float, Path, threading.Thread, dict]] = {}
    failed = None
    for stage in STAGES:
        if stage.background:
            log = BUILD / f"{stage.name.lower().replace(' ', '-')}.log"
            proc = subprocess.Popen(stage.command, cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT)
            ended: dict = {}  # its exit code and end time: the table shows its own seconds, not the wait
            waiter = threading.Thread(
                target=lambda p=proc, e=ended: e.update(code=p.wait(), at=time.perf_counter()), daemon=True
            )
            waiter.start()
            background[stage.name] = (proc, time.perf_counter(), log, waiter, ended)
            print(f"== {stage.name}: started in the background (log: {log.relative_to(ROOT)})", flush=True)
            continue
        print(f"== {stage.name}: {stage.proves}", flush=True)
        t0 = time.perf_counter()
        if stage.waits_for:
            _, began, log, waiter, ended = background.pop(stage.waits_for)
            waiter.join()
            code = ended["code"]
            rows.append((f"{stage.waits_for} (background, overlapped)", ended["at"] - began,
                         "ok" if code == 0 else "FAILED"))  # fmt: skip
            if code != 0:
                print(log.read_text()[-5000:], flush=True)
                failed = stage.waits_for
                break
            t0 = time.perf_counter()  # the stage's own seconds, without the wait
        code = subprocess.run(stage.command, cwd=ROOT).returncode
        rows.append((stage.name, time.perf_counter() - t0, "ok" if code == 0 else "FAILED"))
        if code != 0:
            failed = stage.name
            break
    for proc, *_ in background.values():
        proc.kill()
    total = time.perf_counter() - start
    report = table(rows, total)
    (BUILD / "stages.md").write_text(report + "\n")
    deaths = BUILD / "kernel-logs" / "failed-starts.log"
    if deaths.exists():
        print(
            f"\n== kernels that failed to start ({deaths.relative_to(ROOT)}):\n{deaths.read_text()}",
            flush=True,
        )
    print(f"\n{report}", flush=True)
    if failed:
        print(f"FAILED at stage: {failed}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
