"""One seeding routine for every chapter.

Taught in the chapter "Setup, devices and reproducibility" (R02).
"""

from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch

CUBLAS_WORKSPACE = ":4096:8"  # the setting PyTorch's docs give for deterministic cuBLAS


def seed_everything(seed: int, deterministic: bool = False, benchmark: bool = False) -> None:
    """Seed Python's `random`, NumPy and torch (CPU and every GPU).

    With `deterministic=True` it also asks cuDNN and PyTorch for deterministic algorithms
    (slower; ops with no deterministic version then raise instead of silently varying).
    cuDNN's benchmark mode stays as PyTorch leaves it (off) unless `benchmark=True` asks for it:
    it picks the fastest convolution algorithm per shape, which may differ from run to run.

    What it cannot do: change settings read once, when a process starts. PYTHONHASHSEED is
    read when Python starts, CUBLAS_WORKSPACE_CONFIG when CUDA starts. Set both in the shell
    (`CUBLAS_WORKSPACE_CONFIG=:4096:8 python train.py`). With `deterministic=True` and the
    variable unset, this sets it if CUDA has not started yet, and warns if it has.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and all CUDA devices
    if deterministic and benchmark:
        raise ValueError("benchmark=True picks algorithms by timing; it cannot be deterministic")
    torch.backends.cudnn.benchmark = benchmark
    torch.backends.cudnn.deterministic = deterministic
    if deterministic and "CUBLAS_WORKSPACE_CONFIG" not in os.environ:
        if torch.cuda.is_initialized():
            warnings.warn(
                "CUDA has started, so setting CUBLAS_WORKSPACE_CONFIG now is too late: set "
                f"CUBLAS_WORKSPACE_CONFIG={CUBLAS_WORKSPACE} before the program starts",
                RuntimeWarning,
                stacklevel=2,
            )
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE
    torch.use_deterministic_algorithms(deterministic, warn_only=False)
