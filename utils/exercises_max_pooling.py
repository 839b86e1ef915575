"""Self-checks for the exercises of notebooks/01_max_pooling.ipynb.

Each ``check_*`` function takes the student's answer, prints what is right or what is wrong with a
hint, and returns ``True`` (right), ``False`` (wrong) or ``None`` (not answered: ``answer = None``).
It never raises on a wrong or malformed answer, so the lesson runs headless with its placeholders.
The expected answers are computed by PyTorch when the check runs, never typed in here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from utils.shapes import textbook_output_size

__all__ = [
    "EXERCISE_GRID",
    "EXERCISE_SHAPE",
    "EXERCISE_TIES",
    "EXERCISE_GRADIENT",
    "EXERCISE_COVERAGE",
    "check_overlapping",
    "check_shape",
    "check_indices",
    "check_gradient",
    "check_coverage",
]

#: Exercise 1: MaxPool2d(2, stride=1) on this 3×3 grid.
EXERCISE_GRID = [[1, 5, 2], [0, 3, 4], [6, 1, 1]]

#: Exercise 2: the output shape of this layer on an input of this shape.
EXERCISE_SHAPE = {
    "input_shape": (1, 3, 5, 8),
    "kernel_size": (2, 3),
    "stride": 2,
    "padding": 1,
    "ceil_mode": True,
}

#: Exercise 3: the indices that MaxPool2d(2, return_indices=True) returns on this 4×4 grid (ties!).
EXERCISE_TIES = [[1, 1, 0, 2], [0, 1, 2, 0], [3, 0, 4, 4], [0, 3, 4, 4]]

#: Exercise 4: x is this 4×4 grid, MaxPool2d(2, stride=1)(x).sum().backward(): what is x.grad?
EXERCISE_GRADIENT = [[1, 2, 3, 0], [4, 9, 1, 2], [0, 1, 1, 8], [2, 3, 1, 0]]

#: Exercise 5: the fraction of a 28×28 image that MaxPool2d(3) (floor mode) never reads.
EXERCISE_COVERAGE = {"size": 28, "kernel_size": 3}


def _report(ok: bool | None, message: str) -> bool | None:
    mark = {True: "✓ Right.", False: "✗ Not yet.", None: "… Not answered yet."}[ok]
    print(f"{mark} {message}".rstrip())
    return ok


def _plane(grid) -> torch.Tensor:
    return torch.tensor(grid, dtype=torch.float32)[None, None]


def _table(answer, shape: tuple[int, int], what: str) -> tuple[torch.Tensor | None, str]:
    """The answer as a float64 tensor of ``shape``, or (None, what to give instead)."""
    example = "[" + ", ".join(["[" + ", ".join(["…"] * shape[1]) + "]"] * shape[0]) + "]"
    try:
        t = torch.as_tensor(answer, dtype=torch.float64).detach().squeeze()
    except (TypeError, ValueError, RuntimeError):
        return None, f"{what}: {answer!r} is not a table of numbers. Hint: give {example}."
    if tuple(t.shape) != shape:
        return None, (
            f"{what}: PyTorch's answer is {shape[0]}×{shape[1]}, yours has shape {tuple(t.shape)}. "
            f"Hint: count the windows per direction and give {example}."
        )
    return t, ""


def _first_difference(answer: torch.Tensor, expected: torch.Tensor) -> tuple[int, int]:
    i, j = (answer != expected).nonzero()[0].tolist()
    return i, j


# ------------------------------------------------------------------------------------------
def check_overlapping(answer) -> bool | None:
    """Exercise 1: ``nn.MaxPool2d(2, stride=1)`` on ``EXERCISE_GRID``."""
    if answer is None:
        return _report(None, "Write the output as a list of rows, e.g. [[0, 0], [0, 0]].")
    expected = F.max_pool2d(_plane(EXERCISE_GRID), 2, stride=1)[0, 0].double()
    t, problem = _table(answer, tuple(expected.shape), "Exercise 1")
    if t is None:
        return _report(False, problem + " With stride 1 the 2×2 window moves one cell at a time.")
    if torch.equal(t, expected):
        return _report(True, f"Overlapping windows: {expected.long().tolist()}.")
    i, j = _first_difference(t, expected)
    return _report(
        False,
        (
            f"Output [{i}][{j}] is {expected[i, j].item():g}, not {t[i, j].item():g}. Hint: with stride 1, "
            f"window ({i}, {j}) covers rows {i}–{i + 1} and columns {j}–{j + 1} of the grid; take its "
            "largest value."
        ),
    )


def check_shape(answer) -> bool | None:
    """Exercise 2: the output shape for ``EXERCISE_SHAPE``."""
    if answer is None:
        return _report(None, "Write the shape as a tuple (N, C, H, W).")
    p = EXERCISE_SHAPE
    kernel, stride, padding = p["kernel_size"], p["stride"], p["padding"]
    expected = tuple(
        F.max_pool2d(torch.zeros(p["input_shape"]), kernel, stride, padding, ceil_mode=True).shape
    )
    try:
        given = tuple(int(v) for v in answer)
    except (TypeError, ValueError):
        return _report(False, f"Give four integers (N, C, H, W), got {answer!r}.")
    if given == expected:
        return _report(
            True,
            f"{expected}: ceil, then PyTorch drops a window that would start in the right padding.",
        )
    if len(given) != 4:
        return _report(
            False, f"Give all four sizes (N, C, H, W); pooling keeps N and C, got {given}."
        )
    if given[:2] != expected[:2]:
        return _report(False, "Pooling never changes N and C: only H and W shrink.")
    n_hw = p["input_shape"][2:]
    plain_ceil = tuple(
        textbook_output_size(n_hw[a], kernel[a], stride, padding, ceil_mode=True) for a in range(2)
    )
    floor = tuple(textbook_output_size(n_hw[a], kernel[a], stride, padding) for a in range(2))
    if given[2:] == plain_ceil:
        return _report(
            False,
            (
                f"{given[2:]} is the plain ceil formula. Hint: PyTorch then drops the last window "
                "if it would start inside the right padding, i.e. if (out − 1)·stride ≥ n + padding. "
                "Check the height."
            ),
        )
    if given[2:] == floor:
        return _report(
            False,
            (
                f"{given[2:]} is floor mode. Hint: ceil_mode=True rounds up, so a partial window at the "
                "end can add one output. Check the width."
            ),
        )
    wrong = "H" if given[2] != expected[2] else "W"
    return _report(
        False,
        (
            f"{wrong} is wrong. Hint: padding is per side (add 2·padding), kernel_size=(2, 3) means 2 "
            "for the height and 3 for the width, and stride 2 applies to both."
        ),
    )


def check_indices(answer) -> bool | None:
    """Exercise 3: ``return_indices`` of ``nn.MaxPool2d(2)`` on ``EXERCISE_TIES``."""
    if answer is None:
        return _report(None, "Write the indices as a list of rows, e.g. [[0, 0], [0, 0]].")
    _, idx = F.max_pool2d(_plane(EXERCISE_TIES), 2, return_indices=True)
    expected = idx[0, 0].double()
    t, problem = _table(answer, tuple(expected.shape), "Exercise 3")
    if t is None:
        return _report(False, problem)
    if torch.equal(t, expected):
        return _report(True, f"{expected.long().tolist()}: flat h·W + w, first maximum wins ties.")
    if t.max() <= 3 and expected.max() > 3:
        return _report(
            False,
            (
                "These look like positions inside each window (0–3). Hint: PyTorch's indices are flat "
                "over the whole 4×4 plane, row·4 + column, so they run from 0 to 15."
            ),
        )
    i, j = _first_difference(t, expected)
    return _report(
        False,
        (
            f"Index [{i}][{j}] is {int(expected[i, j])}, not {int(t[i, j])}. Hint: when several cells "
            "share the maximum, PyTorch keeps the first one in row-major order (left to right, then "
            "top to bottom), and the index is row·4 + column."
        ),
    )


def check_gradient(answer) -> bool | None:
    """Exercise 4: ``x.grad`` after ``nn.MaxPool2d(2, stride=1)(x).sum().backward()``."""
    if answer is None:
        return _report(None, "Write x.grad as a list of 4 rows of 4 numbers.")
    x = _plane(EXERCISE_GRADIENT).requires_grad_()
    F.max_pool2d(x, 2, stride=1).sum().backward()
    expected = x.grad[0, 0].double()
    t, problem = _table(answer, (4, 4), "Exercise 4")
    if t is None:
        return _report(False, problem + " x.grad always has the shape of x.")
    if torch.equal(t, expected):
        return _report(True, "Each output sends its gradient 1 to its argmax, and they add up.")
    if torch.equal(t > 0, expected > 0):
        return _report(
            False,
            (
                "The right cells receive gradient, but not the right amounts. Hint: a cell that is "
                "the maximum of several overlapping windows receives 1 from each of them."
            ),
        )
    if t.sum() != expected.sum():
        return _report(
            False,
            (
                f"Your gradients add up to {t.sum().item():g}. Hint: there are "
                f"{int(expected.sum())} outputs, each passes exactly 1 to one input cell (its argmax)."
            ),
        )
    i, j = _first_difference(t, expected)
    return _report(
        False,
        (
            f"Cell [{i}][{j}] should get {expected[i, j].item():g}. Hint: list the 9 windows "
            "(2×2, stride 1), find each one's maximum, and count how often each cell wins."
        ),
    )


def check_coverage(answer) -> bool | None:
    """Exercise 5: the fraction of a 28×28 image that ``nn.MaxPool2d(3)`` never reads."""
    if answer is None:
        return _report(None, "Write a fraction between 0 and 1, e.g. 0.05.")
    n, k = EXERCISE_COVERAGE["size"], EXERCISE_COVERAGE["kernel_size"]
    # Measured with PyTorch: the gradient of a sum of window sums counts the windows per pixel.
    x = torch.zeros(1, 1, n, n, requires_grad=True)
    F.avg_pool2d(x, k, divisor_override=1).sum().backward()
    expected = (x.grad == 0).double().mean().item()
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return _report(False, f"Give one number between 0 and 1, got {answer!r}.")
    if abs(value - expected) < 5e-4:
        return _report(
            True, f"{expected:.4f} = 1 − 27²/28²: the last row and column are never read."
        )
    if abs(value / 100 - expected) < 5e-4:
        return _report(False, f"That is a percentage; give the fraction {value / 100:.4f} instead.")
    one_dim = (n - (n - k) // k * k - k) / n  # the fraction of rows (only) that are ignored
    if abs(value - one_dim) < 5e-4:
        return _report(
            False,
            (
                "That is the fraction of rows that are ignored. Hint: columns are ignored too; count "
                "the pixels that lie in an ignored row OR an ignored column."
            ),
        )
    return _report(
        False,
        (
            f"Not {value:.4f}. Hint: 28 = 9·3 + 1, so 9 windows per direction read rows 0–26; "
            "how many of the 28·28 pixels lie outside the 27×27 block they read?"
        ),
    )
