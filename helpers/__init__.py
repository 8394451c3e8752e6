"""Small helpers shared by the chapters of *PyTorch in Practice*.

Each module is short enough to read in a minute; the chapter that teaches its idea is named in
the docstring of every function.
"""

from helpers import checkpoint, data, hooks, plot, train, workers
from helpers.check import (
    ExerciseError,
    check_close,
    check_hashed,
    check_that,
    check_value,
    digest,
    error_line,
    show_error,
)
from helpers.device import env_report, needs_gpu, needs_network, pick_device
from helpers.seed import seed_everything

__all__ = [
    "ExerciseError",
    "checkpoint",
    "data",
    "hooks",
    "plot",
    "train",
    "workers",
    "check_close",
    "check_hashed",
    "check_that",
    "check_value",
    "digest",
    "env_report",
    "error_line",
    "needs_gpu",
    "needs_network",
    "pick_device",
    "seed_everything",
    "show_error",
]
