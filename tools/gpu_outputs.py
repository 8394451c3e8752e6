"""Real GPU outputs on the pages: what each `helpers.needs_gpu` cell printed on a real GPU.

CI has no GPU, so a guarded cell's stored (and nbval-verified) output is its CPU skip line. The
GPU run kit (tools/gpu_run.py) runs the book on a GPU; this module keeps what the guarded cells
printed there in `book/_gpu_outputs.json`, with where it came from (GPU, torch, CUDA, date),
and shows it on the web page under the cell's CPU output, in a collapsed block.

A record belongs to one cell (by its notebook cell id) and one version of its source: the
fingerprint of the source's syntax tree, so reformatting or a comment does not matter but any
change to the code does. A record whose cell changed is stale: `tests/test_gpu_outputs.py`
fails and names it, and until a GPU run refreshes it (or `drop-stale` removes it) the page says
that the output is from an earlier version of the cell.

    python -m tools.gpu_outputs import RUN   # records from a kit output folder (make gpu-outputs)
    python -m tools.gpu_outputs stale        # lists stale records; exit 1 if any
    python -m tools.gpu_outputs drop-stale   # removes them (the page then shows none)

As a Sphinx extension (`_config.yml`), it adds the blocks to the built pages.
"""

from __future__ import annotations

import ast
import hashlib
import html
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
RECORDS = BOOK / "_gpu_outputs.json"
GUARD = "needs_gpu("
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CAP = 6000  # characters of output kept per cell
STYLE = "border-left: 4px solid #76b900; padding: 0.2em 0.8em; margin: 0.4em 0 1em"


# ---------------------------------------------------------------- cells and their fingerprints


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_guarded(cell: dict) -> bool:
    """True for a code cell that calls helpers.needs_gpu."""
    return cell.get("cell_type") == "code" and GUARD in source(cell)


def _tree(node: object) -> object:
    """A syntax tree as nested tuples, the same on every Python the book supports.

    `ast.dump` is not: 3.12 added `type_params` to every function and class, and 3.13 leaves
    empty fields out. Empty fields and the version-specific ones are left out here.
    """
    if isinstance(node, ast.AST):
        fields = ((f, _tree(getattr(node, f, None))) for f in node._fields if f not in VERSIONED)
        return (type(node).__name__, *((f, v) for f, v in fields if v not in (None, ())))
    if isinstance(node, list):
        return tuple(_tree(item) for item in node)
    return repr(node)


VERSIONED = {"type_params", "type_comment", "kind"}


def fingerprint(code: str) -> str:
    """A hash of what the code does: its syntax tree (comments and layout do not count)."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        text = repr(_tree(ast.parse("\n".join(lines))))
    except SyntaxError:
        text = " ".join(code.split())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def printed(cell: dict) -> str | None:
    """Everything a cell printed (streams and plain-text results); None if it raised."""
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            return None
        if kind == "stream":
            parts.append(source({"source": out.get("text", "")}))
        elif kind in ("execute_result", "display_data"):
            text = out.get("data", {}).get("text/plain")
            if text and "image/png" not in out.get("data", {}):
                parts.append(source({"source": text}) + "\n")
    text = ANSI.sub("", "".join(parts))
    return text[:CAP] + ("\n[... cut]" if len(text) > CAP else "")


def notebook_key(path: Path) -> str:
    """A notebook's key in the records: its path under book/ (`08_amp.ipynb`, `appendix/pitfalls.ipynb`)."""
    return path.resolve().relative_to(BOOK).as_posix()


def book_notebook(run_name: str) -> Path:
    """The book notebook of a kit output name (`appendix-pitfalls` -> book/appendix/pitfalls.ipynb)."""
    direct = BOOK / f"{run_name}.ipynb"
    if direct.exists():
        return direct
    folder, _, stem = run_name.partition("-")
    return BOOK / folder / f"{stem}.ipynb"


# ---------------------------------------------------------------- the records file


def load() -> dict:
    if RECORDS.exists():
        return json.loads(RECORDS.read_text(encoding="utf-8"))
    return {"runs": {}, "cells": {}}


def save(records: dict) -> None:
    records["cells"] = {k: v for k, v in sorted(records["cells"].items()) if v}
    RECORDS.write_text(
        json.dumps(records, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )


def provenance(run: Path) -> dict:
    """GPU, torch, CUDA, Python and date of a kit run (report.json, or the table of report.md)."""
    if (run / "report.json").exists():
        data = json.loads((run / "report.json").read_text(encoding="utf-8"))
        facts = data["machine"]
        return {
            "gpu": ", ".join(facts["gpus"]) or "none",
            "torch": facts["torch"],
            "cuda": facts["cuda_build"],
            "python": facts["python"],
            "date": data["settings"].split(";")[0].strip(),
        }
    rows = dict(re.findall(r"^\| (\w[\w ]*?) \| (.*) \|$", (run / "report.md").read_text(), re.M))
    torch, cuda = re.match(r"(\S+) \(CUDA build ([^,]+)", rows["torch"]).groups()
    return {
        "gpu": rows["GPU"],
        "torch": torch,
        "cuda": cuda,
        "python": rows["Python"],
        "date": rows["run"].split(";")[0].strip(),
    }


def import_run(run: Path, records: dict | None = None) -> tuple[dict, list[str], list[str]]:
    """Record every guarded cell that ran on the GPU in `run` and has not changed since.

    Returns the records and two lists of "notebook cell N (id)": refreshed (new or different
    output) and left alone (the cell changed since the run, raised, or was skipped there).
    """
    records = records if records is not None else load()
    facts = provenance(run)
    run_id = f"{facts['date']}, {facts['gpu'].split(' (')[0]}"
    records["runs"][run_id] = facts
    refreshed, left = [], []
    for executed in sorted((run / "notebooks").glob("*.ipynb")):
        path = book_notebook(executed.stem)
        if not path.exists():
            continue
        book_cells = {c.get("id"): c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]}
        kept = records["cells"].setdefault(notebook_key(path), {})
        for index, cell in enumerate(json.loads(executed.read_text(encoding="utf-8"))["cells"]):
            if not is_guarded(cell):
                continue
            name = f"{notebook_key(path)} cell {index} ({cell.get('id')})"
            current = book_cells.get(cell.get("id"))
            text = printed(cell)
            if current is None or fingerprint(source(current)) != fingerprint(source(cell)):
                left.append(f"{name}: changed since this run")
            elif text is None:
                left.append(f"{name}: raised on the GPU")
            elif text.startswith("[skipped: needs"):
                left.append(f"{name}: skipped there ({text.splitlines()[0]})")
            else:
                new = {"run": run_id, "source": fingerprint(source(cell)), "output": text}
                if (
                    kept.get(cell["id"], {}).get("output") != text
                    or kept[cell["id"]]["source"] != new["source"]
                ):
                    refreshed.append(name)
                kept[cell["id"]] = new
    used = {r["run"] for cells in records["cells"].values() for r in cells.values()}
    records["runs"] = {k: v for k, v in records["runs"].items() if k in used}
    return records, refreshed, left


