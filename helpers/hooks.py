"""Record what the layers of a model output, with forward hooks.

Taught in the chapter "Looking inside models" (R58), which writes the raw hook by hand first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def record_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Inside the `with` block, keep the detached output of each named submodule of `model`.

    Every forward pass overwrites the previous one, and the hooks are removed when the block
    ends (even on an error), so nothing stays attached to the model.

    Example::

        with hooks.record_outputs(model, ["features.relu1", "features.relu2"]) as maps:
            model(x)
        maps["features.relu1"].shape  # e.g. (N, 16, 32, 32)
    """
    if isinstance(names, str) or not names:
        raise ValueError("names must be a non-empty list of submodule names, e.g. ['features.0']")
    modules = dict(model.named_modules())
    for name in names:
        if name not in modules:
            known = ", ".join(list(modules)[1:6])
            raise ValueError(f"model has no submodule named {name!r}; names look like: {known}, ...")
    outputs: dict[str, torch.Tensor] = {}

    def save(name: str) -> Callable[[nn.Module, tuple[object, ...], object], None]:
        def hook(module: nn.Module, inputs: tuple[object, ...], output: object) -> None:
            if not isinstance(output, torch.Tensor):
                kind = type(output).__name__
                raise TypeError(f"{name} returned {kind}, not a tensor; record one of its parts")
            outputs[name] = output.detach()

        return hook

    handles = [modules[name].register_forward_hook(save(name)) for name in names]
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()
