"""Run the whole book on a GPU machine (or any machine) and write a report: `make gpu-run`.

Usage:
    python -m tools.gpu_run [--out DIR] [--wheels DIR] [--jobs N] [--cell-timeout S]
                            [--deadline S] [--alone NAMES] [--online] [NOTEBOOK ...]

Every notebook of the book (`_toc.yml`; or the ones named) runs in a fresh kernel, in an empty
working folder of its own (a notebook reads only files it writes, as in Colab). A failing cell
is recorded and the notebook goes on. Each code cell is recorded as:

    ok              ran without an error
    skipped         a guard printed "[skipped: needs ...]" (helpers.needs_gpu / needs_network)
    expected-error  tagged raises-exception and raised (exercise starters)
    error           raised (or, tagged raises-exception, did not); the error line is kept
    timeout         ran past --cell-timeout: interrupted, and the notebook stops there
    not-run         after a timeout, a dead kernel or the run's --deadline

Cells that call helpers.needs_gpu and ran for real are listed with everything they printed:
those are the GPU figures of the chapters (speed-ups, peak memory, TFLOP/s, compile modes).

Written to --out (default _build/gpu-run/): report.md (its first line says CLEAN or NOT CLEAN),
report.json, the executed notebooks in notebooks/ (and together in notebooks.tar.gz) and each
notebook's runner log in logs/. On a GPU, what each guarded cell printed (when its source is the
checkout's and it did not raise) is recorded in book/_gpu_outputs.json, shown on the pages
(tools/gpu_outputs.py); the report lists the cells it refreshed, and a copy of the file is put in
--out as gpu-outputs.json (`--no-record`: leave the checkout alone).

The notebooks whose timings are the lesson (--alone) run one at a time first; the others then
run --jobs at a time. With --wheels DIR, wheels from `make gpu-wheels` that the interpreter
lacks are installed first (offline) into --site.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Timing chapters: their speed-ups are only worth reading from a machine that runs nothing else.
ALONE = "04_data,08_amp,10_compile"
STATUSES = ["ok", "skipped", "expected-error", "error", "timeout", "not-run"]
GUARD_RE = re.compile(r"\bneeds_(gpu|network)\(")
WHAT_RE = re.compile(r"\bneeds_(?:gpu|network)\(\s*(['\"])(.*?)\1")
SKIP_PREFIX = "[skipped: needs "
# Lines worth a glance in the GPU figures (the full output is in the report too).
FIGURE_RE = re.compile(r"speed|tflop|peak|memory|mib|gib|\bms\b|mode|x faster|slower|float16|bfloat16", re.I)
STDOUT_CAP = 6000  # characters of a guarded cell's output kept in the report


# ---------------------------------------------------------------- reading one executed cell


def tags(cell: dict) -> list[str]:
    """Return a cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))


def source(cell: dict) -> str:
    """Return a cell's source as one string (nbformat stores a string or a list of lines)."""
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def printed(cell: dict) -> str:
    """Return what a cell printed: its stdout stream and the text of its results, in order."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append(source({"source": out.get("text", "")}))
        elif out.get("output_type") in ("execute_result", "display_data"):
            text = out.get("data", {}).get("text/plain")
            if text and out.get("output_type") == "execute_result":
                parts.append(source({"source": text}).rstrip("\n") + "\n")
    return "".join(parts)


def error_line(cell: dict) -> str | None:
    """Return the first error of a cell as one line, `ValueError: boom`, or None."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename, evalue = out.get("ename", "Error"), str(out.get("evalue", "")).strip()
            return f"{ename}: {evalue.splitlines()[0]}" if evalue else ename
    return None


def skip_lines(text: str) -> list[str]:
    """Return the "[skipped: needs ...]" lines that the guards printed."""
    return [line.strip() for line in text.splitlines() if line.strip().startswith(SKIP_PREFIX)]


def guards(src: str) -> list[str]:
    """Return the guards a cell's source calls, e.g. ["gpu"] for `helpers.needs_gpu(...)`."""
    return sorted(set(GUARD_RE.findall(src)))


