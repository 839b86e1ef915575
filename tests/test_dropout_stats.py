"""utils.dropout_stats against PyTorch itself: masks replayed exactly, statistics within error bars."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from utils.dropout_stats import (
    binomial_se,
    clip_fraction,
    display_scaled,
    dropout_statistics,
    dropout_with_mask,
    expected_clip_fraction,
    functional_dropout_in_eval_model,
    inplace_dropout_after,
    is_dropout_output,
    mean_se,
    measure_dropout_memory,
)

probabilities = st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0])
shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)


# -- standard errors --------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8])
def test_binomial_se_matches_the_spread_of_many_dropout_draws(p):
    torch.manual_seed(1)
    n, trials = 200, 3000
    out = F.dropout(torch.ones(trials, n), p, training=True)
    fractions = (out == 0).double().mean(dim=1)
    assert fractions.std().item() == pytest.approx(binomial_se(p, n), rel=0.08)
    means = out.double().mean(dim=1)
    assert means.std().item() == pytest.approx(mean_se(p, n), rel=0.08)


def test_se_edge_cases_and_bad_input():
    assert binomial_se(0.0, 10) == 0.0 and binomial_se(1.0, 10) == 0.0
    assert mean_se(0.0, 10) == 0.0 and math.isinf(mean_se(1.0, 10))
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="probability to zero"):
            binomial_se(bad, 10)
    with pytest.raises(ValueError, match="positive int"):
        mean_se(0.5, 0)


# -- statistics table -------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(8))
def test_statistics_lie_within_four_standard_errors(seed):
    ps = (0.2, 0.5, 0.8)
    rows = dropout_statistics(ps, n=50_000, seed=seed)
    assert [r["p"] for r in rows] == list(ps)
    for r in rows:
        assert abs(r["zeroed"] - r["p"]) <= 4 * r["zeroed_se"]
        assert abs(r["mean"] - 1.0) <= 4 * r["mean_se"]
        assert r["scale"] == pytest.approx(1 / (1 - r["p"]), rel=1e-12)
        assert r["values"] == [0.0, r["scale"]]
        assert r["keep"] == pytest.approx(1 - r["p"])


def test_statistics_edges_and_global_rng_untouched():
    state = torch.get_rng_state()
    rows = dropout_statistics((0.0, 1.0), n=1000, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    zero, one = rows
    assert zero["zeroed"] == 0.0 and zero["mean"] == 1.0 and zero["values"] == [1.0]
    assert one["zeroed"] == 1.0 and one["mean"] == 0.0 and math.isnan(one["scale"])
    assert dropout_statistics((0.5,), n=1000, seed=3) == dropout_statistics((0.5,), n=1000, seed=3)
    with pytest.raises(ValueError, match="keep probability"):
        dropout_statistics((1.2,))


# -- masks ------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(
    shape=shapes,
    p=probabilities,
    seed=st.integers(0, 2**31 - 1),
    kind=st.sampled_from(["float", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]),
)
def test_mask_is_the_one_pytorch_drew(shape, p, seed, kind):
    need = {"Dropout1d": (2, 3), "Dropout2d": (4,), "Dropout3d": (5,)}.get(kind)
    if need and len(shape) not in need:
        shape = (2, 3, 4, 5, 6)[: need[0]]
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g) + 0.1  # no zeros, so PyTorch's own zeros ARE the mask
    module = p if kind == "float" else getattr(nn, kind)(p)
    reference = nn.Dropout(p) if kind == "float" else module
    torch.manual_seed(seed)
    expected = reference(x)
    state_after_one_call = torch.get_rng_state()
    torch.manual_seed(seed)
    out, kept = dropout_with_mask(x, module)
    assert torch.equal(out, expected)
    assert torch.equal(kept, expected != 0)
    assert torch.equal(torch.get_rng_state(), state_after_one_call)
    assert kept.dtype == torch.bool and kept.shape == x.shape
    if kind in ("Dropout2d", "Dropout3d") or (kind == "Dropout1d" and len(shape) == 3):
        spatial = tuple(range(2, x.dim()))
        assert torch.equal(kept.all(dim=spatial), kept.any(dim=spatial))  # whole channels


def test_mask_counts_black_pixels_that_were_kept():
    x = torch.zeros(1000)
    x[::2] = 1.0
    torch.manual_seed(0)
    out, kept = dropout_with_mask(x, 0.5)
    # output == 0 would call every black pixel "dropped"; the mask knows better.
    assert (out == 0).sum() > (~kept).sum()
    assert torch.equal(out, torch.where(kept, x * 2, torch.zeros_like(x)))


def test_mask_in_eval_mode_keeps_everything_and_inplace_overwrites():
    x = torch.rand(3, 4)
    out, kept = dropout_with_mask(x, nn.Dropout(0.5).eval())
    assert kept.all() and torch.equal(out, x)
    y = torch.rand(50)
    before = y.clone()
    out, kept = dropout_with_mask(y, nn.Dropout(0.5, inplace=True))
    assert out.data_ptr() == y.data_ptr()
    assert torch.equal(y, torch.where(kept, before * 2, torch.zeros_like(before)))


def test_mask_rejects_bad_input():
    with pytest.raises(TypeError, match="floating-point"):
        dropout_with_mask(torch.ones(3, dtype=torch.int64))
    with pytest.raises(TypeError, match="torch.Tensor"):
        dropout_with_mask([1.0, 2.0])
    with pytest.raises(ValueError, match="AlphaDropout"):
        dropout_with_mask(torch.ones(3), nn.AlphaDropout(0.5))
    with pytest.raises(ValueError, match="probability to zero"):
        dropout_with_mask(torch.ones(3), 2.0)


# -- display scaling and clipping -------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(shape=shapes, p=probabilities.filter(lambda p: p < 1), seed=st.integers(0, 2**31 - 1))
def test_display_scaled_gives_back_the_kept_input(shape, p, seed):
    torch.manual_seed(seed)
    x = torch.rand(shape)
    out = nn.Dropout(p)(x)
    shown = display_scaled(out, p)
    kept = out != 0
    assert torch.allclose(shown[kept], x[kept], rtol=1e-6, atol=1e-7)
    assert (shown[~kept] == 0).all()
    assert shown.max().item() <= 1.0 + 1e-6


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_clip_fraction_matches_its_expectation(p):
    torch.manual_seed(0)
    x = torch.rand(200_000)
    out = nn.Dropout(p)(x)
    measured = clip_fraction(out)
    assert measured == pytest.approx((out > 1).double().mean().item())
    expected = expected_clip_fraction(x, p)
    m = (x > 1 - p).sum().item()  # elements that clip if kept
    se = math.sqrt(p * (1 - p) * m) / x.numel()
    assert abs(measured - expected) <= 4 * se
    # uniform x: P(x > 1-p) = p, so about (1-p)·p clip; a quarter at p = 0.5
    assert expected == pytest.approx((1 - p) * p, abs=0.005)


def test_clip_fraction_is_zero_after_display_scaling_and_in_eval():
    x = torch.rand(10_000)
    assert clip_fraction(display_scaled(nn.Dropout(0.5)(x), 0.5)) == 0.0
    assert clip_fraction(nn.Dropout(0.5).eval()(x)) == 0.0
    assert expected_clip_fraction(x, 0.0) == 0.0


# -- memory -----------------------------------------------------------------------------------
@pytest.mark.parametrize("numel, dtype", [(100_000, torch.float32), (250_000, torch.float64)])
def test_inplace_saves_exactly_one_output_tensor(numel, dtype):
    copy = measure_dropout_memory(numel, 0.5, inplace=False, dtype=dtype)
    inplace = measure_dropout_memory(numel, 0.5, inplace=True, dtype=dtype)
    size = numel * torch.tensor([], dtype=dtype).element_size()
    assert copy["input_bytes"] == inplace["input_bytes"] == size
    assert copy["held"] == size and not copy["same_storage"]
    assert inplace["held"] == 0 and inplace["same_storage"]
    assert copy["allocated"] - inplace["allocated"] == size
    assert inplace["allocated"] >= size  # the mask is allocated either way


# -- traps and errors -------------------------------------------------------------------------
def test_functional_trap_drops_in_eval_and_the_fix_does_not():
    torch.manual_seed(0)
    x = torch.rand(1000) + 0.5
    trap, fixed = functional_dropout_in_eval_model(x, 0.5)
    assert (trap == 0).any() and is_dropout_output(trap, x, 0.5)
    assert torch.equal(fixed, x)


@pytest.mark.parametrize(
    "layer, error",
    [
        (nn.Linear(4, 4), None),
        (nn.LeakyReLU(), None),
        (nn.GELU(), None),
        (nn.ReLU(), "modified by an inplace operation"),
        (nn.Sigmoid(), "modified by an inplace operation"),
        (nn.Tanh(), "modified by an inplace operation"),
        (nn.Identity(), "a leaf Variable that requires grad"),
    ],
)
def test_inplace_dropout_after_layers(layer, error):
    torch.manual_seed(0)
    message = inplace_dropout_after(layer)
    if error is None:
        assert message is None
    else:
        assert message is not None and error in message
        # and the same happens when written out by hand with F.dropout
        x = torch.randn(3, 4, requires_grad=True)
        with pytest.raises(RuntimeError, match=error.split()[0]):
            F.dropout(layer(x), 0.5, training=True, inplace=True).sum().backward()


@settings(max_examples=200, deadline=None)
@given(shape=shapes, p=probabilities, seed=st.integers(0, 2**31 - 1))
def test_is_dropout_output_accepts_pytorch_and_rejects_tampering(shape, p, seed):
    torch.manual_seed(seed)
    x = torch.rand(shape, dtype=torch.float64) + 0.5
    out = F.dropout(x, p, training=True)
    assert is_dropout_output(out, x, p)
    tampered = out.clone().flatten()
    tampered[0] = x.flatten()[0] * 3 + 1
    assert not is_dropout_output(tampered.reshape(out.shape), x, p)
    assert not is_dropout_output(out.flatten()[:-1], x.flatten(), p) or x.numel() == 0


# -- figure helper ----------------------------------------------------------------------------
def test_show_image_rows_never_clips_silently():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils.dropout_stats import show_image_rows

    x = torch.rand(3, 3, 8, 8)
    fig = show_image_rows({"a": x, "b": (x * 2, "clip"), "grey": x[:, :1]}, nrow=3, title="t")
    assert len(fig.axes) == 3 and [ax.get_title(loc="left") for ax in fig.axes] == [
        "a",
        "b",
        "grey",
    ]
    shown = fig.axes[1].images[0].get_array()
    assert shown.max() <= 1.0
    plt.close(fig)
    with pytest.raises(ValueError, match="outside"):
        show_image_rows({"raw": x * 2})
    with pytest.raises(ValueError, match="empty"):
        show_image_rows({})
