"""Self-checks for the exercises of notebooks/02_average_pooling.ipynb.

Each ``check_*`` takes the student's answer, prints ✓/✗ with a hint (``utils.checks.report``) and
returns True, False, or None when the placeholder is still there. The expected answer is computed by
PyTorch when the check runs; a malformed answer is a wrong answer, never an exception.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from utils.checks import as_cells, report, unanswered

#: Exercise 1: what each window of AvgPool2d(4, ceil_mode=True) divides by on a 6×6 input.
DIVISORS = {"size": 6, "kernel_size": 4, "ceil_mode": True}
#: Exercise 2: this 4×4 grid, shifted one pixel to the right (see ``shift_right``).
SHIFT_GRID = [[9, 1, 1, 0], [2, 8, 0, 1], [0, 0, 7, 1], [1, 0, 3, 2]]
#: Exercise 3: AvgPool2d(3, stride=1, padding=1) on torch.ones(1, 1, 3, 3).
PADDING = {"size": 3, "kernel_size": 3, "stride": 1, "padding": 1}
#: Exercise 4: the windows of nn.AdaptiveAvgPool2d on 7 cells, 3 outputs per side.
ADAPTIVE = {"size": 7, "output_size": 3}


def shift_right(x: torch.Tensor) -> torch.Tensor:
    """Move every pixel one column to the right; a column of zeros comes in on the left."""
    return F.pad(x, (1, 0))[..., :-1]


def _table(answer, shape) -> torch.Tensor | None:
    """The answer as a float tensor of ``shape``, or None if it is not one."""
    try:
        t = torch.as_tensor([[float(v) for v in row] for row in answer], dtype=torch.float64)
    except (TypeError, ValueError):
        return None
    return t if tuple(t.shape) == tuple(shape) else None


def check_divisors(answer) -> bool | None:
    """Exercise 1: a 2×2 list of the divisors of AvgPool2d(4, ceil_mode=True) on 6×6."""
    if unanswered(answer):
        return report(None)
    n, k = DIVISORS["size"], DIVISORS["kernel_size"]
    ones = torch.ones(1, 1, n, n, dtype=torch.float64)
    sums = F.avg_pool2d(ones, k, ceil_mode=True, divisor_override=1)[0, 0]
    expected = sums / F.avg_pool2d(ones, k, ceil_mode=True)[0, 0]  # cells summed ÷ mean of ones
    got = _table(answer, expected.shape)
    if got is None:
        return report(False, en=f"Give {expected.shape[0]} rows of {expected.shape[1]} numbers.",
                      zh=f"请给出 {expected.shape[0]} 行、每行 {expected.shape[1]} 个数。")
    if torch.equal(got, expected):
        return report(True, en="Partial windows divide by the cells inside: 16, 8, 8, 4.",
                      zh="不完整的窗口除以窗口内的格子数：16、8、8、4。")
    if (got == k * k).all():
        return report(False, en="Not every window holds k² = 16 cells: the second row and column "
                      "of windows hang over the edge.", zh="不是每个窗口都有 k² = 16 个格子：第二行和第二列的窗口越过了边界。")
    return report(False, en="Count, for each window, the cells that lie inside the 6×6 input.",
                  zh="数一数每个窗口有几个格子落在 6×6 的输入内。")


def _changed(pool) -> set[tuple[int, int]]:
    x = torch.tensor(SHIFT_GRID, dtype=torch.float32)[None, None]
    diff = (pool(x) != pool(shift_right(x)))[0, 0]
    return {tuple(ij) for ij in diff.nonzero().tolist()}


def check_shift(max_changed, avg_changed) -> bool | None:
    """Exercise 2: the sets of (row, col) outputs of MaxPool2d(2) / AvgPool2d(2) that change."""
    if unanswered(max_changed) or unanswered(avg_changed):
        return report(None)
    want_max = _changed(torch.nn.MaxPool2d(2))
    want_avg = _changed(torch.nn.AvgPool2d(2))
    got_max, got_avg = as_cells(max_changed), as_cells(avg_changed)
    if got_max is None or got_avg is None:
        return report(False, en="Give two sets of (row, col) pairs, e.g. {(0, 1), (1, 1)}.",
                      zh="请给出两个由 (行, 列) 组成的集合，例如 {(0, 1), (1, 1)}。")
    if got_max == want_max and got_avg == want_avg:
        return report(True, en=f"Max pooling changed {len(want_max)} of 4 outputs, average pooling "
                      f"{len(want_avg)}: a maximum that stays inside its window does not move the output.",
                      zh=f"最大池化改变了 4 个输出中的 {len(want_max)} 个，平均池化改变了 {len(want_avg)} 个："
                      "只要最大值还留在窗口内，输出就不变。")
    if got_max != want_max:
        return report(False, en="Max pooling: after the shift, is each window's largest value still "
                      "the same number?", zh="最大池化：平移后每个窗口的最大值还是同一个数吗？")
    return report(False, en="Average pooling: a window's mean changes when any value enters or "
                  "leaves it (compare the sums).", zh="平均池化：只要有数值移入或移出窗口，平均值就会变（比较一下窗口的和）。")


def check_padding(include_answer, exclude_answer) -> bool | None:
    """Exercise 3: the 3×3 outputs with count_include_pad=True and with False."""
    if unanswered(include_answer) or unanswered(exclude_answer):
        return report(None)
    n, k, s, p = (PADDING[key] for key in ("size", "kernel_size", "stride", "padding"))
    ones = torch.ones(1, 1, n, n, dtype=torch.float64)
    want = [F.avg_pool2d(ones, k, s, p, count_include_pad=c)[0, 0] for c in (True, False)]
    got = [_table(a, want[0].shape) for a in (include_answer, exclude_answer)]
    if any(g is None for g in got):
        return report(False, en="Give two 3×3 lists of rows (fractions such as 4/9 are fine).",
                      zh="请给出两个 3×3 的列表（可以写 4/9 这样的分数）。")
    ok = [torch.allclose(g, w, atol=1e-4) for g, w in zip(got, want, strict=True)]
    if all(ok):
        return report(True, en="Counted zero padding darkens the border (corner 4/9, edge 6/9); "
                      "without it every output of a ones input is 1.",
                      zh="计入除数的零填充会让边缘变暗（角上 4/9，边上 6/9）；不计入时，全 1 输入的输出处处是 1。")
    if not ok[0]:
        return report(False, en="count_include_pad=True: the padding zeros are in the divisor, so a "
                      "corner window is 4 ones ÷ 9.", zh="count_include_pad=True：填充的零计入除数，角上窗口是 4 个 1 ÷ 9。")
    return report(False, en="count_include_pad=False: divide by the real cells only.",
                  zh="count_include_pad=False：只除以真实格子的个数。")


def check_adaptive(answer) -> bool | None:
    """Exercise 4: the [start, end) windows of AdaptiveAvgPool over 7 cells, 3 outputs."""
    if unanswered(answer):
        return report(None)
    n, o = ADAPTIVE["size"], ADAPTIVE["output_size"]
    weights = F.adaptive_avg_pool1d(torch.eye(n)[None], o)[0]  # row c: how output j reads cell c
    want = []
    for j in range(o):
        cells = weights[:, j].nonzero().flatten().tolist()
        want.append((cells[0], cells[-1] + 1))
    try:
        got = [(int(a), int(b)) for a, b in answer]
    except (TypeError, ValueError):
        got = None
    if got == want:
        return report(True, en="Uneven and overlapping: cells 2 and 4 are each read by two outputs.",
                      zh="窗口不等长且相互重叠：第 2 格和第 4 格各被两个输出读取。")
    if got is None or len(got) != o:
        return report(False, en=f"Give {o} pairs (start, end), e.g. [(0, 3), ...].",
                      zh=f"请给出 {o} 个 (start, end) 对，例如 [(0, 3), ...]。")
    return report(False, en="start = floor(i·n/o), end = ceil((i+1)·n/o), with n=7, o=3; end is "
                  "not included.", zh="start = floor(i·n/o)，end = ceil((i+1)·n/o)，n=7，o=3；不含 end。")
