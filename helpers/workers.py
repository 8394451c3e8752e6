"""Data sets and functions that DataLoader workers run (chapters 1 and 4: R02, R18).

They live in a module, not in the notebooks, because of how workers start. Under
`fork` (Linux up to Python 3.13) a worker is a copy of the notebook's process and sees
its classes. Under `spawn` (macOS, Windows) and `forkserver` (Linux from Python 3.14) a
worker is a fresh Python that *imports* each class by name; a class defined in a
notebook lives in `__main__`, which the fresh process cannot import, so the worker fails with
`AttributeError: Can't get attribute '...' on <module '__main__'>`. The chapters print
the source of each class, so the lesson stays on the page.
"""

from __future__ import annotations

import csv
import inspect
import itertools
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized


def show_source(obj: object) -> object:
    """Return the highlighted source of a class or function, for a notebook to display.

    Example::

        helpers.workers.show_source(helpers.workers.WhoLoadsMe)  # last line of a cell
    """
    from IPython.display import Code

    return Code(inspect.getsource(obj).rstrip(), language="python")


class NumpyNoise(Dataset):
    """Eight items, each a fresh draw from NumPy's global generator (like a random augmentation)."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> int:
        return int(np.random.randint(0, 1_000_000))


class WhoLoadsMe(Dataset):
    """Each sample is the id of the worker that produced it (-1: the main process)."""

    def __len__(self) -> int:
        return 12

    def __getitem__(self, index: int) -> int:
        info = torch.utils.data.get_worker_info()
        return -1 if info is None else info.id


class RandomShift(Dataset):
    """A stand-in augmentation: a random shift from the data set's own generator."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> int:
        return int(self.rng.integers(0, 1000))


def seed_worker(worker_id: int) -> None:
    """Give this worker's copy of the data set a generator seeded per worker."""
    info = torch.utils.data.get_worker_info()
    if info is None:
        raise RuntimeError(
            "seed_worker runs inside a DataLoader worker (worker_init_fn=seed_worker)",
        )
    # info.seed differs per worker and per epoch
    info.dataset.rng = np.random.default_rng(info.seed)


class StuckRead(Dataset):
    """Item 2 takes 1.5 s to read, as if a network file system hung."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> int:
        time.sleep(1.5 if index == 2 else 0.0)
        return index


class ThreadCount(Dataset):
    """Each sample is the number of threads torch uses where the sample is loaded."""

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> int:
        return torch.get_num_threads()


class PhotoCrops(Dataset):
    """`n` random 96 x 96 crops of one JPEG, decoded from disk for every sample."""

    def __init__(self, path: str, n: int) -> None:
        from torchvision.transforms import v2

        if n < 1:
            raise ValueError(f"need n >= 1 crops, got {n}")
        self.path, self.n = path, n
        self.transform = v2.Compose(
            [
                v2.ToImage(),
                v2.RandomResizedCrop(96, antialias=True),
                v2.RandomHorizontalFlip(),
                v2.ToDtype(torch.float32, scale=True),
            ]
        )

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> torch.Tensor:
        from PIL import Image

        with Image.open(self.path) as img:
            return self.transform(img.convert("RGB"))  # (3, 96, 96)


class NumberStream(IterableDataset):
    """The numbers 0..n-1, read in order like the lines of a log file (no sharding)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.n))


class ShardedNumberStream(NumberStream):
    """The same stream split between workers: worker k of K yields k, k+K, k+2K, ..."""

    def __iter__(self) -> Iterator[int]:
        info = torch.utils.data.get_worker_info()
        if info is None:  # no workers: the main process reads the whole stream
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class CsvRows(IterableDataset):
    """Rows of a CSV file as (features, label); worker k of K reads rows k, k+K, ..."""

    def __init__(self, path: str | os.PathLike) -> None:
        if not os.path.isfile(path):  # fail here, not later in every worker
            raise FileNotFoundError(f"CsvRows: no CSV file at {path}")
        self.path = path

    def __iter__(self) -> Iterator[tuple[torch.Tensor, int]]:
        info = torch.utils.data.get_worker_info()
        k, n_workers = (0, 1) if info is None else (info.id, info.num_workers)
        with open(self.path, newline="") as f:
            rows = csv.reader(f)
            next(rows)  # the header
            for *features, label in itertools.islice(rows, k, None, n_workers):
                yield torch.tensor([float(v) for v in features]), int(label)


def count_start(counter: Synchronized, worker_id: int) -> None:
    """A worker_init_fn counting worker starts in a shared `multiprocessing.Value`."""
    with counter.get_lock():
        counter.value += 1
