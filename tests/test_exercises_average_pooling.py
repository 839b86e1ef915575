"""Self-checks of the average-pooling exercises: right answers pass, wrong ones say what is wrong.

The right answers below are worked out by hand from PyTorch's documented rules (see the
docstrings of utils/divisors.py), not copied from the checks' own output.
"""

from fractions import Fraction as Fr

import numpy as np
import pytest
import torch

from utils.exercises_average_pooling import (
    check_divisors,
    check_gradient,
    check_int64,
    check_max_vs_avg,
    check_padding,
)

DIVISORS = [[16, 8], [8, 4]]
MAX = [[5, 4], [2, 7]]
AVG = [[3, 1], [2, 2.5]]
INCLUDE = [[Fr(4, 9), Fr(6, 9), Fr(4, 9)], [Fr(6, 9), 1, Fr(6, 9)], [Fr(4, 9), Fr(6, 9), Fr(4, 9)]]
EXCLUDE = [[1, 1, 1], [1, 1, 1], [1, 1, 1]]
GRAD = [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1]]


def _run(capsys, check, *args):
    result = check(*args)
    return result, capsys.readouterr().out


@pytest.mark.parametrize(
    "check, args",
    [
        (check_divisors, (None,)),
        (check_max_vs_avg, (None, None)),
        (check_padding, (None, None)),
        (check_gradient, (None,)),
        (check_int64, (None,)),
    ],
)
def test_placeholder_is_not_answered_and_does_not_raise(capsys, check, args):
    result, out = _run(capsys, check, *args)
    assert result is None
    assert "Not answered yet" in out


@pytest.mark.parametrize(
    "check, args",
    [
        (check_divisors, (DIVISORS,)),
        (check_divisors, (torch.tensor(DIVISORS),)),
        (check_divisors, (np.array(DIVISORS),)),
        (check_max_vs_avg, (MAX, AVG)),
        (check_max_vs_avg, (MAX, [[Fr(12, 4), Fr(4, 4)], [Fr(8, 4), Fr(10, 4)]])),
        (check_padding, (INCLUDE, EXCLUDE)),
        (
            check_padding,
            (
                [[0.444444444, 0.6666666667, 4 / 9], [2 / 3, 1.0, 2 / 3], [4 / 9, 2 / 3, 4 / 9]],
                EXCLUDE,
            ),
        ),
        (check_gradient, (GRAD,)),
        (
            check_gradient,
            (
                [
                    [Fr(1, 4), Fr(1, 4), Fr(1, 2)],
                    [Fr(1, 4), Fr(1, 4), Fr(1, 2)],
                    [Fr(1, 2), Fr(1, 2), 1],
                ],
            ),
        ),
        (check_int64, ((1, -1),)),
        (check_int64, ([1, -1],)),
    ],
)
def test_right_answers_pass(capsys, check, args):
    result, out = _run(capsys, check, *args)
    assert result is True, out
    assert out.startswith("✓")


@pytest.mark.parametrize(
    "check, args, says",
    [
        # divisors
        (check_divisors, ([[16, 16], [16, 16]],), "kernel_size² = 16"),
        (check_divisors, ([[16, 8], [8, 8]],), "Window (1, 1): you said 8"),
        (check_divisors, ([16, 8, 8, 4],), "2×2"),
        (check_divisors, ([[16, 8, 4], [8, 4, 2]],), "2×2"),
        (check_divisors, ("sixteen",), "not a table of numbers"),
        # max vs avg
        (check_max_vs_avg, (AVG, MAX), "swapped"),
        (check_max_vs_avg, (MAX, MAX), "you gave the maximum"),
        (check_max_vs_avg, (MAX, [[3, 1], [2, 2]]), "avg_answer window (1, 1)"),
        (check_max_vs_avg, ([[5, 4], [2, 2]], AVG), "largest of [7, 1, 1, 1]"),
        (check_max_vs_avg, (MAX, None), "avg_answer is not answered"),
        (check_max_vs_avg, ([[5, 4]], AVG), "max_answer: PyTorch's output here is 2×2"),
        # padding
        (check_padding, (EXCLUDE, INCLUDE), "count_include_pad=False"),
        (check_padding, (EXCLUDE, EXCLUDE), "include_answer is the answer for"),
        (
            check_padding,
            (INCLUDE, [[0.5, 1, 1], [1, 1, 1], [1, 1, 1]]),
            "exclude_answer window (0, 0)",
        ),
        (
            check_padding,
            (
                [
                    [Fr(4, 9), 0.5, Fr(4, 9)],
                    [Fr(6, 9), 1, Fr(6, 9)],
                    [Fr(4, 9), Fr(6, 9), Fr(4, 9)],
                ],
                EXCLUDE,
            ),
            "window (0, 1): you said 1/2",
        ),
        # gradient
        (check_gradient, ([[0.25] * 3] * 3,), "1/4 everywhere"),
        (check_gradient, ([[1, 0, 1], [0, 0, 0], [1, 1, 1]],), "max pooling"),
        (
            check_gradient,
            ([[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 0.25]],),
            "x.grad[2][2]",
        ),
        (check_gradient, ([[0.25, 0.25], [0.25, 0.25]],), "3×3"),
        # int64
        (check_int64, ((1.75, -1.75),), "float averages"),
        (check_int64, ((1, -2),), "floor"),
        (check_int64, ((2, -2),), "nearest"),
        (check_int64, ((3, 3),), "toward zero"),
        (check_int64, ((1,),), "exactly two"),
        (check_int64, (7,), "give two numbers"),
    ],
)
def test_wrong_answers_say_what_is_wrong(capsys, check, args, says):
    result, out = _run(capsys, check, *args)
    assert result is False, out
    assert out.startswith("✗")
    assert says in out, out
    assert "Hint:" in out, out
