"""docs/teacher_walkthrough.md: the cells it names exist, its clock adds up, its time table is what
tools/lesson_stats.py measures, and every answer it gives is PyTorch's own.

Each fact is computed here with PyTorch and the exact text the walkthrough uses for it must appear in the
document, so an edit to the text, to a lesson, or a change in PyTorch fails this test.
"""

from __future__ import annotations

import re
import sys
from fractions import Fraction
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))
import lesson_stats  # noqa: E402

from utils.images import load_images  # noqa: E402

DOC = (ROOT / "docs" / "teacher_walkthrough.md").read_text(encoding="utf-8")
FLAT = re.sub(r"\s+", " ", DOC)  # answers wrap across lines
GRID = torch.tensor(
    [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
    dtype=torch.float32,
).reshape(1, 1, 5, 5)


def as_text(rows) -> str:
    return "`" + str([[int(v) for v in row] for row in rows]) + "`"


# -- the cells it names, the clock, the measured times ---------------------------------------------
def first_line_after_imports(source: str) -> str | None:
    """How the walkthrough names a code cell: its first line that is not blank, a comment, an import
    (or the continuation of a parenthesised import), without a trailing comment."""
    for line in source.splitlines():
        stripped = line.strip()
        if (not stripped or stripped.startswith(("#", ")")) or line.startswith((" ", "\t"))
                or re.match(r"(import|from)\s", stripped)):
            continue
        return re.sub(r"\s+#.*$", "", line).rstrip()
    return None


def cells_by_section(lesson: str) -> dict[str, list[str]]:
    """{"5": [named lines of the code cells under "## 5 · ..."], ...} for notebooks/<lesson>_*.ipynb."""
    path = next((ROOT / "notebooks").glob(f"{lesson}_*.ipynb"))
    sections: dict[str, list[str]] = {}
    current = None
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            heading = re.match(r"## (\d+) · ", cell.source)
            if heading:
                current = heading.group(1)
            elif cell.source.startswith("## "):
                current = None
        elif current is not None:
            sections.setdefault(current, []).append(first_line_after_imports(cell.source))
    return sections


def named_cells() -> list[tuple[str, str, str]]:
    """(lesson, section, line) for every "**NN §k** `line`" in the walkthrough."""
    return re.findall(r"\*\*(\d\d) §(\d+)\*\*\s+`([^`]+)`", DOC)


def test_every_named_cell_exists():
    names = named_cells()
    assert len(names) >= 25, names
    for lesson, section, line in names:
        lines = cells_by_section(lesson).get(section, [])
        if line.endswith("…"):
            matches = [text for text in lines if text and text.startswith(line[:-1].rstrip())]
        else:
            matches = [text for text in lines if text == line]
        assert len(matches) == 1, f"{lesson} §{section}: no single code cell starts with {line!r}; it has {lines}"


def test_the_plan_names_the_same_sections_and_fills_45_minutes():
    rows = re.findall(r"^\| (\d+)–(\d+) \| (\d\d) \| ([^|]+) \|", DOC, re.M)
    assert [r[2] for r in rows] == ["00", "01", "02", "03", "04", "05", "06"]
    bounds = [(int(a), int(b)) for a, b, *_ in rows]
    assert bounds[0][0] == 0 and bounds[-1][1] == 45
    assert all(b == c for (_, b), (c, _) in zip(bounds, bounds[1:], strict=False)), bounds
    named = named_cells()
    for _, _, lesson, cells in rows:
        listed = {int(s) for s in re.findall(r"§(\d+)", cells)}
        used = {int(s) for le, s, _ in named if le == lesson}
        assert listed == used, f"{lesson}: the plan lists §{sorted(listed)}, the walkthrough names §{sorted(used)}"
        counts = {int(s): int({"two": 2, "three": 3}[n]) for s, n in re.findall(r"§(\d+) \((two|three)\)", cells)}
        for section in listed:
            assert sum(1 for le, s, _ in named if le == lesson and int(s) == section) == counts.get(section, 1), (
                f"{lesson} §{section}: the plan's cell count differs from the cells named")
    for (start, end), heading in zip(bounds, re.findall(r"^## (\d+)–(\d+) · ", DOC, re.M), strict=False):
        assert (start, end) == tuple(map(int, heading))


def test_the_time_table_is_what_lesson_stats_measures():
    """Re-run `python tools/lesson_stats.py` and paste its table when a lesson changes."""
    assert lesson_stats.table() in DOC
    total = sum(lesson_stats.stats(path).minutes for path in lesson_stats.lessons())
    assert total > 45 and "Together they take longer than one class" in FLAT


# -- 00 and 01 -------------------------------------------------------------------------------------
def test_start_here_steps():
    assert len(load_images().split(8)) == 4
    assert "32 images as 4 steps of 8 (0 to 3)" in FLAT


def test_shift_by_one_pixel():
    pooled = {}
    for column in (2, 3, 4):
        line = torch.zeros(1, 1, 4, 6)
        line[..., column] = 1.0
        pooled[column] = nn.MaxPool2d(2)(line)
    assert torch.equal(pooled[2], pooled[3]) and not torch.equal(pooled[3], pooled[4])
    assert "A: Only 3 → 4: columns 2 and 3 share a 2×2 window" in FLAT


def test_the_grid_on_the_board_is_the_one_tested():
    board = re.search(r"```\n((?:[0-9 ]+\n){5})```", DOC).group(1)
    assert [[float(v) for v in line.split()] for line in board.splitlines()] == GRID[0, 0].tolist()


def test_max_pooling_answers():
    assert as_text(nn.MaxPool2d(3, ceil_mode=True)(GRID)[0, 0].tolist()) in DOC
    assert as_text(nn.MaxPool2d(3)(GRID)[0, 0].tolist()) == "`[[2]]`" and "A: `[[2]]`" in DOC
    _, indices = nn.MaxPool2d(3, ceil_mode=True, return_indices=True)(GRID)
    assert as_text(indices[0, 0].tolist()) in DOC
    assert GRID.flatten()[15].item() == 5 and divmod(15, 5) == (3, 0)
    assert "(15 is row 3, column 0: the 5)" in FLAT
    assert nn.MaxPool2d(3).stride == 3 and "A: 3, the kernel size" in DOC


def test_network_shape():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    shape = tuple(net(torch.zeros(4, 3, 128, 128)).shape)
    assert f"on {(4, 3, 128, 128)}" in FLAT and f"A: {shape}: each pooling halves H and W" in FLAT


def test_actual_size_and_cifar_steps():
    side = nn.MaxPool2d(3)(torch.zeros(1, 3, 128, 128)).shape[-1]
    assert f"each 128×128 input is a {side}×{side} output" in FLAT
    batches = [len(b) for b in DataLoader(list(range(10_000)), batch_size=64)]
    assert (len(batches), batches[-1]) == (157, 16) and 156 * 64 + 16 == 10_000
    assert "157 steps (0 to 156); the last batch holds 16 images (10,000 = 156 × 64 + 16)" in FLAT


# -- 02 and 03 -------------------------------------------------------------------------------------
def test_average_pooling_answers():
    text = re.search(r"`(\[\[10/9[^`]*)`", DOC).group(1)
    claimed = [[float(Fraction(v.strip())) for v in row.split(",")] for row in re.findall(r"\[([^\[\]]+)\]", text)]
    out = nn.AvgPool2d(3, ceil_mode=True)(GRID)[0, 0]
    assert torch.allclose(out, torch.tensor(claimed))
    sums = nn.AvgPool2d(3, ceil_mode=True, divisor_override=1)(GRID)[0, 0]
    assert (sums / out).round().int().flatten().tolist() == [9, 6, 6, 4] and "(6, 6 and 4), not by 9" in FLAT


def test_padding_counts():
    ones = torch.ones(1, 1, 4, 4)
    counted = nn.AvgPool2d(3, stride=1, padding=1)(ones)[0, 0, 0, 0].item()
    real = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)(ones)[0, 0, 0, 0].item()
    assert counted == pytest.approx(4 / 9) and real == 1.0
    assert "A: 4/9 by default (the 5 padding zeros count), 1 with `count_include_pad=False`" in FLAT


