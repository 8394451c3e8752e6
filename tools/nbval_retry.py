"""pytest plugin for every nbval pass: a kernel that dies at start-up is retried once, and logged.

nbval starts one kernel per notebook and sends its stderr to /dev/null. In CI a kernel once
died before replying to `kernel_info` (nothing had run yet); every cell of that notebook failed
and the whole submission went red, with no trace of why. This plugin, loaded with
`-p tools.nbval_retry`, changes two things and nothing else:

- each kernel's stderr goes to a log file, `$NBVAL_KERNEL_LOGS/<notebook>.<attempt>.log`
  (default `_build/kernel-logs/`);
- when the kernel fails to start (it dies or does not answer before any cell was sent), the
  failure and the tail of its stderr are appended to `failed-starts.log` in that folder, and
  the kernel is started once more. A second failure fails the notebook as before, with the log's
  path in the message. A cell that fails is never retried: only the start-up is wrapped.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbval.kernel
import nbval.plugin

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


class LoggedKernel(nbval.kernel.RunningKernel):
    """nbval's kernel, with its stderr in a log file and one retry of a failed start."""

    notebook = "notebook"  # set per notebook by the setup wrapper below

    def __init__(self, kernel_name: str, cwd: str | None = None, startup_timeout: int = 60) -> None:
        folder = log_dir()
        for attempt in range(1, ATTEMPTS + 1):
            path = folder / f"{self.notebook}.{attempt}.log"
            with open(path, "w") as stderr:
                try:
                    self.km, self.kc = nbval.kernel.start_new_kernel(
                        startup_timeout=startup_timeout, kernel_name=kernel_name, stderr=stderr, cwd=cwd
                    )
                    self._ensure_iopub_up()
                    return
                except Exception as err:  # the kernel died or never answered: nothing has run
                    self._stop_quietly()
                    error = err
            record = (
                f"== {self.notebook}: kernel start {attempt} of {ATTEMPTS} failed: "
                f"{type(error).__name__}: {error}\n-- stderr ({path}):\n{tail(path)}\n"
            )
            with open(folder / "failed-starts.log", "a") as log:
                log.write(record)
            print(record, flush=True)
        raise RuntimeError(
            f"{self.notebook}: the kernel failed to start {ATTEMPTS} times; "
            f"its stderr is in {folder}/{self.notebook}.*.log"
        ) from error

    def _stop_quietly(self) -> None:
        for stop in (lambda: self.kc.stop_channels(), lambda: self.km.shutdown_kernel(now=True)):
            try:
                stop()
            except Exception:
                pass


_original_setup = nbval.plugin.IPyNbFile.setup


def _setup(self) -> None:
    LoggedKernel.notebook = Path(str(self.fspath)).stem
    _original_setup(self)


nbval.plugin.RunningKernel = LoggedKernel
nbval.plugin.IPyNbFile.setup = _setup
