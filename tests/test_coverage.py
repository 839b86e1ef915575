"""Coverage counts checked against PyTorch: F.unfold/F.fold (floor mode) and F.max_pool2d (any mode)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from utils.coverage import coverage_map, ignored_fraction


@st.composite
def valid_configs(draw):
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    cfg = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=draw(st.booleans()))
    try:
        F.max_pool2d(torch.zeros(1, 1, h, w), k, s, p, d, cfg["ceil_mode"])
    except RuntimeError:
        assume(False)
    return (h, w), cfg


def counts_by_max_pool(hw, cfg) -> torch.Tensor:
    """One one-hot plane per pixel; the number of outputs equal to 1 is the number of windows
    that read that pixel (padding is −∞ in max pooling, so it never produces a 1)."""
    h, w = hw
    onehot = torch.eye(h * w).reshape(h * w, 1, h, w)
    out = F.max_pool2d(
        onehot, cfg["kernel_size"], cfg["stride"], cfg["padding"], cfg["dilation"], cfg["ceil_mode"]
    )
    return (out == 1).flatten(1).sum(1).reshape(h, w)


@settings(max_examples=300, deadline=None)
@given(valid_configs())
def test_coverage_equals_pytorch_max_pool(case):
    hw, cfg = case
    assert torch.equal(coverage_map(hw, **cfg), counts_by_max_pool(hw, cfg))


@settings(max_examples=300, deadline=None)
@given(valid_configs())
def test_floor_mode_coverage_equals_fold_of_unfold(case):
    """fold(unfold(ones)) sums every window back onto the pixels it read: PyTorch's own count."""
    hw, cfg = case
    cfg = {**cfg, "ceil_mode": False}
    ones = torch.ones(1, 1, *hw)
    k, s, p, d = cfg["kernel_size"], cfg["stride"], cfg["padding"], cfg["dilation"]
    try:
        F.max_pool2d(ones, k, s, p, d)
    except RuntimeError:  # valid only in ceil mode
        assume(False)
    counts = F.fold(F.unfold(ones, k, d, p, s), hw, k, d, p, s)[0, 0]
    assert torch.equal(coverage_map(hw, **cfg), counts.long())


def test_32x32_kernel_3_ignores_12_1_percent_in_floor_mode_and_nothing_in_ceil_mode():
    counts = counts_by_max_pool(
        (32, 32), dict(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)
    )
    measured = (counts == 0).double().mean().item()
    assert ignored_fraction((32, 32), 3) == measured == 124 / 1024
    assert round(100 * measured, 1) == 12.1
    assert ignored_fraction((32, 32), 3, ceil_mode=True) == 0.0


def test_gradient_of_avg_pool_sum_counts_windows_too():
    """Another PyTorch witness: d/dx sum(avg_pool2d(x, divisor_override=1)) counts windows."""
    x = torch.zeros(1, 1, 7, 9, requires_grad=True)
    F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, divisor_override=1).sum().backward()
    assert torch.equal(coverage_map((7, 9), 3, 2, 1, ceil_mode=True), x.grad[0, 0].long())
