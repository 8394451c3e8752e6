"""The worker data sets load under every start method, which is why they live in a module."""

from __future__ import annotations

import functools
import multiprocessing

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

import helpers
from helpers import workers


def test_worker_data_sets_load_in_spawned_workers() -> None:
    """The point of the module (slow: each spawned worker imports torch; the rest use fork)."""
    loader = DataLoader(workers.WhoLoadsMe(), batch_size=3, num_workers=2, multiprocessing_context="spawn")
    assert [b.tolist() for b in loader] == [[0, 0, 0], [1, 1, 1], [0, 0, 0], [1, 1, 1]]


def test_seed_worker_gives_each_worker_and_epoch_its_own_draws() -> None:
    def run(seed: int) -> list[list[int]]:
        generator = torch.Generator().manual_seed(seed)
        loader = DataLoader(
            workers.RandomShift(),
            batch_size=2,
            num_workers=2,
            worker_init_fn=workers.seed_worker,
            generator=generator,
        )
        return [b.tolist() for _ in range(2) for b in loader]

    first = run(0)
    assert len({tuple(b) for b in first}) == len(first)  # no batch repeats across workers or epochs
    assert first == run(0)
    without = DataLoader(workers.RandomShift(), batch_size=2, num_workers=2)
    batches = [b.tolist() for b in without]
    assert batches[0] == batches[1]  # the bug seed_worker fixes: copies of one generator


def test_seed_worker_outside_a_worker_says_where_it_belongs() -> None:
    with pytest.raises(RuntimeError, match="worker_init_fn=seed_worker"):
        workers.seed_worker(0)


def test_numpy_noise_and_thread_count_in_a_worker() -> None:
    draws = torch.cat(list(DataLoader(workers.NumpyNoise(), batch_size=4, num_workers=2))).tolist()
    assert len(set(draws)) == 8
    counts = next(iter(DataLoader(workers.ThreadCount(), batch_size=2, num_workers=1))).tolist()
    assert counts == [1, 1]


def test_stuck_read_times_out_in_a_worker() -> None:
    got = []
    with pytest.raises(RuntimeError, match="timed out"):
        for batch in DataLoader(workers.StuckRead(), batch_size=1, num_workers=1, timeout=0.5):
            got.append(batch.item())
    assert got == [0, 1]


def test_photo_crops(tmp_path) -> None:
    path = tmp_path / "photo.jpg"
    Image.fromarray(np.full((120, 160, 3), 128, dtype=np.uint8)).save(path)
    crops = workers.PhotoCrops(str(path), n=3)
    assert len(crops) == 3 and crops[0].shape == (3, 96, 96) and crops[0].dtype == torch.float32
    with pytest.raises(ValueError, match="n >= 1"):
        workers.PhotoCrops(str(path), n=0)


def test_show_source_returns_the_code_of_a_class() -> None:
    code = helpers.workers.show_source(workers.WhoLoadsMe)
    assert code.data.startswith("class WhoLoadsMe(Dataset):")
    with pytest.raises(TypeError):
        workers.show_source(42)


def test_number_stream_repeats_in_every_worker_and_the_sharded_one_does_not() -> None:
    plain = [b.tolist() for b in DataLoader(workers.NumberStream(6), batch_size=3, num_workers=2)]
    assert plain == [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]]  # each worker reads it all
    sharded = [b.tolist() for b in DataLoader(workers.ShardedNumberStream(6), batch_size=3, num_workers=2)]
    assert sharded == [[0, 2, 4], [1, 3, 5]]
    assert list(workers.ShardedNumberStream(4)) == [0, 1, 2, 3]  # no workers: the whole stream


def test_count_start_runs_once_per_worker_start() -> None:
    for persistent, expected in ((False, [1, 2]), (True, [1, 1])):
        starts = multiprocessing.Value("i", 0)
        loader = DataLoader(
            workers.WhoLoadsMe(),
            batch_size=6,
            num_workers=1,
            persistent_workers=persistent,
            worker_init_fn=functools.partial(workers.count_start, starts),
        )
        counts = []
        for _ in range(2):
            list(loader)
            counts.append(starts.value)
        assert counts == expected


def test_csv_rows_shards_the_lines_between_workers(tmp_path) -> None:
    path = tmp_path / "rows.csv"
    lines = ["a,b,label"] + [f"{i},{i / 2},{i % 3}" for i in range(7)]
    path.write_text("\n".join(lines) + "\n")
    whole = list(workers.CsvRows(path))  # no workers: every row, in order
    assert [y for _, y in whole] == [i % 3 for i in range(7)]
    torch.testing.assert_close(whole[3][0], torch.tensor([3.0, 1.5]))
    loader = DataLoader(workers.CsvRows(str(path)), batch_size=2, num_workers=2)
    firsts = [x[:, 0].tolist() for x, _ in loader]
    assert firsts == [[0, 2], [1, 3], [4, 6], [5]]  # worker 0: even rows, worker 1: odd


def test_csv_rows_without_a_file_fails_in_the_main_process(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="CsvRows: no CSV file at .*missing.csv"):
        workers.CsvRows(tmp_path / "missing.csv")