def classify(cell: dict, index: int, ran: bool = True, timed_out: bool = False, seconds: float = 0.0) -> dict:
    """Return the record of one code cell after its execution (see the module docstring)."""
    src, text = source(cell), printed(cell)
    found = guards(src)
    what = WHAT_RE.search(src)
    record = {
        "index": index,
        "status": "ok",
        "guards": found,
        "what": what.group(2) if what else None,
        "error": error_line(cell),
        "skipped": skip_lines(text),
        "seconds": round(seconds, 2),
        "gpu_ran": False,
        "first_line": src.strip().splitlines()[0] if src.strip() else "",
    }
    expected = "raises-exception" in tags(cell)
    if not ran:
        record["status"] = "not-run"
    elif timed_out:
        record["status"] = "timeout"
    elif record["error"] is not None:
        record["status"] = "expected-error" if expected else "error"
    elif expected:
        record["status"] = "error"
        record["error"] = "no exception, but the cell is tagged raises-exception"
    elif record["skipped"]:
        record["status"] = "skipped"
    if found and record["status"] == "ok" and "gpu" in found:
        record["gpu_ran"] = True
    if found:
        record["stdout"] = text[:STDOUT_CAP]
    return record


def summarize(records: list[dict]) -> dict:
    """Return the counts of a notebook's cell records by status, plus `gpu_ran` and `cells`."""
    counts = {s: sum(r["status"] == s for r in records) for s in STATUSES}
    counts["gpu_ran"] = sum(r["gpu_ran"] for r in records)
    counts["cells"] = len(records)
    return counts


# ---------------------------------------------------------------- the worker: one notebook


def code_cells(nb: dict) -> list[int]:
    """Return the indices of the cells a kernel runs (code cells with a source)."""
    return [i for i, c in enumerate(nb["cells"]) if c.get("cell_type") == "code" and source(c).strip()]


def run_notebook(src: Path, dest: Path, result: Path, deadline_at: float, cell_timeout: int) -> None:
    """Execute `src` in a fresh kernel, cell by cell, writing `dest` and (after every cell) `result`."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    workdir = Path(tempfile.mkdtemp(prefix=f"gpu-run-{src.stem}-"))
    timeout_reply = {"ename": "CellTimeoutError", "evalue": "interrupted", "traceback": []}
    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        record_timing=True,
        interrupt_on_timeout=True,
        error_on_timeout=timeout_reply,
        shutdown_kernel="immediate",
    )
    state = {"notebook": str(src), "end": "running", "seconds": 0.0, "cells": []}
    start = time.perf_counter()

    def save() -> None:
        state["seconds"] = round(time.perf_counter() - start, 1)
        tmp = result.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        tmp.replace(result)

    todo = code_cells(nb)
    try:
        with client.setup_kernel():
            for index in todo:
                cell = nb.cells[index]
                left = deadline_at - time.time()
                if left < 1:
                    state["end"] = "deadline"
                    break
                limit = int(min(cell_timeout, left)) or 1
                client.timeout = limit
                t0 = time.perf_counter()
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError:
                    pass  # recorded from the cell's outputs below
                except DeadKernelError:
                    state["end"] = "kernel died"
                seconds = time.perf_counter() - t0
                timed_out = state["end"] == "running" and seconds >= limit
                if timed_out:
                    evalue = f"ran past {limit} s and was interrupted"
                    cell.outputs.append(
                        nbformat.v4.new_output("error", ename="CellTimeoutError", evalue=evalue)
                    )
                    state["end"] = "cell timeout"
                state["cells"].append(classify(cell, index, timed_out=timed_out, seconds=seconds))
                if timed_out:
                    state["cells"][-1]["error"] = f"CellTimeoutError: {evalue}"
                if state["end"] == "kernel died":
                    state["cells"][-1].update(status="error", error="DeadKernelError: the kernel died")
                save()
                if state["end"] != "running":
                    break
    except Exception as err:  # the kernel did not start, or nbclient broke: say so in the report
        state["end"] = f"runner error: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    finally:
        done = {r["index"] for r in state["cells"]}
        state["cells"] += [classify(nb.cells[i], i, ran=False) for i in todo if i not in done]
        if state["end"] == "running":
            state["end"] = "done"
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, dest)
        save()
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------- the parent: the whole book


def book_notebooks() -> list[Path]:
    """Return the notebooks of `_toc.yml`, in its order."""
    from tools.bookfiles import toc_files

    found = [ROOT / f"{name}.ipynb" for name in toc_files()]
    return [p for p in found if p.exists()]


def machine() -> dict:
    """Return the facts the report opens with: GPU, torch, CUDA, driver, Python, CPU."""
    import torch

    facts = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda_build": torch.version.cuda or "none (CPU-only build)",
        "cudnn": str(torch.backends.cudnn.version()) if torch.backends.cudnn.is_available() else "none",
        "cpus": os.cpu_count() or 1,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "gpus": [],
        "driver": None,
    }
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            facts["gpus"].append(f"{p.name} (sm_{p.major}{p.minor}, {p.total_memory / 2**30:.1f} GiB)")
    smi = shutil.which("nvidia-smi")
    if smi:
        done = subprocess.run(
            [smi, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True, text=True
        )
        facts["driver"] = (
            done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout else None
        )
    return facts


def schedule(paths: list[Path], alone: set[str]) -> list[list[Path]]:
    """Return the phases: each `alone` notebook by itself (in book order), then all the others."""
    first = [[p] for p in paths if p.stem in alone]
    rest = [p for p in paths if p.stem not in alone]
    return first + ([rest] if rest else [])


def out_name(path: Path) -> str:
    """Return a notebook's name in the output folder: `appendix/pitfalls` -> `appendix-pitfalls`."""
    try:
        rel = path.resolve().relative_to(ROOT / "book")
    except ValueError:
        rel = Path(path.name)
    return "-".join(rel.with_suffix("").parts)


