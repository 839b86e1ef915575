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


# -- issue 26: every dropout layer torch.nn offers -------------------------------------------------
ALL_DROPOUTS = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]
#: an input each layer takes without a warning (Dropout1d: N×C×L, 2d: N×C×H×W, 3d: N×C×D×H×W)
SHAPES = {"Dropout": (4, 3, 8, 8), "Dropout1d": (4, 6, 32), "Dropout2d": (4, 6, 8, 8),
          "Dropout3d": (2, 6, 4, 4, 4), "AlphaDropout": (4, 3, 8, 8), "FeatureAlphaDropout": (4, 6, 8, 8)}


def _what_the_layer_did(layer, x, seed):
    """(output on x, output on another input) from one random state: what was dropped gives the same
    value whatever the input (PyTorch's own draws, nothing of ours)."""
    torch.manual_seed(seed)
    out = layer(x.clone())
    torch.manual_seed(seed)
    other = layer(x.clone() + 1)
    return out, other


@pytest.mark.filterwarnings("error")
@settings(deadline=None, max_examples=60)
@given(name=st.sampled_from(ALL_DROPOUTS), p=st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]),
       training=st.booleans(), inplace=st.booleans(), seed=st.integers(0, 2**16))
def test_every_dropout_layer_mask_is_what_the_layer_did(name, p, training, inplace, seed):
    layer = getattr(nn, name)(p, inplace=inplace).train(training)
    x = torch.rand(SHAPES[name]) + 0.1
    out, other = _what_the_layer_did(layer, x, seed)
    dropped = out == other  # the output does not depend on the input there
    torch.manual_seed(seed)
    y, kept = dropout_with_mask(x.clone(), layer)
    assert torch.equal(y, out)
    assert torch.equal(kept, ~dropped)
    kept_fraction = kept.float().mean().item()  # lesson 04's scalar
    assert kept_fraction == pytest.approx(1 - dropped.float().mean().item())


@pytest.mark.parametrize("name", ALL_DROPOUTS)
@pytest.mark.parametrize("training", [True, False])
def test_expected_clip_fraction_is_true_or_refuses_the_layer(name, training):
    layer = getattr(nn, name)(0.5).train(training)
    torch.manual_seed(3)
    x = torch.rand(200, *SHAPES[name][1:])
    if name.startswith(("Alpha", "FeatureAlpha")):
        with pytest.raises(TypeError, match=rf"{name} does not\. Measure it instead: clip_fraction\(layer\(x\)\)"):
            expected_clip_fraction(x, layer)
        clip_fraction(layer(x))  # the suggested replacement runs
        return
    expected = expected_clip_fraction(x, layer)
    # measured over many draws of the layer itself; channel-wise layers vary more, so many repeats
    measured = sum(clip_fraction(layer(x)) for _ in range(200)) / 200
    assert measured == pytest.approx(expected, abs=0.01)
    if not training:
        assert expected == clip_fraction(x) == measured


def test_dropout_with_mask_refuses_what_is_not_a_dropout():
    with pytest.raises(TypeError, match=r"got ReLU; pass the model's dropout layer itself"):
        dropout_with_mask(torch.rand(3), nn.ReLU())


@pytest.mark.parametrize("name", ALL_DROPOUTS)
@pytest.mark.parametrize("training", [True, False])
def test_pairs_dropout_view_claims_only_what_the_layer_did(name, training):
    """The PAIRS/PairViewer hover says, for kind 'dropout': dropped -> 0, kept -> x / (1 - p). Any
    layer described that way must have done exactly that; the others are shown without that claim."""
    from utils.tensorboard_logging import pairs_summary

    summary = pairs_summary()
    layer = getattr(nn, name)(0.5).train(training)
    x = torch.rand(2, 3, 8, 8) + 0.1 if name != "Dropout1d" else torch.rand(2, 3, 8, 8)[:, :, 0] + 0.1
    if name == "Dropout3d":
        x = torch.rand(2, 3, 4, 4, 4) + 0.1
    described = summary.describe_layer(layer)
    torch.manual_seed(0)
    out, other = _what_the_layer_did(layer, x, 0)
    if described["kind"] == "dropout":
        scale = 1 / (1 - described["p"])
        dropped = out == other
        assert torch.equal(out[dropped], torch.zeros_like(out[dropped]))
        assert torch.allclose(out[~dropped], x[~dropped] * scale)
        assert dropped.any() and (~dropped).any()
    else:
        assert described["kind"] == "other" and described["type"] == name
        assert not training or "Alpha" in name


