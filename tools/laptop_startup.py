"""IPython start-up file for `make nbval-laptop`: the book's kernel behaves like a reader's laptop.

- Worker processes start by `spawn`, the default on macOS and Windows (`forkserver`, the Linux
  default from Python 3.14, imports the data set classes the same way), so a `Dataset` defined
  in a notebook fails here as it would there.
- torch behaves like a CPU-only build (every macOS wheel, the CPU wheels): no CUDA version,
  no cuDNN, and CUDA calls raise `AssertionError: Torch not compiled with CUDA enabled`.
"""

import multiprocessing

import torch
import torch.backends.cudnn

multiprocessing.set_start_method("spawn", force=True)


def _not_compiled(*args, **kwargs):
    raise AssertionError("Torch not compiled with CUDA enabled")


torch.version.cuda = None
torch.cuda._lazy_init = _not_compiled
torch.cuda.is_available = lambda: False
torch.cuda.device_count = lambda: 0
torch.backends.cudnn.is_available = lambda: False
torch.backends.cudnn.version = lambda: None
