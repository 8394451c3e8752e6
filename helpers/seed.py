"""One seeding routine for every chapter.

Taught in the chapter "Setup, devices and reproducibility" (R02).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = False, benchmark: bool = False) -> None:
    """Seed Python's `random`, NumPy and torch (CPU and every GPU).

    With `deterministic=True` it also asks cuDNN and PyTorch for deterministic algorithms
    (slower; ops with no deterministic version then raise instead of silently varying).
    cuDNN's benchmark mode stays as PyTorch leaves it (off) unless `benchmark=True` asks for it:
    it picks the fastest convolution algorithm per shape, which may differ from run to run.

    What it cannot do: change the string hashing of the running interpreter. That is fixed by
    PYTHONHASHSEED when Python *starts*, so set it in the shell (or the launcher), not here.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and all CUDA devices
    if deterministic and benchmark:
        raise ValueError("benchmark=True picks algorithms by timing; it cannot be deterministic")
    torch.backends.cudnn.benchmark = benchmark
    torch.backends.cudnn.deterministic = deterministic
    if deterministic:
        # cuBLAS needs a fixed workspace to be deterministic on CUDA >= 10.2.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(deterministic, warn_only=False)
