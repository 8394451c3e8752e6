"""From a notebook to a sandbox plan, and from the sandbox's data to points (outside the sandbox).

A plan is the assignment's own locked cells (from the release) with, per exercise, the
student's code: the answer cell (found by its nbgrader grade id, or in a `make student` copy
by the starter cell's id or its self-check lines) and any cells the student added before it.
Edited locked cells are replaced by the release's; cells added after the last exercise never
run. The expected answers come from the same plan run on nbgrader's source version (the book's
solutions), once per assignment, and never enter a student's sandbox.

The verdict is made here, in the grader's process: the checks of `helpers.check`, loaded fresh
in this process, compare each recorded answer with the recorded expected value, and a few
static rules read the student's source (no digest search in a hashed exercise, no use of the
value the check compares with, the cube's gradient from autograd).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import io
import json
import re
import struct
import tokenize
from dataclasses import dataclass, field

import nbformat

from tools.classroom import exercises

REASON_CHARS = 400
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Static rules per exercise: the student's code must match one of the patterns.
REQUIRE: dict[str, tuple[str, str]] = {
    "autograd-ex-cube": (
        r"\.backward\s*\(|autograd\s*\.\s*grad\s*\(",
        "hidden test: the gradient must come from autograd (backward() or torch.autograd.grad).",
    ),
}


def spec(chapter_nb: nbformat.NotebookNode) -> dict:
    """What the grader needs to know of a chapter's exercises (written to <course>/grader/)."""
    out = []
    for ex in exercises.find(chapter_nb):
        names = set()
        for text in (ex.starter, ex.solution):
            try:
                names |= exercises._bound(ast.parse(text).body) | exercises._defined(ast.parse(text).body)
            except SyntaxError:
                pass
        out.append(
            dict(
                label=ex.label,
                starter_id=ex.starter_id,
                setup=ex.setup,
                test=ex.test,
                hashed=ex.hashed,
                references=ex.references,
                answer_names=sorted(names),
            )
        )
    return {"exercises": out}


def _norm(source: str) -> str:
    return hashlib.sha256(exercises.HIDDEN.sub("", source).strip().encode()).hexdigest()


def _grade_id(cell: dict) -> str | None:
    return (cell.get("metadata") or {}).get("nbgrader", {}).get("grade_id")


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _statements(source: str) -> list[str] | None:
    try:
        return [ast.dump(s) for s in ast.parse(source).body]
    except SyntaxError:
        return None


