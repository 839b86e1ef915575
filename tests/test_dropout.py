"""utils.dropout against PyTorch itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from utils.dropout import (
    best_and_final,
    clip_fraction,
    dropout_with_mask,
    expected_clip_fraction,
    make_dataset,
    make_model,
    train,
    two_moons,
)

ROOT = Path(__file__).resolve().parent.parent


# 3-D input to Dropout2d is matched too; PyTorch warns about it (lesson 04's deep dive shows the warning)
@pytest.mark.filterwarnings("ignore:dropout2d. Received a 3D input")
@settings(deadline=None)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
    seed=st.integers(0, 2**16),
    module=st.sampled_from(["Dropout", "Dropout2d"]),
)
def test_mask_is_the_one_pytorch_drew(shape, p, seed, module):
    if module == "Dropout2d" and len(shape) not in (3, 4):
        shape = [2, 3, 4, 4]
    x = torch.rand(shape) + 0.1  # no zeros in x: output == 0 exactly where dropped
    layer = getattr(nn, module)(p)
    torch.manual_seed(seed)
    expected = layer(x)
    after = torch.get_rng_state()
    torch.manual_seed(seed)
    out, kept = dropout_with_mask(x, layer)
    assert torch.equal(out, expected)
    assert torch.equal(kept, expected != 0)
    assert torch.equal(torch.get_rng_state(), after)  # as after one call


def test_mask_counts_black_pixels_as_kept():
    x = torch.zeros(1000)
    torch.manual_seed(0)
    out, kept = dropout_with_mask(x, 0.5)
    assert (out == 0).all() and 0.4 < kept.float().mean().item() < 0.6


def test_integer_input_gets_the_lessons_fix():
    with pytest.raises(TypeError, match=r"x.float\(\) / 255"):
        dropout_with_mask(torch.zeros(3, dtype=torch.uint8))


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_clip_fractions(p):
    torch.manual_seed(1)
    x = torch.rand(400_000)
    measured = clip_fraction(F.dropout(x, p))
    expected = expected_clip_fraction(x, p)
    assert expected == pytest.approx((1 - p) * (x > 1 - p).double().mean().item())
    se = max((expected * (1 - expected) / x.numel()) ** 0.5, 1e-9)
    assert abs(measured - expected) < 5 * se + 1e-12
    with pytest.raises(ValueError):
        expected_clip_fraction(x, 1.5)


def test_two_moons_flips_and_is_seeded():
    a = two_moons(5000, generator=torch.Generator().manual_seed(3))
    b = two_moons(5000, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert abs(a.flipped.float().mean().item() - 0.1) < 0.015
    assert two_moons(100, flip=0.0).flipped.sum() == 0
    train_set, val_set = make_dataset(2)
    assert (len(train_set.y), len(val_set.y)) == (200, 1000) and not torch.equal(train_set.x[:10], val_set.x[:10])


def test_make_model_same_weights_any_p_and_leaves_rng_alone():
    state = torch.get_rng_state()
    a, b = make_model(0.0, 7), make_model(0.9, 7)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
    assert [m.p for m in b if isinstance(m, nn.Dropout)] == [0.9, 0.9]


def test_train_measures_in_eval_mode_and_is_reproducible():
    train_set, val_set = make_dataset(0, n_train=50, n_val=50)
    model = make_model(0.5, 0, hidden=16)
    h = train(model, train_set, val_set, epochs=20, every=5, seed=1)
    assert h["epoch"] == [0, 5, 10, 15, 20] and len(h["dropout_on"]) == 20
    assert not model.training
    with torch.no_grad():
        assert F.cross_entropy(model(train_set.x), train_set.y).item() == pytest.approx(h["train_loss"][-1])
    again = train(make_model(0.5, 0, hidden=16), train_set, val_set, epochs=20, every=5, seed=1)
    assert again == h


def test_best_and_final_is_early_stopping():
    h = {"epoch": [0, 5, 10], "val_loss": [0.9, 0.4, 0.6], "val_acc": [0.5, 0.8, 0.7]}
    assert best_and_final(h) == {"best_epoch": 5, "best_val_loss": 0.4, "best_val_acc": 0.8,
                                 "final_val_loss": 0.6, "final_val_acc": 0.7}


def test_troubleshooting_fixes_work_when_applied():
    """docs/troubleshooting.md rows dropout2d-3d, dropout2d-2d, dropout-integer: each fix, applied literally."""
    import warnings

    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    for fix in ("nn.Dropout2d(p)(x.unsqueeze(0)).squeeze(0)", "nn.Dropout2d(p)(x[None, None])[0, 0]",
                "nn.Dropout(p)(x)", "x = x.float() / 255"):
        assert f"`{fix}`" in text
    p = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = torch.rand(3, 8, 8)
        assert nn.Dropout2d(p)(x.unsqueeze(0)).squeeze(0).shape == x.shape
        x = torch.rand(8, 8)
        assert nn.Dropout2d(p)(x[None, None])[0, 0].shape == x.shape
        assert nn.Dropout(p)(x).shape == x.shape
        x = torch.randint(0, 256, (1, 3, 4, 4), dtype=torch.uint8)
        x = x.float() / 255
        assert nn.Dropout(p)(x).dtype == torch.float32 and x.max() <= 1
