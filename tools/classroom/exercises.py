"""Read a chapter's exercises and turn each into nbgrader cells (single source: the chapter).

An exercise in a chapter is (CONTRIBUTING.md): an `{exercise-start}` fence with a `:label:`, a
starter code cell tagged `raises-exception` that ends with self-checks (`helpers.check_*`), and a
`{solution-start} <label>` block whose code cell ends with the same checks.

The starter's top-level statements are split in three, using the book's solution to see which
statements a student is meant to change:

- set-up: statements before the first placeholder (`...`, `# your code`, `replace with your
  value`), or, in a "spot the bug" starter without placeholders, the statements the solution
  repeats unchanged at its start. Locked.
- answer: the statements in between: the student's cell (starter in the release, the solution in
  nbgrader's source version).
- test: the statements after the answer that the solution also keeps unchanged, then the checks.
  Locked, graded, and followed by hidden tests (see `hidden_tests`).
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, field

import nbformat

from tools.bookfiles import tags

EXERCISE_START = re.compile(r"\{exercise-start\}[^\n]*\n:label:\s*(\S+)")
SOLUTION_START = re.compile(r"\{solution-start\}\s*(\S+)")
SOLUTION_END = re.compile(r"\{solution-end\}")
PLACEHOLDER_TEXT = re.compile(r"#\s*your\b|replace with your", re.I)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)
# What a student's own code may not contain in an exercise checked against a hash: the tools of a
# brute-force search for the hashed answer, and ways to reach them without naming them.
HASH_SEARCH = (
    r"digest|hashlib|sha\d|md5|blake2|check_hashed|importlib|sys\.modules|__dict__"
    r"|(?<![.\w])(exec|eval|getattr|vars|globals|__import__)\s*\("
)


@dataclass
class Exercise:
    """One chapter exercise, split into nbgrader cells."""

    label: str
    starter_id: str  # the chapter's starter cell id
    setup: str  # locked cell before the answer ("" when there is none)
    starter: str  # the answer cell as the student gets it
    solution: str  # the answer cell in nbgrader's source version (the book's solution)
    test: str  # visible part of the locked test cell: remaining fixture lines, then the checks
    hashed: bool  # a check compares against a stored digest
    references: list[str] = field(default_factory=list)  # names the checks compare against


def _is_check(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            if isinstance(sub.func.value, ast.Name) and sub.func.value.id == "helpers":
                if sub.func.attr.startswith("check_"):
                    return True
    return False


def _segments(source: str) -> tuple[list[ast.stmt], list[str]]:
    """Return the top-level statements and the source text of each (comments above included)."""
    body = ast.parse(source).body
    lines = source.splitlines(keepends=True)
    starts = [0] + [stmt.end_lineno for stmt in body[:-1]]
    texts = ["".join(lines[start : stmt.end_lineno]) for start, stmt in zip(starts, body)]
    return body, texts


def _same(a: ast.stmt, b: ast.stmt) -> bool:
    return ast.dump(a) == ast.dump(b)


def _prefix(a: list[ast.stmt], b: list[ast.stmt]) -> int:
    n = 0
    while n < min(len(a), len(b)) and _same(a[n], b[n]):
        n += 1
    return n


def _suffix(a: list[ast.stmt], b: list[ast.stmt]) -> int:
    n = 0
    while n < min(len(a), len(b)) and _same(a[-1 - n], b[-1 - n]):
        n += 1
    return n


def _join(texts: list[str]) -> str:
    return "".join(texts).strip("\n")


def _references(checks: list[ast.stmt], bound: set[str]) -> list[str]:
    """Names in the reference argument of check_close/check_value that the exercise binds."""
    names = set()
    for stmt in checks:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
                if sub.func.attr in ("check_close", "check_value") and len(sub.args) >= 2:
                    names |= {n.id for n in ast.walk(sub.args[1]) if isinstance(n, ast.Name)}
    return sorted(names & bound)


def _defined(stmts: list[ast.stmt]) -> set[str]:
    """Names of the functions and classes that `stmts` define at top level."""
    return {s.name for s in stmts if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _bound(stmts: list[ast.stmt]) -> set[str]:
    names = set()
    for stmt in stmts:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)
    return names


def split(label: str, starter_id: str, starter: str, solution: str) -> Exercise:
    """Split a starter cell (and its solution) into set-up, answer and test parts."""
    body, texts = _segments(starter)
    first_check = next(i for i, stmt in enumerate(body) if _is_check(stmt))
    pre = body[:first_check]
    placeholders = [
        i
        for i, stmt in enumerate(pre)
        if any(isinstance(n, ast.Constant) and n.value is Ellipsis for n in ast.walk(stmt))
        or PLACEHOLDER_TEXT.search(texts[i])
    ]
    sol_body, sol_texts = _segments(solution)
    sol_first_check = next((i for i, stmt in enumerate(sol_body) if _is_check(stmt)), len(sol_body))
    sol_pre = sol_body[:sol_first_check]
    if placeholders:
        a, b = min(placeholders), max(placeholders) + 1
    else:
        a = _prefix(pre, sol_pre)
        b = len(pre) - _suffix(pre[a:], sol_pre[a:])
    if a == b:  # nothing left for the student: the whole pre-check part is the answer
        a, b = 0, len(pre)
    p = _prefix(pre[:a], sol_pre)
    q = _suffix(pre[b:], sol_pre[p:])
    sol_answer = sol_texts[p : len(sol_pre) - q]
    # Definitions of the starter's answer that the solution leaves as they are (it shows only the
    # fixed one) stay in the solution's answer cell.
    sol_names = _defined(sol_pre[p : len(sol_pre) - q])
    kept = [
        t for stmt, t in zip(pre[a:b], texts[a:b]) if _defined([stmt]) and not _defined([stmt]) & sol_names
    ]
    sol_answer = [t.strip("\n") + "\n\n\n" for t in kept] + sol_answer
    used = {n.id for stmt in sol_pre[p : len(sol_pre) - q] for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    hashed = any(
        isinstance(n, ast.Attribute) and n.attr == "check_hashed"
        for stmt in body[first_check:]
        for n in ast.walk(stmt)
    )
    return Exercise(
        label=label,
        starter_id=starter_id,
        setup=_join(texts[:a]),
        starter=_join(texts[a:b]),
        solution=_join(sol_answer),
        test=_join(texts[b:]),
        hashed=hashed,
        references=[n for n in _references(body[first_check:], _bound(pre[:a] + pre[b:])) if n not in used],
    )


def find(nb: nbformat.NotebookNode) -> list[Exercise]:
    """Return the chapter's exercises in order (label, starter and solution from the notebook)."""
    starters: dict[str, tuple[str, str]] = {}
    solutions: dict[str, str] = {}
    label = solving = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for m in EXERCISE_START.finditer(cell.source):
                label = m.group(1)
            if m := SOLUTION_START.search(cell.source):
                solving = m.group(1)
            if SOLUTION_END.search(cell.source) and not SOLUTION_START.search(
                cell.source.split("{solution-end}")[-1]
            ):
                solving = None
        elif cell.cell_type == "code":
            if solving and "helpers.check_" in cell.source:
                solutions[solving] = cell.source
            elif (
                label
                and label not in starters
                and "raises-exception" in tags(cell)
                and "helpers.check_" in cell.source
            ):
                starters[label] = (cell.get("id", label), cell.source)
    missing = sorted(set(starters) - set(solutions))
    if missing:
        raise ValueError(f"exercises without a solution cell: {missing}")
    return [split(lab, cid, src, solutions[lab]) for lab, (cid, src) in starters.items()]


