"""Devices, the environment report and the guards used by GPU-only and network-only cells.

Taught in the chapter "Setup, devices and reproducibility" (R01, R03).
"""

from __future__ import annotations

import os
import platform
import sys

import torch


def pick_device() -> torch.device:
    """Return the best available device: CUDA GPU, then Apple MPS, then CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def env_report() -> str:
    """Return a few lines with the Python, torch, CUDA and cuDNN versions and the GPU names."""
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    lines = [
        f"python      : {platform.python_version()}",
        f"torch       : {torch.__version__}",
        f"CUDA (build): {torch.version.cuda or 'none (CPU-only build)'}",
        f"cuDNN       : {cudnn if cudnn is not None else 'not available'}",
    ]
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        lines.append(f"GPUs        : {len(names)} -> " + ", ".join(names))
    else:
        lines.append("GPUs        : no GPU (torch.cuda.is_available() is False)")
    lines.append(f"device used : {pick_device()}")
    return "\n".join(lines)


def needs_gpu(what: str, count: int = 1) -> bool:
    """Return True when `count` CUDA GPUs are present; otherwise print one line saying `what` was skipped.

    Example::

        if helpers.needs_gpu("copy a tensor from cuda:0 to cuda:1", count=2):
            ...  # runs for real on a machine with two GPUs
    """
    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if found >= count:
        return True
    need = "a CUDA GPU" if count == 1 else f"{count} CUDA GPUs"
    print(f"[skipped: needs {need}, found {found}] {what}")
    return False


def needs_network(what: str) -> bool:
    """Return True in Colab or when BOOK_ONLINE=1; otherwise print one line saying `what` was skipped.

    The book never touches the network while it is tested: cells that download weights or data
    are guarded by this function and run only where a reader asked for it.
    """
    if "google.colab" in sys.modules or os.environ.get("BOOK_ONLINE") == "1":
        return True
    print(f"[skipped: needs the network (offline; set BOOK_ONLINE=1 to allow)] {what}")
    return False
