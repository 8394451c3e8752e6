"""Run one submission inside the sandbox and hand each exercise's answers out as data.

Usage (by tools.classroom.sandbox only): python runner.py PLAN.json FD   (FD: the grader's pipe)

This file runs inside the sandbox with nothing of the course folder around it: it imports only
the standard library, IPython and torch (no `tools.*`). The plan (written by the grader) holds
the assignment's locked cells and, per exercise, its locked set-up, the student's code and the
locked test cell. No expected answer and no solution is in it (except in the teacher's own run
of the solutions, which produces the expected answers).

- The locked chapter cells run in this process, which never runs a student's line.
- Each exercise runs in a fork of it: the set-up, then the student's cells (IPython, with a
  per-cell time limit), then the test cell, in which every `helpers.check_*(...)` call is
  replaced by a call that records its arguments as data. Before the test runs, every module
  attribute, class attribute and notebook name that the student's code replaced is put back
  (references taken before the student's first line).
- The fork sends its record through a pipe of its own; this process forwards it, labelled, on
  the grader's pipe (which the fork closes before any student code runs), then kills every other process of
  the sandbox. The grader outside compares the data with the expected answers: no verdict is
  made here.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import select
import signal
import struct
import sys
import time
import warnings

MAX_RECORD = 64 << 20  # bytes of answers one exercise may hand out
SNAPSHOT_ROOTS = ("torch", "helpers", "builtins", "numpy", "math", "operator", "functools")
MISSING = object()


class CellTimeout(Exception):
    """A cell ran past its time limit."""


def _frame(kind: str, meta: dict, payload: bytes = b"") -> bytes:
    head = json.dumps({"kind": kind, **meta}).encode()
    return struct.pack("<II", len(head), len(payload)) + head + payload


def _send(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _nondumpable() -> None:
    """No other process of the sandbox may read or write this one's memory or fds (/proc)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def _error_line(err: BaseException | None) -> str:
    if err is None:
        return ""
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def _alarm(seconds: float):
    def fire(signum, frame):
        raise CellTimeout(f"the cell ran past the {seconds:g} s limit")

    signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _run_cell(shell, source: str, timeout: float) -> dict:
    """Run one cell in IPython; return what happened (for the feedback only, never the verdict)."""
    _alarm(timeout)
    try:
        result = shell.run_cell(source, store_history=True)
        err = result.error_in_exec or result.error_before_exec
    except CellTimeout as e:  # raised outside the cell's own code
        err = e
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"error": _error_line(err), "timeout": isinstance(err, CellTimeout)}


# --- references taken before the student's first line ----------------------------------------


def _snapshot(user_ns: dict) -> dict:
    mods, classes = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, mod in list(sys.modules.items()):
            if mod is None or name.split(".")[0] not in SNAPSHOT_ROOTS:
                continue
            attrs = dict(vars(mod))
            mods[name] = (mod, attrs)
            for value in attrs.values():
                if isinstance(value, type) and id(value) not in classes:
                    try:
                        classes[id(value)] = (value, dict(value.__dict__))
                    except TypeError:
                        pass
    return {"modules": mods, "classes": classes, "user_ns": dict(user_ns)}


def _restore_attrs(target, current: dict, saved: dict) -> None:
    for key in [k for k in current if k not in saved]:
        try:
            delattr(target, key)
        except (AttributeError, TypeError):
            pass
    for key, value in saved.items():
        if current.get(key, MISSING) is not value:
            try:
                setattr(target, key, value)
            except (AttributeError, TypeError):
                pass


def _restore(snap: dict, user_ns: dict, keep: set[str]) -> None:
    for name, (mod, attrs) in snap["modules"].items():
        sys.modules[name] = mod
        _restore_attrs(mod, dict(vars(mod)), attrs)
    for cls, attrs in snap["classes"].values():
        try:
            _restore_attrs(cls, dict(cls.__dict__), attrs)
        except TypeError:
            pass
    for name, value in snap["user_ns"].items():
        if name not in keep and user_ns.get(name, MISSING) is not value:
            user_ns[name] = value


# --- answers as data ----------------------------------------------------------------------------


