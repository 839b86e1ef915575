"""Window arithmetic of 2-D pooling, written once: where the windows of ``nn.MaxPool2d`` /
``nn.AvgPool2d`` sit, what average pooling divides by, which pixels no window reads, and the
windows of adaptive pooling. PyTorch's conventions:

* Parameters are an int or a ``(height, width)`` pair; ``stride=None`` means stride = kernel_size;
  ``padding`` is added on EACH side (−∞ for max pooling, zeros for average pooling); ``dilation``
  is the step between the cells a window reads (1 for ``nn.AvgPool2d``).
* Output size per dimension: ``floor((n + 2p − d(k−1) − 1) / s) + 1``. With ``ceil_mode=True``:
  ceil instead of floor, then the last window is DROPPED if it would start in the right padding,
  i.e. if ``(out − 1)·s ≥ n + p``. Window ``i`` reads ``i·s − p + j·d`` for ``j < k``; positions
  ``< 0`` or ``≥ n`` are padding.

Pure arithmetic: ``utils.plots`` draws it, ``utils.shapes`` explains refusals, and
``tests/test_pooling.py`` checks every function against PyTorch itself.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from fractions import Fraction

import torch
import torch.nn.functional as F


def pair(value, name: str = "value") -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; ``(3,)`` -> ``(3, 3)``; ``(3, 2)`` -> ``(3, 2)`` (height first).

    The spellings ``nn.MaxPool2d`` accepts. Ints may be any integer type (``operator.index``);
    bools, floats and strings raise ``TypeError``; a sequence of another length ``ValueError``.
    """
    items = tuple(value) if isinstance(value, (tuple, list, torch.Size)) else (value,)
    if len(items) not in (1, 2):
        raise ValueError(f"{name} must be an int or a pair of ints (height, width), got {value!r}.")
    if any(isinstance(v, bool) for v in items):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r} (a bool).")
    try:
        ints = tuple(operator.index(v) for v in items)
    except TypeError:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}.") from None
    return ints[0], ints[-1]


