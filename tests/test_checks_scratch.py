"""utils.checks.scratch: right answers pass, each typical wrong answer fails with its hint.

Right answers are derived from PyTorch here too (never typed from the checks' own output).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from utils.checks.scratch import TIE, check_avg_fast, check_dropout2d, check_padding, check_tie


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("COURSE_LANGUAGE", "en")


def torch_tie_gradient():
    leaf = torch.tensor(TIE).reshape(1, 1, 2, 2).requires_grad_()
    F.max_pool2d(leaf, 2).sum().backward()
    return leaf.grad[0, 0].tolist()


def test_tie(capsys):
    assert check_tie(None) is None
    assert check_tie(torch_tie_gradient()) is True
    assert check_tie([[0, 0.5], [0.5, 0]]) is False  # what Tensor.max() would give
    assert "first it visits" in capsys.readouterr().out
    assert check_tie([[0, 1], [1, 0]]) is False
    assert "add up to 1" in capsys.readouterr().out
    assert check_tie("[[0, 1], [0, 0]]") is False
    assert check_tie([[0, 1, 0], [0, 0, 0]]) is False


def padded(include):
    return F.avg_pool2d(torch.ones(1, 1, 3, 3), 2, stride=2, padding=1,
                        count_include_pad=include)[0, 0].tolist()  # fmt: skip


def test_padding(capsys):
    assert check_padding(None, padded(False)) is None
    assert check_padding(padded(True), padded(False)) is True
    assert check_padding(padded(False), padded(False)) is False  # forgot the padding counts
    assert "divides by 2·2 = 4" in capsys.readouterr().out
    assert check_padding(padded(True), padded(True)) is False
    assert "real cells only" in capsys.readouterr().out
    assert check_padding([1, 2, 3], padded(False)) is False


def good_dropout2d(X, p):
    if p == 1:
        return torch.zeros_like(X)
    return X * (torch.rand(X.shape[0], X.shape[1], 1, 1) >= p) / (1 - p)


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda X, p: X * (torch.rand(X.shape[0], X.shape[1], 1, 1) >= p) / (1 - p), "NaN"),  # p=1
        (lambda X, p: X * (torch.rand_like(X) >= p) / (1 - p) if p < 1 else 0 * X, "one draw"),
        (lambda X, p: X * (torch.rand(X.shape[0], X.shape[1], 1, 1) < p) / (1 - p) if p < 1
         else 0 * X, "p is the probability to DROP"),  # p means keep
        (lambda X, p: X * (torch.rand(X.shape[0], X.shape[1], 1, 1) >= p) if p < 1 else 0 * X,
         "X / (1 − p)"),  # not scaled
        (lambda X, p: nn.functional.dropout2d(X, p), "no PyTorch dropout"),
        (lambda X, p: X.mul_(torch.rand(X.shape[0], X.shape[1], 1, 1) >= p).div_(1 - p) if p < 1
         else X.zero_(), "changed its input"),  # right values, but written into X
        (lambda X, p: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_dropout2d_wrong(fn, hint, capsys):
    assert check_dropout2d(fn) is False
    assert hint in capsys.readouterr().out


def test_dropout2d_right_and_placeholders():
    torch.manual_seed(0)
    assert check_dropout2d(good_dropout2d) is True
    assert check_dropout2d(nn.Dropout2d(0.5).eval()) is False  # not a function of (X, p)
    assert check_dropout2d(None) is None
    assert check_dropout2d(3) is False


def good_avg(X, k, s, p):
    def windows(T):
        return F.pad(T, (p, p, p, p)).unfold(2, k, s).unfold(3, k, s)

    return windows(X).sum(dim=(-2, -1)) / windows(torch.ones_like(X)).sum(dim=(-2, -1))


def loops_avg(X, k, s, p):
    """Right values, but a Python loop over every window."""
    ones = F.pad(torch.ones_like(X), (p, p, p, p))
    Xp = F.pad(X, (p, p, p, p))
    OH, OW = (Xp.shape[2] - k) // s + 1, (Xp.shape[3] - k) // s + 1
    out = torch.empty(*X.shape[:2], OH, OW)
    for i in range(OH):
        for j in range(OW):
            win = (..., slice(i * s, i * s + k), slice(j * s, j * s + k))
            out[..., i, j] = Xp[win].sum(dim=(-2, -1)) / ones[win].sum(dim=(-2, -1))
    return out


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda X, k, s, p: F.avg_pool2d(X, k, s, p, count_include_pad=False), "No pooling"),
        (lambda X, k, s, p: F.pad(X, (p, p, p, p)).unfold(2, k, s).unfold(3, k, s).mean((-2, -1)),
         "count_include_pad=True"),
        (loops_avg, "torch calls"),
        (lambda X, k, s, p: X.unfold(2, k, s).unfold(3, k, s).mean((-2, -1)), "expected shape"),
    ],
)
def test_avg_fast_wrong(fn, hint, capsys):
    assert check_avg_fast(fn) is False
    assert hint in capsys.readouterr().out


def test_avg_fast_right_and_placeholders():
    assert check_avg_fast(good_avg) is True
    assert check_avg_fast(None) is None
    assert check_avg_fast("avg") is False


def test_hints_follow_the_language(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    assert check_tie([[0, 1], [1, 0]]) is False
    assert "梯度之和为 1" in capsys.readouterr().out