def _encode(value, tensors: list, depth: int = 0):
    import torch

    kind = type(value)
    if depth > 12:
        return {"other": kind.__name__, "repr": "(nested too deep)"}
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return {"int": str(value)}
    if kind is float:
        return {"float": repr(value)}
    if value is Ellipsis:
        return {"ellipsis": True}
    if isinstance(value, torch.Tensor):
        tensors.append(value.detach().cpu().clone().contiguous())
        return {"tensor": len(tensors) - 1}
    if kind is torch.Size:
        return {"size": [int(v) for v in value]}
    if kind is torch.dtype:
        return {"dtype": str(value).removeprefix("torch.")}
    if kind is torch.device:
        return {"device": str(value)}
    if kind in (list, tuple):
        return {kind.__name__: [_encode(v, tensors, depth + 1) for v in value]}
    if kind is dict:
        return {
            "dict": [
                [_encode(k, tensors, depth + 1), _encode(v, tensors, depth + 1)] for k, v in value.items()
            ]
        }
    if kind.__module__ == "numpy" and hasattr(value, "tolist"):
        shape = getattr(value, "shape", ())
        return {"numpy": _encode(value.tolist(), tensors, depth + 1), "scalar": shape == ()}
    return {"other": kind.__name__, "repr": repr(value)[:300]}


def _recorder(calls: list):
    def record(index: int, fn: str, args: list, kwargs: dict) -> None:
        entry = {"index": index, "fn": fn, "args": [], "kwargs": {}}
        try:
            for thunk in args:
                entry["args"].append(_value(thunk))
            for key, thunk in kwargs.items():
                entry["kwargs"][key] = _value(thunk)
        except Exception as err:  # noqa: BLE001 - the student's value could not be read
            entry["error"] = _error_line(err)
        calls.append(entry)

    return record


def _value(thunk):
    try:
        return ("ok", thunk())
    except CellTimeout:
        raise
    except Exception as err:  # noqa: BLE001
        return ("error", _error_line(err))


