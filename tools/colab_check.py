"""The other end of the supported range, as a Colab reader has it (`make colab-check`).

A virtual environment that looks like Colab's image: Python 3.12, the oldest torch the book
claims, and TensorFlow with the older protobuf it pins preinstalled. It is built once per hash
of its contents in the cache folder of tools/venv.py and copied (hard links) for each check.
In the copy, every distinct Colab set-up cell of the chapters (each installs only its
chapter's extra) runs as Colab would run it (with `google.colab` importable, installing this
checkout instead of the GitHub URL), the largest one twice; no package Colab already had may
change version. Then every notebook runs once, outputs not compared (another torch prints other
warnings and digits): a chapter with exercises runs with the fairness probes added
(tools/fairness.py: each self-check accepts another right answer and rejects a wrong one, and no
cell of the chapter fails), a notebook without exercises by the same runner with nothing added
(no cell may fail unless tagged `raises-exception`, as in nbval's lax mode). One run gives both
guarantees, so `make test` runs the chapters once fewer. Exits non-zero on any failure; prints
each step's time.

Usage: python -m tools.colab_check [--venv PATH] [--prepare] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tools.bookfiles import ROOT, notebooks, setup_cell_source, setup_extra
from tools.fairness import answers
from tools.venv import COMPLETE, cache_dir

PYTHON = "3.12"  # Colab's Python
# What Colab's image already has, at the oldest torch the book claims (requirements.txt).
COLAB_IMAGE = [
    "torch==2.9.1",
    "torchvision==0.24.1",
    "tensorflow==2.19.1",  # brings tensorboard 2.19 and pins protobuf < 6
    "protobuf==5.29.6",
    "numpy==2.1.3",
    "matplotlib",
    "scikit-learn",
    "pillow",
    "ipykernel",
    "tqdm",
]
# What the test itself needs to execute notebooks: pytest and the fairness runner's nbclient and
# PyYAML (Colab's image has both; it has a kernel of its own).
HARNESS = ["pytest", "pytest-xdist", "nbclient", "pyyaml"]
TESTS = "tests/exercises/test_fairness.py::"
FAIRNESS = f"{TESTS}test_checks_accept_another_answer_and_reject_a_wrong_one"
PLAIN = f"{TESTS}test_a_notebook_without_exercises_runs_without_an_unexpected_error"


def find_python(version: str = PYTHON) -> str:
    """Return a working `python<version>`: on the PATH, or installed by pyenv."""
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}"))
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "--version"], capture_output=True).returncode == 0:
            return candidate
    raise SystemExit(f"Python {version} not found: install it (e.g. `pyenv install {version}`)")


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def installed(python: str) -> dict[str, str]:
    """Return {package name (lower case): version} of the environment."""
    out = run([python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
    pins = (line.split("==", 1) for line in out.splitlines() if "==" in line)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def colab_setup_source(extra: str | None) -> str:
    """A chapter's set-up cell, installing this checkout instead of the GitHub URL."""
    source = setup_cell_source(extra)
    target = '@ git+" + REPO'
    if target not in source:
        raise SystemExit(f"the set-up cell no longer installs from {target!r}: update tools/colab_check.py")
    return source.replace(target, f'@ {ROOT.as_uri()}"')


def run_setup_cell(python: str, extra: str | None) -> float:
    """Run a set-up cell in a Python where `google.colab` is importable; return its seconds."""
    program = (
        "import sys, types\n"
        "sys.modules['google.colab'] = types.ModuleType('google.colab')  # what the cell tests\n"
        + colab_setup_source(extra)
    )
    start = time.perf_counter()
    run([python, "-m", "pip", "uninstall", "-q", "-y", "pytorch-in-practice"], capture_output=True)
    run([python, "-c", program])
    return time.perf_counter() - start


def image_key() -> str:
    """A hash of what the Colab-like image installs (and of the Python that builds it)."""
    python = find_python()
    version = subprocess.run([python, "--version"], capture_output=True, text=True).stdout
    return hashlib.sha256(repr([version, COLAB_IMAGE, HARNESS]).encode()).hexdigest()[:16]