def normalized_hash(source: str) -> str:
    """Fingerprint of a cell's source with any hidden-test region removed."""
    return hashlib.sha256(HIDDEN.sub("", source).strip().encode()).hexdigest()[:16]


# The hidden tests: one function, the same in every test cell, so a reader can review it once.
# It runs in the student's kernel after the visible checks passed, and fails the cell when:
#  1. the visible checks fail when re-run with freshly loaded check functions (helpers patched);
#  2. the notebook's input history was tampered with;
#  3. (hashed exercises) any of the student's own cells uses the tools of a digest search;
#  4. the student's cells for this exercise use a name the check compares against (`expected`).
# A student's cell is any executed cell that is not one of the assignment's locked cells.
_HIDDEN_FUNCTION = """
def _hidden_tests(spec):
    import contextlib, hashlib, importlib.util, io, re, tokenize, types
    from IPython import get_ipython

    def norm(src):
        marks = ["### " + word + " HIDDEN TESTS" for word in ("BEGIN", "END")]  # not spelt out: nbgrader
        src = re.sub(re.escape(marks[0]) + ".*?" + re.escape(marks[1]) + "\\n?", "", src, flags=re.S)
        return hashlib.sha256(src.strip().encode()).hexdigest()[:16]

    module_spec = importlib.util.find_spec("helpers.check")
    fresh = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(fresh)
    names = dict(globals())
    checks = {k: getattr(fresh, k) for k in ("check_close", "check_value", "check_hashed", "check_that")}
    names["helpers"] = types.SimpleNamespace(**{**vars(names["helpers"]), **checks})
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(spec["recheck"], "<hidden re-check>", "exec"), names)
    except AssertionError as err:
        why = f"hidden test: the original check fails ({err}); were the checks replaced?"
        raise AssertionError(why) from None
    ip = get_ipython()
    history = ip.history_manager.input_hist_raw
    assert len(history) == ip.execution_count, "hidden test: the notebook's input history was modified."
    student = [(i, src) for i, src in enumerate(history[1:-1], 1) if norm(src) not in spec["locked"]]
    if spec["hashed"]:
        for i, src in student:
            found = re.search(spec["hash_search"], src)
            if found:
                why = f"hidden test: your code searches for the hashed answer (it uses {found.group(0)!r})."
                raise AssertionError(why)

    def names_in(src):
        try:
            tokens = tokenize.generate_tokens(io.StringIO(src).readline)
            return {t.string for t in tokens if t.type == tokenize.NAME}
        except (tokenize.TokenError, SyntaxError):
            return set(re.findall(r"\\w+", src))

    recent = []
    for i, src in reversed(list(enumerate(history[1:-1], 1))):
        if norm(src) in spec["locked"]:
            break
        recent.append(src)
    for name in spec["references"]:
        used = any(name in names_in(src) for src in recent)
        assert not used, f"hidden test: your answer uses {name!r}, the value the check compares with."
"""