def test_checkerboard_and_thin_strokes():
    checkerboard = load_images()[:1]  # step 0, first image: pattern_checkerboard_01
    assert nn.MaxPool2d(3)(checkerboard).unique().tolist() == [1.0]
    averages = nn.AvgPool2d(3)(checkerboard).unique()
    assert torch.allclose(averages, torch.tensor([4 / 9, 5 / 9]))
    assert "Max: white (1.0). Average: grey, 4/9 or 5/9, as a 3×3 window holds 4 or 5 white pixels" in FLAT
    text = torch.ones(1, 1, 6, 6)
    text[..., 2] = 0.0  # a 1-pixel dark stroke on white
    assert nn.MaxPool2d(2)(text).min().item() == 1.0 and nn.AvgPool2d(2)(text).min().item() == 0.5
    assert "A: Max pooling: white wins every window the stroke shares. Average keeps it at 0.5 grey" in FLAT


def test_output_shape_answers():
    assert tuple(nn.MaxPool2d(2)(torch.zeros(64, 3, 32, 32)).shape) == (64, 3, 16, 16)
    assert "A: (64, 3, 16, 16)." in DOC
    out = nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)(torch.zeros(1, 1, 5, 5))
    assert out.shape[-1] == 3 and -(-(5 + 2 - 2) // 2) + 1 == 4  # plain ceil would say 4
    assert "n = 5, k = 2, s = 2, p = 1, `ceil_mode=True`: 3 or 4?" in DOC and "A: 3. Plain ceil gives 4" in DOC
    with pytest.raises(RuntimeError) as err:
        nn.MaxPool2d(3, padding=2)(torch.zeros(1, 1, 5, 5))
    assert re.search(r'A: No: "([^"]+)"', FLAT).group(1) in str(err.value)


# -- 04 ---------------------------------------------------------------------------------------------
def test_dropout_answers():
    torch.manual_seed(0)
    out = nn.Dropout(0.5)(torch.full((1, 1, 64, 64), 0.8))
    assert sorted(round(v, 4) for v in torch.unique(out).tolist()) == [0.0, 1.6]
    assert abs(out.mean().item() - 0.8) < 0.05
    assert "A: 0 and 1.6" in DOC and "clips values above 1 (as 1.6 > 1)" in FLAT
    with torch.no_grad():
        assert not torch.equal(nn.Dropout(0.5)(torch.ones(100)), torch.ones(100))  # no_grad: still drops
    x = torch.rand(3, 3)
    assert torch.equal(nn.Sequential(nn.Dropout(0.5)).eval()(x), x)
    assert not torch.equal(F.dropout(torch.ones(100), 0.5), torch.ones(100))
    assert "A: `no_grad()` does not; after `eval()` `nn.Dropout` returns its input, but `F.dropout(x, 0.5)` still drops" in FLAT


def test_the_original_in_place_demo():
    data = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=torch.float64).unsqueeze(0)
    torch.manual_seed(231)
    out = nn.Dropout(p=0.5, inplace=True)(data)
    assert out is data
    assert "With `torch.manual_seed(231)` right before the call" in FLAT
    assert as_text(out[0].tolist()) in FLAT
    with pytest.raises(RuntimeError) as err:
        nn.Dropout(0.5, inplace=True)(torch.rand(3, 3, requires_grad=True))
    assert f'raises "{err.value}"' in FLAT


# -- 05 and 06 ---------------------------------------------------------------------------------------
def test_training_loss_answer_agrees_with_lesson_05():
    """05 measures training loss with dropout off (model.eval()); the walkthrough must say the same."""
    nb = nbformat.read(next((ROOT / "notebooks").glob("05_*.ipynb")), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "# measure: dropout OFF" in code and "model.eval()" in code
    assert "05 measures it with dropout off (`model.eval()`), and it is still higher" in FLAT
    assert "dropout on (`p0.5/dropout_on`) is higher again" in FLAT


def test_exit_question():
    torch.manual_seed(0)
    out = nn.Dropout(0.5)(nn.MaxPool2d(2, stride=2)(torch.ones(1, 3, 8, 8)))
    assert tuple(out.shape) == (1, 3, 4, 4) and set(out.unique().tolist()) <= {0.0, 2.0}
    assert "A: (1, 3, 4, 4); only 0 and 2." in DOC


def test_no_deleted_modules_or_old_runs():
    for gone in ("scratch_loops", "utils.drawing", "utils.divisors", "utils.overfitting", "utils/scratch.py"):
        assert gone not in DOC, gone
