"""utils.shapes against PyTorch itself: the same shape where PyTorch computes one, a refusal where
PyTorch refuses, and a "Fix:" that PyTorch accepts when applied literally.

Every expected value comes from running nn.MaxPool2d / nn.AvgPool2d, never from our own output.
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

from utils import shapes
from utils.shapes import (
    PoolingConfigError,
    PoolingTypeError,
    ShapeRow,
    explain,
    pool2d_output_shape,
    pool_output_size,
    pytorch_output_shape,
    shape_table,
    textbook_output_size,
)

TORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError)
OURS = (PoolingConfigError, PoolingTypeError)
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def torch_shape(
    layer, shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, device="cpu"
):
    """The shape PyTorch returns for a zero input, or None when it raises."""
    x = torch.zeros(shape, device=device) if device == "cpu" else torch.empty(shape, device=device)
    try:
        if layer == "max":
            return tuple(
                nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)(x).shape
            )
        return tuple(nn.AvgPool2d(kernel_size, stride, padding, ceil_mode=ceil_mode)(x).shape)
    except TORCH_ERRORS:
        return None


def ours(shape, *params):
    try:
        return pool2d_output_shape(shape, *params)
    except OURS:
        return None


@st.composite
def int_or_pair(draw, values):
    """Mostly an int or a pair, sometimes a 1-tuple, rarely () or a triple (PyTorch refuses)."""
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(st.one_of(st.just(()), st.tuples(values, values, values)))
    if kind <= 3:
        return (draw(values),)
    return (draw(values), draw(values)) if kind <= 10 else draw(values)


@st.composite
def any_config(draw, max_size=40, dilation=True):
    ndim = draw(st.sampled_from([1, 2, 3, 4, 5]))
    lead = [draw(st.integers(0, 2)) for _ in range(max(0, ndim - 2))]
    shape = (*lead, *[draw(st.integers(0, max_size)) for _ in range(min(ndim, 2))])
    k = draw(int_or_pair(st.integers(-2, 12)))
    s = draw(st.one_of(st.none(), int_or_pair(st.integers(-2, 12))))
    p = draw(int_or_pair(st.integers(-2, 7)))
    d = draw(int_or_pair(st.integers(-1, 5))) if dilation else 1
    return shape, k, s, p, d, draw(st.booleans())


@st.composite
def valid_biased_config(draw, max_size=300, dilation=True, max_kernel=40):
    """Parameters PyTorch mostly accepts: positive kernel/stride/dilation, 0 <= padding <= k//2."""
    shape = [draw(st.integers(0, 2)), draw(st.integers(1, 3))][: draw(st.integers(1, 2))]
    ks, ss, ps, ds = [], [], [], []
    for _ in range(2):
        ks.append(draw(st.integers(1, max_kernel)))
        ss.append(draw(st.integers(1, max_kernel + 5)))
        ps.append(draw(st.integers(0, ks[-1] // 2)))
        ds.append(draw(st.integers(1, 6)) if dilation else 1)
        shape.append(draw(st.integers(1, max_size)))
    stride = None if draw(st.booleans()) and ks == ss else tuple(ss)
    return tuple(shape), tuple(ks), stride, tuple(ps), tuple(ds), draw(st.booleans())


@SETTINGS
@given(st.one_of(any_config(), valid_biased_config()))
def test_max_pool_shape_matches_pytorch(config):
    assert ours(*config) == torch_shape("max", *config)


@SETTINGS
@given(st.one_of(any_config(dilation=False), valid_biased_config(dilation=False)))
def test_avg_pool_shape_matches_pytorch(config):
    assert ours(*config) == torch_shape("avg", *config)


@st.composite
def huge_config(draw):
    """Sizes up to 2**31; kernel, stride, dilation up to 1000; padding sometimes one too many."""
    big, small = draw(st.integers(1, 2**31)), draw(st.integers(1, 2**20))
    h, w = (big, small) if draw(st.booleans()) else (small, big)
    k = draw(st.integers(1, 1000))
    p = draw(st.integers(0, k // 2 + (1 if draw(st.integers(0, 9)) == 0 else 0)))
    s, d = draw(st.integers(1, 1000)), draw(st.integers(1, 1000))
    return (1, 1, h, w), k, s, p, d, draw(st.booleans())


@SETTINGS
@given(huge_config())
def test_huge_sizes_match_pytorch_meta_kernels(config):
    """Through PyTorch's meta kernels (the same shape rules, no data)."""
    assert ours(*config) == torch_shape("max", *config, device="meta")


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
    try:
        stride = None if s is None else (1, s)
        expected = F.max_pool2d(torch.zeros(1, 1, n), (1, k), stride, (0, p), (1, d), ceil).shape[
            -1
        ]
    except TORCH_ERRORS:
        expected = None
    try:
        got = pool_output_size(n, k, s, p, d, ceil)
    except OURS:
        got = None
    assert got == expected


# ---------------------------------------------------------------------------------------------
# Every "Fix:" is a configuration PyTorch accepts for the same input (issue 12, case 9)
# ---------------------------------------------------------------------------------------------
WRONG = st.sampled_from([2.0, 2.5, True, "2", "two", None, (2, 2, 2), (), [3], (1.5, 2), 10**6])


def argument(values):
    return st.one_of(values, int_or_pair(values), WRONG)


@st.composite
def mistaken_config(draw):
    ndim = draw(st.sampled_from([1, 2, 3, 3, 4, 4, 5]))
    shape = tuple(draw(st.integers(0 if i == 0 and ndim >= 4 else 1, 9)) for i in range(ndim))
    return shape, {
        "kernel_size": draw(argument(st.integers(-2, 12))),
        "stride": draw(st.one_of(st.none(), argument(st.integers(-2, 8)))),
        "padding": draw(argument(st.integers(-2, 6))),
        "dilation": draw(argument(st.integers(-1, 4))),
        "ceil_mode": draw(st.one_of(st.booleans(), st.sampled_from([0, 1, "yes", None]))),
    }


def assert_fix_works(err, shape, params) -> tuple:
    """The message shows the fix; PyTorch accepts the fixed call and agrees with us on it."""
    assert err.fix, f"no fix in {err}"
    text = str(err)
    assert "Fix: " + ", ".join(f"{k}={v!r}" for k, v in err.fix.items()) in text
    fixed = {**params, **err.fix}
    fixed_shape = fixed.pop("input_shape", shape)
    y = nn.MaxPool2d(**fixed)(torch.zeros(fixed_shape))  # raises if PyTorch refuses the fix
    assert tuple(y.shape) == pool2d_output_shape(fixed_shape, **fixed)
    return fixed_shape, fixed


@SETTINGS
@given(mistaken_config())
def test_every_fix_is_accepted_by_pytorch(case):
    shape, params = case
    try:
        pool2d_output_shape(shape, **params)
    except OURS as err:
        if 0 in shape[-3:]:  # an empty C, H or W: no argument can help, so no "Fix:"
            assert not err.fix and "Fix:" not in str(err)
            return
        fixed_shape, fixed = assert_fix_works(err, shape, params)
        if fixed.get("dilation") in (1, (1,), (1, 1)):  # the same fix works for nn.AvgPool2d
            fixed.pop("dilation")
            nn.AvgPool2d(**fixed)(torch.zeros(fixed_shape))
    else:
        assert torch_shape("max", shape, **params) is not None


@SETTINGS
@given(st.integers(1, 30), mistaken_config())
def test_every_fix_of_one_dimension_is_accepted_by_pytorch(n, case):
    """One dimension = the width of a (1, 1, n) input: a (1, k) kernel, (0, p) padding."""
    _, params = case
    params = {k: v[0] if isinstance(v, tuple) and len(v) == 2 else v for k, v in params.items()}
    try:
        pool_output_size(n, **params)
    except OURS as err:
        assert "Fix: " in str(err)
        fixed = {**params, **err.fix}
        width = {
            "kernel_size": (1, fixed["kernel_size"]),
            "padding": (0, fixed["padding"]),
            "dilation": (1, fixed["dilation"]),
            "ceil_mode": fixed["ceil_mode"],
        }
        if fixed["stride"] not in (None, ()):
            width["stride"] = (1, fixed["stride"])
        assert pool_output_size(n, **fixed) == torch_shape("max", (1, 1, n), **width)[-1]


@pytest.mark.parametrize(
    ("shape", "params", "words", "fix"),
    [
        ((1, 5, 5), {"kernel_size": 0}, "kernel_size must be > 0", {"kernel_size": 1}),
        ((1, 5, 5), {"kernel_size": 2, "stride": 0}, "stride must be > 0", {"stride": 2}),
        ((1, 5, 5), {"kernel_size": 2, "dilation": 0}, "dilation must be > 0", {"dilation": 1}),
        ((1, 5, 5), {"kernel_size": 2, "padding": -1}, "never crops", {"padding": 0}),
        ((1, 5, 5), {"kernel_size": 3, "padding": 2}, "at most half the kernel", {"padding": 1}),
        (
            (1, 9, 9),
            {"kernel_size": 3, "padding": 2, "dilation": 2},
            "does not raise",
            {"padding": 1},
        ),
        # the common mistake of issue 12: the window is larger than the input
        ((1, 2, 2), {"kernel_size": 3, "stride": 2}, "at least 1", {"padding": 1}),
        ((1, 5, 5), {"kernel_size": (2, 6)}, "for W = 5", {"padding": (0, 3)}),
        ((1, 0, 5), {"kernel_size": 1}, "H must be at least 1", {}),
        ((1, 0, 5, 5), {"kernel_size": 1}, "C must be at least 1", {}),
        ((5,), {"kernel_size": 1}, "a 1-D shape", {"input_shape": (1, 1, 5)}),
        ((5, 5), {"kernel_size": 2}, "a 2-D shape", {"input_shape": (1, 5, 5)}),
        ((2, 1, 1, 5, 5), {"kernel_size": 1}, "a 5-D shape", {"input_shape": (2, 1, 5, 5)}),
        ((1, 5, 5), {"kernel_size": (2, 2, 2)}, "pair of ints", {"kernel_size": (2, 2)}),
        ((1, 5, 5), {"kernel_size": 2.0}, "pair of ints", {"kernel_size": 2}),
        ((1, 5, 5), {"kernel_size": 2, "ceil_mode": "False"}, "True or False", {"ceil_mode": True}),
    ],
)
def test_refusals_name_the_rule_and_the_fix(shape, params, words, fix):
    with pytest.raises(TORCH_ERRORS):
        nn.MaxPool2d(**params)(torch.zeros(shape))
    with pytest.raises(OURS) as info:
        pool2d_output_shape(shape, **params)
    assert words in str(info.value) and info.value.fix == fix
    if fix:
        assert_fix_works(info.value, shape, params)


def test_error_kinds_follow_pytorch():
    with pytest.raises(TypeError):
        nn.MaxPool2d(2.0)(torch.zeros(1, 5, 5))
    with pytest.raises(PoolingTypeError):
        pool2d_output_shape((1, 5, 5), 2.0)
    with pytest.raises(PoolingConfigError) as info:
        pool_output_size(5, 3, padding=2)
    assert isinstance(info.value, ValueError) and info.value.rule == "padding ≤ kernel_size // 2"


def test_padding_limit_is_half_the_kernel_whatever_the_dilation():
    for k, d, p in itertools.product(range(1, 7), range(1, 4), range(0, 8)):
        torch_ok = torch_shape("max", (1, 30, 30), k, 1, p, d) is not None
        assert torch_ok == (p <= k // 2) == (ours((1, 30, 30), k, 1, p, d, False) is not None)


def test_accepted_spellings_mean_what_pytorch_means():
    np = pytest.importorskip("numpy")
    assert pool2d_output_shape((0, 3, 8, 8), 2) == torch_shape("max", (0, 3, 8, 8), 2)  # N = 0
    expected = torch_shape("max", (1, 8, 8), np.int64(3), np.int64(2), ceil_mode=True)
    assert (
        pool2d_output_shape((1, 8, 8), np.int64(3), np.int64(2), ceil_mode=np.bool_(True))
        == expected
    )
    expected = tuple(nn.MaxPool2d((3,), stride=(), padding=(1,))(torch.zeros(1, 7, 7)).shape)
    assert pool2d_output_shape((1, 7, 7), (3,), stride=(), padding=(1,)) == expected


def test_ceil_mode_drops_the_window_starting_in_padding_and_the_textbook_misses_it():
    actual = nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)(torch.zeros(1, 5, 5)).shape[-1]
    assert pool_output_size(5, 2, 2, 1, ceil_mode=True) == actual == 3
    assert textbook_output_size(5, 2, 2, 1, ceil_mode=True) == 4


def test_textbook_ceil_is_wrong_only_with_padding_or_stride_above_kernel():
    wrong = set()
    for n, k, s, p in itertools.product(range(1, 13), range(1, 6), range(1, 7), range(0, 3)):
        actual = torch_shape("max", (1, 1, n), (1, k), (1, s), (0, p), 1, True)
        if actual is not None and textbook_output_size(n, k, s, p, ceil_mode=True) != actual[-1]:
            wrong.add((n, k, s, p))
            assert p > 0 or s > k, (n, k, s, p)
        floor = torch_shape("max", (1, 1, n), (1, k), (1, s), (0, p), 1, False)
        if floor is not None:
            assert textbook_output_size(n, k, s, p) == floor[-1]
    assert (5, 2, 2, 1) in wrong and any(p == 0 for *_, p in wrong)


# ---------------------------------------------------------------------------------------------
# explain, pytorch_output_shape, the table
# ---------------------------------------------------------------------------------------------
def explained_sizes(text: str) -> list[int]:
    return [int(v) for v in re.findall(r"→ \w+_out = (-?\d+)", text)]


@SETTINGS
@given(valid_biased_config(max_size=60, max_kernel=10))
def test_explain_ends_with_pytorch_numbers(config):
    shape, k, s, p, d, ceil = config
    expected = torch_shape("max", *config)
    text = explain(*config)
    if expected is None:
        assert "✗ PyTorch raises:" in text and explained_sizes(text) == []
        assert "Fix: " in text or "no empty C, H or W" in text
    else:
        assert explained_sizes(text) == list(expected[-2:])
        assert f"output shape {expected}" in text and ("ceil(" if ceil else "floor(") in text


def test_explain_substitutes_numbers_and_names_the_dropped_window():
    actual = nn.MaxPool2d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 5, 5)).shape[-1]
    text = explain(5, 2, 2, 1, ceil_mode=True)
    assert "ceil((5 + 2·1 − 1·(2 − 1) − 1) / 2) + 1" in text and "= 3 + 1 = 4" in text
    assert "drops it" in text and "right padding" in text and explained_sizes(text) == [actual]
    kept = explain(6, 3, 2, 1, ceil_mode=True)
    assert "it is kept" in kept and explained_sizes(kept) == [
        F.max_pool2d(torch.zeros(1, 1, 6), (1, 3), (1, 2), (0, 1), ceil_mode=True).shape[-1]
    ]
    assert "leftover cells are not pooled" in explain(6, 3, 2, 1)


def test_explain_reports_the_broken_rule_and_its_fix_instead_of_raising():
    text = explain((1, 5, 5), 3, padding=2)
    assert "✗ PyTorch raises:" in text and "Fix: padding=1" in text


@pytest.mark.parametrize("shape", [(5, 5), (5,), (1, 1, 1, 5, 5)])
def test_pytorch_output_shape_refuses_what_nn_max_pool2d_refuses(shape):
    with pytest.raises(RuntimeError) as info:
        nn.MaxPool2d(2)(torch.zeros(shape))
    assert pytorch_output_shape("max", shape, kernel_size=2) == f"RuntimeError: {info.value}"
    assert not isinstance(pytorch_output_shape("avg", shape, kernel_size=2), tuple)
    assert pytorch_output_shape("max", (1, 5, 5), kernel_size=2) == (1, 2, 2)


CONFIGS = [
    {"input_shape": (1, 1, n, n + 1), "kernel_size": k, "stride": s, "padding": p, "ceil_mode": c}
    for n, k, s, p, c in [
        (5, 2, 2, 1, True),
        (5, 2, 2, 1, False),
        (5, 3, None, 0, True),
        (4, 5, 1, 0, False),
        (7, 3, 2, 2, False),
        (28, 3, 2, 1, True),
    ]
] + [{"input_shape": (1, 9, 9), "kernel_size": 3, "dilation": 2, "padding": 1}]


def test_shape_table_rows_are_pytorch_answers():
    rows = shape_table(CONFIGS)
    assert len(rows) == len(CONFIGS) and all(isinstance(row, ShapeRow) for row in rows)
    for config, row in zip(CONFIGS, rows, strict=True):
        params = {k: v for k, v in config.items() if k != "input_shape"}
        maxed = torch_shape("max", config["input_shape"], **params)
        assert row.max_pool2d == maxed == row.formula and row.agree
        if params.get("dilation", 1) == 1:
            assert row.avg_pool2d == torch_shape("avg", config["input_shape"], **params)
        assert (row.textbook_ceil is not None) == (row is rows[0])  # only 5×6, k=2, s=2, p=1
    assert rows[0].textbook_ceil == tuple(
        textbook_output_size(n, 2, 2, 1, ceil_mode=True) for n in (5, 6)
    )


def test_shape_table_names_the_broken_rule_and_renders():
    rows = shape_table(
        [
            {"input_shape": (1, 5, 5), "kernel_size": 3, "padding": 2},
            {"input_shape": (1, 5, 5), "kernel_size": 6},
            {"input_shape": (1, 5, 5), "kernel_size": 2},
        ]
    )
    assert [row.rule for row in rows] == ["padding ≤ kernel_size // 2", "output size ≥ 1", ""]
    assert rows[0].pytorch_error.startswith("RuntimeError: pad should be") and rows[0]["agree"]
    lines = rows._repr_markdown_().splitlines()
    assert len(lines) == 5 and all(line.count("|") == lines[0].count("|") for line in lines)
    assert "(1, 2, 2)" in lines[4] and "raises" in lines[2]
    page = rows._repr_html_()
    assert page.startswith("<table>") and page.count("<tr") == 4 and "Fix: padding=1" in page


@pytest.mark.parametrize("args", [(5, 2, 2, 1, 1, True), ((1, 5, 5), 3, None, 0, 1, True), (10, 3, 2, 0, 1, False),
                                  (5, 7, None, 0, 1, False)])
def test_explain_speaks_the_readers_language_with_the_same_numbers(monkeypatch, args):
    """Lesson 03's explain() in the Chinese edition is Chinese (utils/labels_zh.json), with the very
    numbers of the English text: only the words change."""
    monkeypatch.setenv("COURSE_LANGUAGE", "en")
    english = shapes.explain(*args)
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    chinese = shapes.explain(*args)
    assert re.search(r"[\u4e00-\u9fff]", chinese) and not re.search(r"[\u4e00-\u9fff]", english)
    assert not re.search(r"\b(rule|rounds|input|output shape|raises)\b", chinese.split("✗")[0]), chinese
    assert re.findall(r"\d+", english) == re.findall(r"\d+", chinese)