def _rewrite(test: str) -> object:
    """The test cell with each `helpers.check_X(a, b, k=v)` as `_grader_record_(i, ...)`."""
    import ast

    tree = ast.parse(test)
    counter = [0]

    class Swap(ast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            f = node.func
            if (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id == "helpers"
                and f.attr.startswith("check_")
            ):
                lam = lambda e: ast.Lambda(  # noqa: E731
                    args=ast.arguments([], [], None, [], [], None, []), body=e
                )
                call = ast.Call(
                    func=ast.Name("_grader_record_", ast.Load()),
                    args=[
                        ast.Constant(counter[0]),
                        ast.Constant(f.attr),
                        ast.List([lam(a) for a in node.args], ast.Load()),
                        ast.Dict(
                            [ast.Constant(k.arg) for k in node.keywords],
                            [lam(k.value) for k in node.keywords],
                        ),
                    ],
                    keywords=[],
                )
                counter[0] += 1
                return ast.copy_location(call, node)
            return node

    tree = ast.fix_missing_locations(Swap().visit(tree))
    return [compile(ast.Module([stmt], []), "<test cell>", "exec") for stmt in tree.body]


def _exercise(shell, step: dict, timeout: float, write_fd: int, locked_timeout: float) -> None:
    """In the fork: run one exercise and write its record to `write_fd`."""
    import torch

    torch.set_num_threads(1)
    info = {"cells": [], "test_error": ""}
    for cell in step["setup"]:
        _run_cell(shell, cell, locked_timeout)
    user_ns = shell.user_ns
    snap = _snapshot(user_ns)
    save, loads = torch.save, io.BytesIO
    for cell in step["student"]:
        info["cells"].append(_run_cell(shell, cell, timeout))
    _restore(snap, user_ns, set(step.get("answer_names", [])))
    calls: list = []
    ns = dict(user_ns)
    ns["_grader_record_"] = _recorder(calls)
    _alarm(timeout)
    try:
        for code in _rewrite(step["test"]):
            exec(code, ns)  # noqa: S102 - the locked test cell, checks replaced by recording
    except BaseException as err:  # noqa: BLE001 - whatever the student's objects raise
        info["test_error"] = _error_line(err)
        info["test_timeout"] = isinstance(err, CellTimeout)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    _restore(snap, user_ns, set())
    tensors: list = []
    entries = []
    for entry in calls:
        enc = {k: entry[k] for k in ("index", "fn") if k in entry}
        if "error" in entry:
            enc["error"] = entry["error"]
        enc["args"] = [[tag, _encode(v, tensors) if tag == "ok" else v] for tag, v in entry["args"]]
        enc["kwargs"] = {
            k: [tag, _encode(v, tensors) if tag == "ok" else v] for k, (tag, v) in entry["kwargs"].items()
        }
        entries.append(enc)
    buf = loads()
    save(tensors, buf)
    head = json.dumps({"calls": entries, **info}).encode()
    _send(write_fd, struct.pack("<I", len(head)) + head + buf.getvalue())


def _kill_others() -> None:
    """Kill every process of the sandbox but this one and its ancestors (a fork's leftovers)."""
    keep, pid = set(), os.getpid()
    while pid > 1:
        keep.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    keep.add(1)
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in keep:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _tree_usage(pid: int) -> tuple[int, int]:
    """(processes and threads, resident MB) of pid and everything below it."""
    todo, threads, rss, seen = [pid], 0, 0, 0
    while todo and seen < 4096:
        p = todo.pop()
        seen += 1
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("Threads:"):
                        threads += int(line.split()[1])
                    elif line.startswith("VmRSS:"):
                        rss += int(line.split()[1]) // 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return threads, rss


def _collect(pid: int, read_fd: int, deadline: float, limits: dict) -> tuple[bytes, str]:
    """Read the fork's record until it exits; stop it past its time, memory or process limits."""
    chunks, size, status, ended = [], 0, "ok", None
    while ended is None:
        left = deadline - time.monotonic()
        if left <= 0:
            status = "timeout"
            break
        ready, _, _ = select.select([read_fd], [], [], min(left, 0.02))
        if ready:
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:  # every writer closed the pipe: the fork has ended
                _, ended = os.waitpid(pid, 0)
                break
            size += len(chunk)
            if size > MAX_RECORD:
                status = "too large"
                break
            chunks.append(chunk)
            continue
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            ended = code
            break
        threads, rss = _tree_usage(pid)
        if threads > limits["procs"]:
            status = f"stopped: it started more than {limits['procs']} processes or threads"
            break
        if rss > limits["memory_mb"]:
            status = f"stopped: it used more than {limits['memory_mb']} MB of memory"
            break
    if ended is None:
        os.kill(pid, signal.SIGKILL)
        _, ended = os.waitpid(pid, 0)
    else:  # what the fork wrote before it exited (a process it left may hold the pipe open)
        while select.select([read_fd], [], [], 0)[0] and size <= MAX_RECORD:
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            chunks.append(chunk)
    if status == "ok" and not chunks:
        status = f"no record (the process ended with status {os.waitstatus_to_exitcode(ended)})"
    return b"".join(chunks), status


def main(argv: list[str]) -> None:
    with open(argv[0]) as f:
        plan = json.load(f)
    out = int(argv[1])
    os.set_inheritable(out, False)
    _nondumpable()
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "NoColor"
    shell = InteractiveShell.instance(config=config)
    timeout = float(plan["cell_timeout"])
    locked_timeout = max(4 * timeout, 120.0)  # the assignment's own cells: only the notebook limit matters
    import torch  # noqa: F401

    import helpers  # noqa: F401 - imported before the clock starts (seconds on a busy machine)

    for step in plan["steps"]:
        start = time.monotonic()
        if step["kind"] == "cell":
            info = _run_cell(shell, step["source"], locked_timeout)
            _send(out, _frame("cell", {"index": step["index"], **info}))
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            os.close(out)  # the student's code never holds the grader's channel
            code = 0
            try:
                _exercise(shell, step, timeout, write_fd, locked_timeout)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(write_fd)
        budget = locked_timeout * len(step["setup"]) + timeout * (len(step["student"]) + 1) + 10
        data, status = _collect(pid, read_fd, start + budget, plan["limits"])
        os.close(read_fd)
        _kill_others()
        meta = {"label": step["label"], "status": status, "seconds": round(time.monotonic() - start, 2)}
        _send(out, _frame("exercise", meta, data))
    _send(out, _frame("done", {}))


if __name__ == "__main__":
    main(sys.argv[1:])
