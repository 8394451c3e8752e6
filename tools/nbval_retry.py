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

The log folder and the record of a failed start are shared with the exercise-fairness runner
(`tools/kernel_logs.py`).
"""

from __future__ import annotations

from pathlib import Path

import nbval.kernel
import nbval.plugin

from tools.kernel_logs import ATTEMPTS, gave_up, log_dir, record_failed_start


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
            record_failed_start(self.notebook, attempt, error, path)
        raise gave_up(self.notebook, folder, error) from error

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
