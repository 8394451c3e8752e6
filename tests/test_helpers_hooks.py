"""The forward-hook recorder: the same tensors as running the layers by hand, and no hooks left over."""

import pytest
import torch
from torch import nn

from helpers import hooks, train


def hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def test_records_what_the_layers_compute() -> None:
    torch.manual_seed(0)
    model = train.small_cnn(in_channels=3, num_classes=3).eval()
    x = torch.rand(2, 3, 12, 12)
    with hooks.record_outputs(model, ["features.2", "features", "head.2"]) as maps:
        logits = model(x)
    torch.testing.assert_close(maps["features.2"], model.features[:3](x))  # (2, 16, 12, 12)
    torch.testing.assert_close(maps["features"], model.features(x))  # (2, 32, 6, 6)
    torch.testing.assert_close(maps["head.2"], logits)
    assert not maps["head.2"].requires_grad  # detached: no graph kept alive


def test_hooks_are_removed_after_the_block_and_after_an_error() -> None:
    model = train.small_cnn()
    with hooks.record_outputs(model, ["features.0"]):
        assert hook_count(model) == 1
    assert hook_count(model) == 0
    with pytest.raises(RuntimeError, match="boom"):
        with hooks.record_outputs(model, ["features.0", "head"]):
            raise RuntimeError("boom")
    assert hook_count(model) == 0


def test_the_latest_forward_pass_wins_and_nothing_is_recorded_outside() -> None:
    model = nn.Sequential(nn.Linear(2, 2))
    with hooks.record_outputs(model, ["0"]) as maps:
        model(torch.zeros(1, 2))
        second = model(torch.ones(1, 2))
    model(torch.full((1, 2), 5.0))  # after the block: not recorded
    torch.testing.assert_close(maps["0"], second.detach())


def test_unknown_or_missing_names_explain_themselves() -> None:
    model = train.small_cnn()
    with pytest.raises(ValueError, match=r"no submodule named 'features\.9'; names look like: features, "):
        with hooks.record_outputs(model, ["features.9"]):
            pass
    with pytest.raises(ValueError, match="non-empty list"):
        with hooks.record_outputs(model, "features.0"):
            pass
    assert hook_count(model) == 0


def test_a_module_that_returns_a_tuple_is_refused() -> None:
    model = nn.Sequential()
    model.add_module("lstm", nn.LSTM(2, 3, batch_first=True))
    with pytest.raises(TypeError, match="lstm returned tuple, not a tensor"):
        with hooks.record_outputs(model, ["lstm"]):
            model(torch.zeros(1, 4, 2))
    assert hook_count(model) == 0
