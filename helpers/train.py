"""A small CNN and a plain training loop, for chapters where training is not the lesson.

The loop itself is taught step by step in the chapter "Training recipes" (R32).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.utils.data import DataLoader


def small_cnn(in_channels: int = 1, num_classes: int = 10, width: int = 16) -> nn.Sequential:
    """Return a two-block CNN whose parts are named `features` and `head` (any input size >= 4 px)."""
    features = nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1),  # (N, width, H, W)
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, width, H/2, W/2)
        nn.Conv2d(width, 2 * width, 3, padding=1),  # (N, 2*width, H/2, W/2)
        nn.BatchNorm2d(2 * width),
        nn.ReLU(),
    )
    head = nn.Sequential(
        nn.AdaptiveAvgPool2d(1),  # (N, 2*width, 1, 1)
        nn.Flatten(),  # (N, 2*width)
        nn.Linear(2 * width, num_classes),  # (N, num_classes) logits
    )
    return nn.Sequential(OrderedDict(features=features, head=head))


@torch.no_grad()
def accuracy(model: nn.Module, loader: DataLoader, device: torch.device | str = "cpu") -> float:
    """Return the fraction of correctly classified samples in `loader` (model put in eval mode)."""
    model.eval()
    correct = total = 0
    for x, y in loader:
        logits = model(x.to(device))
        correct += int((logits.argmax(1) == y.to(device)).sum())
        total += len(y)
    return correct / total


def fit(
    model: nn.Module,
    loader: DataLoader,
    epochs: int,
    lr: float = 1e-2,
    device: torch.device | str = "cpu",
) -> list[float]:
    """Train with Adam and cross-entropy for `epochs`; return the mean training loss of each epoch."""
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for _ in range(epochs):
        model.train()
        total, count = 0.0, 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
        history.append(total / count)
    return history
