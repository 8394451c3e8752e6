"""Self-checks for the exercises.

A check prints one short line when the answer is right. When it is wrong it raises
`ExerciseError` with a message that says *what* is wrong (type, shape, dtype, how many values
differ, or a hint) without printing the expected answer.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import torch


class ExerciseError(AssertionError):
    """Raised by a self-check when an exercise answer is wrong."""


def _correct(name: str) -> None:
    print(f"✔ correct: {name}")


def _fail(name: str, why: str, hint: str = "") -> None:
    message = f"{name}: {why}"
    if hint:
        message += f" Hint: {hint}"
    raise ExerciseError(message)


def check_close(
    answer: Any,
    expected: torch.Tensor,
    name: str = "answer",
    hint: str = "",
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """Check that `answer` is a tensor with the shape, dtype and (close) values of `expected`."""
    if not isinstance(answer, torch.Tensor):
        _fail(name, f"expected a torch.Tensor, got {type(answer).__name__}.", hint)
    if answer.shape != expected.shape:
        _fail(name, f"shape is {tuple(answer.shape)}, expected {tuple(expected.shape)}.", hint)
    if answer.dtype != expected.dtype:
        _fail(name, f"dtype is {answer.dtype}, expected {expected.dtype}.", hint)
    a, e = answer.detach().cpu(), expected.detach().cpu()
    try:
        torch.testing.assert_close(a, e, rtol=rtol, atol=atol, equal_nan=True)
    except AssertionError:
        if a.is_floating_point() or a.is_complex():
            tol_a = 1e-5 if atol is None else atol
            tol_r = 1.3e-6 if rtol is None else rtol
            bad = int((~torch.isclose(a, e, rtol=tol_r, atol=tol_a, equal_nan=True)).sum())
        else:
            bad = int((a != e).sum())
        _fail(name, f"{bad} of {a.numel()} values differ from the expected result.", hint)
    _correct(name)


def check_value(answer: Any, expected: Any, name: str = "answer", hint: str = "") -> None:
    """Check a plain Python value (number, string, bool, tuple...) for equality with `expected`.

    Floats are compared with a relative tolerance of 1e-6.
    """
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        if type(answer) is not type(expected):
            _fail(name, f"expected a {type(expected).__name__}, got {type(answer).__name__}.", hint)
        if answer != expected:
            _fail(name, "this is not the expected value.", hint)
    else:
        if isinstance(answer, bool) or not isinstance(answer, (int, float)):
            _fail(name, f"expected a number, got {type(answer).__name__}.", hint)
        if not math.isclose(answer, expected, rel_tol=1e-6, abs_tol=1e-12):
            side = "too small" if answer < expected else "too large"
            _fail(name, f"{answer!r} is {side}.", hint)
    _correct(name)


def digest(value: Any) -> str:
    """Return a short fingerprint of `value` so a notebook can store an answer without showing it.

    Tensors are fingerprinted by their list of values; floats are rounded to 4 decimals.

    Example::

        helpers.digest(42)  # -> 'a8f5...'; paste it into check_hashed(answer, 'a8f5...')
    """

    def norm(v: Any) -> Any:
        if isinstance(v, torch.Tensor):
            return norm(v.detach().cpu().tolist())
        if isinstance(v, float):
            return round(v, 4) + 0.0  # + 0.0 turns -0.0 into 0.0
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        return v

    return hashlib.sha256(repr(norm(value)).encode()).hexdigest()[:16]


def check_hashed(answer: Any, expected_digest: str, name: str = "answer", hint: str = "") -> None:
    """Check `answer` against a stored `digest(...)`, so the notebook never shows the answer."""
    if digest(answer) != expected_digest:
        _fail(name, f"{answer!r} is not the expected answer.", hint)
    _correct(name)


def check_that(condition: bool, name: str = "answer", hint: str = "the condition does not hold.") -> None:
    """Pass when `condition` is true; otherwise fail with `hint` as the explanation."""
    if not condition:
        raise ExerciseError(f"{name}: {hint}")
    _correct(name)
