"""Where kernels' stderr goes, and how a failed kernel start is recorded (shared by the runners).

nbval (`tools/nbval_retry.py`) and the exercise-fairness runner (`tools/fairness.py`) both start
one kernel per notebook. Each keeps the kernel's stderr in `$NBVAL_KERNEL_LOGS` (default
`_build/kernel-logs/`), starts a kernel that failed before any cell ran once more, and appends
each failed start with the tail of its stderr to `failed-starts.log`, which `make test` prints
when a stage fails.
"""

from __future__ import annotations

import os
from pathlib import Path

ATTEMPTS = 2  # the first start and one retry
TAIL_LINES = 40


def log_dir() -> Path:
    """The folder of the kernels' stderr logs (created on first use)."""
    folder = Path(os.environ.get("NBVAL_KERNEL_LOGS", Path.cwd() / "_build" / "kernel-logs"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of a text file ('' if it is missing)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def record_failed_start(name: str, attempt: int, error: BaseException, log: Path) -> None:
    """Append a failed start of `name`'s kernel, with its stderr's tail, to failed-starts.log."""
    record = (
        f"== {name}: kernel start {attempt} of {ATTEMPTS} failed: "
        f"{type(error).__name__}: {error}\n-- stderr ({log}):\n{tail(log)}\n"
    )
    with open(log.parent / "failed-starts.log", "a") as out:
        out.write(record)
    print(record, flush=True)


def gave_up(name: str, folder: Path, error: BaseException) -> RuntimeError:
    """The error raised when every start failed (chain it to the last failure)."""
    return RuntimeError(
        f"{name}: the kernel failed to start {ATTEMPTS} times; its stderr is in {folder}/{name}.*.log"
    )
