"""utils.pooling against PyTorch itself: every window, divisor, coverage count and adaptive window
is measured from F.max_pool2d / F.avg_pool2d / F.unfold / nn.Adaptive*Pool2d on the same input,
never copied from our own output."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from utils import pooling
from utils.pooling import (
    adaptive_windows,
    coverage_map,
    divisors,
    ignored_fraction,
    measured_divisors,
    output_size,
    window_cells,
    window_counts,
    window_table,
    windows,
)

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLASSIC = torch.tensor(
    [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
    dtype=torch.float32,
)


@st.composite
def configs(draw, dilation=True, max_side=9):
    """Any 2-D pooling configuration, valid or not, on a small plane (padding up to 3)."""
    hw = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else 1
    return hw, dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=draw(st.booleans()))


def torch_max(x, cfg, **extra):
    return F.max_pool2d(x, **cfg, **extra)


def read_by(hw, cfg) -> torch.Tensor:
    """``[cell, i, j]``: True where output (i, j) reads input cell ``cell`` (row-major): max pooling a
    one-hot plane per cell (padding is −∞) outputs 1 exactly there."""
    h, w = hw
    return torch_max(torch.eye(h * w).reshape(h * w, 1, h, w), cfg)[:, 0] == 1


def refused(hw, cfg) -> bool:
    try:
        torch_max(torch.zeros(1, 1, *hw), cfg)
    except RuntimeError:
        return True
    return False


@SETTINGS
@given(configs())
def test_windows_read_the_cells_pytorch_reads(case):
    """A one-hot plane per cell, max pooled (padding is −∞): window (i, j) outputs 1 exactly when
    it reads that cell. Invalid configurations raise ValueError where PyTorch raises."""
    hw, cfg = case
    if refused(hw, cfg):
        with pytest.raises(ValueError):
            windows(hw, **cfg)
        return
    w, hits, ws = hw[1], read_by(hw, cfg), windows(hw, **cfg)
    assert (ws[-1].i + 1, ws[-1].j + 1) == tuple(hits.shape[1:])
    for win in ws:
        measured = {divmod(int(c), w) for c in torch.nonzero(hits[:, win.i, win.j]).flatten()}
        assert set(win.real) == measured


@SETTINGS
@given(configs())
def test_cells_are_in_pytorch_tie_order_and_ceil_only_windows_are_the_extra_ones(case):
    """On a constant plane PyTorch returns the first real cell of each window (row-major)."""
    hw, cfg = case
    if refused(hw, cfg):
        return
    out, idx = torch_max(torch.zeros(1, 1, *hw), cfg, return_indices=True)
    floor = (
        (0, 0)
        if refused(hw, {**cfg, "ceil_mode": False})
        else tuple(torch_max(torch.zeros(1, 1, *hw), {**cfg, "ceil_mode": False}).shape[2:])
    )
    for win in windows(hw, **cfg):
        if win.real:
            assert idx[0, 0, win.i, win.j] == win.real[0][0] * hw[1] + win.real[0][1]
        else:  # a dilated window may read only padding: PyTorch gives −∞
            assert out[0, 0, win.i, win.j] == float("-inf")
        assert win.ceil_only == (win.i >= floor[0] or win.j >= floor[1])


@SETTINGS
@given(configs())
def test_floor_mode_cells_match_unfold_including_padding(case):
    """F.unfold lists every position a window reads (padding as 0), in the same order."""
    hw, cfg = case
    cfg["ceil_mode"] = False
    if refused(hw, cfg):
        return
    h, w = hw
    ids = torch.arange(1, h * w + 1, dtype=torch.float64).reshape(1, 1, h, w)
    stride = cfg["stride"] or cfg["kernel_size"]
    cols = F.unfold(ids, cfg["kernel_size"], cfg["dilation"], cfg["padding"], stride)[0]
    for n, win in enumerate(windows(hw, **cfg)):
        assert cols[:, n].long().tolist() == [
            r * w + c + 1 if 0 <= r < h and 0 <= c < w else 0 for r, c in win.cells
        ]


@SETTINGS
@given(
    n=st.integers(1, 30),
    k=st.integers(1, 6),
    s=st.integers(1, 6),
    p=st.integers(0, 3),
    d=st.integers(1, 3),
    ceil=st.booleans(),
)
def test_one_dimension_output_size_and_cells_match_pytorch(n, k, s, p, d, ceil):
    try:
        out, idx = F.max_pool2d(torch.zeros(1, 1, n), (1, k), (1, s), (0, p), (1, d), ceil, True)
    except RuntimeError:
        assert not pooling.is_valid(n, k, s, p, d, ceil)
        return
    assert pooling.is_valid(n, k, s, p, d, ceil)
    assert output_size(n, k, s, p, d, ceil) == out.shape[-1]
    for i, cells in enumerate(window_cells(n, k, s, p, d, ceil)):
        real = [c for c in cells if 0 <= c < n]
        assert idx[0, 0, i] == (real[0] if real else idx[0, 0, i])  # first real cell on a tie
        assert len(cells) == k and cells == sorted(cells)


def test_ceil_mode_drop_rule_and_textbook_formula():
    # n=5, k=2, s=2, p=1: the plain ceil formula says 4, PyTorch drops the window starting at 5
    assert pooling.textbook_output_size(5, 2, 2, 1, 1, True) == 4
    assert pooling.last_window_dropped(5, 2, 2, 1, 1, True)
    assert (
        output_size(5, 2, 2, 1, 1, True)
        == F.max_pool2d(torch.zeros(1, 5, 5), 2, 2, 1, 1, True).shape[-1]
        == 3
    )
    assert output_size(2, 3, 2, 0, 1, False) == 0  # floor rounds down, also below zero


@pytest.mark.parametrize("value", [3, (3,), [3, 2], torch.Size([2, 3])])
def test_pair_accepts_what_pytorch_accepts(value):
    F.max_pool2d(torch.zeros(1, 6, 6), value)  # PyTorch accepts it
    expected = (value, value) if isinstance(value, int) else (value[0], value[-1])
    assert pooling.pair(value) == tuple(expected)


@pytest.mark.parametrize("value", [2.0, True, "2", None, (2, 2, 2), ()])
def test_pair_refuses_what_pytorch_refuses(value):
    with pytest.raises((TypeError, RuntimeError, ValueError)):
        F.max_pool2d(torch.zeros(1, 6, 6), value)
    with pytest.raises((TypeError, ValueError)):
        pooling.pair(value)


# ----------------------------------------------------------------------------------------------
# Average pooling: divisors and the by-hand table
# ----------------------------------------------------------------------------------------------
@SETTINGS
@given(configs(dilation=False), st.booleans(), st.sampled_from([None, 1, 3, -2]))
def test_divisors_are_the_ones_pytorch_uses(case, count_include_pad, divisor_override):
    hw, cfg = case
    cfg.pop("dilation")
    kw = dict(cfg, count_include_pad=count_include_pad, divisor_override=divisor_override)
    try:
        measured = measured_divisors(*hw, **kw)
    except RuntimeError:
        with pytest.raises(ValueError):
            divisors(*hw, **kw)
        return
    assert torch.equal(divisors(*hw, **kw), measured)


def test_divisors_of_the_classic_example_and_zero_override():
    assert torch.equal(
        divisors(5, 5, 3, ceil_mode=True), measured_divisors(5, 5, 3, ceil_mode=True)
    )
    with pytest.raises(RuntimeError):
        F.avg_pool2d(torch.ones(1, 1, 5, 5), 3, divisor_override=0)
    with pytest.raises(ValueError, match="must not be 0"):
        divisors(5, 5, 3, divisor_override=0)


@SETTINGS
@given(configs(dilation=False, max_side=7), st.booleans())
def test_window_table_is_average_pooling_by_hand(case, count_include_pad):
    hw, cfg = case
    cfg.pop("dilation")
    grid = torch.randint(-5, 6, hw)
    try:
        ref = F.avg_pool2d(grid[None].double(), **cfg, count_include_pad=count_include_pad)[0]
    except RuntimeError:
        return
    rows = window_table(grid, **cfg, count_include_pad=count_include_pad)
    values = torch.tensor([float(r["value"]) for r in rows], dtype=torch.float64)
    torch.testing.assert_close(values.reshape(ref.shape), ref)
    k = pooling.pair(cfg["kernel_size"])
    for r in rows:  # every cell of a window is real, padding or overhang
        assert len(r["rows"]) * len(r["cols"]) + r["padding"] + r["overhang"] == k[0] * k[1]


def test_window_counts_of_one_dimension():
    last = window_counts(6, 3, stride=2, padding=1, ceil_mode=True)[-1]
    # PyTorch's divisor for that last window with count_include_pad=True: real + padding cells
    ones = torch.ones(1, 1, 1, 6, dtype=torch.float64)
    divisor = 1 / F.avg_pool2d(ones, (1, 3), (1, 2), (0, 1), True, True)[0, 0, 0, -1]
    assert last["real"] + last["padding"] == divisor.item() and last["overhang"] > 0


# ----------------------------------------------------------------------------------------------
# Coverage
# ----------------------------------------------------------------------------------------------
@SETTINGS
@given(configs())
def test_coverage_counts_how_many_windows_read_each_pixel(case):
    """F.fold(F.unfold(ones)) adds 1 per window reading a pixel; ceil_mode's extra windows are
    counted through max pooling's gradient of a one-hot plane per pixel instead."""
    hw, cfg = case
    if refused(hw, cfg):
        with pytest.raises(ValueError):
            coverage_map(hw, **cfg)
        return
    assert torch.equal(coverage_map(hw, **cfg), read_by(hw, cfg).sum(dim=(1, 2)).reshape(hw))