def test_pairs_refuses_an_inplace_dropouts_overwritten_input():
    from utils.tensorboard_logging import pairs_summary

    layer = nn.Dropout(0.5, inplace=True)
    x = torch.rand(1, 1, 4, 4)
    out = layer(x)
    with pytest.raises(ValueError, match=r"before = x\.clone\(\); out = layer\(x\)"):
        pairs_summary().prepare(layer, x, out)
    x = torch.rand(1, 1, 4, 4)
    before = x.clone(); out = layer(x)  # noqa: E702 - the message's fix, as written
    pairs_summary().prepare(layer, before, out)


# -- issue 26: dropout on or off against the student's intent (docs/troubleshooting.md) -----------
class FunctionalDropout(nn.Module):
    def __init__(self, fixed: bool):
        super().__init__()
        self.fixed = fixed

    def forward(self, x):
        if self.fixed:
            return F.dropout(x, 0.5, training=self.training)
        return F.dropout(x, 0.5)


def _still_drops(model, x) -> bool:
    return not torch.equal(model(x), x)


def test_dropout_on_against_intent_and_each_fix():
    x = torch.rand(1000) + 0.1
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    for fix in ("F.dropout(x, p, training=self.training)", "nn.ModuleList([...])", "model.eval()",
                "[name for name, m in model.named_modules() if m.training]"):
        assert f"`{fix}`" in text
    # (1) F.dropout(x, p) in forward keeps dropping after eval(); training=self.training fixes it
    assert _still_drops(FunctionalDropout(False).eval(), x)
    assert not _still_drops(FunctionalDropout(True).eval(), x)
    assert _still_drops(FunctionalDropout(True).train(), x)
    # (2) `model.eval` without () does nothing
    model = nn.Sequential(nn.Dropout(0.5))
    model.eval  # noqa: B018 - the mistake itself
    assert _still_drops(model, x)
    # (3) layers in a plain list are not reached by eval(); nn.ModuleList is, and the check finds them
    class Listed(nn.Module):
        def __init__(self, container):
            super().__init__()
            self.drops = container([nn.Dropout(0.5)])

        def forward(self, x):
            return self.drops[0](x)

    plain, fixed = Listed(list).eval(), Listed(nn.ModuleList).eval()
    assert _still_drops(plain, x) and not _still_drops(fixed, x)
    model = fixed
    assert [name for name, m in model.named_modules() if m.training] == []
    # (4) a submodule switched back to train mode: the check names it; eval() last fixes it
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).eval()
    model[1].train()
    assert [name for name, m in model.named_modules() if m.training] == ["1"]
    model.eval()
    assert [name for name, m in model.named_modules() if m.training] == []
    # (5) no_grad / inference_mode do not turn dropout off; eval() plus no_grad does
    drop = nn.Dropout(0.5)
    with torch.no_grad():
        assert _still_drops(drop, x)
    with torch.inference_mode():
        assert _still_drops(drop, x)
    drop.eval()
    with torch.no_grad():
        assert not _still_drops(drop, x)


def test_dropout_off_against_intent_and_its_fix():
    """'Dropout changes nothing while training': eval() left on; model.train() fixes a layer but not
    a fixed training=False, which training=self.training does."""
    x = torch.rand(1000) + 0.1
    model = nn.Sequential(nn.Dropout(0.5)).eval()
    assert not _still_drops(model, x)
    model.train()
    assert _still_drops(model, x)

    class Fixed(nn.Module):
        def forward(self, x):
            return F.dropout(x, 0.5, training=False)

    assert not _still_drops(Fixed().train(), x)  # model.train() cannot help here
    assert _still_drops(FunctionalDropout(True).train(), x)
