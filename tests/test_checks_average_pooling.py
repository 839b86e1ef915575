"""utils.checks.average_pooling: right answers (derived here from PyTorch) pass, typical mistakes fail."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F

from utils.checks import average_pooling as ex


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("COURSE_LANGUAGE", "en")


def test_placeholders_are_not_answered(capsys):
    assert ex.check_divisors(None) is None
    assert ex.check_shift(None, {(0, 0)}) is None
    assert ex.check_padding(None, None) is None
    assert ex.check_adaptive(None) is None
    assert "not answered" in capsys.readouterr().out


def test_divisors():
    ones = torch.ones(1, 1, 6, 6)
    right = (F.avg_pool2d(ones, 4, ceil_mode=True, divisor_override=1) / F.avg_pool2d(ones, 4, ceil_mode=True))
    right = right[0, 0].round().int().tolist()
    assert ex.check_divisors(right) is True
    assert ex.check_divisors(torch.tensor(right)) is True
    assert ex.check_divisors([[16, 16], [16, 16]]) is False  # "always kernel_size²"
    assert ex.check_divisors([[16, 8], [8, 8]]) is False
    assert ex.check_divisors([[16, 8]]) is False and ex.check_divisors("16") is False


def changed(pool):
    x = torch.tensor(ex.SHIFT_GRID, dtype=torch.float32)[None, None]
    shifted = torch.zeros_like(x)
    shifted[..., 1:] = x[..., :-1]  # one pixel to the right, written independently of shift_right
    return {tuple(ij) for ij in (pool(x) != pool(shifted))[0, 0].nonzero().tolist()}


def test_shift():
    right_max, right_avg = changed(torch.nn.MaxPool2d(2)), changed(torch.nn.AvgPool2d(2))
    assert len(right_max) < len(right_avg)  # the exercise's point: max pooling tolerates the shift better
    assert ex.check_shift(right_max, right_avg) is True
    assert ex.check_shift(list(right_max), [list(c) for c in right_avg]) is True
    everything = {(i, j) for i in range(2) for j in range(2)}
    assert ex.check_shift(everything, right_avg) is False  # "max changes everywhere"
    assert ex.check_shift(right_max, right_max) is False  # "average behaves like max"
    assert ex.check_shift(set(), set()) is False
    assert ex.check_shift("(0, 1)", right_avg) is False


def test_padding():
    ones = torch.ones(1, 1, 3, 3)
    inc = F.avg_pool2d(ones, 3, 1, 1)[0, 0].tolist()
    exc = F.avg_pool2d(ones, 3, 1, 1, count_include_pad=False)[0, 0].tolist()
    assert ex.check_padding(inc, exc) is True
    as_fractions = [[Fraction(v).limit_denominator(9) for v in row] for row in inc]
    assert ex.check_padding(as_fractions, exc) is True
    assert ex.check_padding(exc, exc) is False  # padding ignored in the first
    assert ex.check_padding(inc, inc) is False  # padding counted in the second
    assert ex.check_padding(exc, inc) is False  # swapped
    assert ex.check_padding([[1, 1]], exc) is False


def test_adaptive():
    n, o = ex.ADAPTIVE["size"], ex.ADAPTIVE["output_size"]
    # windows from PyTorch: which of n one-hot inputs reach output j
    right = []
    for j in range(o):
        cells = [c for c in range(n) if F.adaptive_avg_pool1d(torch.eye(n)[c][None, None], o)[0, 0, j] > 0]
        right.append((cells[0], cells[-1] + 1))
    assert ex.check_adaptive(right) is True
    assert ex.check_adaptive([list(w) for w in right]) is True
    assert ex.check_adaptive([(0, 2), (2, 4), (4, 7)]) is False  # AvgPool-like, no overlap
    assert ex.check_adaptive([(0, 2), (2, 4), (4, 6)]) is False  # end included
    assert ex.check_adaptive([(0, 3)]) is False and ex.check_adaptive("abc") is False


def test_zh_reader_gets_chinese(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    ex.check_divisors([[16, 16], [16, 16]])
    assert "还不对" in capsys.readouterr().out
