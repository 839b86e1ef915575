"""utils.shapes against PyTorch itself: equal shapes where PyTorch computes, ValueError where it raises.

Every expected value comes from running nn.MaxPool2d / nn.AvgPool2d (F.max_pool2d / F.avg_pool2d),
never from our own output.
"""

from __future__ import annotations

import itertools
import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from utils.shapes import (
    PoolingConfigError,
    ShapeTable,
    calculator,
    explain,
    pool2d_output_shape,
    pool_output_size,
    pytorch_output_shape,
    shape_table,
    table_html,
    table_markdown,
    textbook_output_size,
    window_cells,
    window_starts,
)

TORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# PyTorch as the oracle
# ---------------------------------------------------------------------------------------------
def torch_shape(layer, shape, kernel_size, stride, padding, dilation, ceil_mode, device="cpu"):
    """The shape PyTorch returns for a zero input, or None when it raises. (H, W) runs as (1, H, W)."""
    squeeze = len(shape) == 2
    full = (1, *shape) if squeeze else tuple(shape)
    # Outside the try: an input that cannot be built is a broken test, not a PyTorch answer.
    x = torch.zeros(full, device=device) if device == "cpu" else torch.empty(full, device=device)
    try:
        if layer == "max":
            y = nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)(x)
        else:
            y = nn.AvgPool2d(kernel_size, stride, padding, ceil_mode=ceil_mode)(x)
    except TORCH_ERRORS:
        return None
    out = tuple(y.shape)
    return out[1:] if squeeze else out


def ours(shape, kernel_size, stride, padding, dilation, ceil_mode):
    try:
        return pool2d_output_shape(shape, kernel_size, stride, padding, dilation, ceil_mode)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Strategies: anything (mostly invalid) and valid-biased configurations
# ---------------------------------------------------------------------------------------------
@st.composite
def int_or_pair(draw, values, odd_lengths=True):
    """Mostly an int or a pair, sometimes a 1-tuple, rarely () or a triple (PyTorch refuses those)."""
    kind = draw(st.integers(0, 19))
    if odd_lengths and kind == 0:
        return draw(st.one_of(st.just(()), st.tuples(values, values, values)))
    if kind <= 3:
        return (draw(values),)
    if kind <= 10:
        return (draw(values), draw(values))
    return draw(values)


@st.composite
def any_config(draw, max_size=120, dilation=True):
    ndim = draw(st.sampled_from([2, 3, 4]))
    spatial = st.integers(0, max_size)
    lead = [draw(st.integers(0, 2)) for _ in range(ndim - 2)]
    shape = (*lead, draw(spatial), draw(spatial))
    k = draw(int_or_pair(st.integers(-2, 12)))
    s = draw(st.one_of(st.none(), int_or_pair(st.integers(-2, 12))))
    p = draw(int_or_pair(st.integers(-2, 7)))
    d = draw(int_or_pair(st.integers(-1, 5))) if dilation else 1
    return shape, k, s, p, d, draw(st.booleans())


