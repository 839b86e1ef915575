"""The max pooling self-checks accept PyTorch's answers and explain typical wrong ones."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from utils import exercises_max_pooling as ex
from utils.pooling import ignored_fraction


def _plane(grid):
    return torch.tensor(grid, dtype=torch.float32)[None, None]


def run(check, answer, capsys):
    result = check(answer)
    return result, capsys.readouterr().out


@pytest.mark.parametrize(
    "check",
    [ex.check_overlapping, ex.check_shape, ex.check_indices, ex.check_gradient, ex.check_coverage],
)
def test_placeholder_is_not_answered_and_does_not_raise(check, capsys):
    result, out = run(check, None, capsys)
    assert result is None and "Not answered" in out


@pytest.mark.parametrize(
    "check",
    [ex.check_overlapping, ex.check_shape, ex.check_indices, ex.check_gradient, ex.check_coverage],
)
@pytest.mark.parametrize("junk", ["abc", [[1, 2], [3]], object(), 7])
def test_malformed_answers_are_wrong_with_a_message_not_an_error(check, junk, capsys):
    result, out = run(check, junk, capsys)
    assert result is False and "Not yet" in out and len(out) > 40


# -- exercise 1 -------------------------------------------------------------------------------
def test_overlapping_right_answer_from_pytorch(capsys):
    answer = nn.MaxPool2d(2, stride=1)(_plane(ex.EXERCISE_GRID))[0, 0].tolist()
    assert run(ex.check_overlapping, answer, capsys)[0] is True
    assert run(ex.check_overlapping, torch.tensor(answer), capsys)[0] is True


def test_overlapping_names_the_wrong_cell(capsys):
    answer = nn.MaxPool2d(2, stride=1)(_plane(ex.EXERCISE_GRID))[0, 0]
    answer[1, 0] -= 1
    result, out = run(ex.check_overlapping, answer.tolist(), capsys)
    assert result is False and "[1][0]" in out and "rows 1–2" in out


def test_overlapping_non_overlapping_answer_has_wrong_shape(capsys):
    answer = nn.MaxPool2d(2)(_plane(ex.EXERCISE_GRID))[0, 0].tolist()  # stride forgotten: 1×1
    result, out = run(ex.check_overlapping, answer, capsys)
    assert result is False and "2×2" in out and "stride 1" in out


# -- exercise 2 -------------------------------------------------------------------------------
def _layer():
    p = ex.EXERCISE_SHAPE
    return nn.MaxPool2d(p["kernel_size"], p["stride"], p["padding"], ceil_mode=p["ceil_mode"])


def test_shape_right_answer_from_pytorch(capsys):
    shape = _layer()(torch.zeros(ex.EXERCISE_SHAPE["input_shape"])).shape
    assert run(ex.check_shape, shape, capsys)[0] is True
    assert run(ex.check_shape, list(shape), capsys)[0] is True


def test_shape_plain_ceil_and_floor_are_recognised(capsys):
    """The exercise is built so that floor, plain ceil and PyTorch's rule all differ."""
    p = ex.EXERCISE_SHAPE
    x = torch.zeros(p["input_shape"])
    right = tuple(_layer()(x).shape)
    floor = tuple(nn.MaxPool2d(p["kernel_size"], p["stride"], p["padding"])(x).shape)
    # The plain ceil formula of many textbooks, with no dropped-window rule.
    n_hw, k = p["input_shape"][2:], p["kernel_size"]
    plain = (1, 3) + tuple(
        math.ceil((n_hw[a] + 2 * p["padding"] - k[a]) / p["stride"]) + 1 for a in range(2)
    )
    assert len({right, floor, plain}) == 3
    result, out = run(ex.check_shape, plain, capsys)
    assert result is False and "plain ceil" in out and "right padding" in out
    result, out = run(ex.check_shape, floor, capsys)
    assert result is False and "floor mode" in out


def test_shape_batch_and_channels_are_kept(capsys):
    result, out = run(ex.check_shape, (1, 1, 3, 5), capsys)
    assert result is False and "N and C" in out


# -- exercise 3 -------------------------------------------------------------------------------
def _indices():
    return nn.MaxPool2d(2, return_indices=True)(_plane(ex.EXERCISE_TIES))[1][0, 0]


def test_indices_right_answer_from_pytorch(capsys):
    assert run(ex.check_indices, _indices().tolist(), capsys)[0] is True


def test_indices_window_local_positions_are_explained(capsys):
    local = (_indices() // 4 % 2) * 2 + _indices() % 2  # position inside each 2×2 window
    result, out = run(ex.check_indices, local.tolist(), capsys)
    assert result is False and "whole 4×4 plane" in out


def test_indices_last_maximum_is_explained(capsys):
    grid = _plane(ex.EXERCISE_TIES)[0, 0]
    last = [
        [
            max(
                r * 4 + c
                for r in range(2 * i, 2 * i + 2)
                for c in range(2 * j, 2 * j + 2)
                if grid[r, c] == grid[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].max()
            )
            for j in range(2)
        ]
        for i in range(2)
    ]
    assert last != _indices().tolist()  # the grid has ties, so "last wins" differs
    result, out = run(ex.check_indices, last, capsys)
    assert result is False and "first one in row-major order" in out


# -- exercise 4 -------------------------------------------------------------------------------
def _grad():
    x = _plane(ex.EXERCISE_GRADIENT).requires_grad_()
    nn.MaxPool2d(2, stride=1)(x).sum().backward()
    return x.grad[0, 0]


def test_gradient_right_answer_from_pytorch(capsys):
    assert run(ex.check_gradient, _grad().tolist(), capsys)[0] is True


def test_gradient_without_accumulation_is_explained(capsys):
    ones = (_grad() > 0).float()
    assert not torch.equal(ones, _grad())  # some cell wins several windows
    result, out = run(ex.check_gradient, ones.tolist(), capsys)
    assert result is False and "several overlapping windows" in out


def test_gradient_wrong_total_is_explained(capsys):
    wrong = _grad().clone()
    wrong[0, 0] += 1
    result, out = run(ex.check_gradient, wrong.tolist(), capsys)
    assert result is False and "add up to 10" in out and "9 outputs" in out


# -- exercise 5 -------------------------------------------------------------------------------
def test_coverage_right_answer(capsys):
    n, k = ex.EXERCISE_COVERAGE["size"], ex.EXERCISE_COVERAGE["kernel_size"]
    assert run(ex.check_coverage, ignored_fraction((n, n), k), capsys)[0] is True
    assert run(ex.check_coverage, 1 - 27**2 / 28**2, capsys)[0] is True


def test_coverage_percentage_and_one_dimension_are_explained(capsys):
    right = 1 - 27**2 / 28**2
    result, out = run(ex.check_coverage, 100 * right, capsys)
    assert result is False and "percentage" in out
    result, out = run(ex.check_coverage, 1 / 28, capsys)
    assert result is False and "columns are ignored too" in out
    result, out = run(ex.check_coverage, 0.5, capsys)
    assert result is False and "Hint" in out
