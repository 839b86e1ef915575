"""utils.checks.shapes: right answers (derived here from PyTorch) pass, typical mistakes fail."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from utils.checks import shapes as ex


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("COURSE_LANGUAGE", "en")


def width(n, ceil_mode=False, **params):
    return nn.MaxPool2d(ceil_mode=ceil_mode, **params)(torch.zeros(1, 1, 1, n)).shape[-1]


def test_placeholders_are_not_answered():
    assert ex.check_by_hand(None) is None
    assert ex.check_ceil(None) is None
    assert ex.check_design(None, 1) is None
    assert ex.check_which_raise(None) is None


def test_by_hand():
    p = ex.BY_HAND
    right = width(p["size"], kernel_size=(1, p["kernel_size"]), stride=(1, p["stride"]),
                  padding=(0, p["padding"]), dilation=(1, p["dilation"]))
    assert ex.check_by_hand(right) is True
    assert ex.check_by_hand(float(right)) is True
    assert ex.check_by_hand(right + 1) is False
    no_dilation = width(p["size"], kernel_size=(1, p["kernel_size"]), stride=(1, p["stride"]),
                        padding=(0, p["padding"]))
    assert no_dilation != right and ex.check_by_hand(no_dilation) is False
    assert ex.check_by_hand(True) is False and ex.check_by_hand("9x") is False and ex.check_by_hand(8.5) is False


def test_ceil():
    p = ex.CEIL
    right = width(p["size"], True, kernel_size=(1, p["kernel_size"]), stride=(1, p["stride"]),
                  padding=(0, p["padding"]))
    plain = -(-(p["size"] + 2 * p["padding"] - p["kernel_size"]) // p["stride"]) + 1
    assert plain == right + 1  # the exercise is about the drop rule
    assert ex.check_ceil(right) is True
    assert ex.check_ceil(plain) is False
    assert ex.check_ceil(right - 1) is False


def test_design():
    halves = {(s, p) for s in range(1, 5) for p in range(0, 2)
              if all(width(n, kernel_size=(1, 3), stride=(1, s), padding=(0, p)) == n // 2 for n in (28, 32))}
    assert halves == {(2, 1)}
    assert ex.check_design(2, 1) is True
    assert ex.check_design(2, 0) is False  # 28 -> 13
    assert ex.check_design(1, 1) is False
    assert ex.check_design(2, 2) is False  # PyTorch refuses padding 2 with kernel 3
    assert ex.check_design("2", 1) is False


def raises(shape, layer, params):
    try:
        getattr(nn, layer)(**params)(torch.zeros(shape))
    except RuntimeError:
        return True
    return False


def test_which_raise():
    right = {label for label, case in ex.WHICH_RAISE.items() if raises(*case)}
    assert 0 < len(right) < len(ex.WHICH_RAISE)
    assert ex.check_which_raise(right) is True
    assert ex.check_which_raise([label.lower() for label in right]) is True
    assert ex.check_which_raise(set(ex.WHICH_RAISE)) is False  # "everything odd raises"
    assert ex.check_which_raise(right - {sorted(right)[0]}) is False
    assert ex.check_which_raise({"Z"}) is False and ex.check_which_raise("AB") is False


def test_zh_reader_gets_chinese(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    ex.check_ceil(0)
    assert "还不对" in capsys.readouterr().out