# Extra hidden asserts for exercises whose visible check a student can satisfy another way.
EXTRA: dict[str, str] = {
    "autograd-ex-cube": (  # x.grad from backward(), or the 1-tuple torch.autograd.grad returns
        "assert (isinstance(answer, torch.Tensor) and x.grad is not None \\\n"
        "        and torch.equal(answer.detach(), x.grad)) \\\n"
        "    or (isinstance(answer, tuple) and 'autograd.grad(' in In[-2]), \\\n"
        '    "hidden test: the gradient must come from autograd (backward() or torch.autograd.grad)."'
    ),
}


def hidden_tests(ex: Exercise, locked: set[str]) -> str:
    """Return the hidden-test region appended to `ex`'s test cell."""
    body, texts = _segments(ex.test)
    recheck = _join([t for stmt, t in zip(body, texts) if _is_check(stmt)])
    spec = {
        "recheck": recheck,
        "locked": sorted(locked),
        "hashed": ex.hashed,
        "hash_search": HASH_SEARCH,
        "references": ex.references,
    }
    lines = [
        "### BEGIN HIDDEN TESTS",
        "# Hidden tests (graded, not in the students' copies): see tools/classroom/exercises.py.",
        _HIDDEN_FUNCTION.strip("\n"),
        "",
        "",
        f"_hidden_tests({spec!r})",
    ]
    if ex.label in EXTRA:
        lines.append(EXTRA[ex.label])
    lines.append("### END HIDDEN TESTS")
    return "\n".join(lines)