def test_ignored_fraction_of_the_lesson():
    # MaxPool2d(3) on 32×32 reads rows/cols 0–29: 124 of 1024 pixels ignored; ceil_mode reads all
    grad = torch.zeros(1, 1, 32, 32, requires_grad=True)
    F.avg_pool2d(grad, 3).sum().backward()  # every cell a window reads gets a gradient
    assert ignored_fraction((32, 32), 3) == (grad.grad == 0).double().mean().item() == 124 / 1024
    assert ignored_fraction((32, 32), 3, ceil_mode=True) == 0


# ----------------------------------------------------------------------------------------------
# Adaptive pooling
# ----------------------------------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 40), o=st.integers(1, 40))
def test_adaptive_windows_are_pytorchs(n, o):
    """One-hot cells through AdaptiveMaxPool: window i outputs 1 exactly when it holds the cell."""
    onehot = torch.eye(n).reshape(n, 1, 1, n)
    hits = nn.AdaptiveMaxPool2d((1, o))(onehot)[:, 0, 0, :] == 1  # (cell, window)
    measured = [torch.nonzero(hits[:, i]).flatten().tolist() for i in range(o)]
    assert [list(range(a, b)) for a, b in adaptive_windows(n, o)] == measured


@SETTINGS
@given(h=st.integers(1, 20), w=st.integers(1, 20), oh=st.integers(1, 12), ow=st.integers(1, 12))
def test_adaptive_average_pooling_is_the_mean_of_each_window(h, w, oh, ow):
    x = torch.randn(1, 1, h, w, dtype=torch.float64)
    ref = nn.AdaptiveAvgPool2d((oh, ow))(x)[0, 0]
    ours = torch.tensor(
        [
            [x[0, 0, r0:r1, c0:c1].mean().item() for c0, c1 in adaptive_windows(w, ow)]
            for r0, r1 in adaptive_windows(h, oh)
        ],
        dtype=torch.float64,
    )
    torch.testing.assert_close(ours, ref)


def test_adaptive_windows_no_avg_pool_reproduces():
    """10 -> 4: [0,3), [2,5), [5,8), [7,10): uneven strides, so no AvgPool2d setting matches."""
    assert adaptive_windows(10, 4) == [(0, 3), (2, 5), (5, 8), (7, 10)]
    x = torch.randn(1, 1, 1, 10, dtype=torch.float64)
    ref = nn.AdaptiveAvgPool2d((1, 4))(x)
    for k in range(1, 11):
        for s in range(1, 11):
            for p in range(k // 2 + 1):
                for ceil in (False, True):
                    out = F.avg_pool2d(x, (1, k), (1, s), (0, p), ceil)
                    assert out.shape != ref.shape or not torch.allclose(out, ref)
