"""Self-checks for the exercises of notebooks/06_under_the_hood.ipynb.

Each ``check_*`` function takes the student's answer, prints what is right or what is wrong with a
hint, and returns ``True`` (right), ``False`` (wrong) or ``None`` (not answered: ``answer = None``).
It never raises on a wrong or malformed answer, so the notebook runs headless with the placeholder
answers. Expected answers are computed by PyTorch when the check runs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

__all__ = [
    "EXERCISE_INDICES",
    "EXERCISE_VIEW",
    "check_avg_pool_from_windows",
    "check_dropout",
    "check_indices",
    "check_window_view",
]

#: Exercise 1: 3×3 windows with stride 2 over this 6×8 tensor, as one as_strided view.
EXERCISE_VIEW = {"height": 6, "width": 8, "kernel_size": 3, "stride": 2}

#: Exercise 3: F.max_pool2d(x, 2, stride=1, return_indices=True) on this 1×1×2×3 input.
EXERCISE_INDICES = [[5.0, 7.0, 7.0], [7.0, math.nan, math.nan]]


def _report(ok: bool | None, message: str) -> bool | None:
    mark = {True: "✓ Right.", False: "✗ Not yet.", None: "… Not answered yet."}[ok]
    print(f"{mark} {message}".rstrip())
    return ok


class _Calls(TorchFunctionMode):
    """Record the names of the torch functions a student's function calls."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.add(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


def _run(fn, *args):
    """(result, names of torch functions called, error message or '')."""
    calls = _Calls()
    try:
        with calls:
            out = fn(*args)
    except Exception as err:  # noqa: BLE001 - a student's code may raise anything
        return None, calls.names, f"{type(err).__name__}: {err}"
    return out, calls.names, ""


# ---------------------------------------------------------------------------------------------
# Exercise 1 · the window view
# ---------------------------------------------------------------------------------------------
def check_window_view(size, stride) -> bool | None:
    """Exercise 1: ``x.as_strided(size, stride)`` must be the grid of 3×3 windows, stride 2, of
    ``x = torch.arange(48.).reshape(6, 8)``."""
    if size is None or stride is None:
        return _report(None, "Give size=(rows of windows, columns of windows, 3, 3) and stride "
                             "as a tuple of 4 numbers.")  # fmt: skip
    e = EXERCISE_VIEW
    x = torch.arange(float(e["height"] * e["width"])).reshape(e["height"], e["width"])
    k, s = e["kernel_size"], e["stride"]
    expected = x.unfold(0, k, s).unfold(1, k, s)  # PyTorch's own windows (also a view)
    try:
        size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
    except (TypeError, ValueError):
        return _report(
            False, f"size and stride must be tuples of 4 ints, got {size!r}, {stride!r}."
        )
    if len(size) != 4 or len(stride) != 4:
        return _report(False, "Both need 4 entries: (window row, window column, row inside the "
                              "window, column inside the window).")  # fmt: skip
    if size != tuple(expected.shape):
        if size[2:] != (k, k):
            return _report(False, f"The last two sizes are the window itself: ({k}, {k}).")
        return _report(False, f"{size[:2]} windows is not right. Per direction: "
                              f"(n - k) // s + 1, with n = {e['height']} rows and "
                              f"{e['width']} columns.")  # fmt: skip
    if stride[2:] != x.stride():
        return _report(False, f"Inside a window, moving one cell right or down is the same as in "
                              f"x itself: x.stride() = {x.stride()}.")  # fmt: skip
    try:
        view = x.as_strided(size, stride)
    except RuntimeError as err:
        return _report(False, f"as_strided refused: {err}. Hint: the window steps are "
                              "stride × x.stride().")  # fmt: skip
    if not torch.equal(view, expected):
        return _report(False, f"The window steps {stride[:2]} are off. Moving one window down "
                              f"skips {s} rows of {x.stride(0)} elements; one window right skips "
                              f"{s} columns of {x.stride(1)}.")  # fmt: skip
    return _report(True, f"size {size}, stride {stride}: {view.numel()} numbers seen through "
                         f"{x.numel()} in memory, nothing copied (data_ptr equal: "
                         f"{view.data_ptr() == x.data_ptr()}).")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Exercise 2 · average pooling from windows
# ---------------------------------------------------------------------------------------------
AVG_CASES = [((5, 5), 2, 1), ((6, 8), 3, 2), ((7, 4), 2, 2), ((4, 9), 3, 3), ((3, 3), 3, 1)]


def check_avg_pool_from_windows(fn) -> bool | None:
    """Exercise 2: ``fn(x, k, s)`` for a 2-D ``x`` (no padding) must equal
    ``F.avg_pool2d(x[None], k, s)[0]``, built from windows, not from a pooling function."""
    if fn is None:
        return _report(None, "Define my_avg_pool(x, k, s) and pass the function itself.")
    if not callable(fn):
        return _report(False, f"Pass the function itself (my_avg_pool), not {type(fn).__name__}.")
    g = torch.Generator().manual_seed(0)
    for shape, k, s in AVG_CASES:
        x = torch.rand(shape, generator=g)
        expected = F.avg_pool2d(x[None], k, s)[0]
        before = x.clone()
        out, names, error = _run(fn, x, k, s)
        where = f"on a {shape[0]}×{shape[1]} input with k={k}, s={s}"
        if error:
            return _report(False, f"Your function raised {where}: {error}")
        if any("pool" in n for n in names):
            return _report(False, "You called a PyTorch pooling function; build it from windows "
                                  "instead (window_view, or x.unfold twice, then .mean).")  # fmt: skip
        if not torch.equal(x, before):
            return _report(False, f"Your function changed its input {where}; work on a copy.")
        if not isinstance(out, torch.Tensor):
            return _report(False, f"Return a tensor, got {type(out).__name__} {where}.")
        if tuple(out.shape) != tuple(expected.shape):
            return _report(False, f"Shape {tuple(out.shape)} instead of {tuple(expected.shape)} "
                                  f"{where}. Per direction: (n - k) // s + 1 windows.")  # fmt: skip
        if not torch.allclose(out, expected, atol=1e-6):
            sums = F.avg_pool2d(x[None], k, s, divisor_override=1)[0]
            if torch.allclose(out, sums, atol=1e-5):
                return _report(False, f"These are window sums {where}; divide by k·k = {k * k}.")
            return _report(False, f"Values differ from PyTorch {where}. Hint: the mean over the "
                                  "last two dimensions of the (OH, OW, k, k) windows.")  # fmt: skip
    return _report(True, f"Equal to F.avg_pool2d on {len(AVG_CASES)} shapes, kernels and strides.")


