"""Average-pooling divisors: the rule in utils/divisors.py against PyTorch, measured two ways."""

from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from utils.divisors import (
    divisor_labels,
    divisors,
    measured_divisors,
    window_counts,
    window_table,
)

CLASSIC = [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]]


@st.composite
def configs(draw, valid_only=False):
    """Random AvgPool2d configurations (per-dimension kernel, stride, padding) on small inputs."""
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 5), st.integers(1, 5))))
    if valid_only:
        padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    else:
        padding = (draw(st.integers(0, kh // 2 + 1)), draw(st.integers(0, kw // 2 + 1)))
    params = {
        "kernel_size": (kh, kw),
        "stride": stride,
        "padding": padding,
        "ceil_mode": draw(st.booleans()),
        "count_include_pad": draw(st.booleans()),
        "divisor_override": draw(st.one_of(st.none(), st.integers(1, 20))),
    }
    return h, w, params


def _torch_accepts(h, w, params) -> bool:
    try:
        F.avg_pool2d(torch.zeros(1, 1, h, w), **params)
    except RuntimeError:
        return False
    return True


@settings(max_examples=250, deadline=None)
@given(configs())
def test_rule_matches_pytorch_or_both_refuse(config):
    h, w, params = config
    if _torch_accepts(h, w, params):
        assert torch.equal(divisors(h, w, **params), measured_divisors(h, w, **params))
    else:
        with pytest.raises(ValueError):
            divisors(h, w, **params)


@settings(max_examples=200, deadline=None)
@given(configs(valid_only=True))
def test_gradient_is_one_over_divisor(config):
    """A second measurement: d(sum of outputs)/d(input) adds 1/divisor for every window."""
    h, w, params = config
    assume(_torch_accepts(h, w, params))
    x = torch.zeros(1, 1, h, w, dtype=torch.float64, requires_grad=True)
    F.avg_pool2d(x, **params).sum().backward()
    expected = torch.zeros(h, w, dtype=torch.float64)
    divs = divisors(h, w, **params)
    for row in window_table(torch.zeros(h, w), **params):
        for r in row["rows"]:
            for c in row["cols"]:
                expected[r, c] += 1 / divs[row["out"]].item()
    torch.testing.assert_close(x.grad[0, 0], expected)


@settings(max_examples=200, deadline=None)
@given(configs(valid_only=True), st.integers(0, 2**31 - 1))
def test_window_table_is_average_pooling(config, seed):
    h, w, params = config
    assume(_torch_accepts(h, w, params))
    grid = torch.randint(-9, 10, (h, w), generator=torch.Generator().manual_seed(seed))
    expected = F.avg_pool2d(grid[None, None].double(), **params)[0, 0]
    table = window_table(grid, **params)
    assert len(table) == expected.numel()
    for row in table:
        assert isinstance(row["value"], Fraction)
        assert float(row["value"]) == pytest.approx(expected[row["out"]].item(), abs=1e-12)
        assert row["sum"] == int(
            grid[row["rows"].start : row["rows"].stop, row["cols"].start : row["cols"].stop].sum()
        )


def test_classic_example_divides_by_cells_inside():
    """5×5, kernel 3, ceil_mode=True: the partial windows divide by 6, 6 and 4, not 9."""
    expected = torch.tensor([[9, 6], [6, 4]])
    assert torch.equal(divisors(5, 5, 3, ceil_mode=True), expected)
    assert torch.equal(measured_divisors(5, 5, 3, ceil_mode=True), expected)
    values = [row["value"] for row in window_table(CLASSIC, 3, ceil_mode=True)]
    assert values == [Fraction(10, 9), Fraction(8, 6), Fraction(13, 6), Fraction(4, 4)]
    out = F.avg_pool2d(torch.tensor(CLASSIC, dtype=torch.float64)[None, None], 3, ceil_mode=True)
    assert out.flatten().tolist() == pytest.approx([float(v) for v in values])


def test_padding_counts_but_overhang_does_not():
    # n=6, k=3, s=2, p=1, ceil: the last window [5, 8) has 1 real, 1 padding, 1 overhang cell.
    last = window_counts(6, 3, 2, 1, ceil_mode=True)[-1]
    assert (last["start"], last["real"], last["padding"], last["overhang"]) == (5, 1, 1, 1)
    assert torch.equal(measured_divisors(6, 6, 3, 2, 1, ceil_mode=True)[-1, -1], torch.tensor(4))
    assert torch.equal(
        measured_divisors(6, 6, 3, 2, 1, ceil_mode=True, count_include_pad=False)[-1, -1],
        torch.tensor(1),
    )


def test_divisor_override_and_labels():
    assert torch.equal(
        divisors(5, 5, 3, ceil_mode=True, divisor_override=1), torch.ones(2, 2, dtype=torch.int64)
    )
    assert divisor_labels(torch.tensor([[9, 6], [6, 4]])) == [["÷9", "÷6"], ["÷6", "÷4"]]


def test_bad_input_says_what_to_do():
    with pytest.raises(ValueError, match="divisor_override must not be 0"):
        divisors(5, 5, 3, divisor_override=0)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(torch.ones(1, 1, 5, 5), 3, divisor_override=0)
    with pytest.raises(TypeError, match="divisor_override"):
        divisors(5, 5, 3, divisor_override=2.5)
    with pytest.raises(ValueError, match="pair"):
        divisors(5, 5, (3, 3, 3))
    with pytest.raises(ValueError, match="2-D"):
        window_table(torch.zeros(1, 5, 5), 3)
    with pytest.raises(ValueError, match="padding"):
        divisors(5, 5, 2, padding=2)


def test_draw_results_shows_sum_over_divisor():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils.divisors import draw_results, fraction_text

    table = window_table(CLASSIC, 3, ceil_mode=True)
    fig, ax = plt.subplots()
    draw_results(ax, table)
    texts = [t.get_text() for t in ax.texts]
    assert [fraction_text(r) for r in table] == ["10/9", "8/6", "13/6", "4/4"]
    assert {"10/9", "8/6", "13/6", "4/4", "1.11", "1.33", "2.17", "1"} <= set(texts)
    plt.close(fig)
