"""Self-checks for the exercises.

A check prints one short line when the answer is right. When it is wrong it raises
`ExerciseError` with a message that says *what* is wrong (type, shape, dtype, how many values
differ, or a hint) without printing the expected answer. The checks mark their frames with
`__tracebackhide__`, which keeps the traceback a learner sees short.
"""

from __future__ import annotations

import hashlib
import math
import textwrap
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
# A code output on the book's page shows about 68 characters before it scrolls sideways; the
# message's first line also carries the "ExerciseError: " prefix.
WIDTH = 66
PREFIX = len("ExerciseError: ")


class ExerciseError(AssertionError):
    """Raised by a self-check when an exercise answer is wrong."""

    def _render_traceback_(self) -> list[str]:
        """In Jupyter, end the traceback at the learner's line: leave out the check's own frames."""
        from IPython import get_ipython

        tb = self.__traceback__
        while tb is not None and tb.tb_next is not None:
            if Path(tb.tb_next.tb_frame.f_code.co_filename).resolve().parent == HERE:
                tb.tb_next = None  # the rest is helpers/check.py: a path on the build machine
                break
            tb = tb.tb_next
        return get_ipython().InteractiveTB.structured_traceback(type(self), self, self.__traceback__)


def _correct(name: str) -> None:
    print(f"✔ correct: {name}")


def _error(name: str, why: str, hint: str = "") -> ExerciseError:
    """The message: what is wrong, then the hint on lines of its own, wrapped to fit the page."""
    lines = textwrap.wrap(f"{name}: {why}", WIDTH, initial_indent=" " * PREFIX, break_on_hyphens=False)
    lines[0] = lines[0][PREFIX:]
    if hint:
        lines += textwrap.wrap(f"Hint: {hint}", WIDTH, subsequent_indent="  ", break_on_hyphens=False)
    return ExerciseError("\n".join(lines))


def _unanswered(name: str, answer: Any) -> None:
    """Refuse the placeholder `...` before any hint is shown: a hint is for a real attempt."""
    __tracebackhide__ = True
    if answer is Ellipsis:
        raise ExerciseError(f"{name}: not answered yet.\nReplace the ... with your answer and run the cell.")


def check_close(
    answer: Any,
    expected: torch.Tensor,
    name: str = "answer",
    hint: str = "",
    rtol: float | None = None,
    atol: float | None = None,
) -> None:
    """Check that `answer` is a tensor with the shape, dtype and (close) values of `expected`."""
    __tracebackhide__ = True  # pytest leaves this frame out of tracebacks
    _unanswered(name, answer)
    if not isinstance(answer, torch.Tensor):
        raise _error(name, f"expected a torch.Tensor, got {type(answer).__name__}.", hint)
    if answer.shape != expected.shape:
        raise _error(name, f"shape is {tuple(answer.shape)}, expected {tuple(expected.shape)}.", hint)
    if answer.dtype != expected.dtype:
        raise _error(name, f"dtype is {answer.dtype}, expected {expected.dtype}.", hint)
    a, e = answer.detach().cpu(), expected.detach().cpu()
    if a.is_floating_point() or a.is_complex():
        default_rtol, default_atol = (1.3e-6, 1e-5) if a.dtype != torch.float64 else (1e-7, 1e-7)
        rtol = default_rtol if rtol is None else rtol
        atol = default_atol if atol is None else atol
        bad = int((~torch.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)).sum())
    else:
        bad = int((a != e).sum())
    if bad:
        raise _error(name, _how_many_differ(bad, a.numel()), hint)
    _correct(name)


COUNT_UP_TO = 64  # larger tensors: an exact count of near misses depends on the CPU's rounding


def _how_many_differ(bad: int, total: int) -> str:
    """Say how many values differ: exactly for small tensors or when all do, else "some of N"."""
    if bad == total or total <= COUNT_UP_TO:
        return f"{bad} of {total} values differ from the expected result."
    return f"some of the {total} values differ from the expected result."


