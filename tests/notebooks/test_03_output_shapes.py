"""Lesson 03's claims, checked on the values (and functions) the executed notebook defined.

The notebook's own `output_size` / `output_size_ceil` are compared with the shape PyTorch returns on
many configurations (the parameter sweep that used to sit in the notebook lives here now).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from utils.shapes import pool2d_output_shape, pool_output_size

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def run(notebook_runs):
    return notebook_runs("03_output_shapes")


def pytorch_size(n, k, s, p, d, ceil_mode):
    """PyTorch's output width on a 1×1×n input (kernel along W only), or 0 if PyTorch refuses."""
    try:
        return F.max_pool2d(torch.zeros(1, 1, n), (1, k), (1, s), (0, p), (1, d), ceil_mode).shape[-1]
    except RuntimeError:
        return 0


SMALL = [(n, k, s, p, d) for n in range(1, 17) for k in range(1, 6) for s in range(1, 7)
         for p in range(k // 2 + 1) for d in (1, 2)]


@pytest.fixture(scope="module")
def sweep(run):
    """The notebook's two functions on every small valid-padding configuration, in one kernel call."""
    got = run.value(f"[(output_size(*c), output_size_ceil(*c)) for c in {SMALL}]")
    return dict(zip(SMALL, got, strict=True))


def test_formula_in_the_notebook_equals_pytorch_on_every_small_configuration(sweep):
    for (n, k, s, p, d), (floor, ceil) in sweep.items():
        want_floor, want_ceil = pytorch_size(n, k, s, p, d, False), pytorch_size(n, k, s, p, d, True)
        # where PyTorch refuses (output < 1) the formula gives a count below 1
        assert (floor if floor >= 1 else 0) == want_floor, (n, k, s, p, d)
        assert (ceil if ceil >= 1 else 0) == want_ceil, (n, k, s, p, d, "ceil")


def test_the_ceil_mode_claims(sweep):
    fired = 0
    for (n, k, s, p, d), _ in sweep.items():
        floor, ceil = pytorch_size(n, k, s, p, d, False), pytorch_size(n, k, s, p, d, True)
        if ceil == 0:
            continue
        assert ceil - floor in (0, 1)  # floor mode's count or one more, never fewer
        plain = -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1
        if plain != ceil:  # the drop rule fired
            fired += 1
            assert p > 0 or s > k
            assert ceil == floor == plain - 1
    assert fired > 0


@st.composite
def configs(draw):
    k = draw(st.integers(1, 9))
    return (draw(st.integers(1, 200)), k, draw(st.integers(1, 12)), draw(st.integers(0, k // 2)),
            draw(st.integers(1, 4)))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(configs())
def test_formula_equals_pytorch_on_random_configurations(run, config):
    n, k, s, p, d = config
    floor, ceil = run.value(f"(output_size{config}, output_size_ceil{config})")
    assert max(floor, 0) == pytorch_size(n, k, s, p, d, False)
    assert max(ceil, 0) == pytorch_size(n, k, s, p, d, True)
    if pytorch_size(n, k, s, p, d, True):
        assert pool_output_size(n, k, s, p, d, ceil_mode=True) == ceil


def test_stride_none_means_kernel_size(run):
    assert run.value("output_size(32, 2)") == F.max_pool2d(torch.zeros(1, 1, 32, 32), 2).shape[-1] == 16
    assert torch.nn.MaxPool2d(3).stride == 3 and torch.nn.AvgPool2d(3).stride == 3


def test_floor_division_below_zero(run):
    assert run.value("output_size(2, 3, 2)") == 0
    assert int((2 - 2 - 1) / 2) + 1 == 1  # truncation would claim one window
    with pytest.raises(RuntimeError, match="Output size is too small"):
        torch.nn.MaxPool2d(3, stride=2)(torch.zeros(1, 1, 2, 2))


def test_the_dropped_window_example(run):
    assert run.value("pytorch") == pytorch_size(5, 2, 2, 1, 1, True) == 3
    assert run.value("plain_ceil") == 4
    assert run.value("output_size_ceil(5, 2, 2, 1)") == 3
    # the original lesson's 5×5: MaxPool2d(3) gives 1×1, with ceil_mode 2×2
    assert pytorch_size(5, 3, 3, 0, 1, False) == 1 and pytorch_size(5, 3, 3, 0, 1, True) == 2


def test_padding_limit_is_half_the_kernel_whatever_the_dilation():
    for k in range(1, 7):
        for d in (1, 2, 3):
            accepted = [p for p in range(k + 2) if pytorch_size(32, k, 1, p, d, False)]
            assert accepted == list(range(k // 2 + 1)), (k, d)
    with pytest.raises(RuntimeError, match="effective kernel size"):
        torch.nn.MaxPool2d(3, padding=2)(torch.zeros(1, 1, 9, 9))


def test_helpers_agree_with_pytorch_on_the_notebooks_table(run):
    assert run.value("len(configs)") == 10
    assert run.value("all(row['agree'] for row in shape_table(configs))") is True
    for c in run.value("[(c['input_shape'], c['kernel_size'], c['stride'], c['padding'], c['ceil_mode']) "
                       "for c in configs]"):
        shape, k, s, p, ceil = c
        try:
            want = tuple(F.max_pool2d(torch.zeros(shape), k, s, p, ceil_mode=ceil).shape)
        except RuntimeError:
            continue
        assert pool2d_output_shape(tuple(shape), k, s, p, ceil_mode=ceil) == want


def test_calculator_function_agrees_with_pytorch(run):
    assert run.value("calculator(7, 9, 3, 2, 1, 2, True, draw=False).agree") is True
    assert run.value("calculator(7, 9, 3, 2, 1, 2, True, draw=False).pytorch_shape") == list(
        F.max_pool2d(torch.zeros(1, 1, 7, 9), 3, 2, 1, 2, ceil_mode=True).shape)
    assert run.value("callable(show)") is True


def test_deep_dive_claims(run):
    assert run.value("pool2d_output_shape(shape, **params)") == list(
        torch.nn.MaxPool2d((3, 2), (2, 1), (1, 0), (2, 1))(torch.zeros(8, 3, 28, 20)).shape)
    for shape, params in run.value("invalid"):
        with pytest.raises(RuntimeError):
            torch.nn.MaxPool2d(**params)(torch.zeros(shape))
        with pytest.raises(ValueError):
            pool2d_output_shape(tuple(shape), **params)
    assert torch.nn.MaxPool2d(2)(torch.zeros(0, 3, 6, 6)).shape == (0, 3, 3, 3)
    assert torch.nn.MaxPool2d(6, ceil_mode=True)(torch.zeros(1, 1, 5, 5)).shape == (1, 1, 1, 1)
    out = torch.nn.MaxPool2d((1, 2), stride=1, padding=(0, 1), dilation=(1, 3))(torch.tensor([[[1.0, 2.0]]]))
    assert out.flatten().tolist() == [float("-inf")]


def test_the_drop_rule_already_fires_below_n_5():
    """Lesson 03 §2 calls n=5, k=2, s=2, p=1 "a small case" and says the rule also fires at n=1 and
    n=3 with the same k, s, p (it once said n=5 was the smallest): PyTorch gives one window fewer than
    the plain ceil formula there, and the same as it at n=2 and n=4."""
    def plain_ceil(n):
        return -(-(n + 2 - 2) // 2) + 1

    for n in (1, 3, 5):
        assert pytorch_size(n, 2, 2, 1, 1, True) == plain_ceil(n) - 1, n
    for n in (2, 4):
        assert pytorch_size(n, 2, 2, 1, 1, True) == plain_ceil(n), n