# ---------------------------------------------------------------------------------------------
# Exercise 3 · which index?
# ---------------------------------------------------------------------------------------------
def check_indices(answer) -> bool | None:
    """Exercise 3: the two int64 indices of ``F.max_pool2d(x, 2, stride=1, return_indices=True)``
    on ``EXERCISE_INDICES`` (1×1×2×3: ties and NaNs)."""
    if answer is None:
        return _report(None, "Give the two indices as a list, e.g. [0, 1].")
    x = torch.tensor(EXERCISE_INDICES).reshape(1, 1, 2, 3)
    expected = F.max_pool2d(x, 2, stride=1, return_indices=True)[1].flatten().tolist()
    try:
        got = [int(v) for v in answer]
    except (TypeError, ValueError):
        return _report(False, f"Give a list of two whole numbers, got {answer!r}.")
    if len(got) != len(expected):
        return _report(False, f"There are {len(expected)} windows (2×2 with stride 1 over 2×3), "
                              f"so give {len(expected)} indices.")  # fmt: skip
    for window, (mine, right) in enumerate(zip(got, expected, strict=True)):
        if mine == right:
            continue
        cols = f"columns {window}–{window + 1}"
        cells = x[0, 0, :, window : window + 2]
        numbers = [i * 3 + window + j for i in range(2) for j in range(2)]
        nan_cells = [n for n, v in zip(numbers, cells.flatten().tolist(), strict=True) if v != v]
        if mine in numbers and mine not in nan_cells:
            hint = "That cell holds a number, but the window also holds a NaN, and NaN wins."
        elif mine in nan_cells:
            hint = ("Right idea, NaN wins; with several NaNs PyTorch's CPU kernel keeps the LAST "
                    "one it visits (row by row, left to right).")  # fmt: skip
        else:
            hint = f"That cell is not in the window: it covers indices {numbers} (h·W + w, W = 3)."
        return _report(False, f"Window {window} ({cols}): you said {mine}. {hint}")
    return _report(True, f"{expected}: NaN wins over numbers, and among NaNs the last one visited "
                         "is reported (among equal numbers it would be the first).")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Exercise 4 · dropout from a mask
# ---------------------------------------------------------------------------------------------
def check_dropout(fn) -> bool | None:
    """Exercise 4: ``fn(x, p)`` must zero each element with probability p and multiply the rest
    by 1 / (1 - p), without a PyTorch dropout function."""
    if fn is None:
        return _report(None, "Define my_dropout(x, p) and pass the function itself.")
    if not callable(fn):
        return _report(False, f"Pass the function itself (my_dropout), not {type(fn).__name__}.")
    torch.manual_seed(0)
    x = torch.rand(100_000) + 0.5  # no zeros in the input
    before = x.clone()
    for p in (0.2, 0.7):
        out, names, error = _run(fn, x, p)
        if error:
            return _report(False, f"Your function raised for p={p}: {error}")
        if any("dropout" in n for n in names):
            return _report(False, "You called a PyTorch dropout function; draw the mask yourself "
                                  "with torch.rand or torch.bernoulli.")  # fmt: skip
        if not isinstance(out, torch.Tensor) or out.shape != x.shape:
            return _report(False, f"Return a tensor of the input's shape {tuple(x.shape)}.")
        if not torch.equal(x, before):
            return _report(False, "Your function changed its input; return a new tensor.")
        zero = out == 0
        fraction = zero.float().mean().item()
        if abs(fraction - (1 - p)) < 0.02 and abs(fraction - p) > 0.02:
            return _report(False, f"With p={p} you zeroed {fraction:.0%} of the elements: p is the "
                                  "probability to DROP, 1 - p to keep (CS231n and TF1 used "
                                  "keep probability).")  # fmt: skip
        if abs(fraction - p) > 0.02:
            return _report(False, f"With p={p} you zeroed {fraction:.1%} of the elements; expected "
                                  f"about {p:.0%}. Hint: keep = torch.rand_like(x) >= p.")  # fmt: skip
        kept = ~zero
        if torch.allclose(out[kept], x[kept]):
            return _report(False, "Kept elements are unchanged: scale them by 1 / (1 - p) so the "
                                  "expected value stays x.")  # fmt: skip
        if not torch.allclose(out[kept], x[kept] / (1 - p), rtol=1e-5):
            return _report(False, f"Kept elements should be x / (1 - p) = x × {1 / (1 - p):.4g} "
                                  f"for p={p}.")  # fmt: skip
    return _report(True, "About p of the elements are zeroed, the others scaled by 1 / (1 - p): "
                         "the same rule as F.dropout in training mode.")  # fmt: skip