def _plain(value: Any) -> Any:
    """Turn NumPy scalars, 0-dim tensors and torch.Size into the plain Python value they hold."""
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dim() == 0:
        return value.item()
    if type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "shape", None) == ():
        return value.item()
    return value


def check_value(answer: Any, expected: Any, name: str = "answer", hint: str = "") -> None:
    """Check a plain Python value (number, string, bool, tuple...) for equality with `expected`.

    Floats are compared with a relative tolerance of 1e-6. NumPy scalars, 0-dim tensors and
    `torch.Size` count as the Python value they hold (`np.int64(6)` is 6, a shape is a tuple).
    """
    __tracebackhide__ = True
    _unanswered(name, answer)
    answer, expected = _plain(answer), _plain(expected)
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        if type(answer) is not type(expected):
            raise _error(name, f"expected a {type(expected).__name__}, got {type(answer).__name__}.", hint)
        if answer != expected:
            raise _error(name, "this is not the expected value.", hint)
    else:
        if isinstance(answer, bool) or not isinstance(answer, (int, float)):
            raise _error(name, f"expected a number, got {type(answer).__name__}.", hint)
        if math.isnan(answer):
            raise _error(
                name, "the answer is nan (not a number): something divided 0 by 0 or overflowed.", hint
            )
        if not math.isclose(answer, expected, rel_tol=1e-6, abs_tol=1e-12):
            side = "too small" if answer < expected else "too large"
            raise _error(name, f"{answer!r} is {side}.", hint)
    _correct(name)


def digest(value: Any) -> str:
    """Return a short fingerprint of `value` so a notebook can store an answer without showing it.

    Tensors and NumPy values are fingerprinted by their list of values; floats are rounded to 4
    decimals, and a whole number given as a float counts as the integer (the answer 2.0 is 2;
    inside a tensor or a list 2.0 stays a float, so a float tensor is not an integer one).

    Example::

        helpers.digest(42)  # -> 'a8f5...'; paste it into check_hashed(answer, 'a8f5...')
    """

    def norm(v: Any, scalar: bool = True) -> Any:
        if isinstance(v, torch.Tensor):  # a tensor's values keep their type: 2.0 in a float tensor
            return norm(v.detach().cpu().tolist(), scalar=v.dim() == 0)
        if type(v).__module__ == "numpy" and hasattr(v, "tolist"):  # NumPy scalars and arrays
            return norm(v.tolist(), scalar=getattr(v, "shape", None) == ())
        if isinstance(v, float):
            v = round(v, 4) + 0.0  # + 0.0 turns -0.0 into 0.0
            return int(v) if scalar and v.is_integer() else v  # the number 2.0 is the answer 2
        if isinstance(v, (list, tuple)):
            if len(v) == 1 and isinstance(v[0], torch.Tensor):
                return norm(v[0])  # a 1-tuple such as torch.autograd.grad's result
            return [norm(x, scalar=False) for x in v]
        return v

    return hashlib.sha256(repr(norm(value)).encode()).hexdigest()[:16]


def check_hashed(answer: Any, expected_digest: str, name: str = "answer", hint: str = "") -> None:
    """Check `answer` against a stored `digest(...)`, so the notebook never shows the answer."""
    __tracebackhide__ = True
    _unanswered(name, answer)
    if digest(answer) != expected_digest:
        raise _error(name, f"{answer!r} is not the expected answer.", hint)
    _correct(name)


def check_that(condition: bool, name: str = "answer", hint: str = "the condition does not hold.") -> None:
    """Pass when `condition` is true; otherwise fail with `hint` as the explanation."""
    __tracebackhide__ = True
    if not condition:
        raise _error(name, hint)
    _correct(name)


def error_line(err: BaseException) -> str:
    """Return `TypeName: first line of the message`, the way the book prints an expected error."""
    lines = str(err).splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def show_error(err: BaseException) -> None:
    """Print `error_line(err)`: used after `except` in cells that demonstrate an error."""
    print(error_line(err))