@st.composite
def valid_biased_config(draw, max_size=300, dilation=True, max_kernel=40):
    """Parameters PyTorch mostly accepts: positive kernel/stride/dilation, 0 <= padding <= k//2."""
    ndim = draw(st.sampled_from([2, 3, 4]))
    lead = [draw(st.integers(0 if i == 0 and ndim == 4 else 1, 2)) for i in range(ndim - 2)]
    shape, ks, ss, ps, ds = list(lead), [], [], [], []
    for _ in range(2):
        k = draw(st.integers(1, max_kernel))
        ks.append(k)
        ss.append(draw(st.integers(1, max_kernel + 5)))
        ps.append(draw(st.integers(0, k // 2)))
        ds.append(draw(st.integers(1, 6)) if dilation else 1)
        shape.append(draw(st.integers(1, max_size)))
    stride = None if draw(st.booleans()) and ks == ss else tuple(ss)
    return tuple(shape), tuple(ks), stride, tuple(ps), tuple(ds), draw(st.booleans())


def check_against_torch(layer, config, device="cpu"):
    shape, k, s, p, d, ceil = config
    expected = torch_shape(layer, shape, k, s, p, d, ceil, device)
    got = ours(shape, k, s, p, d, ceil)
    assert got == expected, f"{layer} {config}: ours {got}, PyTorch {expected}"
    return expected is not None


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------
@SETTINGS
@given(any_config())
def test_max_pool_any_configuration_matches_pytorch(config):
    check_against_torch("max", config)


@SETTINGS
@given(valid_biased_config())
def test_max_pool_valid_biased_configuration_matches_pytorch(config):
    check_against_torch("max", config)


@SETTINGS
@given(st.one_of(any_config(dilation=False), valid_biased_config(dilation=False)))
def test_avg_pool_matches_pytorch(config):
    check_against_torch("avg", config)


@st.composite
def huge_config(draw):
    """Sizes up to 2**31 in either dimension; kernel, stride, dilation up to 1000; padding mostly
    within the limit (sometimes one over); H·W below 2**51 (larger inputs overflow even a meta
    tensor's storage, before any pooling rule is checked)."""
    big, small = draw(st.integers(1, 2**31)), draw(st.integers(1, 2**20))
    h, w = (big, small) if draw(st.booleans()) else (small, big)
    k = draw(st.integers(1, 1000))
    p = draw(st.integers(0, k // 2 + (1 if draw(st.integers(0, 9)) == 0 else 0)))
    s, d = draw(st.integers(1, 1000)), draw(st.integers(1, 1000))
    return (1, 1, h, w), k, s, p, d, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(huge_config())
def test_huge_sizes_match_pytorch_meta_kernels(config):
    """Through PyTorch's meta kernels: the same shape rules, no data."""
    check_against_torch("max", config, device="meta")


def test_meta_kernels_agree_with_cpu_on_small_grid():
    """The meta-device oracle used above gives the CPU kernel's answers on a full small grid."""
    for n, k, s, p, d, ceil in itertools.product(
        range(0, 7), range(0, 5), [1, 2, 3], range(-1, 3), range(1, 3), [False, True]
    ):
        args = ((1, 1, n, n + 1), k, s, p, d, ceil)
        assert torch_shape("max", *args) == torch_shape("max", *args, device="meta"), args


@SETTINGS
@given(
    st.integers(-2, 150),
    st.integers(-2, 15),
    st.one_of(st.none(), st.integers(-2, 15)),
    st.integers(-2, 8),
    st.integers(-1, 6),
    st.booleans(),
)
def test_pool_output_size_matches_pytorch_one_dimension(n, k, s, p, d, ceil):
    """One dimension = the width of a (1, 1, n) input with a (1, k) kernel."""
    stride = None if s is None else (1, s)
    try:
        x = torch.zeros(1, 1, n)
        expected = F.max_pool2d(x, (1, k), stride, (0, p), (1, d), ceil_mode=ceil).shape[-1]
    except TORCH_ERRORS:
        expected = None
    try:
        got = pool_output_size(n, k, s, p, d, ceil)
    except ValueError:
        got = None
    assert got == expected


def test_exhaustive_small_grid_has_zero_mismatches():
    """Every configuration of a small grid, valid or not, both layers."""
    checked = valid = 0
    for n, k, s, p, d, ceil in itertools.product(
        range(0, 8), range(-1, 6), [None, -1, 0, 1, 2, 3], range(-1, 4), range(0, 3), [False, True]
    ):
        config = ((1, n, n + 2), k, s, p, d, ceil)
        valid += check_against_torch("max", config)
        if d == 1:
            check_against_torch("avg", config)
        checked += 1
    assert checked == 8 * 7 * 6 * 5 * 3 * 2
    assert valid > 500  # the grid really exercises the computing branch


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 9),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(0, 3),
    st.integers(1, 3),
    st.booleans(),
)
def test_same_rules_with_grad_channels_last_indices_and_other_dtypes(n, k, s, p, d, ceil):
    """The shape rules do not depend on the code path PyTorch takes."""
    variants = {
        "plain": lambda x: x,
        "requires_grad": lambda x: x.requires_grad_(),
        "channels_last": lambda x: x.to(memory_format=torch.channels_last),
        "float64": lambda x: x.double(),
        "int64": lambda x: x.long(),
    }
    expected = ours((2, 3, n, n + 1), k, s, p, d, ceil)
    for name, make in variants.items():
        for indices in (False, True):
            x = make(torch.zeros(2, 3, n, n + 1))
            try:
                y = F.max_pool2d(x, k, s, p, d, ceil_mode=ceil, return_indices=indices)
                got = tuple((y[0] if indices else y).shape)
            except RuntimeError:
                got = None
            assert got == expected, (name, indices)


# ---------------------------------------------------------------------------------------------
# The rules, one by one, each checked with PyTorch
# ---------------------------------------------------------------------------------------------
def test_ceil_mode_drops_window_starting_in_padding():
    x = torch.zeros(1, 1, 5, 5)
    actual = nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)(x).shape[-1]
    assert actual == 3
    assert pool_output_size(5, 2, 2, 1, ceil_mode=True) == actual
    assert textbook_output_size(5, 2, 2, 1, ceil_mode=True) == 4  # the plain ceil formula: wrong


def test_floor_rounds_down_for_negative_numerators():
    """n=2, k=3, s=2: (2-2-1)/2 = -0.5; truncation would give 0 + 1 = 1, PyTorch raises."""
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.zeros(1, 2, 2), 3, 2)
    with pytest.raises(ValueError, match="at least 1"):
        pool_output_size(2, 3, 2)
    assert int((2 - 2 - 1) / 2) + 1 == 1  # what truncation would have said


def test_dilated_window_can_miss_every_real_cell():
    """n=2, k=2, dilation=3, padding=1: the window reads positions -1 and 2, both padding."""
    assert window_cells(2, 2, 1, 1, 3) == [[-1, 2]]
    out = F.max_pool2d(torch.tensor([[[1.0, 2.0]]]), (1, 2), 1, (0, 1), (1, 3))
    assert out.flatten().tolist() == [float("-inf")]


def test_ceil_mode_lets_window_overhang_the_input():
    """A window longer than the input is fine in ceil mode when it starts inside the input."""
    x = torch.zeros(1, 2, 2)
    assert F.max_pool2d(x, 3, 2, ceil_mode=True).shape[-1] == pool_output_size(
        2, 3, 2, ceil_mode=True
    )
    with pytest.raises(RuntimeError):
        F.max_pool2d(x, 3, 2, ceil_mode=False)


@pytest.mark.parametrize(
    ("shape", "params", "rule", "fix"),
    [
        ((1, 5, 5), {"kernel_size": 0}, "kernel_size must be greater than zero", "Fix"),
        ((1, 5, 5), {"kernel_size": -1}, "kernel_size must be greater than zero", "Fix"),
        (
            (1, 5, 5),
            {"kernel_size": 2, "stride": 0},
            "stride must be greater than zero",
            "stride=None",
        ),
        ((1, 5, 5), {"kernel_size": 2, "stride": -1}, "stride must be greater than zero", "Fix"),
        ((1, 5, 5), {"kernel_size": 2, "dilation": 0}, "dilation must be greater than zero", "Fix"),
        ((1, 5, 5), {"kernel_size": 2, "padding": -1}, "padding must be non-negative", "Fix"),
        (
            (1, 5, 5),
            {"kernel_size": 3, "padding": 2},
            "padding <= kernel_size // 2",
            "padding <= 1",
        ),
        (
            (1, 5, 5),
            {"kernel_size": 1, "padding": 1},
            "padding <= kernel_size // 2",
            "padding <= 0",
        ),
        (
            (1, 9, 9),
            {"kernel_size": 3, "padding": 2, "dilation": 2},
            "dilation (here 2) does not raise this limit",
            "padding <= 1",
        ),
        ((1, 5, 5), {"kernel_size": 6}, "output size must be at least 1", "ceil_mode=True"),
        ((1, 5, 5), {"kernel_size": (2, 6)}, "for W", "Fix"),
        ((1, 0, 5), {"kernel_size": 1}, "H must be at least 1", "Fix"),
        ((0, 5, 5), {"kernel_size": 1}, "C must be at least 1", "Fix"),
        ((1, 0, 5, 5), {"kernel_size": 1}, "C must be at least 1", "Fix"),
        ((1, 1, 5, 0), {"kernel_size": 1}, "W must be at least 1", "Fix"),
        ((5,), {"kernel_size": 1}, "3-D or 4-D", "unsqueeze"),
        ((1, 1, 1, 5, 5), {"kernel_size": 1}, "3-D or 4-D", "Fix"),
        ((1, 5, 5), {"kernel_size": (2, 2, 2)}, "tuple of two ints", "Fix"),
        ((1, 5, 5), {"kernel_size": 2, "padding": (0, 1, 1)}, "tuple of two ints", "Fix"),
    ],
)
def test_invalid_configurations_raise_like_pytorch_with_rule_and_fix(shape, params, rule, fix):
    with pytest.raises(TORCH_ERRORS):
        nn.MaxPool2d(**params)(torch.zeros(shape))
    with pytest.raises(ValueError) as info:
        pool2d_output_shape(shape, **params)
    assert rule in str(info.value)
    assert fix in str(info.value)


def test_padding_limit_is_half_the_kernel_whatever_the_dilation():
    for k, d in itertools.product(range(1, 7), range(1, 4)):
        for p in range(0, k + 2):
            torch_ok = torch_shape("max", (1, 30, 30), k, 1, p, d, False) is not None
            assert torch_ok == (p <= k // 2), (k, d, p)
            assert (ours((1, 30, 30), k, 1, p, d, False) is not None) == torch_ok


def test_empty_batch_is_allowed_like_pytorch():
    assert torch_shape("max", (0, 3, 8, 8), 2, None, 0, 1, False) == (0, 3, 4, 4)
    assert pool2d_output_shape((0, 3, 8, 8), 2) == (0, 3, 4, 4)


def test_two_element_shape_is_spatial_only():
    assert pool2d_output_shape((7, 9), (2, 3)) == tuple(
        nn.MaxPool2d((2, 3))(torch.zeros(1, 7, 9)).shape[1:]
    )


@pytest.mark.parametrize("bad", [2.0, True, "2", None])
def test_non_integer_kernel_is_a_type_error_like_pytorch(bad):
    with pytest.raises(TypeError):
        nn.MaxPool2d(bad)(torch.zeros(1, 5, 5))
    with pytest.raises(TypeError):
        pool2d_output_shape((1, 5, 5), bad)


def test_numpy_integers_and_bools_are_accepted_like_pytorch():
    np = pytest.importorskip("numpy")
    k, ceil = np.int64(3), np.bool_(True)
    expected = tuple(
        nn.MaxPool2d(k, stride=np.int64(2), ceil_mode=bool(ceil))(torch.zeros(1, 8, 8)).shape
    )
    assert pool2d_output_shape((1, 8, 8), k, np.int64(2), ceil_mode=ceil) == expected


def test_ceil_mode_must_be_a_bool():
    with pytest.raises(TypeError, match="True or False"):
        pool2d_output_shape((1, 5, 5), 2, ceil_mode="False")


def test_one_element_tuple_and_empty_stride_mean_what_pytorch_means():
    x = torch.zeros(1, 7, 7)
    expected = tuple(nn.MaxPool2d((3,), stride=(), padding=(1,))(x).shape)
    assert pool2d_output_shape((1, 7, 7), (3,), stride=(), padding=(1,)) == expected


def test_textbook_ceil_is_wrong_only_with_padding_or_stride_above_kernel():
    """Plain ceil == PyTorch when padding = 0 and stride <= kernel; otherwise it can be wrong."""
    wrong_cases = set()
    for n, k, s, p in itertools.product(range(1, 13), range(1, 6), range(1, 7), range(0, 3)):
        actual = torch_shape("max", (1, 1, n), (1, k), (1, s), (0, p), 1, True)
        if actual is not None and textbook_output_size(n, k, s, p, ceil_mode=True) != actual[-1]:
            wrong_cases.add((n, k, s, p))
            assert p > 0 or s > k, (n, k, s, p)
        floor = torch_shape("max", (1, 1, n), (1, k), (1, s), (0, p), 1, False)
        if floor is not None:  # without ceil_mode the plain formula is PyTorch's
            assert textbook_output_size(n, k, s, p) == floor[-1]
    assert (5, 2, 2, 1) in wrong_cases  # padding, stride = kernel
    assert any(p == 0 for *_, p in wrong_cases)  # no padding, stride > kernel


# ---------------------------------------------------------------------------------------------
# Windows: where each output reads, checked with return_indices and divisors
# ---------------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 8),
    st.integers(1, 8),
    st.integers(0, 4),
    st.integers(1, 4),
    st.booleans(),
)
def test_window_cells_match_pytorch_indices_and_divisors(n, k, s, p, d, ceil):
    p = min(p, k // 2)
    try:
        cells = window_cells(n, k, s, p, d, ceil)
    except ValueError:
        with pytest.raises(RuntimeError):
            F.max_pool2d(torch.zeros(1, 1, n), (1, k), (1, s), (0, p), (1, d), ceil_mode=ceil)
        return
    real = [[c for c in window if 0 <= c < n] for window in cells]
    up = torch.arange(n, dtype=torch.float32).reshape(1, 1, n)
    kw = {"kernel_size": (1, k), "stride": (1, s), "padding": (0, p), "dilation": (1, d)}
    top, idx_up = F.max_pool2d(up, **kw, ceil_mode=ceil, return_indices=True)
    _, idx_down = F.max_pool2d(-up, **kw, ceil_mode=ceil, return_indices=True)
    hit = [i for i, r in enumerate(real) if r]  # dilation can make a window miss every real cell
    assert [idx_up.flatten()[i].item() for i in hit] == [max(real[i]) for i in hit]
    assert [idx_down.flatten()[i].item() for i in hit] == [min(real[i]) for i in hit]
    assert all(top.flatten()[i].item() == float("-inf") for i, r in enumerate(real) if not r)
    assert [w[0] for w in cells] == window_starts(n, k, s, p, d, ceil)
    if d == 1:  # average pooling: how many real cells, and the count_include_pad divisor
        ones = torch.ones(1, 1, n)
        akw = {"kernel_size": (1, k), "stride": (1, s), "padding": (0, p), "ceil_mode": ceil}
        summed = F.avg_pool2d(ones, **akw, divisor_override=1).flatten().tolist()
        assert summed == [len(r) for r in real]
        mean = F.avg_pool2d(ones, **akw, count_include_pad=True).flatten()
        padded = [len([c for c in w if -p <= c < n + p]) for w in cells]
        expected = torch.tensor([len(r) / q for r, q in zip(real, padded, strict=True)])
        torch.testing.assert_close(mean, expected)


# ---------------------------------------------------------------------------------------------
# explain, the table and the calculator
# ---------------------------------------------------------------------------------------------
def _explained_sizes(text: str) -> list[int]:
    return [int(v) for v in re.findall(r"→ \w+_out = (-?\d+)", text)]


@settings(max_examples=200, deadline=None)
@given(valid_biased_config(max_size=60, max_kernel=10))
def test_explain_ends_with_pytorch_numbers(config):
    shape, k, s, p, d, ceil = config
    expected = torch_shape("max", shape, k, s, p, d, ceil)
    text = explain(shape, k, s, p, d, ceil)
    if expected is None:
        assert "✗ PyTorch raises:" in text
        assert _explained_sizes(text) == []
    else:
        assert _explained_sizes(text) == list(expected[-2:])
        assert f"output shape {expected}" in text
        assert ("ceil(" if ceil else "floor(") in text


def test_explain_substitutes_numbers_and_names_the_dropped_window():
    actual = nn.MaxPool2d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 5, 5)).shape[-1]
    text = explain(5, 2, 2, 1, ceil_mode=True)
    assert "ceil((5 + 2·1 − 1·(2 − 1) − 1) / 2) + 1" in text
    assert "= 3 + 1 = 4" in text  # the textbook answer, before the rule
    assert "drops it" in text and "right padding" in text
    assert _explained_sizes(text) == [actual]


