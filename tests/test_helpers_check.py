"""The exercise self-checks: silent "correct" on a right answer, a helpful error on a wrong one."""

import re

import numpy as np
import pytest
import torch

import helpers
from helpers.check import ExerciseError


def test_check_close_passes_and_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    helpers.check_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]), name="x")
    assert capsys.readouterr().out == "✔ correct: x\n"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([1.0, 2.0], "x: expected a torch.Tensor, got list."),
        (torch.zeros(3), "x: shape is (3,), expected (2,)."),
        (torch.tensor([1, 2]), "x: dtype is torch.int64, expected torch.float32."),
        (torch.tensor([1.0, 5.0]), "x: 1 of 2 values differ from the expected result."),
    ],
)
def test_check_close_explains_what_is_wrong(answer: object, message: str) -> None:
    with pytest.raises(ExerciseError) as info:
        helpers.check_close(answer, torch.tensor([1.0, 2.0]), name="x")
    assert str(info.value) == message
    assert "2.0" not in str(info.value)  # the expected values are never printed


def test_check_close_counts_integer_mismatches_and_adds_the_hint() -> None:
    with pytest.raises(ExerciseError, match=r"^y: 2 of 3 values differ.*\nHint: flip it\.$"):
        helpers.check_close(torch.tensor([3, 2, 1]), torch.tensor([1, 2, 3]), "y", hint="flip it.")


def test_check_close_respects_tolerances() -> None:
    helpers.check_close(torch.tensor([1.0]), torch.tensor([1.05]), atol=0.1, rtol=0.0)
    with pytest.raises(ExerciseError):
        helpers.check_close(torch.tensor([1.0]), torch.tensor([1.05]))


def test_check_value_numbers() -> None:
    helpers.check_value(0.1 + 0.2, 0.3)  # float rounding is tolerated
    with pytest.raises(ExerciseError, match="n: 3 is too small.\nHint: count the biases"):
        helpers.check_value(3, 4, name="n", hint="count the biases")
    with pytest.raises(ExerciseError, match="n: 5 is too large"):
        helpers.check_value(5, 4, name="n")
    with pytest.raises(ExerciseError, match="expected a number, got str"):
        helpers.check_value("4", 4, name="n")
    with pytest.raises(ExerciseError, match="expected a number, got bool"):
        helpers.check_value(True, 1, name="n")


def test_check_value_other_types() -> None:
    helpers.check_value((2, 3), (2, 3))
    with pytest.raises(ExerciseError, match="expected a tuple, got list"):
        helpers.check_value([2, 3], (2, 3))
    with pytest.raises(ExerciseError, match="this is not the expected value"):
        helpers.check_value("cuda:1", "cuda:0")


def test_digest_is_stable_and_hides_the_answer() -> None:
    assert helpers.digest(2) == helpers.digest(2)
    assert helpers.digest(2) != helpers.digest(3)
    assert helpers.digest(torch.tensor([1.0, 2.0])) == helpers.digest([1.0, 2.0])
    assert helpers.digest(0.123449) == helpers.digest(0.12345 - 1e-6)  # rounded to 4 decimals
    assert helpers.digest(-0.0) == helpers.digest(0.0)
    assert len(helpers.digest("anything")) == 16


def test_check_hashed(capsys: pytest.CaptureFixture[str]) -> None:
    helpers.check_hashed(2, helpers.digest(2), name="gpu")
    assert "correct: gpu" in capsys.readouterr().out
    with pytest.raises(ExerciseError, match=r"gpu: 3 is not the expected answer\.\nHint: count"):
        helpers.check_hashed(3, helpers.digest(2), name="gpu", hint="count from 0")


def test_check_that() -> None:
    helpers.check_that(True, name="ok")
    with pytest.raises(ExerciseError, match="^frozen: the weights changed$"):
        helpers.check_that(False, name="frozen", hint="the weights changed")


def test_exercise_error_is_an_assertion_error() -> None:
    assert issubclass(ExerciseError, AssertionError)


