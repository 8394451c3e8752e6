"""Recorded GPU outputs (tools/gpu_outputs.py): none stale, each with its origin; the import."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

from tools import gpu_outputs as go
from tools.bookfiles import ROOT

AMP = ROOT / "book" / "08_amp.ipynb"


def test_no_recorded_gpu_output_belongs_to_a_changed_cell() -> None:
    found = go.stale()
    assert not found, (
        "recorded GPU outputs of cells that changed since (re-run the GPU kit and `make gpu-outputs "
        "RUN=<its folder>`, or `python -m tools.gpu_outputs drop-stale`):\n" + "\n".join(found)
    )


def test_every_record_says_where_it_came_from() -> None:
    records = go.load()
    assert records["cells"], "the book has recorded GPU outputs"
    for key, cells in records["cells"].items():
        for cell_id, record in cells.items():
            facts = records["runs"][record["run"]]
            assert all(facts.get(k) for k in ("gpu", "torch", "cuda", "date")), (key, cell_id)
            assert record["output"].strip() and not record["output"].startswith("[skipped")


def test_fingerprint_ignores_comments_and_layout_but_not_code() -> None:
    code = "x = f(1, 2)\nprint(x)"
    assert go.fingerprint(code) == go.fingerprint(
        "# a comment\nx = f(\n    1,\n    2,\n)\nprint(x)  # shown\n"
    )
    assert go.fingerprint(code) != go.fingerprint("x = f(1, 3)\nprint(x)")


def fake_run(tmp_path: Path, nb: dict) -> Path:
    run = tmp_path / "run"
    (run / "notebooks").mkdir(parents=True)
    (run / "notebooks" / "08_amp.ipynb").write_text(json.dumps(nb))
    (run / "report.json").write_text(json.dumps({
        "machine": {"gpus": ["Test GPU (sm_90, 80.0 GiB)"], "torch": "2.99.0+cu999", "cuda_build": "99.0",
                    "python": "3.12.0"},
        "settings": "2026-12-31 12:00 UTC; 8 kernels at a time",
    }))  # fmt: skip
    return run


def test_import_records_unchanged_cells_that_ran_and_leaves_the_rest(tmp_path: Path) -> None:
    nb = json.loads(AMP.read_text())
    guarded = [c for c in nb["cells"] if go.is_guarded(c)]
    assert len(guarded) >= 4
    ran, changed, raised, skipped = guarded[:4]
    ran["outputs"] = [nbformat.v4.new_output("stream", name="stdout", text="float16 step 2.6 ms\n")]
    changed["source"] = go.source(changed) + "\nprint('one more line')"
    changed["outputs"] = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    raised["outputs"] = [nbformat.v4.new_output("error", ename="RuntimeError", evalue="no", traceback=[])]
    skipped["outputs"] = [
        nbformat.v4.new_output("stream", name="stdout", text="[skipped: needs a CUDA GPU]\n")
    ]
    records = {"runs": {}, "cells": {}}
    records, refreshed, left = go.import_run(fake_run(tmp_path, nb), copy.deepcopy(records))
    mine = records["cells"]["08_amp.ipynb"]
    assert mine[ran["id"]]["output"] == "float16 step 2.6 ms\n"
    assert records["runs"][mine[ran["id"]]["run"]]["gpu"].startswith("Test GPU")
    assert not {changed["id"], raised["id"], skipped["id"]} & set(mine)
    assert any(ran["id"] in r for r in refreshed)
    reasons = "\n".join(left)
    assert f"({changed['id']}): changed since this run" in reasons
    assert f"({raised['id']}): raised on the GPU" in reasons
    assert f"({skipped['id']}): skipped there" in reasons


def test_a_changed_cell_is_named_stale_and_its_page_block_says_so() -> None:
    records = go.load()
    key, cells = next(iter(records["cells"].items()))
    cell_id = next(iter(cells))
    bad = copy.deepcopy(records)
    bad["cells"][key][cell_id]["source"] = "0" * 16
    assert any(key in s and cell_id in s and "source changed" in s for s in go.stale(bad))
    cell = next(c for c in json.loads((ROOT / "book" / key).read_text())["cells"] if c.get("id") == cell_id)
    status, summary, _ = go.block(cell, bad["cells"][key][cell_id], bad["runs"])
    assert status == "stale" and "from an earlier version of this cell" in summary
    assert go.block(cell, None, {})[0] == "none"


def test_drop_stale_removes_only_the_changed_records(tmp_path: Path, monkeypatch) -> None:
    records = go.load()
    key, cells = next(iter(records["cells"].items()))
    changed, *kept = list(cells)
    records["cells"][key][changed]["source"] = "0" * 16
    monkeypatch.setattr(go, "RECORDS", tmp_path / "records.json")
    go.save(records)
    gone = go.drop_stale()
    assert len(gone) == 1 and changed in gone[0] and "source changed" in gone[0]
    left = go.load()["cells"][key]
    assert changed not in left and sorted(left) == sorted(kept)
    assert go.stale(go.load()) == []