def test_explain_says_when_the_ceil_window_is_kept_and_when_floor_rounds_down():
    kept = explain(6, 3, 2, 1, ceil_mode=True)
    assert "it is kept" in kept and "drops" not in kept
    assert _explained_sizes(kept) == [
        F.max_pool2d(torch.zeros(1, 1, 6), (1, 3), (1, 2), (0, 1), ceil_mode=True).shape[-1]
    ]
    floor = explain(6, 3, 2, 1)
    assert "leftover cells are not pooled" in floor and "ceil_mode rule" not in floor


def test_explain_reports_the_broken_rule_instead_of_raising():
    assert "✗ PyTorch raises:" in explain((1, 5, 5), (2, 2, 2))
    text = explain((1, 5, 5), 3, padding=2)
    assert "✗ PyTorch raises:" in text and "kernel_size // 2" in text
    with pytest.raises(RuntimeError):
        nn.MaxPool2d(3, padding=2)(torch.zeros(1, 5, 5))


CONFIGS = [
    {"input_shape": (1, 1, n, n + 1), "kernel_size": k, "stride": s, "padding": p, "ceil_mode": c}
    for n, k, s, p, c in [
        (5, 2, 2, 1, True),
        (5, 2, 2, 1, False),
        (5, 3, None, 0, True),
        (5, 3, None, 0, False),
        (4, 5, 1, 0, False),
        (7, 3, 2, 2, False),
        (28, 3, 2, 1, True),
    ]
] + [{"input_shape": (1, 9, 9), "kernel_size": 3, "dilation": 2, "padding": 1}]