def _stale_records(records: dict) -> list[tuple[str, str, str]]:
    """(notebook key, cell id, why) of every record whose cell changed, went, or lost its guard."""
    found = []
    for key, cells in records["cells"].items():
        path = BOOK / key
        notebook = json.loads(path.read_text(encoding="utf-8"))["cells"] if path.exists() else []
        by_id = {c.get("id"): c for c in notebook}
        for cell_id, record in cells.items():
            cell = by_id.get(cell_id)
            if cell is None:
                found.append((key, cell_id, ": no such cell any more"))
            elif not is_guarded(cell):
                found.append((key, cell_id, ": no longer calls helpers.needs_gpu"))
            elif fingerprint(source(cell)) != record["source"]:
                first = source(cell).strip().splitlines()[0]
                found.append(
                    (key, cell_id, f" ({first!r}): source changed since recorded on {record['run']}")
                )
    return found


def stale(records: dict | None = None) -> list[str]:
    """Records whose cell changed (or is gone, or no longer calls needs_gpu) since it was recorded."""
    records = records if records is not None else load()
    return [f"{key} cell {cell_id}{why}" for key, cell_id, why in _stale_records(records)]


def drop_stale() -> list[str]:
    """Remove the stale records (the pages then show none for those cells); return what went."""
    records = load()
    gone = _stale_records(records)
    for key, cell_id, _ in gone:
        del records["cells"][key][cell_id]
    save(records)
    return [f"{key} cell {cell_id}{why}" for key, cell_id, why in gone]


# ---------------------------------------------------------------- the Sphinx extension


def block(cell: dict, record: dict | None, runs: dict) -> tuple[str, str, str]:
    """(status, summary line, body text) of the GPU block under a guarded cell."""
    if record is None:
        return (
            "none",
            "On a real GPU: no output recorded for this version of the cell yet",
            ("Run the GPU run kit (README, 'Run the whole book on a GPU') to record one."),
        )
    facts = runs.get(record["run"], {})
    gpu = facts.get("gpu", "?").split(" (")[0]
    where = f"{gpu}, torch {facts.get('torch', '?')}, CUDA {facts.get('cuda', '?')}, {facts.get('date', '?')}"
    if fingerprint(source(cell)) != record["source"]:
        return "stale", f"On a real GPU ({where}), from an earlier version of this cell", record["output"]
    return "current", f"On a real GPU ({where})", record["output"]


def _add_blocks(app, doctree, docname: str) -> None:
    from docutils import nodes

    path = Path(app.srcdir) / f"{docname}.ipynb"
    if not path.exists() or BOOK not in path.resolve().parents:
        return
    records = load()
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    mine = records["cells"].get(notebook_key(path), {})
    for container in list(doctree.findall(nodes.container)):
        if container.get("nb_element") != "cell_code":
            continue
        index = container.get("cell_index")
        if index is None or index >= len(cells) or not is_guarded(cells[index]):
            continue
        cell = cells[index]
        status, summary, body = block(cell, mine.get(cell.get("id")), records["runs"])
        if app.builder.format == "html":
            markup = (
                f'<details class="gpu-output gpu-output-{status}" style="{STYLE}">'
                f"<summary>{html.escape(summary)}</summary>"
                f'<pre class="gpu-output-text">{html.escape(body)}</pre></details>'
            )
            container += nodes.raw("", markup, format="html")
        else:
            container += nodes.paragraph(text=summary + ":")
            container += nodes.literal_block(body, body)


def setup(app) -> dict:
    """Sphinx entry point: add the GPU blocks to every chapter page."""
    app.connect("doctree-resolved", _add_blocks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# ---------------------------------------------------------------- command line


def main(argv: list[str]) -> int:
    if argv[:1] == ["import"] and len(argv) == 2:
        records, refreshed, left = import_run(Path(argv[1]))
        save(records)
        print(f"recorded {len(refreshed)} new or changed GPU outputs:", *refreshed, sep="\n  ")
        print(f"left alone {len(left)}:", *left, sep="\n  ")
        return 0
    if argv == ["stale"]:
        found = stale()
        print("\n".join(found) or "no stale GPU outputs")
        return 1 if found else 0
    if argv == ["drop-stale"]:
        print("dropped:", *drop_stale(), sep="\n  ")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