def test_error_line_and_show_error(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        torch.device("cuda:1,2")
    except RuntimeError as err:
        assert helpers.error_line(err) == "RuntimeError: Invalid device string: 'cuda:1,2'"
    assert helpers.error_line(ValueError("first\nsecond")) == "ValueError: first"
    assert helpers.error_line(KeyError()) == "KeyError"  # no message at all
    helpers.show_error(TypeError("bad\nmore"))
    assert capsys.readouterr().out == "TypeError: bad\n"


def test_check_close_counts_small_tensors_and_says_some_for_large_ones() -> None:
    """An exact count of 1,000 near misses would change with the CPU's rounding: not printed."""
    expected = torch.zeros(1000)
    partly = expected.clone()
    partly[:10] = 1.0
    with pytest.raises(ExerciseError, match=r"^big: some of the 1000 values differ"):
        helpers.check_close(partly, expected, name="big")
    with pytest.raises(ExerciseError, match=r"^big: 1000 of 1000 values differ"):
        helpers.check_close(expected + 1, expected, name="big")
    with pytest.raises(ExerciseError, match=r"^small: 3 of 64 values differ"):
        helpers.check_close(torch.cat([torch.ones(3), torch.zeros(61)]), torch.zeros(64), name="small")


def test_check_value_accepts_equivalent_forms_of_a_right_answer(capsys: pytest.CaptureFixture[str]) -> None:
    helpers.check_value(np.int64(6), 6)
    helpers.check_value(torch.tensor(6.0), 6.0)
    helpers.check_value(torch.Size([2, 3]), (2, 3))
    assert capsys.readouterr().out.count("✔ correct") == 3
    with pytest.raises(ExerciseError, match="expected a tuple, got list"):
        helpers.check_value([2, 3], torch.Size([2, 3]))
    with pytest.raises(ExerciseError, match=r"^x: the answer is nan"):
        helpers.check_value(float("nan"), 1.0, name="x")
    with pytest.raises(ExerciseError, match="expected a number, got Tensor"):
        helpers.check_value(torch.tensor([1.0, 2.0]), 1.0)


def test_check_hashed_accepts_equivalent_forms_of_a_right_answer() -> None:
    stored = helpers.digest(2)
    for answer in (2, 2.0, np.int64(2), np.float32(2.0), torch.tensor(2)):
        helpers.check_hashed(answer, stored)
    grad = (torch.tensor([1.0, 2.0]),)  # torch.autograd.grad returns a tuple
    helpers.check_hashed(grad, helpers.digest(torch.tensor([1.0, 2.0])))
    with pytest.raises(ExerciseError, match="is not the expected answer"):
        helpers.check_hashed(2.5, stored)


def test_digest_keeps_the_dtype_of_tensor_values() -> None:
    assert helpers.digest(torch.tensor([1.0, 0.0])) != helpers.digest(torch.tensor([1, 0]))
    assert helpers.digest(np.array([1.0, 0.0])) == helpers.digest(torch.tensor([1.0, 0.0]))


@pytest.mark.parametrize(
    "check",
    [
        lambda: helpers.check_value(..., 3, name="n", hint="the answer is 3"),
        lambda: helpers.check_close(..., torch.zeros(2), name="n", hint="the answer is zeros"),
        lambda: helpers.check_hashed(..., helpers.digest(3), name="n", hint="the answer is 3"),
    ],
)
def test_a_placeholder_is_not_answered_yet_and_gets_no_hint(check) -> None:
    with pytest.raises(ExerciseError) as err:
        check()
    assert str(err.value) == "n: not answered yet.\nReplace the ... with your answer and run the cell."


def test_long_messages_wrap_and_the_hint_starts_its_own_line() -> None:
    hint = "a long hint " * 20
    with pytest.raises(ExerciseError) as err:
        helpers.check_that(False, name="cond", hint=hint.strip())
    lines = str(err.value).splitlines()
    assert len(lines) > 2 and len("ExerciseError: " + lines[0]) <= 66
    assert all(len(line) <= 66 for line in lines)
    with pytest.raises(ExerciseError) as err:
        helpers.check_value(1, 2, name="n", hint=hint.strip())
    lines = str(err.value).splitlines()
    assert lines[0] == "n: 1 is too small." and lines[1].startswith("Hint: a long hint")
    assert all(len(line) <= 66 for line in lines) and all(x.startswith("  ") for x in lines[2:])


def test_in_ipython_the_traceback_ends_at_the_learners_line() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    try:
        with capture_output() as out:
            shell.run_cell("import helpers\nanswer = 1\nhelpers.check_value(answer, 2, hint='more')")
    finally:
        InteractiveShell.clear_instance()
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)  # no terminal colours
    assert "helpers.check_value(answer, 2" in text and "ExerciseError" in text
    assert "Hint: more" in text
    assert "check.py" not in text and str(helpers.check.HERE) not in text