def test_shape_table_rows_are_pytorch_answers():
    rows = shape_table(CONFIGS)
    assert isinstance(rows, ShapeTable) and len(rows) == len(CONFIGS)
    for config, row in zip(CONFIGS, rows, strict=True):
        params = {"stride": None, "padding": 0, "ceil_mode": False}
        params.update({k: v for k, v in config.items() if k != "input_shape"})
        dilation = params.pop("dilation", 1)
        maxed = torch_shape("max", config["input_shape"], dilation=dilation, **params)
        avg = torch_shape("avg", config["input_shape"], dilation=1, **params)
        assert row["max_pool2d"] == (maxed if maxed is not None else "raises")
        if dilation == 1:
            assert row["avg_pool2d"] == (avg if avg is not None else "raises")
        else:
            assert row["avg_pool2d"] == "n/a"
        assert row["agree"]
        assert row["formula"] == (maxed if maxed is not None else "ValueError")
        if maxed is not None and config.get("ceil_mode"):
            n_h, n_w = config["input_shape"][-2:]
            plain = tuple(
                textbook_output_size(
                    m, params["kernel_size"], params["stride"], params["padding"], ceil_mode=True
                )
                for m in (n_h, n_w)
            )
            assert row["textbook_ceil"] == ("" if plain == maxed[-2:] else f"{plain[0]}×{plain[1]}")
        else:
            assert row["textbook_ceil"] == ""
    assert (
        rows[0]["textbook_ceil"] != ""
    )  # 5×6 input, k=2, s=2, p=1: the plain ceil formula is wrong