def prepare_image(cache: Path) -> Path:
    """Build the Colab-like image once per hash of its contents; return its folder.

    It is never used directly: each check runs in a copy made of hard links (seconds), so what
    the set-up cells install never reaches the cached image. pip replaces files rather than
    rewriting them, so the links keep the cached files unchanged.
    """
    image = cache / f"colab-image-{image_key()}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (image / COMPLETE).exists():
            print(f"reusing the cached Colab-like image {image}", flush=True)
        else:
            shutil.rmtree(image, ignore_errors=True)
            run([find_python(), "-m", "venv", str(image)])
            python = str(image / "bin" / "python")
            run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
            run([python, "-m", "pip", "install", "-q", *COLAB_IMAGE, *HARNESS])
            (image / COMPLETE).touch()
        (image / COMPLETE).touch()  # most recently used
        for old in cache.glob("colab-image-*"):
            if old != image and old.stat().st_mtime < time.time() - 7 * 86400:
                shutil.rmtree(old, ignore_errors=True)  # unused for a week
    return image


def copy_image(image: Path, venv: Path) -> None:
    """Copy the image to `venv` as hard links (a plain copy across file systems)."""
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["cp", "-al", str(image), str(venv)], capture_output=True).returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        run(["cp", "-a", str(image), str(venv)])
    (venv / COMPLETE).unlink()


def first_run_times(image: Path, work: Path, paths: list[Path]) -> int:
    """Time each chapter's set-up cell as a reader's first run: a fresh image, an empty pip cache."""
    rows = []
    for extra in sorted({setup_extra(p) for p in paths}, key=lambda e: (e is not None, e or "")):
        venv = work / f"first-run-{extra or 'helpers'}"
        copy_image(image, venv)
        os.environ["PIP_CACHE_DIR"] = str(work / f"pip-cache-{extra or 'helpers'}")  # cold
        shutil.rmtree(os.environ["PIP_CACHE_DIR"], ignore_errors=True)
        seconds = run_setup_cell(str(venv / "bin" / "python"), extra)
        chapters = ", ".join(p.stem for p in paths if setup_extra(p) == extra)
        rows.append(f"| {chapters} | {extra or '(helpers only)'} | {seconds:.0f} |")
        shutil.rmtree(venv, ignore_errors=True)
    print("| chapters | extra | first run, cold pip cache (s) |\n|---|---|---:|", *rows, sep="\n")
    return 0


def targets(paths: list[Path]) -> list[str]:
    """pytest's targets, one per notebook: a chapter's fairness test, or the plain run of another.

    Each is one test item (one kernel, one notebook, in order), so pytest-xdist's default
    distribution shares the notebooks out between the two workers.
    """
    return [f"{FAIRNESS if answers(path) else PLAIN}[{path.stem}]" for path in paths]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=ROOT / "_build" / "venv-colab")
    parser.add_argument("--cache", type=Path, default=cache_dir(), help="where the Colab-like image is kept")
    parser.add_argument("--prepare", action="store_true", help="only build (or find) the cached image")
    parser.add_argument(
        "--first-run-times",
        action="store_true",
        help="time each chapter's set-up cell in a fresh image with an empty pip cache",
    )
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    times: dict[str, float] = {}
    start = time.perf_counter()
    image = prepare_image(args.cache)
    if args.prepare:
        return 0
    if args.first_run_times:
        return first_run_times(image, args.venv.parent, [p.resolve() for p in args.notebooks] or notebooks())
    copy_image(image, args.venv)
    python = str(args.venv / "bin" / "python")
    times["Colab-like image (cached by its hash), copied"] = time.perf_counter() - start

    paths = [p.resolve() for p in args.notebooks] or notebooks()
    extras = sorted({setup_extra(p) for p in paths}, key=lambda e: (e is not None, e or ""))
    before = installed(python)
    for extra in extras:  # each chapter's cell as it is written, the helpers-only one first
        times[f"set-up cell [{extra or 'helpers only'}]"] = run_setup_cell(python, extra)
    times[f"set-up cell [{extras[-1] or 'helpers only'}], again"] = run_setup_cell(python, extras[-1])
    after = installed(python)
    changed = {name: (v, after.get(name)) for name, v in before.items() if after.get(name) != v}
    added = sorted(set(after) - set(before))
    print(f"set-up cells added {len(added)} packages: {', '.join(added)}")
    versions = run([python, "-c", "import sys, torch; print(sys.version.split()[0], torch.__version__)"],
                   capture_output=True, text=True).stdout.split()  # fmt: skip
    print(f"Python {versions[0]}, torch {versions[1]}")
    if changed:
        for name, (old, new) in sorted(changed.items()):
            print(f"CHANGED by the set-up cell: {name} {old} -> {new}")
        return 1

    start = time.perf_counter()
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-n", "2", *targets(paths)],
        cwd=ROOT, env=env,
    )  # fmt: skip
    times["every notebook once: chapters with fairness probes, others lax"] = time.perf_counter() - start
    for step, seconds in times.items():
        print(f"{seconds:7.1f} s  {step}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
