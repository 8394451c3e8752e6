"""Offline data for the book: scikit-learn's digits and a procedural "shapes" image set.

Nothing here downloads anything. Taught in the chapter "Datasets, transforms, DataLoader and
samplers" (R17); used by the training, visualisation and checkpoint chapters.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

SHAPE_CLASSES = ("circle", "square", "triangle")


class Shapes(NamedTuple):
    """A batch of procedural images: images (N, 3, H, W) in [0, 1], labels (N,), masks (N, H, W)."""

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor


def load_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """Return scikit-learn's 1,797 handwritten digits as images (N, 1, 8, 8) in [0, 1] and labels (N,)."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
    y = torch.tensor(bunch.target, dtype=torch.int64)  # (N,)
    return x, y


def make_shapes(n: int, size: int = 32, seed: int = 0, noise: float = 0.15) -> Shapes:
    """Draw `n` coloured circles, squares and triangles on noisy backgrounds (seeded, any size).

    The label is the index into `SHAPE_CLASSES`; the mask marks the shape's pixels, so a chapter
    can measure whether a model (or a saliency map) looks at the object.
    """
    if n < 1 or size < 8:
        raise ValueError(f"need n >= 1 and size >= 8, got n={n}, size={size}")
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    labels = torch.randint(0, len(SHAPE_CLASSES), (n,), generator=g)
    images = torch.empty(n, 3, size, size)
    masks = torch.empty(n, size, size, dtype=torch.bool)
    for i in range(n):
        r = size * (0.18 + 0.12 * torch.rand((), generator=g).item())  # half-width of the shape
        cx, cy = (r + (size - 2 * r) * torch.rand(2, generator=g)).tolist()
        kind = SHAPE_CLASSES[int(labels[i])]
        if kind == "circle":
            mask = (xs - cx) ** 2 + (ys - cy) ** 2 <= r**2
        elif kind == "square":
            mask = ((xs - cx).abs() <= r * 0.85) & ((ys - cy).abs() <= r * 0.85)
        else:  # upright triangle: inside when below the two slanted edges and above the base
            top, base = cy - r, cy + r * 0.8
            half = (ys - top) / (base - top) * r * math.sqrt(3) / 1.5
            mask = (ys >= top) & (ys <= base) & ((xs - cx).abs() <= half)
        background = 0.5 * torch.rand(3, 1, 1, generator=g)
        colour = 0.5 + 0.5 * torch.rand(3, 1, 1, generator=g)
        img = background + noise * torch.randn(3, size, size, generator=g)
        img = torch.where(mask, colour, img)
        images[i] = img.clamp(0, 1)
        masks[i] = mask
    return Shapes(images, labels, masks)
