"""Create or reuse the book's virtual environment (`make install`); standard library only.

A fresh clone spent three minutes of CI installing the same 6 GB of packages every time. The
environment is now kept in a cache folder named by a hash of what it installs (the
requirements, constraints.txt, pyproject.toml's dependencies and the Python version), and the
clone's `.venv` is a link to it. A change to any of those makes a new hash, hence a new, fresh
environment: a cached one is never patched. The clone's own `helpers` package is installed
editable on every run (a second or two), so the link never imports another clone's code.

- `.venv` a real folder (made before this tool, or by hand): it is updated in place as before.
- cache folder: `$BOOK_VENV_CACHE`, default `~/.cache/pytorch-in-practice`; the two most
  recently used environments are kept, older ones removed.

Usage: python3 tools/venv.py .venv
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ["requirements.txt", "requirements-dev.txt", "constraints.txt"]
KEEP = 2  # cached environments kept
COMPLETE = ".complete"  # written last: an environment without it is half-built and rebuilt


def pyproject_dependencies() -> str:
    """The parts of pyproject.toml that decide what gets installed (all of it before 3.11)."""
    text = (ROOT / "pyproject.toml").read_text()
    try:
        import tomllib
    except ImportError:  # Python 3.10: hash the whole file
        return text
    data = tomllib.loads(text)
    project = data.get("project", {})
    parts = [data.get("build-system"), project.get("requires-python"), project.get("dependencies")]
    parts.append(project.get("optional-dependencies"))
    return repr(parts)


def key() -> str:
    """A hash of everything that decides the environment's contents."""
    digest = hashlib.sha256(sys.version.encode())
    for name in INPUTS:
        digest.update((ROOT / name).read_bytes())
    digest.update(pyproject_dependencies().encode())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """The folder of cached environments (`$BOOK_VENV_CACHE`, default ~/.cache/pytorch-in-practice)."""
    return Path(os.environ.get("BOOK_VENV_CACHE", Path.home() / ".cache" / "pytorch-in-practice"))


def run(*cmd: str) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def install(venv: Path) -> None:
    """Install the pinned requirements into `venv` (created if missing)."""
    if not (venv / "bin" / "python").exists():
        run(sys.executable, "-m", "venv", str(venv))
    run(str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", "requirements-dev.txt",
        "-c", "constraints.txt")  # fmt: skip


def link_this_clone(venv: Path) -> None:
    """Point the environment's editable `helpers` at this clone (a cached one served another)."""
    run(str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "-e", ".")


def prune(cache: Path, keep_name: str) -> None:
    """Remove cached environments beyond the KEEP most recently used."""
    envs = sorted(
        cache.glob("venv-*"), key=lambda p: (p / COMPLETE).stat().st_mtime if (p / COMPLETE).exists() else 0
    )
    for old in [p for p in envs if p.name != keep_name][: max(0, len(envs) - KEEP)]:
        print(f"removing the old cached environment {old}", flush=True)
        shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str]) -> int:
    venv = ROOT / (argv[0] if argv else ".venv")
    if venv.is_dir() and not venv.is_symlink():
        install(venv)  # a folder of its own: updated in place, as before
        return 0
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"venv-{key()}"
    with open(cache / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two clones building the same environment wait in turn
        start = time.perf_counter()
        if (target / COMPLETE).exists():
            print(f"reusing the cached environment {target}", flush=True)
        else:
            shutil.rmtree(target, ignore_errors=True)  # half-built by an interrupted run
            install(target)
            (target / COMPLETE).touch()
            print(f"built {target} in {time.perf_counter() - start:.0f} s", flush=True)
        (target / COMPLETE).touch()  # most recently used
        if venv.is_symlink() or venv.exists():
            venv.unlink()
        venv.symlink_to(target, target_is_directory=True)
        link_this_clone(venv)
        prune(cache, target.name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
