"""Self-checks of lesson 06 on right and wrong answers: each verdict and each hint is asserted."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from utils.exercises_scratch import (
    check_avg_pool_from_windows,
    check_dropout,
    check_indices,
    check_window_view,
)
from utils.plots import window_view


# ---------------------------------------------------------------------------------------------
# Exercise 1
# ---------------------------------------------------------------------------------------------
def test_window_view_right(capsys):
    x = torch.arange(48.0).reshape(6, 8)
    right = window_view(x, 3, 2)  # our helper, itself checked against unfold in its tests
    assert check_window_view(tuple(right.shape), right.stride()) is True
    assert check_window_view((2, 3, 3, 3), (16, 2, 8, 1)) is True
    assert "nothing copied" in capsys.readouterr().out


def test_window_view_wrong_and_unanswered(capsys):
    assert check_window_view(None, None) is None
    assert "Not answered" in capsys.readouterr().out
    cases = [
        (((2, 3, 3, 3), (8, 1, 8, 1)), "window steps"),  # forgot the stride factor
        (((3, 4, 3, 3), (16, 2, 8, 1)), "(n - k) // s + 1"),  # wrong number of windows
        (((2, 3, 2, 2), (16, 2, 8, 1)), "the window itself"),
        (((2, 3, 3, 3), (16, 2, 1, 8)), "x.stride()"),  # transposed inner strides
        (((2, 3, 3), (16, 2, 8)), "4 entries"),
        (("a", "b"), "tuples of 4 ints"),
    ]
    for (size, stride), words in cases:
        assert check_window_view(size, stride) is False, (size, stride)
        assert words in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# Exercise 2
# ---------------------------------------------------------------------------------------------
def right_avg(x, k, s):
    return window_view(x, k, s).mean(dim=(-2, -1))


def test_avg_pool_from_windows_right(capsys):
    assert check_avg_pool_from_windows(right_avg) is True
    assert (
        check_avg_pool_from_windows(
            lambda x, k, s: x.unfold(0, k, s).unfold(1, k, s).mean((-1, -2))
        )
        is True
    )


def test_avg_pool_from_windows_wrong(capsys):
    assert check_avg_pool_from_windows(None) is None
    capsys.readouterr()
    cases = [
        (lambda x, k, s: F.avg_pool2d(x[None], k, s)[0], "pooling function"),
        (lambda x, k, s: window_view(x, k, s).sum(dim=(-2, -1)), "divide by k·k"),
        (lambda x, k, s: window_view(x, k, 1).mean(dim=(-2, -1)), "Shape"),
        (lambda x, k, s: window_view(x, k, s).amax(dim=(-2, -1)), "Values differ"),
        (lambda x, k, s: x.mul_(2), "changed its input"),
        (lambda x, k, s: 1 / 0, "ZeroDivisionError"),
        (lambda x, k, s: [1.0], "Return a tensor"),
        ("my_avg_pool", "function itself"),
    ]
    for fn, words in cases:
        assert check_avg_pool_from_windows(fn) is False, words
        assert words in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# Exercise 3
# ---------------------------------------------------------------------------------------------
def test_indices(capsys):
    x = torch.tensor([[5.0, 7.0, 7.0], [7.0, float("nan"), float("nan")]]).reshape(1, 1, 2, 3)
    right = F.max_pool2d(x, 2, stride=1, return_indices=True)[1].flatten().tolist()
    assert check_indices(right) is True
    assert check_indices(None) is None
    capsys.readouterr()
    cases = [
        ([1, right[1]], "NaN wins"),  # the first 7
        ([right[0], 4], "LAST"),  # the first NaN of window 1
        ([right[0], 0], "not in the window"),
        ([right[0]], "give 2 indices"),
        (["x", 1], "two whole numbers"),
    ]
    for answer, words in cases:
        assert check_indices(answer) is False, answer
        assert words in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# Exercise 4
# ---------------------------------------------------------------------------------------------
def test_dropout_right(capsys):
    assert check_dropout(lambda x, p: x * (torch.rand_like(x) >= p) / (1 - p)) is True
    assert check_dropout(lambda x, p: x * torch.empty_like(x).bernoulli_(1 - p) / (1 - p)) is True


def test_dropout_wrong(capsys):
    assert check_dropout(None) is None
    capsys.readouterr()
    cases = [
        (lambda x, p: F.dropout(x, p), "PyTorch dropout function"),
        (lambda x, p: x * (torch.rand_like(x) >= p), "unchanged"),
        (lambda x, p: x * (torch.rand_like(x) < p) / p, "probability to DROP"),
        (lambda x, p: x * (torch.rand_like(x) >= p / 2) / (1 - p), "expected about"),
        (lambda x, p: x * (torch.rand_like(x) >= p) * (1 - p), "x / (1 - p)"),
        (lambda x, p: x.mul_(torch.rand_like(x) >= p), "changed its input"),
        (lambda x, p: x[:10], "input's shape"),
    ]
    for fn, words in cases:
        assert check_dropout(fn) is False, words
        assert words in capsys.readouterr().out
