"""Data generators, the image grid and the small training loop."""

import matplotlib
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import helpers

matplotlib.use("Agg")


def test_load_digits_shapes_and_range() -> None:
    x, y = helpers.data.load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == torch.float32
    assert y.shape == (1797,) and y.dtype == torch.int64
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert torch.equal(torch.unique(y), torch.arange(10))


def test_make_shapes_is_seeded_and_masks_match_the_colour() -> None:
    a = helpers.data.make_shapes(12, size=24, seed=1)
    b = helpers.data.make_shapes(12, size=24, seed=1)
    torch.testing.assert_close(a.images, b.images)
    assert not torch.equal(a.images, helpers.data.make_shapes(12, size=24, seed=2).images)
    assert a.images.shape == (12, 3, 24, 24) and a.masks.shape == (12, 24, 24)
    assert 0.0 <= float(a.images.min()) and float(a.images.max()) <= 1.0
    for img, mask in zip(a.images, a.masks):
        inside = img[:, mask]  # (3, pixels of the shape): one flat colour
        assert mask.sum() > 10
        torch.testing.assert_close(inside.std(dim=1), torch.zeros(3), atol=1e-6, rtol=0)


def test_make_shapes_labels_cover_every_class() -> None:
    labels = helpers.data.make_shapes(60, seed=0).labels
    assert set(labels.tolist()) == {0, 1, 2} == set(range(len(helpers.data.SHAPE_CLASSES)))


def test_make_shapes_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="need n >= 1 and size >= 8, got n=0, size=32"):
        helpers.data.make_shapes(0)


def test_show_images_grid_and_errors() -> None:
    fig = helpers.plot.show_images(torch.rand(5, 3, 8, 8), titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 6  # 2 rows x 3 columns, the last one blank
    assert fig.axes[4].get_title() == "e"
    helpers.plot.show_images(torch.rand(2, 1, 8, 8))  # single channel works too
    with pytest.raises(ValueError, match="got 2 images but 1 titles"):
        helpers.plot.show_images(torch.rand(2, 8, 8), titles=["a"])
    with pytest.raises(ValueError, match="at least one image"):
        helpers.plot.show_images([])


def test_small_cnn_shapes_and_named_parts() -> None:
    model = helpers.train.small_cnn(in_channels=3, num_classes=4, width=8)
    assert [name for name, _ in model.named_children()] == ["features", "head"]
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 4)
    assert model(torch.rand(2, 3, 8, 8)).shape == (2, 4)


def test_fit_learns_digits_and_accuracy_matches_a_manual_count() -> None:
    torch.manual_seed(0)
    x, y = helpers.data.load_digits()
    loader = DataLoader(TensorDataset(x[:1200], y[:1200]), batch_size=64, shuffle=True)
    model = helpers.train.small_cnn()
    losses = helpers.train.fit(model, loader, epochs=5)
    assert len(losses) == 5 and losses[-1] < losses[0]
    test = DataLoader(TensorDataset(x[1200:], y[1200:]), batch_size=100)
    acc = helpers.train.accuracy(model, test)
    with torch.no_grad():
        manual = (model(x[1200:]).argmax(1) == y[1200:]).float().mean().item()
    assert acc == pytest.approx(manual)
    assert acc > 0.8
