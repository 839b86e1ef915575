"""Self-checks of the output-shapes exercises: right answers (found by PyTorch here), wrong ones, None."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from utils import exercises_shapes as ex


def torch_size(size, kernel_size, stride, padding, dilation=1, ceil_mode=False):
    layer = nn.MaxPool2d(
        (1, kernel_size), (1, stride), (0, padding), (1, dilation), ceil_mode=ceil_mode
    )
    return layer(torch.zeros(1, 1, size)).shape[-1]


def raises(shape, layer, params):
    try:
        getattr(nn, layer)(**params)(torch.zeros(shape))
    except RuntimeError:
        return True
    return False


CHECKS_WITH_ONE_ANSWER = [
    ex.check_by_hand,
    ex.check_ceil,
    ex.check_padding_limit,
    ex.check_which_raise,
]


@pytest.mark.parametrize("check", CHECKS_WITH_ONE_ANSWER)
def test_placeholder_is_not_answered_yet(check, capsys):
    assert check(None) is None
    assert "Not answered yet" in capsys.readouterr().out


def test_design_placeholder_is_not_answered_yet(capsys):
    assert ex.check_design(None, None) is None
    assert "Not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize("check", CHECKS_WITH_ONE_ANSWER)
@pytest.mark.parametrize("junk", ["seven", 3.5, [[1, 2]], object(), True])
def test_malformed_answers_are_wrong_not_crashes(check, junk, capsys):
    assert check(junk) is False
    assert "Not yet" in capsys.readouterr().out


def test_by_hand(capsys):
    e = ex.EXERCISE_BY_HAND
    right = torch_size(e["size"], e["kernel_size"], e["stride"], e["padding"], e["dilation"])
    assert ex.check_by_hand(right) is True
    assert ex.check_by_hand(torch.tensor(right)) is True
    capsys.readouterr()
    no_dilation = torch_size(e["size"], e["kernel_size"], e["stride"], e["padding"])
    assert no_dilation != right
    assert ex.check_by_hand(no_dilation) is False
    assert "dilation" in capsys.readouterr().out
    rounded_up = torch_size(
        e["size"], e["kernel_size"], e["stride"], e["padding"], e["dilation"], True
    )
    if rounded_up != right:
        assert ex.check_by_hand(rounded_up) is False
        assert "rounded up" in capsys.readouterr().out
    assert ex.check_by_hand(right - 1) is False
    out = capsys.readouterr().out
    assert "+ 1" in out or "BOTH sides" in out
    assert ex.check_by_hand(right + 100) is False
    assert "one term at a time" in capsys.readouterr().out


def test_ceil(capsys):
    e = ex.EXERCISE_CEIL
    right = torch_size(e["size"], e["kernel_size"], e["stride"], e["padding"], ceil_mode=True)
    assert ex.check_ceil(right) is True
    assert "dropped" in capsys.readouterr().out
    assert ex.check_ceil(right + 1) is False  # the plain ceil formula's answer in this exercise
    assert "right padding" in capsys.readouterr().out
    assert ex.check_ceil(right + 5) is False


def test_padding_limit(capsys):
    k, d = ex.EXERCISE_PADDING["kernel_size"], ex.EXERCISE_PADDING["dilation"]
    accepted = {
        p
        for p in range(-2, 20)
        if not raises((1, 50, 50), "MaxPool2d", {"kernel_size": k, "padding": p, "dilation": d})
    }
    assert ex.check_padding_limit(accepted) is True
    assert ex.check_padding_limit(sorted(accepted)) is True
    capsys.readouterr()
    assert ex.check_padding_limit(accepted | {max(accepted) + 1}) is False
    assert "dilation does not raise the limit" in capsys.readouterr().out
    assert ex.check_padding_limit(accepted - {0}) is False
    assert "also accepted: [0]" in capsys.readouterr().out
    assert ex.check_padding_limit(accepted | {-1}) is False
    assert "never crops" in capsys.readouterr().out


def test_design(capsys):
    e = ex.EXERCISE_DESIGN
    working = [
        (s, p)
        for s, p in itertools.product(range(1, 5), range(0, 3))
        if not raises(
            e["input_shape"],
            "MaxPool2d",
            {"kernel_size": e["kernel_size"], "stride": s, "padding": p},
        )
        and tuple(nn.MaxPool2d(e["kernel_size"], s, p)(torch.zeros(e["input_shape"])).shape)
        == e["target"]
    ]
    assert working
    for s, p in working:
        assert ex.check_design(s, p) is True
    capsys.readouterr()
    assert ex.check_design(2, 0) is False and "(1, 3, 13, 13)" in capsys.readouterr().out
    assert ex.check_design(2, 2) is False
    out = capsys.readouterr().out
    assert "PyTorch raises" in out and "kernel_size // 2" in out
    assert ex.check_design(0, 1) is False and "stride" in capsys.readouterr().out
    assert ex.check_design(2.5, 1) is False


def test_which_raise(capsys):
    right = {label for label, case in ex.EXERCISE_WHICH_RAISE.items() if raises(*case)}
    assert 0 < len(right) < len(ex.EXERCISE_WHICH_RAISE)
    assert ex.check_which_raise(right) is True
    assert ex.check_which_raise([x.lower() for x in right]) is True
    capsys.readouterr()
    everything = set(ex.EXERCISE_WHICH_RAISE)
    assert ex.check_which_raise(everything) is False
    out = capsys.readouterr().out
    for label in everything - right:
        assert f"{label} does not raise" in out
    missing = sorted(right)[0]
    assert ex.check_which_raise(right - {missing}) is False
    assert f"{missing} raises" in capsys.readouterr().out
    assert ex.check_which_raise({"Z"}) is False
    assert "not labels" in capsys.readouterr().out