def _strip_known(source: str, setup: str, test: str) -> str:
    """A `make student` starter cell without its set-up lines at the top and checks at the end."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return source
    lines = source.splitlines(keepends=True)
    head, tail = _statements(setup) or [], _statements(test) or []
    dumps = [ast.dump(s) for s in body]
    a = len(head) if dumps[: len(head)] == head else 0
    b = (
        len(body) - len(tail)
        if tail and len(body) - a >= len(tail) and dumps[-len(tail) :] == tail
        else len(body)
    )
    if a >= b:
        return ""
    start = body[a - 1].end_lineno if a else 0
    end = body[b - 1].end_lineno
    return "".join(lines[start:end])


@dataclass
class Plan:
    plan: dict
    code: dict[str, str] = field(default_factory=dict)  # label -> the student's code for it
    notes: dict[str, str] = field(default_factory=dict)  # label -> what is wrong with its cells


def build(
    release: nbformat.NotebookNode, chapter_spec: dict, submitted: dict | None, cell_timeout: int
) -> Plan:
    """The plan for a submission (`submitted` None: the release's own answer cells, e.g. the source)."""
    by_label = {e["label"]: e for e in chapter_spec["exercises"]}
    labels = list(by_label)
    steps, locked_sources, known_ids = [], set(), set()
    for i, cell in enumerate(release.cells):
        if cell.cell_type != "code":
            continue
        gid = _grade_id(cell) or ""
        known_ids |= {gid, cell.get("id", ""), gid.removeprefix("locked-")}
        if gid in by_label:
            steps.append({"kind": "exercise", "label": gid})
        elif gid.endswith("-answer") or gid.endswith("-setup"):
            continue
        else:
            steps.append({"kind": "cell", "index": i, "source": cell.source})
            locked_sources.add(_norm(cell.source))
    for e in by_label.values():
        known_ids |= {e["starter_id"], e["label"], f"{e['label']}-answer", f"{e['label']}-setup"}
    result = Plan(plan={"cell_timeout": cell_timeout, "steps": []})
    answers: dict[str, list[str]] = {label: [] for label in labels}
    if submitted is None:
        for cell in release.cells:
            gid = _grade_id(cell) or ""
            if gid.endswith("-answer") and gid[: -len("-answer")] in by_label:
                text = re.sub(r"^\s*### (BEGIN|END) SOLUTION\s*$", "", cell.source, flags=re.M)
                answers[gid[: -len("-answer")]] = [text]
    else:
        pending: list[str] = []
        found: set[str] = set()
        for cell in submitted.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            src, gid, cid = _source(cell), _grade_id(cell) or "", cell.get("id", "")
            label = None
            if gid.endswith("-answer") and gid[: -len("-answer")] in by_label:
                label, text = gid[: -len("-answer")], src
            else:
                for e in by_label.values():
                    if e["label"] in found:
                        continue
                    tail = _statements(e["test"]) or []
                    mine = _statements(src) or []
                    if cid == e["starter_id"] or (tail and mine[-len(tail) :] == tail and not gid):
                        label, text = e["label"], _strip_known(src, e["setup"], e["test"])
                        break
            if label is not None and label not in found:
                found.add(label)
                answers[label] = pending + [text]
                pending = []
            elif gid or cid in known_ids or _norm(src) in locked_sources or not src.strip():
                continue  # a locked cell (the release's own version runs) or an empty one
            else:
                pending.append(src)  # the student's own cell: it runs with the next exercise
        for label in labels:
            if label not in found:
                result.notes[label] = "the answer cell was deleted from the notebook"
    for step in steps:
        if step["kind"] == "cell":
            result.plan["steps"].append(step)
            continue
        e = by_label[step["label"]]
        result.plan["steps"].append(
            {
                "kind": "exercise",
                "label": e["label"],
                "setup": [e["setup"]] if e["setup"].strip() else [],
                "student": answers[e["label"]],
                "test": e["test"],
                "answer_names": e["answer_names"],
            }
        )
        result.code[e["label"]] = "\n".join(answers[e["label"]])
    return result


# --- reading the sandbox's data ----------------------------------------------------------------


class _Shown:
    """A value of a type that is not handed out as data: only its type name and repr travel."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _decode(node, tensors: list):
    import numpy as np
    import torch

    if node is None or isinstance(node, (bool, str)):
        return node
    if not isinstance(node, dict) or len(node) == 0:
        raise ValueError("malformed answer")
    if "int" in node:
        return int(node["int"])
    if "float" in node:
        return float(node["float"])
    if "ellipsis" in node:
        return Ellipsis
    if "tensor" in node:
        return tensors[int(node["tensor"])]
    if "size" in node:
        return torch.Size(int(v) for v in node["size"])
    if "dtype" in node:
        return getattr(torch, str(node["dtype"]))
    if "device" in node:
        return torch.device(str(node["device"]))
    if "list" in node:
        return [_decode(v, tensors) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, tensors) for v in node["tuple"])
    if "dict" in node:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in node["dict"]}
    if "numpy" in node:
        value = np.asarray(_decode(node["numpy"], tensors))
        return value[()] if node.get("scalar") else value
    name = re.sub(r"\W", "", str(node.get("other", "object")))[:60] or "object"
    return type(name, (_Shown,), {})(str(node.get("repr", ""))[:300])


def read_record(payload: bytes) -> dict:
    """The record of one exercise: {'calls': [...], 'cells': [...], 'test_error': ...}, values decoded."""
    import torch

    (head_len,) = struct.unpack_from("<I", payload, 0)
    head = json.loads(payload[4 : 4 + head_len])
    tensors = torch.load(io.BytesIO(payload[4 + head_len :]), weights_only=True)
    if not isinstance(tensors, list) or not all(isinstance(t, torch.Tensor) for t in tensors):
        raise ValueError("malformed tensors")
    for call in head.get("calls", []):
        call["args"] = [(tag, _decode(v, tensors) if tag == "ok" else v) for tag, v in call["args"]]
        call["kwargs"] = {
            k: (tag, _decode(v, tensors) if tag == "ok" else v) for k, (tag, v) in call["kwargs"].items()
        }
    return head


def fresh_checks():
    """helpers.check loaded anew from its file, in this (the grader's) process."""
    module_spec = importlib.util.find_spec("helpers.check")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _one_line(text: str) -> str:
    value = " ".join(ANSI.sub("", text).split())
    return value if len(value) <= REASON_CHARS else value[: REASON_CHARS - 1] + "…"


def _names_in(src: str) -> set[str]:
    try:
        return {
            t.string for t in tokenize.generate_tokens(io.StringIO(src).readline) if t.type == tokenize.NAME
        }
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return set(re.findall(r"\w+", src))


def judge(
    e: dict,
    expected: dict,
    got: dict | None,
    status: str,
    code: str,
    all_code: str,
    any_hashed: bool,
    note: str,
    cell_timeout: int,
) -> str:
    """'' when the exercise earns its points, else the reason it does not."""
    checks = fresh_checks()
    notes = [note] if note else []
    if got is None:
        if status.startswith("timeout"):
            return "; ".join(notes + [f"a cell ran past the {cell_timeout} s limit and was stopped"])
        return "; ".join(notes + [f"no answer came back from the notebook ({status})"])
    timeouts = [c for c in got.get("cells", []) if c.get("timeout")] or got.get("test_timeout")
    if timeouts:
        notes.append(f"a cell ran past the {cell_timeout} s limit and was stopped")
    raised = next((c["error"] for c in got.get("cells", []) if c.get("error") and not c.get("timeout")), "")
    calls = {c["index"]: c for c in got.get("calls", [])}
    for ref in expected["calls"]:
        mine = calls.get(ref["index"])
        fn = getattr(checks, ref["fn"])
        if mine is None:
            why = got.get("test_error") or "the check did not run"
            notes.append(_one_line(why))
            break
        if "error" in mine or not mine["args"] or mine["args"][0][0] != "ok":
            err = mine.get("error") or (mine["args"][0][1] if mine["args"] else "no answer")
            notes.append(_one_line(err))
            break
        args = [mine["args"][0][1]] + [v for _, v in ref["args"][1:]]
        kwargs = {k: v for k, (_, v) in ref["kwargs"].items()}
        if ref["fn"] == "check_that":
            args[0] = _truth(args[0])
        try:
            with _quiet():
                fn(*args, **kwargs)
        except AssertionError as err:
            notes.append(f"ExerciseError: {_one_line(str(err))}")
            break
        except Exception as err:  # noqa: BLE001 - the student's value broke the check
            notes.append(f"{type(err).__name__}: {_one_line(str(err))}")
            break
    else:
        if not calls and got.get("test_error"):
            notes.append(_one_line(got["test_error"]))
    if raised and len(notes) > len([n for n in notes if "limit" in n]):
        notes.append(f"your cell raised {_one_line(raised)}")
    if notes:
        return "; ".join(notes)
    # The hidden tests: static rules on the student's source, after the checks passed.
    if e["hashed"]:
        found = re.search(exercises.HASH_SEARCH, all_code)
        if found:
            notes.append(
                f"hidden test: your code searches for the hashed answer (it uses {found.group(0)!r})."
            )
    for name in e["references"]:
        if name in _names_in(code):
            notes.append(f"hidden test: your answer uses {name!r}, the value the check compares with.")
    rule = REQUIRE.get(e["label"])
    if rule and not re.search(rule[0], code):
        notes.append(rule[1])
    return "; ".join(notes)


def _truth(value) -> bool:
    """A check_that condition as data: a bool, or a one-element bool tensor or NumPy bool."""
    import numpy as np
    import torch

    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype == torch.bool:
        return bool(value)
    return False  # anything else (an object of the student's) is no answer


class _quiet:
    """Swallow the '✔ correct' lines the checks print."""

    def __enter__(self):
        import contextlib

        self._cm = contextlib.redirect_stdout(io.StringIO())
        return self._cm.__enter__()

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def records(frames: list[tuple[dict, bytes]]) -> tuple[dict[str, dict], dict[str, str], bool]:
    """Per exercise label: the decoded record and the runner's status; and whether the run finished."""
    got, status, done = {}, {}, False
    for head, payload in frames:
        if head.get("kind") == "exercise":
            label = str(head.get("label"))
            status[label] = str(head.get("status"))
            if head.get("status") == "ok":
                try:
                    got[label] = read_record(payload)
                except Exception as err:  # noqa: BLE001 - bytes from the student's process
                    status[label] = f"its answers could not be read: {type(err).__name__}"
        elif head.get("kind") == "done":
            done = True
    return got, status, done


def expected_ok(
    chapter_spec: dict, got: dict[str, dict], status: dict[str, str], code: dict[str, str]
) -> list[str]:
    """Problems of the solutions' own run: every check must pass on the book's solutions."""
    problems = []
    for e in chapter_spec["exercises"]:
        rec = got.get(e["label"])
        if rec is None:
            problems.append(f"{e['label']}: {status.get(e['label'], 'did not run')}")
            continue
        why = judge(e, rec, rec, "ok", code.get(e["label"], ""), "", False, "", 60)
        if why:
            problems.append(f"{e['label']}: {why}")
    return problems
