"""Self-checks of the dropout exercises: right answers pass, wrong ones say what is wrong.

Right answers are worked out by hand from PyTorch's documented rules (p zeroes, kept values are
divided by 1 - p), not copied from the checks' own output.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from utils.exercises_dropout import (
    check_accuracy_function,
    check_clip_fraction,
    check_eval_forward,
    check_inplace_safe,
    check_keep_probability,
    check_kept_value,
    check_mc_average,
    check_noise_free_accuracy,
)
from utils.overfitting import make_dataset, make_model


@pytest.fixture(scope="module")
def val_set():
    return make_dataset(0)[1]


@pytest.fixture(scope="module")
def mc_case():
    _, val = make_dataset(0, n_val=300)
    return make_model(0.5, hidden=32, seed=0).eval(), val.x


def _run(capsys, check, *args):
    result = check(*args)
    return result, capsys.readouterr().out


# -- placeholders ---------------------------------------------------------------------------
def test_placeholders_are_not_answered_and_do_not_raise(capsys, val_set, mc_case):
    model, x = mc_case
    for check, args in [
        (check_keep_probability, (None,)),
        (check_kept_value, (None,)),
        (check_eval_forward, (None,)),
        (check_clip_fraction, (None,)),
        (check_inplace_safe, (None,)),
        (check_noise_free_accuracy, (None, val_set)),
        (check_accuracy_function, (None,)),
        (check_mc_average, (None, model, x)),
    ]:
        result, out = _run(capsys, check, *args)
        assert result is None and "Not answered yet" in out, check.__name__


# -- 04 exercise 1 --------------------------------------------------------------------------
def test_keep_probability(capsys):
    assert _run(capsys, check_keep_probability, 0.2)[0] is True
    assert _run(capsys, check_keep_probability, torch.tensor(0.2))[0] is True
    result, out = _run(capsys, check_keep_probability, 0.8)
    assert result is False and "drop probability" in out and "ZEROES" in out
    result, out = _run(capsys, check_keep_probability, 1.8)
    assert result is False and "refuses" in out
    result, out = _run(capsys, check_keep_probability, "a lot")
    assert result is False and "one number" in out
    assert _run(capsys, check_keep_probability, 0.3)[0] is False


# -- 04 exercise 2 --------------------------------------------------------------------------
def test_kept_value(capsys):
    assert _run(capsys, check_kept_value, 12)[0] is True  # 3 / (1 - 0.75)
    for wrong, says in [
        (0.75, "keep probability"),
        (3.0, "eval()"),
        (4.0, "divided by p"),
        (0, "not zero"),
        (7, "x / (1 - p)"),
        ([1, 2], "one number"),
    ]:
        result, out = _run(capsys, check_kept_value, wrong)
        assert result is False and says in out, (wrong, out)


# -- 04 exercise 3 --------------------------------------------------------------------------
class Right(nn.Module):
    def forward(self, h):
        return F.dropout(h, p=0.5, training=self.training)


class Trap(nn.Module):
    def forward(self, h):
        return F.dropout(h, p=0.5)


class NeverDrops(nn.Module):
    def forward(self, h):
        return F.dropout(h, p=0.5, training=False)


class WrongP(nn.Module):
    def forward(self, h):
        return F.dropout(h, p=0.3, training=self.training)


class NeedsArgs(nn.Module):
    def __init__(self, p):
        super().__init__()


def test_eval_forward(capsys):
    assert _run(capsys, check_eval_forward, Right)[0] is True
    assert _run(capsys, check_eval_forward, lambda: nn.Dropout(0.5))[0] is False
    for cls, says in [
        (Trap, "training=self.training"),
        (NeverDrops, "nothing was dropped"),
        (WrongP, "differs"),
        (NeedsArgs, "no arguments"),
    ]:
        result, out = _run(capsys, check_eval_forward, cls)
        assert result is False and says in out, (cls, out)
    result, out = _run(capsys, check_eval_forward, Right())
    assert result is False and "CLASS" in out


# -- 04 exercise 4 --------------------------------------------------------------------------
def test_clip_fraction(capsys):
    # x = 0, 0.001, ..., 1: the 200 values above 0.8 clip if kept (probability 0.8)
    right = 0.8 * 200 / 1001
    assert _run(capsys, check_clip_fraction, right)[0] is True
    assert _run(capsys, check_clip_fraction, 0.16)[0] is True
    for wrong, says in [
        (200 / 1001, "KEPT ones grow"),
        (0.2 * 200 / 1001, "multiplied by p"),
        (0.8 * 800 / 1001, "not x > p"),
        (0.5, "Hint"),
        (3, "between 0 and 1"),
    ]:
        result, out = _run(capsys, check_clip_fraction, wrong)
        assert result is False and says in out, (wrong, out)


# -- 04 exercise 5 --------------------------------------------------------------------------
def test_inplace_safe(capsys):
    assert _run(capsys, check_inplace_safe, {"Linear", "LeakyReLU", "GELU"})[0] is True
    assert _run(capsys, check_inplace_safe, ["GELU", "Linear", "LeakyReLU"])[0] is True
    result, out = _run(capsys, check_inplace_safe, {"Linear", "ReLU", "LeakyReLU", "GELU"})
    assert result is False and "ReLU fails at backward()" in out
    result, out = _run(capsys, check_inplace_safe, {"Linear"})
    assert result is False and "GELU is safe" in out and "LeakyReLU is safe" in out
    result, out = _run(capsys, check_inplace_safe, {"Relu"})
    assert result is False and "Unknown names" in out
    result, out = _run(capsys, check_inplace_safe, "Linear")
    assert result is False and "set of names" in out


# -- 05 exercise 1 --------------------------------------------------------------------------
def test_noise_free_accuracy(capsys, val_set):
    right = 1 - val_set.flipped.sum().item() / len(val_set)
    assert _run(capsys, check_noise_free_accuracy, right, val_set)[0] is True
    result, out = _run(capsys, check_noise_free_accuracy, 1 - right, val_set)
    assert result is False and "WRONG" in out
    result, out = _run(capsys, check_noise_free_accuracy, 100 * right, val_set)
    assert result is False and "percentage" in out
    result, out = _run(capsys, check_noise_free_accuracy, right - 0.05, val_set)
    assert result is False and "flipped" in out


# -- 05 exercise 2 --------------------------------------------------------------------------
def right_accuracy(model, split):
    was = model.training
    model.eval()
    with torch.no_grad():
        acc = (model(split.x).argmax(1) == split.y).float().mean().item()
    model.train(was)
    return acc


def dropout_on_accuracy(model, split):
    with torch.no_grad():
        return (model(split.x).argmax(1) == split.y).float().mean().item()


def forgets_mode(model, split):
    model.eval()
    with torch.no_grad():
        return (model(split.x).argmax(1) == split.y).float().mean().item()


def percent(model, split):
    return 100 * right_accuracy(model, split)


def test_accuracy_function(capsys):
    assert _run(capsys, check_accuracy_function, right_accuracy)[0] is True
    for fn, says in [
        (dropout_on_accuracy, "dropout was ON"),
        (forgets_mode, "left it"),
        (percent, "percentage"),
        (lambda m, s: "high", "one number"),
        (lambda m: 0, "failed"),
        (3, "function itself"),
    ]:
        result, out = _run(capsys, check_accuracy_function, fn)
        assert result is False and says in out, (fn, out)


# -- 05 exercise 3 --------------------------------------------------------------------------
def test_mc_average(capsys, mc_case):
    model, x = mc_case
    model.train()
    torch.manual_seed(7)
    with torch.no_grad():
        right = sum(F.softmax(model(x), dim=1) for _ in range(50)) / 50
        one_pass = F.softmax(model(x), dim=1)
        logits = sum(model(x) for _ in range(50)) / 50
    model.eval()
    with torch.no_grad():
        eval_probs = F.softmax(model(x), dim=1)
    assert _run(capsys, check_mc_average, right, model, x)[0] is True
    assert not model.training  # the check restores the mode
    for wrong, says in [
        (eval_probs, "dropout was OFF"),
        (logits, "sum to 1"),
        (right[:10], "shape"),
        (right.tolist(), "torch.Tensor"),
        (one_pass, "single pass"),
    ]:
        result, out = _run(capsys, check_mc_average, wrong, model, x)
        assert result is False and says in out, out
