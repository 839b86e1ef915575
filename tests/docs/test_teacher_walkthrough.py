"""docs/teacher_walkthrough.md: every answer it gives is PyTorch's own.

Each fact is computed here with PyTorch and the exact text the walkthrough uses for it must appear in
the document, so an edit to the text or a change in PyTorch fails this test.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

DOC = (Path(__file__).resolve().parents[2] / "docs" / "teacher_walkthrough.md").read_text(
    encoding="utf-8"
)
GRID = torch.tensor(
    [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
    dtype=torch.float32,
).reshape(1, 1, 5, 5)


def as_text(rows) -> str:
    return "`" + str([[int(v) for v in row] for row in rows]) + "`"


def test_the_grid_on_the_board_is_the_one_tested():
    board = re.search(r"```\n((?:[0-9 ]+\n){5})```", DOC).group(1)
    assert [[float(v) for v in line.split()] for line in board.splitlines()] == GRID[0, 0].tolist()


def test_max_pooling_answers():
    assert as_text(nn.MaxPool2d(3, ceil_mode=True)(GRID)[0, 0].tolist()) in DOC
    assert as_text(nn.MaxPool2d(3)(GRID)[0, 0].tolist()) == "`[[2]]`"
    assert "`[[2]]`" in DOC
    _, indices = nn.MaxPool2d(3, ceil_mode=True, return_indices=True)(GRID)
    assert as_text(indices[0, 0].tolist()) in DOC
    assert GRID.flatten()[15].item() == 5 and divmod(15, 5) == (3, 0)  # "row 3, column 0: the 5"
    assert nn.MaxPool2d(3).stride == 3 and "A: 3, the kernel size" in DOC


def test_cifar_steps():
    batches = [len(b) for b in DataLoader(list(range(10_000)), batch_size=64)]
    assert (len(batches), batches[-1]) == (157, 16)
    assert "157 steps (0 to 156); the last batch holds 16 images" in DOC


def test_average_pooling_answers():
    text = re.search(r"`(\[\[10/9[^`]*)`", DOC).group(1)
    claimed = [
        [float(Fraction(v.strip())) for v in row.split(",")]
        for row in re.findall(r"\[([^\[\]]+)\]", text)
    ]
    out = nn.AvgPool2d(3, ceil_mode=True)(GRID)[0, 0]
    assert torch.allclose(out, torch.tensor(claimed))
    sums = nn.AvgPool2d(3, ceil_mode=True, divisor_override=1)(GRID)[0, 0]
    divisors = (sums / out).round().int().flatten().tolist()
    assert divisors == [9, 6, 6, 4] and "(6, 6 and 4)" in DOC
    assert f"`{nn.AvgPool2d(3, ceil_mode=True)!r}`" in DOC


def test_thin_line_max_vs_average():
    line = torch.zeros(1, 1, 6, 6)
    line[..., 2] = 1.0  # a one-pixel bright column on black
    assert nn.MaxPool2d(3)(line).max().item() == 1.0
    assert nn.AvgPool2d(3)(line).max().item() == pytest.approx(1 / 3)


def test_output_shape_answers():
    assert tuple(nn.MaxPool2d(2)(torch.zeros(64, 3, 32, 32)).shape) == (64, 3, 16, 16)
    assert "(64, 3, 16, 16)" in DOC
    out = nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)(torch.zeros(1, 1, 5, 5))
    assert out.shape[-1] == 3 and -(-(5 + 2 - 2) // 2) + 1 == 4  # plain ceil would say 4
    assert (
        "n = 5, k = 2, s = 2, p = 1, `ceil_mode=True`: 3 or 4?" in DOC and "A: 3. Plain ceil" in DOC
    )
    with pytest.raises(RuntimeError) as err:
        nn.MaxPool2d(3, padding=2)(torch.zeros(1, 1, 5, 5))
    quoted = re.search(r'No: "([^"]+)"', DOC).group(1)
    assert quoted in str(err.value)


def test_dropout_answers():
    torch.manual_seed(0)
    out = nn.Dropout(0.5)(torch.full((1, 1, 64, 64), 0.8))
    assert sorted(round(v, 4) for v in torch.unique(out).tolist()) == [0.0, 1.6]
    assert abs(out.mean().item() - 0.8) < 0.05
    assert "A: 0 and 1.6" in DOC and "(1.6 > 1)" in DOC
    x = torch.rand(3, 3)
    model = nn.Sequential(nn.Dropout(0.5)).eval()
    assert torch.equal(model(x), x)
    assert not torch.equal(F.dropout(torch.ones(100), 0.5), torch.ones(100))
    t = torch.rand(3, 3, dtype=torch.float64)
    assert nn.Dropout(0.5, inplace=True)(t) is t
    with pytest.raises(RuntimeError) as err:
        nn.Dropout(0.5, inplace=True)(torch.rand(3, 3, requires_grad=True))
    assert f'"{err.value}"' in DOC.replace("\n  ", " ")


def test_exit_question():
    torch.manual_seed(0)
    out = nn.Dropout(0.5)(nn.MaxPool2d(2, stride=2)(torch.ones(1, 3, 8, 8)))
    assert tuple(out.shape) == (1, 3, 4, 4) and set(out.unique().tolist()) <= {0.0, 2.0}
    assert "A: (1, 3, 4, 4); only 0 and 2." in DOC