def textbook_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The plain formula: ``floor`` (or ``ceil``) of ``(n + 2p − d(k−1) − 1) / s``, plus 1.

    Without ceil_mode's drop rule; that rule is :func:`last_window_dropped`. ``//`` rounds down,
    also for negative numerators (PyTorch's ``div_rtn``). No checks: may be < 1.
    """
    stride = kernel_size if stride is None else stride
    numerator = size + 2 * padding - dilation * (kernel_size - 1) - 1
    return (numerator + (stride - 1 if ceil_mode else 0)) // stride + 1


def last_window_dropped(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """True when ceil_mode's last window would start in the right padding, so PyTorch drops it."""
    stride = kernel_size if stride is None else stride
    out = textbook_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
    return bool(ceil_mode) and (out - 1) * stride >= size + padding


def output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> int:
    """PyTorch's output size of one dimension (no checks: < 1 for a configuration it refuses).

    >>> output_size(5, 2, stride=2, padding=1, ceil_mode=True)  # the plain ceil formula says 4
    3
    """
    args = (size, kernel_size, stride, padding, dilation, ceil_mode)
    return textbook_output_size(*args) - last_window_dropped(*args)


def is_valid(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> bool:
    """Whether PyTorch accepts this dimension: k, s, d ≥ 1, 0 ≤ p ≤ k // 2, n ≥ 1, output ≥ 1."""
    stride = kernel_size if stride is None else stride
    return (
        min(kernel_size, stride, dilation, size) >= 1
        and 0 <= padding <= kernel_size // 2
        and output_size(size, kernel_size, stride, padding, dilation, ceil_mode) >= 1
    )


def window_starts(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Where each window starts: ``i·stride − padding`` (negative = in the left padding)."""
    stride = kernel_size if stride is None else stride
    out = output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
    return [i * stride - padding for i in range(out)]


def window_cells(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The positions each window reads along one dimension, one list per output position.

    Padding positions are included (``< 0`` or ``≥ size``). With dilation a window can miss every
    real cell (size=2, kernel_size=2, padding=1, dilation=3 reads −1 and 2): max pooling gives −∞.
    """
    starts = window_starts(size, kernel_size, stride, padding, dilation, ceil_mode)
    return [[start + j * dilation for j in range(kernel_size)] for start in starts]


def _dims(in_hw, kernel_size, stride, padding, dilation, ceil_mode):
    """Per dimension ``(n, k, s, p, d, ceil_mode)`` for height then width, checked."""
    k, p, d = pair(kernel_size, "kernel_size"), pair(padding, "padding"), pair(dilation, "dilation")
    s = k if stride is None or stride == () else pair(stride, "stride")
    dims = [(in_hw[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(2)]
    for dim in dims:
        if not is_valid(*dim):
            raise ValueError("PyTorch refuses n={}, kernel_size={}, stride={}, padding={}, dilation={}, "
                             "ceil_mode={}; utils.shapes.explain(...) says which rule.".format(*dim))
    return dims


@dataclass(frozen=True)
class Window:
    """One window: output position ``(i, j)``; ``cells`` every ``(row, col)`` it reads, row-major
    (PyTorch's order for ties), padding included; ``real`` those inside the input; ``ceil_only``
    whether it exists only because of ceil_mode."""

    i: int
    j: int
    cells: tuple[tuple[int, int], ...]
    real: tuple[tuple[int, int], ...]
    ceil_only: bool


def windows(in_hw, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Every :class:`Window` of 2-D pooling on an ``(H, W)`` plane, row-major; ``ValueError`` where PyTorch refuses."""
    dims = _dims(in_hw, kernel_size, stride, padding, dilation, ceil_mode)
    floor_out = [output_size(*dim[:5], False) for dim in dims]
    rows, cols = (window_cells(*dim) for dim in dims)
    result = []
    for i, rs in enumerate(rows):
        for j, cs in enumerate(cols):
            cells = tuple((r, c) for r in rs for c in cs)
            real = tuple((r, c) for r, c in cells if 0 <= r < in_hw[0] and 0 <= c < in_hw[1])
            result.append(Window(i, j, cells, real, i >= floor_out[0] or j >= floor_out[1]))
    return result


def window_counts(size, kernel_size, stride=None, padding=0, ceil_mode=False) -> list[dict]:
    """One dimension of average pooling: per window ``start``, ``stop`` (``[start, stop)``),
    ``real`` cells (in ``[0, size)``), ``padding`` cells and ``overhang`` (past the padding)."""
    rows = []
    for start in window_starts(size, kernel_size, stride, padding, 1, ceil_mode):
        stop = start + kernel_size
        real = max(0, min(stop, size) - max(start, 0))
        inside = min(stop, size + padding) - max(start, -padding)
        rows.append(dict(start=start, stop=stop, real=real, padding=inside - real, overhang=kernel_size - inside))
    return rows


def divisors(height, width, kernel_size, stride=None, padding=0, ceil_mode=False,
             count_include_pad=True, divisor_override=None) -> torch.Tensor:
    """What ``nn.AvgPool2d`` divides each window's sum by: an int64 tensor of the output's shape.

    Per dimension the window ``[start, start + k)`` is clipped to the padded extent ``[−p, n + p)``
    (padding counts, ceil_mode's overhang does not) with ``count_include_pad=True``, to the real
    cells ``[0, n)`` with ``False``; the 2-D divisor is the product. ``divisor_override`` (non-zero)
    replaces it. Example: 5×5, kernel 3, ceil_mode=True -> ``[[9, 6], [6, 4]]``.
    """
    counts = []
    for n, k, s, p, _, c in _dims((height, width), kernel_size, stride, padding, 1, ceil_mode):
        start = torch.tensor(window_starts(n, k, s, p, 1, c), dtype=torch.int64)
        if count_include_pad:
            counts.append((start + k).clamp(max=n + p) - start)
        else:
            counts.append((start + k).clamp(max=n) - start.clamp(min=0))
    table = counts[0][:, None] * counts[1][None, :]
    if divisor_override is None:
        return table
    if operator.index(divisor_override) == 0:
        raise ValueError("divisor_override must not be 0 (PyTorch: 'divisor must be not zero').")
    return torch.full_like(table, divisor_override)


def _avg_params(args, kwargs) -> dict:
    """``nn.AvgPool2d``'s arguments after the input, positional or by name, defaults filled in."""
    names = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
    defaults = dict(stride=None, padding=0, ceil_mode=False, count_include_pad=True)
    return defaults | dict(zip(names, args, strict=False)) | kwargs


def measured_divisors(height, width, *args, **kwargs) -> torch.Tensor:
    """The divisors PyTorch uses, measured: window sums of ones (``divisor_override=1``) divided by
    ``F.avg_pool2d`` of ones, in float64, rounded to int64. Arguments as :func:`divisors` (the
    order of ``F.avg_pool2d``); PyTorch's errors pass through."""
    params = _avg_params(args, kwargs)
    ones = torch.ones(1, 1, height, width, dtype=torch.float64)
    sums = F.avg_pool2d(ones, **{**params, "divisor_override": 1})
    return torch.round(sums / F.avg_pool2d(ones, **params))[0, 0].long()


def window_table(grid, *args, **kwargs) -> list[dict]:
    """Average pooling by hand on a 2-D grid, one dict per window (row-major): ``out`` (i, j),
    ``rows``/``cols`` (ranges of real cells), ``sum``, ``padding`` and ``overhang`` cell counts,
    ``divisor`` and ``value`` (a ``Fraction`` for integer sums, e.g. ``10/9``). The other
    arguments are those of :func:`divisors` (``nn.AvgPool2d``'s, positional or by name)."""
    t = torch.as_tensor(grid)
    if t.dim() != 2:
        raise ValueError(f"grid must be 2-D (height × width), got shape {tuple(t.shape)}.")
    h, w = t.shape
    p = _avg_params(args, kwargs)
    divs, ceil_mode = divisors(h, w, **p), p["ceil_mode"]
    (_, kh, sh, ph, *_), (_, kw, sw, pw, *_) = _dims((h, w), p["kernel_size"], p["stride"], p["padding"], 1, ceil_mode)
    out = []
    for i, rw in enumerate(window_counts(h, kh, sh, ph, ceil_mode)):
        for j, cw in enumerate(window_counts(w, kw, sw, pw, ceil_mode)):
            rows = range(max(rw["start"], 0), min(rw["stop"], h))
            cols = range(max(cw["start"], 0), min(cw["stop"], w))
            total = t[rows.start : rows.stop, cols.start : cols.stop].sum().item()
            total = int(total) if float(total).is_integer() else total
            padded = (rw["real"] + rw["padding"]) * (cw["real"] + cw["padding"])
            row = dict(out=(i, j), rows=rows, cols=cols, sum=total, divisor=int(divs[i, j]))
            row.update(padding=padded - len(rows) * len(cols), overhang=kh * kw - padded)
            row["value"] = Fraction(total, row["divisor"]) if isinstance(total, int) else total / row["divisor"]
            out.append(row)
    return out


def coverage_map(in_hw, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """An ``H×W`` int64 tensor: how many windows read each input pixel (0 = never read).

    In floor mode the last rows/columns can be read by no window: ``MaxPool2d(3)`` on 32×32 reads
    rows and columns 0–29 only (124 of 1024 pixels ignored); ceil_mode adds windows that read them.
    """
    counts = []
    for n, *params in _dims(in_hw, kernel_size, stride, padding, dilation, ceil_mode):
        per_dim = torch.zeros(n, dtype=torch.int64)
        for cells in window_cells(n, *params):
            per_dim[[c for c in cells if 0 <= c < n]] += 1
        counts.append(per_dim)
    return counts[0][:, None] * counts[1][None, :]


def ignored_fraction(in_hw, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Fraction of input pixels no window reads (they cannot change the output at all)."""
    counts = coverage_map(in_hw, kernel_size, stride, padding, dilation, ceil_mode)
    return (counts == 0).double().mean().item()


def adaptive_windows(size: int, output_size: int) -> list[tuple[int, int]]:
    """Half-open windows ``[start, end)`` of adaptive pooling, one per output cell.

    Output ``i`` of ``o`` over ``n`` cells spans ``[floor(i·n/o), ceil((i+1)·n/o))``, the rule of
    ``nn.AdaptiveAvgPool2d`` / ``nn.AdaptiveMaxPool2d`` (per dimension). Example: n=10, o=4 gives
    ``[(0, 3), (2, 5), (5, 8), (7, 10)]``: uneven, overlapping windows no ``AvgPool2d`` reproduces.
    """
    return [(i * size // output_size, -(-(i + 1) * size // output_size)) for i in range(output_size)]