def run_all(paths: list[Path], out: Path, args: argparse.Namespace, env: dict) -> list[dict]:
    """Run every notebook in worker processes (phase by phase); return their results in book order."""
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    deadline_at = time.time() + args.deadline
    results: dict[Path, dict] = {}
    for phase in schedule(paths, set(filter(None, args.alone.split(",")))):
        jobs = 1 if len(phase) == 1 else args.jobs
        phase_env = dict(env)
        if jobs > 1 and "OMP_NUM_THREADS" not in env:  # share the cores between the kernels
            phase_env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
        pending, running = list(phase), {}
        while pending or running:
            while pending and len(running) < jobs:
                path = pending.pop(0)
                name = out_name(path)
                files = (out / "notebooks" / f"{name}.ipynb", out / "logs" / f"{name}.json")
                cmd = [sys.executable, "-m", "tools.gpu_run", "--worker", str(path), *map(str, files)]
                cmd += ["--deadline-at", str(deadline_at), "--cell-timeout", str(args.cell_timeout)]
                log = open(out / "logs" / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115
                proc = subprocess.Popen(cmd, cwd=ROOT, env=phase_env, stdout=log, stderr=subprocess.STDOUT)
                running[path] = (proc, files[1], log, time.perf_counter())
                print(f"  start  {name}", flush=True)
            time.sleep(0.2)
            for path, (proc, result, log, t0) in list(running.items()):
                overdue = time.time() > deadline_at + 30  # the worker stops itself at the deadline
                if proc.poll() is None and not overdue:
                    continue
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                log.close()
                results[path] = collect(path, result, proc.returncode, overdue, time.perf_counter() - t0)
                del running[path]
                counts = summarize(results[path]["cells"])
                print(f"  {results[path]['seconds']:6.1f} s {out_name(path)}: {brief(counts)}", flush=True)
    return [results[p] for p in paths]


def collect(path: Path, result: Path, returncode: int, killed: bool, seconds: float) -> dict:
    """Return a worker's result (what it saved, completed with not-run cells if it was killed)."""
    try:
        state = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {"end": f"runner exited with {returncode} before its first cell", "cells": []}
    if killed:
        state["end"] = "killed at the deadline"
    if state.get("end") == "running":
        state["end"] = f"runner exited with {returncode}"
    nb = json.loads(path.read_text(encoding="utf-8"))
    done = {r["index"] for r in state["cells"]}
    state["cells"] += [classify(nb["cells"][i], i, ran=False) for i in code_cells(nb) if i not in done]
    state["cells"].sort(key=lambda r: r["index"])
    state["notebook"] = out_name(path)
    state["seconds"] = round(seconds, 1)
    return state


def brief(counts: dict) -> str:
    """Return the counts as a short line: `12 ok (1 on the GPU), 2 skipped, 1 error`."""
    words = [f"{counts['ok']} ok" + (f" ({counts['gpu_ran']} on the GPU)" if counts["gpu_ran"] else "")]
    words += [f"{counts[s]} {s}" for s in STATUSES[1:] if counts[s]]
    return ", ".join(words)


# ---------------------------------------------------------------- the report


def table(results: list[dict]) -> list[str]:
    """Return the markdown table of per-notebook counts and seconds, with a total row."""
    head = "| notebook | code cells | ok | GPU ran | skipped | expected errors | errors | timeouts | not run "
    head += "| s | end |"
    rows = [head, "|---|" + "---:|" * 9 + "---|"]
    totals = dict.fromkeys(["cells", *STATUSES, "gpu_ran"], 0)
    seconds = 0.0
    for res in results:
        c = summarize(res["cells"])
        for k in totals:
            totals[k] += c[k]
        seconds += res["seconds"]
        nums = [
            c["cells"],
            c["ok"],
            c["gpu_ran"],
            c["skipped"],
            c["expected-error"],
            c["error"],
            c["timeout"],
        ]
        cells = " | ".join(str(n) for n in [*nums, c["not-run"]])
        rows.append(f"| {res['notebook']} | {cells} | {res['seconds']:.1f} | {res['end']} |")
    nums = [totals[k] for k in ["cells", "ok", "gpu_ran", "skipped", "expected-error", "error", "timeout"]]
    cells = " | ".join(str(n) for n in [*nums, totals["not-run"]])
    rows.append(f"| **total** | {cells} | {seconds:.1f} | |")
    return rows


def fence(text: str) -> list[str]:
    """Return `text` in a markdown code block."""
    return ["```text", *text.rstrip("\n").splitlines(), "```"]


def verdict(results: list[dict]) -> str:
    """The report's first line: CLEAN when no cell failed, timed out or was left unrun."""
    counts = {k: sum(1 for res in results for r in res["cells"] if r["status"] == k) for k in STATUSES}
    bad = {k: counts[k] for k in ("error", "timeout", "not-run") if counts[k]}
    if not bad:
        return f"# CLEAN: 0 errors in {sum(counts.values())} code cells (tools/gpu_run.py)"
    listed = ", ".join(f"{n} {k.replace('-', ' ')}" for k, n in bad.items())
    return f"# NOT CLEAN: {listed} in {sum(counts.values())} code cells (tools/gpu_run.py)"


def report(
    results: list[dict], facts: dict, settings: str, wall: float, recorded: tuple[list, list] | None = None
) -> str:
    """Return the markdown report."""
    gpus = ", ".join(facts["gpus"]) or "none (torch.cuda.is_available() is False)"
    lines = [
        verdict(results),
        "",
        "| | |",
        "|---|---|",
        f"| GPU | {gpus} |",
        f"| driver | {facts['driver'] or 'no nvidia-smi'} |",
        f"| torch | {facts['torch']} (CUDA build {facts['cuda_build']}, cuDNN {facts['cudnn']}) |",
        f"| Python | {facts['python']} |",
        f"| CPU | {facts['cpus']} cores, ATen CPU capability {facts['cpu_capability']} |",
        f"| run | {settings} |",
        f"| wall time | {wall:.1f} s |",
        "",
        "## Notebooks",
        "",
        *table(results),
        "",
        "## Failing cells",
        "",
    ]
    failing = [(res, r) for res in results for r in res["cells"] if r["status"] in ("error", "timeout")]
    for res, r in failing:
        lines.append(f"- {res['notebook']} cell {r['index']} ({r['status']}): `{r['error']}`")
        lines.append(f"  (first line: `{r['first_line']}`)")
    if not failing:
        lines.append("None.")
    stopped = [res for res in results if res["end"] != "done"]
    for res in stopped:
        lines.append(f"- {res['notebook']} stopped early: {res['end']}")
    ran = [(res, r) for res in results for r in res["cells"] if r["guards"] and r["status"] == "ok"]
    lines += ["", "## Guarded cells that ran for real", ""]
    if not ran:
        lines.append("None: every guarded cell was skipped on this machine (see below).")
    for res, r in ran:
        lines.append(f"- {res['notebook']} cell {r['index']} (needs_{'/'.join(r['guards'])}): {r['what']}")
    lines += ["", "## Skipped cells", ""]
    skipped = [(res, r) for res in results for r in res["cells"] if r["status"] == "skipped"]
    for res, r in skipped:
        lines.append(f"- {res['notebook']} cell {r['index']}: {'; '.join(r['skipped'])}")
    if not skipped:
        lines.append("None.")
    if recorded is not None:
        refreshed, left = recorded
        lines += ["", "## Recorded GPU outputs (book/_gpu_outputs.json)", ""]
        lines.append(
            f"Refreshed by this run ({len(refreshed)}, new or changed):" if refreshed else "None refreshed."
        )
        lines += [f"- {name}" for name in refreshed]
        if left:
            lines += ["", f"Not recorded ({len(left)}):", *[f"- {name}" for name in left]]
    figures = [(res, r) for res, r in ran if r["gpu_ran"]]
    lines += ["", "## GPU figures", ""]
    if not figures:
        lines.append("None: no cell that calls helpers.needs_gpu ran here.")
    else:
        lines += ["At a glance (lines that name a speed, a memory size, TFLOP/s or a mode):", ""]
        for res, r in figures:
            for line in r.get("stdout", "").splitlines():
                if FIGURE_RE.search(line):
                    lines.append(f"- {res['notebook']} cell {r['index']}: `{line.strip()}`")
        lines += ["", "Everything those cells printed:", ""]
        for res, r in figures:
            lines += [f"### {res['notebook']} cell {r['index']}: {r['what']}", ""]
            lines += [*fence(r.get("stdout", "") or "(printed nothing)"), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def prepare(args: argparse.Namespace) -> dict:
    """Install the wheels the interpreter lacks, if asked; return the environment for the workers."""
    env = dict(os.environ)
    path = [str(ROOT)]  # the book's `helpers` package, straight from the checkout
    if args.wheels:
        from tools.gpu_wheels import install

        site = Path(args.site).resolve()
        done = install(Path(args.wheels), site)
        print(f"installed {len(done)} wheels into {site}" if done else "every wheel is already installed")
        if site.exists():
            path.insert(0, str(site))
            sys.path.insert(0, str(site))
    env["PYTHONPATH"] = os.pathsep.join(path + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONHASHSEED"] = "0"
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning:jupyter_client")
    if args.online:
        env["BOOK_ONLINE"] = "1"
    return env


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook of _toc.yml")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "gpu-run")
    parser.add_argument("--wheels", help="a folder of wheels from `make gpu-wheels` to install if missing")
    parser.add_argument("--site", default=str(ROOT / "_build" / "gpu-site"), help="where --wheels go")
    cpus = os.cpu_count() or 1
    parser.add_argument("--jobs", type=int, default=max(1, min(8, cpus // 2)), help="kernels at a time")
    parser.add_argument("--cell-timeout", type=int, default=300, help="seconds one cell may run")
    parser.add_argument("--deadline", type=int, default=480, help="seconds the whole run may take")
    parser.add_argument("--alone", default=ALONE, help="notebooks run by themselves first (stems, commas)")
    parser.add_argument("--online", action="store_true", help="run needs_network cells (BOOK_ONLINE=1)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a cell failed or did not run")
    parser.add_argument(
        "--no-record",
        dest="record",
        action="store_false",
        help="on a GPU, do not write what the guarded cells printed into book/_gpu_outputs.json",
    )
    parser.add_argument("--worker", nargs=3, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--deadline-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_notebook(*args.worker, deadline_at=args.deadline_at, cell_timeout=args.cell_timeout)
        return 0

    start = time.perf_counter()
    env = prepare(args)
    paths = [p.resolve() for p in args.notebooks] or book_notebooks()
    out = args.out.resolve()
    shutil.rmtree(out / "notebooks", ignore_errors=True)
    shutil.rmtree(out / "logs", ignore_errors=True)
    facts = machine()
    print(
        f"{len(paths)} notebooks; GPU: {', '.join(facts['gpus']) or 'none'}; torch {facts['torch']}",
        flush=True,
    )
    results = run_all(paths, out, args, env)
    wall = time.perf_counter() - start
    alone = [p.stem for p in paths if p.stem in args.alone.split(",")]
    settings = (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        + (f"{', '.join(alone)} alone, then " if alone else "")
        + f"{args.jobs} kernels at a time; cell timeout {args.cell_timeout} s; deadline {args.deadline} s"
        + ("; network cells on (BOOK_ONLINE=1)" if args.online else "")
    )
    data = {"machine": facts, "settings": settings, "wall_s": round(wall, 1), "notebooks": results}
    (out / "report.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    recorded = None
    if facts["gpus"] and args.record:  # what the guarded cells printed, for the pages
        from tools import gpu_outputs

        records, refreshed, left = gpu_outputs.import_run(out)
        if refreshed:
            gpu_outputs.save(records)
            shutil.copy(gpu_outputs.RECORDS, out / "gpu-outputs.json")
        recorded = (refreshed, left)
    text = report(results, facts, settings, wall, recorded)
    (out / "report.md").write_text(text, encoding="utf-8")
    with tarfile.open(out / "notebooks.tar.gz", "w:gz") as tar:
        tar.add(out / "notebooks", arcname="notebooks")
    print(verdict(results).lstrip("# "))
    print("\n".join(table(results)))
    print(f"{wall:.1f} s; report: {out / 'report.md'}")
    failed = any(r["status"] in ("error", "timeout", "not-run") for res in results for r in res["cells"])
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
