"""Device choice, environment report, guards and seeding."""

import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import helpers


def test_pick_device_follows_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert helpers.pick_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert helpers.pick_device() == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert helpers.pick_device() == torch.device("cpu")


def test_env_report_names_versions_and_gpus() -> None:
    report = helpers.env_report()
    assert f"torch       : {torch.__version__}" in report
    if torch.cuda.is_available():
        assert torch.cuda.get_device_name(0) in report
    else:
        assert "no GPU" in report
    assert report.splitlines()[-1] == f"device used : {helpers.pick_device()}"


def test_needs_gpu_prints_one_line_when_skipping(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert helpers.needs_gpu("show the GPU") is False
    assert capsys.readouterr().out == "[skipped: needs a CUDA GPU, found 0] show the GPU\n"


def test_needs_gpu_counts_devices(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert helpers.needs_gpu("one GPU") is True
    assert capsys.readouterr().out == ""
    assert helpers.needs_gpu("peer copy", count=2) is False
    assert capsys.readouterr().out == "[skipped: needs 2 CUDA GPUs, found 1] peer copy\n"


def test_needs_network_is_off_unless_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BOOK_ONLINE", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert helpers.needs_network("download weights") is False
    assert "[skipped: needs the network" in capsys.readouterr().out
    monkeypatch.setenv("BOOK_ONLINE", "1")
    assert helpers.needs_network("download weights") is True


def test_seed_everything_repeats_all_three_generators() -> None:
    def draw() -> tuple[float, float, float]:
        return random.random(), float(np.random.rand()), torch.rand(1).item()

    helpers.seed_everything(3)
    first = draw()
    helpers.seed_everything(3)
    assert draw() == first
    helpers.seed_everything(4)
    assert draw() != first


def test_seed_everything_deterministic_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    try:
        helpers.seed_everything(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"  # CUDA not started yet
    finally:
        helpers.seed_everything(0)
    assert not torch.are_deterministic_algorithms_enabled()


def test_seed_everything_warns_when_cuda_has_started(monkeypatch: pytest.MonkeyPatch) -> None:
    """cuBLAS reads CUBLAS_WORKSPACE_CONFIG when CUDA starts: later it must not pretend."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    try:
        with pytest.warns(RuntimeWarning, match="CUDA has started.*before the program starts"):
            helpers.seed_everything(0, deterministic=True)
        assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    finally:
        helpers.seed_everything(0)


def test_seed_everything_keeps_a_workspace_set_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")  # the other documented value
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    try:
        helpers.seed_everything(0, deterministic=True)  # no warning: it was set in time
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    finally:
        helpers.seed_everything(0)


def test_seed_everything_leaves_cudnn_benchmark_off_unless_asked() -> None:
    try:
        helpers.seed_everything(0)
        assert not torch.backends.cudnn.benchmark  # PyTorch's default
        helpers.seed_everything(0, benchmark=True)
        assert torch.backends.cudnn.benchmark
    finally:
        helpers.seed_everything(0)
    assert not torch.backends.cudnn.benchmark


def test_seed_everything_refuses_deterministic_benchmark() -> None:
    with pytest.raises(ValueError, match="cannot be deterministic"):
        helpers.seed_everything(0, deterministic=True, benchmark=True)


def test_pythonhashseed_only_works_at_start_up() -> None:
    """The caveat in seed_everything's docstring, checked for real in child processes."""

    def child(seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        cmd = [sys.executable, "-c", "print(hash('x'))"]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout

    assert child("1") == child("1") != child("2")


def test_guards_on_a_cpu_only_build(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """A CPU-only wheel (every macOS wheel) has no CUDA version, and CUDA calls raise AssertionError."""

    def not_compiled(*args: object, **kwargs: object) -> None:
        raise AssertionError("Torch not compiled with CUDA enabled")

    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.cuda, "_lazy_init", not_compiled)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: False)
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        torch.cuda.get_device_name(0)  # what 01_setup's guarded cell catches
    report = helpers.env_report()
    assert "none (CPU-only build)" in report and "cuDNN       : not available" in report
    assert helpers.needs_gpu("anything") is False
    assert "[skipped: needs a CUDA GPU, found 0] anything" in capsys.readouterr().out
    assert helpers.pick_device().type in ("cpu", "mps")
