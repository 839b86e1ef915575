"""Self-checks for the exercises of notebooks/02_average_pooling.ipynb.

Each ``check_*`` function takes the student's answer, prints what is right or what is wrong with a
hint, and returns ``True`` (right), ``False`` (wrong) or ``None`` (not answered: ``answer = None``).
It never raises on a wrong or malformed answer, so a notebook run headless with the placeholder
answers does not fail. The expected answers are computed by PyTorch when the check runs.

Answers are nested lists (rows of numbers, ``Fraction``s or tensors); values are compared with a
tolerance of 1e-6, so ``4/9``, ``0.444444`` and ``Fraction(4, 9)`` are all accepted.
"""

from __future__ import annotations

from fractions import Fraction

import torch
import torch.nn.functional as F

from utils.pooling import window_table

__all__ = [
    "EXERCISE_DIVISORS",
    "EXERCISE_GRID",
    "EXERCISE_PADDING",
    "EXERCISE_GRADIENT",
    "EXERCISE_INT64",
    "check_divisors",
    "check_max_vs_avg",
    "check_padding",
    "check_gradient",
    "check_int64",
]

TOLERANCE = 1e-6

#: Exercise 1: the divisor of each window of AvgPool2d(4, ceil_mode=True) on a 6×6 input.
EXERCISE_DIVISORS = {"height": 6, "width": 6, "kernel_size": 4, "ceil_mode": True}

#: Exercise 2: MaxPool2d(2) and AvgPool2d(2) on this 4×4 grid.
EXERCISE_GRID = [[1, 3, 0, 0], [5, 3, 0, 4], [2, 2, 7, 1], [2, 2, 1, 1]]

#: Exercise 3: AvgPool2d(3, stride=1, padding=1) on a 3×3 grid of ones, count_include_pad True/False.
EXERCISE_PADDING = {"size": 3, "kernel_size": 3, "stride": 1, "padding": 1}

#: Exercise 4: x is 3×3, y = AvgPool2d(2, ceil_mode=True)(x).sum(); what is x.grad?
EXERCISE_GRADIENT = {"size": 3, "kernel_size": 2, "ceil_mode": True}

#: Exercise 5: AvgPool2d(2) on these two int64 grids (one output value each).
EXERCISE_INT64 = ([[1, 2], [2, 2]], [[-1, -2], [-2, -2]])


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------
def _report(ok: bool | None, message: str) -> bool | None:
    mark = {True: "✓ Right.", False: "✗ Not yet.", None: "… Not answered yet."}[ok]
    print(f"{mark} {message}".rstrip())
    return ok


def _as_table(answer, shape: tuple[int, int], what: str) -> tuple[torch.Tensor | None, str]:
    """Answer -> float64 tensor of ``shape``, or (None, message saying what to give)."""
    rows, cols = shape
    example = (
        "[" + ", ".join("[" + ", ".join("…" for _ in range(cols)) + "]" for _ in range(rows)) + "]"
    )
    try:
        if isinstance(answer, torch.Tensor):
            t = answer.detach().to(torch.float64)
        else:
            t = torch.tensor(_floats(answer), dtype=torch.float64)
    except (TypeError, ValueError):
        return None, (
            f"{what}: got {answer!r}, which is not a table of numbers. Hint: give a list "
            f"of {rows} rows of {cols} numbers, e.g. {example}."
        )
    t = t.squeeze()
    if shape == (1, 1):
        t = t.reshape(1, 1) if t.numel() == 1 else t
    if tuple(t.shape) != shape:
        return None, (
            f"{what}: PyTorch's output here is {rows}×{cols}, your answer has shape "
            f"{tuple(t.shape)}. Hint: count the windows per direction (with ceil_mode a last, "
            f"partial window counts too) and give {example}."
        )
    return t, ""


def _floats(answer):
    if hasattr(answer, "tolist") and not isinstance(answer, (str, bytes)):  # NumPy arrays
        answer = answer.tolist()
    if isinstance(answer, (list, tuple)):
        return [_floats(a) for a in answer]
    if isinstance(answer, (str, bytes)) or answer is None:
        raise TypeError(answer)
    return float(Fraction(answer) if isinstance(answer, Fraction) else answer)


