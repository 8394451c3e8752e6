"""Read a checkpoint and explain, in one message, why it does not fit a model.

Taught in the chapter "Checkpoints across devices, fine-tuning and freezing" (R46), which shows
the same steps by hand: `torch.load(..., map_location="cpu", weights_only=True)`, then
`model.load_state_dict(...)` and its missing/unexpected keys.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

WRAPPER_PREFIXES = ("module.", "_orig_mod.")  # DataParallel/DDP, torch.compile


class CheckpointError(RuntimeError):
    """Raised by `read_state_dict` and `load_weights`; the message says what is wrong."""


def _names(keys: list[str], limit: int = 3) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def read_state_dict(source: str | os.PathLike | Mapping, key: str | None = None) -> dict:
    """Return the state dict in `source` (a path or a dict), on the CPU, loaded with weights_only.

    `key` picks the state dict out of a training checkpoint, e.g. `key="model"`.
    """
    obj: Any = source
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise CheckpointError(f"{path}: no such file.")
        with open(path, "rb") as f:
            head = f.read(4)
        if not head:
            raise CheckpointError(f"{path}: the file is empty (an interrupted save?).")
        if not (head.startswith(b"PK") or head.startswith(b"\x80")):
            raise CheckpointError(
                f"{path}: not a PyTorch checkpoint (it starts with {head!r}; "
                "torch.save writes a zip archive starting with b'PK')."
            )
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
            what = f"the global {found.group(1)}" if found else "a pickled Python object"
            raise CheckpointError(
                f"{path}: refused by weights_only=True: it needs {what}, not just tensors. "
                "Load it with weights_only=False only if you trust the file."
            ) from err
        except Exception as err:  # truncated archives raise RuntimeError, OSError, EOFError...
            first = (str(err).splitlines() or [type(err).__name__])[0][:100]
            raise CheckpointError(
                f"{path}: truncated or corrupt checkpoint ({type(err).__name__}: {first})."
            ) from err
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"expected a state dict, got {type(obj).__name__}.")
    if key is not None:
        if key not in obj:
            raise CheckpointError(f"no key {key!r}; the checkpoint has keys {list(obj)}.")
        obj = obj[key]
        if not isinstance(obj, Mapping):
            raise CheckpointError(f"checkpoint[{key!r}] is a {type(obj).__name__}, not a dict.")
    others = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if others:
        raise CheckpointError(
            f"not a state dict: the values of {_names([str(k) for k in others])} are not "
            f"tensors. A training checkpoint? Pass key= one of {list(obj)}."
        )
    return dict(obj)


def explain_mismatch(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> str:
    """Return "" when `state_dict` fits `model` exactly, else one message naming every problem."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [
        f"{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state_dict and state_dict[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing ({_names(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected ({_names(unexpected)})")
    if shapes:
        problems.append(f"{len(shapes)} wrong shape, checkpoint vs model ({_names(shapes)})")
    if not problems:
        return ""
    message = f"checkpoint does not fit {type(model).__name__}: " + "; ".join(problems) + "."
    for prefix in WRAPPER_PREFIXES:
        if unexpected and all(k.startswith(prefix) for k in unexpected):
            message += (
                f" Hint: the checkpoint's keys start with {prefix!r} (saved from a wrapped model);"
                f" strip it with consume_prefix_in_state_dict_if_present(sd, {prefix!r})."
            )
        elif missing and all(k.startswith(prefix) for k in missing):
            message += f" Hint: the model is wrapped; load into model.{prefix.rstrip('.')}."
    return message


def load_weights(model: nn.Module, source: str | os.PathLike | Mapping, key: str | None = None) -> nn.Module:
    """Load `source` into `model` strictly, or raise `CheckpointError` with one clear message."""
    state_dict = read_state_dict(source, key=key)
    problem = explain_mismatch(model, state_dict)
    if problem:
        raise CheckpointError(problem)
    model.load_state_dict(state_dict)
    return model
