"""The other end of the supported range, as a Colab reader has it (`make colab-check`).

Builds a fresh virtual environment that looks like Colab's image: Python 3.12, the oldest torch
the book claims, and TensorFlow with the older protobuf it pins preinstalled. Then it runs every
notebook's Colab set-up cell as Colab would (with `google.colab` importable, installing this
checkout instead of the GitHub URL), twice, checks that no package Colab already had changed
version, and executes every notebook in lax mode (outputs not compared: another torch prints
other warnings and digits). Exits non-zero on any failure and prints the time of each step.

Usage: python -m tools.colab_check [--venv PATH] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tools.bookfiles import ROOT, notebooks, setup_cell_source

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
# What the test itself needs to execute notebooks (Colab has a kernel of its own).
HARNESS = ["pytest", "nbval", "pytest-xdist"]


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


def colab_setup_source() -> str:
    """The set-up cell of every notebook, installing this checkout instead of the GitHub URL."""
    source = setup_cell_source()
    target = "git+{REPO}"
    if target not in source:
        raise SystemExit(f"the set-up cell no longer installs from {target!r}: update tools/colab_check.py")
    return source.replace(target, ROOT.as_uri())


def run_setup_cell(python: str) -> float:
    """Run the set-up cell in a Python where `google.colab` is importable; return its seconds."""
    program = (
        "import sys, types\n"
        "sys.modules['google.colab'] = types.ModuleType('google.colab')  # what the cell tests\n"
        + colab_setup_source()
    )
    start = time.perf_counter()
    run([python, "-c", program])
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=ROOT / "_build" / "venv-colab")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    times: dict[str, float] = {}
    start = time.perf_counter()
    if args.venv.exists():
        shutil.rmtree(args.venv)
    run([find_python(), "-m", "venv", str(args.venv)])
    python = str(args.venv / "bin" / "python")
    run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([python, "-m", "pip", "install", "-q", *COLAB_IMAGE, *HARNESS])
    times["Colab-like image"] = time.perf_counter() - start

    before = installed(python)
    times["set-up cell, first run"] = run_setup_cell(python)
    times["set-up cell, second run"] = run_setup_cell(python)
    after = installed(python)
    changed = {name: (v, after.get(name)) for name, v in before.items() if after.get(name) != v}
    added = sorted(set(after) - set(before))
    print(f"set-up cell added {len(added)} packages: {', '.join(added)}")
    versions = run([python, "-c", "import sys, torch; print(sys.version.split()[0], torch.__version__)"],
                   capture_output=True, text=True).stdout.split()  # fmt: skip
    print(f"Python {versions[0]}, torch {versions[1]}")
    if changed:
        for name, (old, new) in sorted(changed.items()):
            print(f"CHANGED by the set-up cell: {name} {old} -> {new}")
        return 1

    start = time.perf_counter()
    paths = [str(p) for p in args.notebooks] or [str(p) for p in notebooks()]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(
        [python, "-m", "pytest", "--nbval-lax", "--nbval-cell-timeout=600", "-q", "-n", "2",
         "--dist", "loadscope", *paths],
        cwd=ROOT, env=env,
    )  # fmt: skip
    times["every notebook, lax"] = time.perf_counter() - start
    for step, seconds in times.items():
        print(f"{seconds:7.1f} s  {step}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