def _close(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs() <= TOLERANCE


def _first_wrong(answer: torch.Tensor, expected: torch.Tensor) -> tuple[int, int]:
    bad = (~_close(answer, expected)).nonzero()
    return int(bad[0, 0]), int(bad[0, 1])


def _fmt(v: float) -> str:
    frac = Fraction(v).limit_denominator(100)
    if abs(float(frac) - v) < TOLERANCE:
        return str(frac.numerator) if frac.denominator == 1 else f"{frac} ≈ {v:.4g}"
    return f"{v:.4g}"


# ------------------------------------------------------------------------------------------
# Exercise 1 · divisors
# ------------------------------------------------------------------------------------------
def check_divisors(answer) -> bool | None:
    """Exercise 1: the divisor of each window of ``AvgPool2d(4, ceil_mode=True)`` on 6×6 ones."""
    if answer is None:
        return _report(
            None,
            "Write the divisors as a list of rows: [[top-left, top-right], [bottom-left, bottom-right]].",
        )
    p = EXERCISE_DIVISORS
    ones = torch.ones(1, 1, p["height"], p["width"], dtype=torch.float64)
    sums = F.avg_pool2d(ones, p["kernel_size"], ceil_mode=p["ceil_mode"], divisor_override=1)
    means = F.avg_pool2d(ones, p["kernel_size"], ceil_mode=p["ceil_mode"])
    expected = (sums / means)[0, 0]
    table, problem = _as_table(answer, tuple(expected.shape), "Divisors")
    if table is None:
        return _report(False, problem)
    if _close(table, expected).all():
        return _report(
            True,
            "Full windows divide by 4·4 = 16; the windows that hang over the "
            "right or bottom edge divide only by the cells inside the input "
            "(4·2 = 8, 2·2 = 4).",
        )
    k2 = p["kernel_size"] ** 2
    if _close(table, torch.full_like(table, k2)).all():
        return _report(
            False,
            f"You divided every window by kernel_size² = {k2}. With "
            "ceil_mode=True the last window in each direction hangs over the "
            "edge of the 6×6 input; the overhang is not padding and does not "
            "count. Hint: count the cells of each window that lie inside.",
        )
    i, j = _first_wrong(table, expected)
    row = window_table(ones[0, 0], p["kernel_size"], ceil_mode=p["ceil_mode"])[
        i * expected.shape[1] + j
    ]
    return _report(
        False,
        f"Window ({i}, {j}): you said {_fmt(table[i, j].item())}. It covers "
        f"rows {row['rows'].start}–{row['rows'].stop - 1} and columns "
        f"{row['cols'].start}–{row['cols'].stop - 1} of the input. Hint: the "
        "divisor is the number of input cells it covers.",
    )


# ------------------------------------------------------------------------------------------
# Exercise 2 · max vs average
# ------------------------------------------------------------------------------------------
def check_max_vs_avg(max_answer, avg_answer) -> bool | None:
    """Exercise 2: ``MaxPool2d(2)`` and ``AvgPool2d(2)`` on ``EXERCISE_GRID``."""
    if max_answer is None and avg_answer is None:
        return _report(None, "Fill in max_answer and avg_answer, each a 2×2 list of rows.")
    x = torch.tensor(EXERCISE_GRID, dtype=torch.float64)[None, None]
    want_max, want_avg = F.max_pool2d(x, 2)[0, 0], F.avg_pool2d(x, 2)[0, 0]
    messages, ok = [], True
    tables = []
    for name, answer in (("max", max_answer), ("avg", avg_answer)):
        if answer is None:
            messages.append(f"{name}_answer is not answered yet (Hint: a 2×2 list of rows).")
            ok = False
            tables.append(None)
            continue
        table, problem = _as_table(answer, (2, 2), f"{name}_answer")
        tables.append(table)
        if table is None:
            messages.append(problem)
            ok = False
    if all(t is not None for t in tables):
        t_max, t_avg = tables
        if _close(t_max, want_avg).all() and _close(t_avg, want_max).all():
            return _report(
                False,
                "You swapped them. Hint: max pooling keeps the largest value of "
                "each window, average pooling its mean (sum / 4).",
            )
    for name, table, want in (("max", tables[0], want_max), ("avg", tables[1], want_avg)):
        if table is None or _close(table, want).all():
            continue
        ok = False
        i, j = _first_wrong(table, want)
        cells = [EXERCISE_GRID[r][c] for r in (2 * i, 2 * i + 1) for c in (2 * j, 2 * j + 1)]
        if name == "max":
            hint = f"the largest of {cells}"
        else:
            hint = f"the sum {sum(cells)} of {cells} divided by 4 (all 4 cells are inside)"
            if _close(table[i, j], torch.tensor(float(max(cells)), dtype=torch.float64)):
                hint += "; you gave the maximum"
        messages.append(
            f"{name}_answer window ({i}, {j}): you said "
            f"{_fmt(table[i, j].item())}. Hint: it is {hint}."
        )
    if ok:
        return _report(
            True,
            "Max keeps each window's strongest value (5, 4, 2, 7); average "
            "blends them (3, 1, 2, 2.5): the lone 4 and 7 are diluted.",
        )
    return _report(False, " ".join(messages))


# ------------------------------------------------------------------------------------------
# Exercise 3 · padding counts
# ------------------------------------------------------------------------------------------
def check_padding(include_answer, exclude_answer) -> bool | None:
    """Exercise 3: ``AvgPool2d(3, stride=1, padding=1)`` on 3×3 ones, ``count_include_pad``
    True (``include_answer``) and False (``exclude_answer``)."""
    if include_answer is None and exclude_answer is None:
        return _report(None, "Fill in include_answer and exclude_answer, each a 3×3 list.")
    p = EXERCISE_PADDING
    ones = torch.ones(1, 1, p["size"], p["size"], dtype=torch.float64)
    want = {
        flag: F.avg_pool2d(
            ones, p["kernel_size"], p["stride"], p["padding"], count_include_pad=flag
        )[0, 0]
        for flag in (True, False)
    }
    shape = tuple(want[True].shape)
    messages, ok = [], True
    for flag, answer, name in (
        (True, include_answer, "include_answer"),
        (False, exclude_answer, "exclude_answer"),
    ):
        if answer is None:
            messages.append(f"{name} is not answered yet (Hint: a 3×3 list of rows).")
            ok = False
            continue
        table, problem = _as_table(answer, shape, name)
        if table is None:
            messages.append(problem)
            ok = False
            continue
        if _close(table, want[flag]).all():
            continue
        ok = False
        if _close(table, want[not flag]).all():
            messages.append(
                f"{name} is the answer for count_include_pad={not flag}. Hint: with "
                "True the zero padding cells count in the divisor (always 9 here); "
                "with False only the real cells do."
            )
            continue
        i, j = _first_wrong(table, want[flag])
        row = window_table(ones[0, 0], p["kernel_size"], p["stride"], p["padding"])[
            i * shape[1] + j
        ]
        n_real = len(row["rows"]) * len(row["cols"])
        counted = "real and padding cells both count" if flag else "only the real cells count"
        messages.append(
            f"{name} window ({i}, {j}): you said {_fmt(table[i, j].item())}. Hint: this window "
            f"holds {n_real} real ones and {row['padding']} padding zeros; with "
            f"count_include_pad={flag} {counted} in the divisor."
        )
    if ok:
        return _report(
            True,
            "Padding zeros count by default (corners 4/9, edges 6/9): the "
            "border darkens. count_include_pad=False divides by the real cells "
            "only, so a constant image stays constant.",
        )
    return _report(False, " ".join(messages))


# ------------------------------------------------------------------------------------------
# Exercise 4 · gradients
# ------------------------------------------------------------------------------------------
def check_gradient(answer) -> bool | None:
    """Exercise 4: ``x.grad`` for 3×3 ``x`` and ``y = AvgPool2d(2, ceil_mode=True)(x).sum()``."""
    if answer is None:
        return _report(None, "Write x.grad as a 3×3 list of rows (fractions welcome: 1/4).")
    p = EXERCISE_GRADIENT
    x = torch.zeros(1, 1, p["size"], p["size"], dtype=torch.float64, requires_grad=True)
    F.avg_pool2d(x, p["kernel_size"], ceil_mode=p["ceil_mode"]).sum().backward()
    expected = x.grad[0, 0]
    table, problem = _as_table(answer, tuple(expected.shape), "x.grad")
    if table is None:
        return _report(False, problem)
    if _close(table, expected).all():
        return _report(
            True,
            "Each output passes 1/divisor of its gradient to every cell of its "
            "window: 1/4 in the full window, 1/2 in the two half windows, 1 in "
            "the single-cell corner.",
        )
    if _close(table, torch.full_like(table, 0.25)).all():
        return _report(
            False,
            "1/4 everywhere assumes every window has 2×2 = 4 cells. The "
            "ceil_mode windows at the right and bottom hold only 2 cells, the "
            "corner only 1. Hint: gradient = 1/divisor of the cell's window.",
        )
    if set(table.flatten().tolist()) <= {0.0, 1.0}:
        return _report(
            False,
            "That is how max pooling routes gradients (all to one cell). "
            "Hint: average pooling spreads each output's gradient evenly over its "
            "window: 1/divisor to every cell.",
        )
    i, j = _first_wrong(table, expected)
    return _report(
        False,
        f"x.grad[{i}][{j}]: you said {_fmt(table[i, j].item())}. Hint: find "
        "the window holding this cell, count its cells inside the 3×3 input "
        "(the divisor), and take 1/divisor.",
    )


# ------------------------------------------------------------------------------------------
# Exercise 5 · int64
# ------------------------------------------------------------------------------------------
def check_int64(answer) -> bool | None:
    """Exercise 5: ``AvgPool2d(2)`` on the two int64 grids of ``EXERCISE_INT64`` (two numbers)."""
    if answer is None:
        return _report(None, "Write the two outputs as a pair, e.g. (1.5, -1.5).")
    expected = [
        int(F.avg_pool2d(torch.tensor(g, dtype=torch.int64)[None, None], 2).item())
        for g in EXERCISE_INT64
    ]
    try:
        values = [float(v) for v in answer]
    except (TypeError, ValueError):
        return _report(
            False, f"Got {answer!r}. Hint: give two numbers, one per grid, e.g. (1, -1)."
        )
    if len(values) != 2:
        return _report(False, f"Got {len(values)} numbers. Hint: give exactly two, one per grid.")
    if values == [float(e) for e in expected]:
        return _report(
            True,
            "int64 average pooling keeps the dtype and truncates toward zero: "
            "7/4 = 1.75 → 1 and −7/4 = −1.75 → −1 (not −2: it is not floor).",
        )
    sums = [sum(map(sum, g)) for g in EXERCISE_INT64]
    if all(abs(v - s / 4) < TOLERANCE for v, s in zip(values, sums, strict=True)):
        return _report(
            False,
            "Those are the float averages. The input is int64, and average "
            "pooling keeps the dtype: the result is an integer. Hint: how does "
            "C turn 1.75 into an integer?",
        )
    if values == [1.0, -2.0]:
        return _report(
            False,
            "The first is right; the second rounds down (floor). Hint: PyTorch "
            "truncates toward zero, like C integer division.",
        )
    if values == [2.0, -2.0]:
        return _report(
            False,
            "That rounds to the nearest integer. Hint: PyTorch truncates "
            "toward zero: drop the fraction.",
        )
    return _report(
        False,
        f"Each grid sums to {sums[0]} and {sums[1]}. Hint: divide by 4 and keep "
        "an integer the way C integer division does (toward zero).",
    )
