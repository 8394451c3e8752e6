"""The GPU run kit (tools/gpu_run.py, tools/gpu_wheels.py): cell classification, the report, and
one end-to-end run on this machine over two small notebooks built here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from tools import gpu_run, gpu_wheels

ROOT = Path(__file__).resolve().parent.parent
GPU = torch.cuda.is_available()


def code(src: str, outputs: list | None = None, tags: list | None = None) -> dict:
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": tags} if tags else {})
    cell.outputs = [nbformat.from_dict(o) for o in outputs or []]
    return cell


def stdout(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []}


# ---------------------------------------------------------------- classification


def test_error_line_keeps_the_first_line_of_the_first_error() -> None:
    cell = code("x", [stdout("hi\n"), error("ValueError", "boom\nmore"), error("KeyError", "k")])
    assert gpu_run.error_line(cell) == "ValueError: boom"
    assert gpu_run.error_line(code("x", [error("KeyboardInterrupt", "")])) == "KeyboardInterrupt"
    assert gpu_run.error_line(code("x", [stdout("fine\n")])) is None


def test_skip_lines_and_guards() -> None:
    text = "a\n[skipped: needs a CUDA GPU, found 0] time it\n  [skipped: needs 2 CUDA GPUs, found 1] x\n"
    assert gpu_run.skip_lines(text) == [
        "[skipped: needs a CUDA GPU, found 0] time it",
        "[skipped: needs 2 CUDA GPUs, found 1] x",
    ]
    src = 'if helpers.needs_gpu("a", count=2):\n    pass\nif helpers.needs_network("b"):\n    pass'
    assert gpu_run.guards(src) == ["gpu", "network"]
    assert gpu_run.guards("print('needs_gpu')") == []


@pytest.mark.parametrize(
    ("cell", "kwargs", "status", "err"),
    [
        (code("print(1)", [stdout("1\n")]), {}, "ok", None),
        (code("raise ValueError('boom')", [error("ValueError", "boom")]), {}, "error", "ValueError: boom"),
        (
            code("1/0", [error("ZeroDivisionError", "division by zero")], ["raises-exception"]),
            {},
            "expected-error",
            "ZeroDivisionError: division by zero",
        ),
        (
            code("x = 1", [], ["raises-exception"]),
            {},
            "error",
            "no exception, but the cell is tagged raises-exception",
        ),
        (
            code(
                'if helpers.needs_gpu("t"):\n    pass', [stdout("[skipped: needs a CUDA GPU, found 0] t\n")]
            ),
            {},
            "skipped",
            None,
        ),
        (
            code("import time", [error("KeyboardInterrupt", "")]),
            {"timed_out": True},
            "timeout",
            "KeyboardInterrupt",
        ),
        (code("print(2)"), {"ran": False}, "not-run", None),
    ],
)
def test_classify(cell: dict, kwargs: dict, status: str, err: str | None) -> None:
    record = gpu_run.classify(cell, 7, **kwargs)
    assert (record["index"], record["status"], record["error"]) == (7, status, err)
    assert record["gpu_ran"] is False


def test_a_guarded_cell_that_ran_keeps_its_output_as_a_gpu_figure() -> None:
    cell = code('if helpers.needs_gpu("time a step"):\n    print("x")', [stdout("speed-up: 2.1x\n")])
    record = gpu_run.classify(cell, 3, seconds=1.234)
    assert (record["status"], record["gpu_ran"], record["what"]) == ("ok", True, "time a step")
    assert (record["stdout"], record["seconds"]) == ("speed-up: 2.1x\n", 1.23)
    results = [{"notebook": "08_amp", "seconds": 2.0, "end": "done", "cells": [record]}]
    facts = {
        "gpus": ["NVIDIA H200 (sm_90, 139.8 GiB)"],
        "driver": "580",
        "torch": "2.11.0",
        "cuda_build": "13.0",
        "cudnn": "91200",
        "python": "3.12.3",
        "cpus": 16,
        "cpu_capability": "AVX512",
    }
    text = gpu_run.report(results, facts, "test", 2.0)
    assert "| GPU | NVIDIA H200 (sm_90, 139.8 GiB) |" in text
    assert "- 08_amp cell 3 (needs_gpu): time a step" in text
    assert "- 08_amp cell 3: `speed-up: 2.1x`" in text
    assert "### 08_amp cell 3: time a step\n\n```text\nspeed-up: 2.1x\n```" in text
    assert "| 08_amp | 1 | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 2.0 | done |" in text


def test_schedule_runs_the_timing_chapters_alone_first() -> None:
    paths = [Path(f"book/{n}.ipynb") for n in ["01_setup", "08_amp", "09_distributed", "10_compile"]]
    phases = gpu_run.schedule(paths, {"08_amp", "10_compile"})
    assert [[p.stem for p in phase] for phase in phases] == [
        ["08_amp"],
        ["10_compile"],
        ["01_setup", "09_distributed"],
    ]
    assert gpu_run.out_name(ROOT / "book" / "appendix" / "pitfalls.ipynb") == "appendix-pitfalls"


def test_the_kit_sees_every_guarded_cell_of_the_book() -> None:
    """Every cell that tests/guarded.yml counts is one the report lists as guarded (ran or skipped)."""
    import yaml

    allow = yaml.safe_load((ROOT / "tests" / "guarded.yml").read_text(encoding="utf-8"))
    for path in gpu_run.book_notebooks():
        rel = path.relative_to(ROOT).as_posix()
        nb = json.loads(path.read_text(encoding="utf-8"))
        found = [gpu_run.guards(gpu_run.source(nb["cells"][i])) for i in gpu_run.code_cells(nb)]
        counts = {f"needs_{g}": sum(g in f for f in found) for g in ("gpu", "network")}
        assert counts == {k: allow[rel][k] for k in counts}, rel


# ---------------------------------------------------------------- wheels


def test_wheel_names_requirements_and_pins(tmp_path: Path) -> None:
    assert gpu_wheels.wheel_name("pyzmq-27.3.0-cp312-abi3-manylinux_2_28_x86_64.whl") == "pyzmq"
    assert gpu_wheels.wheel_name("jupyter_client-8.10.0-py3-none-any.whl") == "jupyter-client"
    with pytest.raises(ValueError, match="not a wheel file name"):
        gpu_wheels.wheel_name("flashtorch-0.1.3.tar.gz")
    meta = (
        "Name: x\nRequires-Dist: traitlets>=5.4\nRequires-Dist: appnope; platform_system == 'Darwin'\n"
        "Requires-Dist: pytest; extra == 'test'\nRequires-Dist: typing_extensions; python_version < '3.12'\n"
        "Requires-Dist: Jupyter_Core!=5.0.*,>=4.12\n"
    )
    assert gpu_wheels.requires(meta) == [("traitlets", ">=5.4"), ("jupyter-core", "!=5.0.*,>=4.12")]
    (tmp_path / "c.txt").write_text("# pins\nNbClient==0.11.0\ntorch>=2\n", encoding="utf-8")
    assert gpu_wheels.pins(tmp_path / "c.txt") == {"nbclient": "0.11.0"}


def test_install_picks_only_the_wheels_the_interpreter_lacks() -> None:
    wheels = [Path("pytest-9.2.0-py3-none-any.whl"), Path("no_such_dist_here-1.0-py3-none-any.whl")]
    assert gpu_wheels.missing(wheels) == [wheels[1]]
    assert "opencv-python" in gpu_wheels.PROVIDED_BY  # grad-cam's cv2 comes from the headless build


# ---------------------------------------------------------------- end to end


def build(path: Path, cells: list[dict]) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# test"), *cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_the_kit_runs_end_to_end(tmp_path: Path) -> None:
    main = build(
        tmp_path / "main.ipynb",
        [
            code("import helpers\nprint('hello')"),  # 1
            code('if helpers.needs_gpu("print a GPU figure"):\n    print("speed-up 2.0x")'),  # 2
            code('if helpers.needs_network("download weights"):\n    print("downloaded")'),  # 3
            code("raise ValueError('boom\\nsecond line')"),  # 4
            code("answer = ...\nraise AssertionError('not yet')", tags=["raises-exception"]),  # 5
            code("print('after the error')"),  # 6
        ],
    )
    slow = build(tmp_path / "slow.ipynb", [code("import time\ntime.sleep(120)"), code("print('never')")])
    out = tmp_path / "out"
    # --cell-timeout 25: long enough for `import helpers` (torch) on a busy 2-core machine
    cmd = [sys.executable, "-m", "tools.gpu_run", "--out", str(out), "--jobs", "2", "--alone", ""]
    done = subprocess.run(
        [*cmd, "--cell-timeout", "25", str(main), str(slow)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    first, second = data["notebooks"]
    statuses = [(r["index"], r["status"]) for r in first["cells"]]
    assert statuses == [
        (1, "ok"),
        (2, "ok" if GPU else "skipped"),
        (3, "skipped"),
        (4, "error"),
        (5, "expected-error"),
        (6, "ok"),
    ]
    assert [(r["index"], r["status"]) for r in second["cells"]] == [(1, "timeout"), (2, "not-run")]
    assert (first["end"], second["end"]) == ("done", "cell timeout")
    text = (out / "report.md").read_text(encoding="utf-8")
    assert (
        text.splitlines()[0]
        == "# NOT CLEAN: 1 error, 1 timeout, 1 not run in 8 code cells (tools/gpu_run.py)"
    )
    # code cells | ok | GPU ran | skipped | expected errors | errors | timeouts | not run
    assert "| main | 6 | " + ("3 | 1 | 1 | 1 | 1 | 0 | 0 |" if GPU else "2 | 0 | 2 | 1 | 1 | 0 | 0 |") in text
    assert "| slow | 2 | 0 | 0 | 0 | 0 | 0 | 1 | 1 |" in text
    assert "- main cell 4 (error): `ValueError: boom`" in text
    assert "- slow cell 1 (timeout): `CellTimeoutError: ran past 25 s and was interrupted`" in text
    assert (
        "- main cell 3: [skipped: needs the network (offline; set BOOK_ONLINE=1 to allow)] download weights"
        in text
    )
    if not GPU:
        assert "- main cell 2: [skipped: needs a CUDA GPU, found 0] print a GPU figure" in text
        assert "None: no cell that calls helpers.needs_gpu ran here." in text
    executed = nbformat.read(out / "notebooks" / "main.ipynb", as_version=4)
    assert executed.cells[6].outputs[0]["text"] == "after the error\n"
    assert (out / "notebooks.tar.gz").stat().st_size > 0


def test_the_first_line_says_clean_only_without_errors_timeouts_or_unrun_cells() -> None:
    ok = {"cells": [{"status": "ok"}, {"status": "skipped"}, {"status": "expected-error"}]}
    assert gpu_run.verdict([ok]) == "# CLEAN: 0 errors in 3 code cells (tools/gpu_run.py)"
    assert gpu_run.verdict([ok, {"cells": [{"status": "error"}]}]).startswith("# NOT CLEAN: 1 error in 4")