def test_shape_table_names_the_broken_rule():
    rows = shape_table(
        [
            {"input_shape": (1, 5, 5), "kernel_size": 3, "padding": 2},
            {"input_shape": (1, 5, 5), "kernel_size": 6},
            {"input_shape": (1, 5, 5), "kernel_size": 2},
        ]
    )
    assert [row["rule"] for row in rows] == ["padding ≤ kernel_size // 2", "output size ≥ 1", ""]
    assert rows[0]["pytorch_error"].startswith("RuntimeError: pad should be")
    assert 'title="output size must be at least 1' in table_html(rows)


def test_errors_carry_the_rule_and_are_value_errors():
    with pytest.raises(PoolingConfigError) as info:
        pool_output_size(5, 3, padding=2)
    assert isinstance(info.value, ValueError) and info.value.rule == "padding ≤ kernel_size // 2"


def test_shape_table_renders_as_markdown_and_html():
    rows = shape_table(CONFIGS[:3])
    markdown = table_markdown(rows)
    lines = markdown.splitlines()
    assert len(lines) == 2 + 3 and lines[0].startswith("| input |")
    assert all(line.count("|") == lines[0].count("|") for line in lines)
    assert "(1, 1, 3, 4)" in lines[2]  # PyTorch's MaxPool2d shape for the first configuration
    html = table_html(rows)
    assert html.startswith("<table>") and html.count("<tr") == 4
    assert rows._repr_html_() == html and rows._repr_markdown_() == markdown


