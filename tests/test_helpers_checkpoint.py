"""helpers.checkpoint: one clear message for every way a checkpoint can fail to load."""

from pathlib import Path

import pytest
import torch
from torch import nn

from helpers import checkpoint
from helpers.checkpoint import CheckpointError
from helpers.train import small_cnn


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    path = tmp_path / "model.pt"
    torch.save(small_cnn(num_classes=5).state_dict(), path)
    return path


def test_load_weights_copies_every_tensor(saved: Path) -> None:
    model = checkpoint.load_weights(small_cnn(num_classes=5), saved)
    expected = torch.load(saved, weights_only=True)
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, expected[name], rtol=0, atol=0)


def test_explain_mismatch_agrees_with_load_state_dict(saved: Path) -> None:
    state = torch.load(saved, weights_only=True)
    state["extra.weight"] = torch.zeros(1)
    del state["head.2.bias"]
    model = small_cnn(num_classes=5)
    message = checkpoint.explain_mismatch(model, state)
    result = model.load_state_dict(state, strict=False)  # PyTorch's own verdict
    assert result.missing_keys == ["head.2.bias"] and result.unexpected_keys == ["extra.weight"]
    assert message == (
        "checkpoint does not fit Sequential: 1 missing (head.2.bias); 1 unexpected (extra.weight)."
    )
    assert checkpoint.explain_mismatch(model, model.state_dict()) == ""


def test_wrong_architecture_names_the_shapes(saved: Path) -> None:
    with pytest.raises(CheckpointError) as info:
        checkpoint.load_weights(small_cnn(num_classes=10), saved)
    assert str(info.value) == (
        "checkpoint does not fit Sequential: 2 wrong shape, checkpoint vs model "
        "(head.2.weight (5, 32) vs (10, 32), head.2.bias (5,) vs (10,))."
    )
    with pytest.raises(RuntimeError, match="size mismatch"):  # PyTorch agrees, less readably
        small_cnn(num_classes=10).load_state_dict(torch.load(saved, weights_only=True))


def test_long_lists_are_shortened(saved: Path) -> None:
    message = checkpoint.explain_mismatch(small_cnn(width=8, num_classes=5), torch.load(saved))
    assert message.startswith("checkpoint does not fit Sequential: 13 wrong shape")
    assert message.endswith("and 10 more).")


def test_module_prefix_gets_a_hint(saved: Path) -> None:
    wrapped = nn.DataParallel(small_cnn(num_classes=5))  # runs on the CPU too
    with pytest.raises(CheckpointError, match=r"load into model\.module\.$"):
        checkpoint.load_weights(wrapped, saved)
    with pytest.raises(CheckpointError, match="consume_prefix_in_state_dict_if_present"):
        checkpoint.load_weights(small_cnn(num_classes=5), wrapped.state_dict())


def test_training_checkpoint_needs_a_key(saved: Path, tmp_path: Path) -> None:
    path = tmp_path / "train.pt"
    torch.save({"epoch": 3, "model": torch.load(saved)}, path)
    with pytest.raises(CheckpointError) as info:
        checkpoint.read_state_dict(path)
    assert str(info.value) == (
        "not a state dict: the values of epoch, model are not tensors. "
        "A training checkpoint? Pass key= one of ['epoch', 'model']."
    )
    checkpoint.load_weights(small_cnn(num_classes=5), path, key="model")
    with pytest.raises(CheckpointError, match=r"no key 'state'; the checkpoint has keys"):
        checkpoint.read_state_dict(path, key="state")
    with pytest.raises(CheckpointError, match=r"checkpoint\['epoch'\] is a int, not a dict"):
        checkpoint.read_state_dict(path, key="epoch")


@pytest.mark.parametrize("keep", [0, 100, 0.5])
def test_truncated_files(saved: Path, tmp_path: Path, keep: float) -> None:
    data = saved.read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    expected = "the file is empty" if keep == 0 else "truncated or corrupt checkpoint"
    with pytest.raises(CheckpointError, match=expected):
        checkpoint.read_state_dict(path)


def test_not_a_checkpoint_at_all(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("epoch,loss\n1,0.5\n")
    with pytest.raises(CheckpointError, match=r"not a PyTorch checkpoint \(it starts with b'epoc'"):
        checkpoint.read_state_dict(path)
    with pytest.raises(CheckpointError, match=r"nope\.pt: no such file\.$"):
        checkpoint.read_state_dict(tmp_path / "nope.pt")
    with pytest.raises(CheckpointError, match="expected a state dict, got list"):
        checkpoint.read_state_dict([1, 2])  # type: ignore[arg-type]


def test_whole_model_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "whole.pt"
    torch.save(small_cnn(), path)
    with pytest.raises(CheckpointError) as info:
        checkpoint.read_state_dict(path)
    assert "refused by weights_only=True: it needs the global torch.nn" in str(info.value)
    assert str(info.value).endswith("only if you trust the file.")
