"""A kernel that dies at start-up is retried once; a failing cell never is.

For both runners that start kernels: nbval with tools/nbval_retry.py, and the exercise-fairness
runner (tools/fairness.py, which `make colab-check` runs). Each test runs one on a one-cell
notebook in a subprocess whose kernels import a
`sitecustomize` module that kills the kernel process (os._exit) the first DIE_TIMES times it
starts, before it can answer `kernel_info`: the failure CI once saw, made on purpose. It dies
before ipykernel captures the process's stderr, as an interpreter that crashes at start would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

DIE_AT_START = """\
import os, sys
from pathlib import Path
if any("ipykernel" in arg for arg in sys.orig_argv):  # only the kernels, not pytest itself
    counter = Path(os.environ["DIE_COUNTER"])
    starts = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(starts + 1))
    if starts < int(os.environ["DIE_TIMES"]):
        print("dying at start on purpose", file=sys.stderr, flush=True)
        os._exit(3)
"""


def run_runner(tmp_path: Path, die_times: int, cell: str = "print(6 * 7)", fairness: bool = False):
    """Run nbval (lax) with the plugin, or the fairness runner, on a one-cell notebook in a
    subprocess; return its exit code, its output and the number of kernel starts."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(DIE_AT_START)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "one.ipynb")
    counter = tmp_path / "starts"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
        "DIE_COUNTER": str(counter),
        "DIE_TIMES": str(die_times),
        "NBVAL_KERNEL_LOGS": str(tmp_path / "logs"),
    }
    if fairness:
        command = [sys.executable, "-m", "tools.fairness", str(tmp_path / "one.ipynb")]
    else:
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tools.nbval_retry",
            "--nbval-lax",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "one.ipynb"),
        ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    return result.returncode, result.stdout + result.stderr, int(counter.read_text())


RUNNERS = pytest.mark.parametrize("fairness", [False, True], ids=["nbval", "fairness"])


@RUNNERS
def test_a_kernel_that_dies_at_start_is_retried_once_and_its_stderr_logged(tmp_path: Path, fairness: bool):
    code, output, starts = run_runner(tmp_path, die_times=1, fairness=fairness)
    assert code == 0, output
    assert starts == 2
    name = "one.fairness" if fairness else "one"
    failed = (tmp_path / "logs" / "failed-starts.log").read_text()
    assert f"{name}: kernel start 1 of 2 failed" in failed
    assert "dying at start on purpose" in failed  # the kernel's own stderr, kept
    assert "dying at start on purpose" in (tmp_path / "logs" / f"{name}.1.log").read_text()
    if fairness:
        assert "one.ipynb: fair" in output


@RUNNERS
def test_a_kernel_that_keeps_dying_fails_after_one_retry_naming_its_logs(tmp_path: Path, fairness: bool):
    code, output, starts = run_runner(tmp_path, die_times=10, fairness=fairness)
    assert code != 0
    assert starts == 2  # one retry, not more
    assert "the kernel failed to start 2 times" in output
    assert str(tmp_path / "logs") in output
    assert (tmp_path / "logs" / "failed-starts.log").read_text().count("dying at start on purpose") == 2


@RUNNERS
def test_a_failing_cell_is_never_retried(tmp_path: Path, fairness: bool) -> None:
    failing = "raise ValueError('a real failure')"
    code, output, starts = run_runner(tmp_path, die_times=0, cell=failing, fairness=fairness)
    assert code != 0
    assert "a real failure" in output
    assert starts == 1
    assert not (tmp_path / "logs" / "failed-starts.log").exists()