def test_pytorch_output_shape_reports_errors_as_text():
    assert pytorch_output_shape("max", (1, 5, 5), kernel_size=3, padding=2).startswith(
        "RuntimeError"
    )
    assert pytorch_output_shape("avg", (5, 5), kernel_size=2) == (2, 2)
    assert pytorch_output_shape("avg", (1, 5, 5), kernel_size=2, dilation=2).startswith(
        "ValueError"
    )


def test_calculator_shows_formula_pytorch_shape_and_windows():
    result = calculator(height=5, width=7, kernel_size=2, stride=2, padding=1, ceil_mode=True)
    expected = tuple(nn.MaxPool2d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 1, 5, 7)).shape)
    assert result.pytorch_shape == expected and result.formula_shape == expected and result.agree
    assert result.pytorch_error == ""
    assert _explained_sizes(result.explanation) == list(expected[-2:])
    assert len(result.figure.axes) == 2
    import matplotlib.pyplot as plt

    plt.close(result.figure)


def test_calculator_on_an_invalid_configuration_shows_both_errors():
    result = calculator(height=5, width=5, kernel_size=3, stride=1, padding=2, ceil_mode=False)
    assert result.formula_shape is None and result.pytorch_shape is None and result.agree
    assert "pad should be" in result.pytorch_error  # PyTorch's own words
    assert "kernel_size // 2" in result.explanation and result.figure is None
