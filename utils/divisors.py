"""What ``nn.AvgPool2d`` divides each window by, computed by the rule and measured from PyTorch.

PyTorch's conventions (``nn.AvgPool2d`` / ``F.avg_pool2d``, torch 2.x):

* Each output is ``sum of the window's cells / divisor``. Padding cells hold zeros (max pooling
  pads with −∞ instead). ``padding`` is added **per side**; ``stride=None`` means ``stride =
  kernel_size``. There is no ``dilation`` argument.
* The divisor is **not** always ``kernel_size²``. Per dimension, a window ``[start, start + k)``
  (``start = i·stride − padding``) is first clipped to the padded extent ``[−padding, n +
  padding)``: the padding cells are inside, the part that sticks out past the padding with
  ``ceil_mode=True`` (the *overhang*) is not. With ``count_include_pad=True`` (default) the
  divisor is the number of cells left, padding included; with ``count_include_pad=False`` it is
  the number of real input cells ``[0, n)`` in the window. The 2-D divisor is the product of the
  two per-dimension counts. ``divisor_override=D`` (non-zero) replaces all of it by ``D``.
* Example: 5×5 input, ``kernel_size=3, ceil_mode=True``: windows cover rows 0–2 and 3–4 (the
  second one hangs over by one row, which does not count), so the divisors are ``[[9, 6], [6, 4]]``.

``divisors`` applies that rule in plain Python; ``measured_divisors`` asks PyTorch (sum pooling
of a ones tensor divided by average pooling of it); ``tests/test_divisors.py`` checks that they
agree on many configurations.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import torch
import torch.nn.functional as F

from utils.shapes import window_starts

__all__ = [
    "window_counts",
    "divisors",
    "measured_divisors",
    "window_table",
    "divisor_labels",
    "fraction_text",
    "draw_results",
]


def _pair(value, name: str) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``, ``(3, 2)`` -> ``(3, 2)`` (height first), like ``nn.AvgPool2d``."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) == 1:
            return (int(value[0]), int(value[0]))
        if len(value) == 2:
            return (int(value[0]), int(value[1]))
        raise ValueError(f"{name} must be an int or a pair (height, width), got {value!r}.")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}.")
    return (value, value)


def _params(kernel_size, stride, padding) -> list[tuple[int, int, int]]:
    ks = _pair(kernel_size, "kernel_size")
    ss = ks if stride is None else _pair(stride, "stride")
    ps = _pair(padding, "padding")
    return [(ks[i], ss[i], ps[i]) for i in range(2)]


def window_counts(
    size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
) -> list[dict]:
    """One dimension: for each window, how many of its cells are real, padding, or overhang.

    Returns one dict per output position with ``start`` and ``stop`` (the window
    ``[start, stop)`` in input coordinates; negative = left padding), ``real`` (cells in
    ``[0, size)``), ``padding`` (cells in the padding, ``[−p, 0)`` or ``[size, size + p)``) and
    ``overhang`` (cells past the padding, only possible with ``ceil_mode=True``). Invalid
    configurations raise ``ValueError`` with the rule they break (from ``utils.shapes``).
    """
    k = kernel_size
    s = k if stride is None else stride
    p = padding
    rows = []
    for start in window_starts(size, k, s, p, 1, ceil_mode):
        stop = start + k
        real = max(0, min(stop, size) - max(start, 0))
        inside_padded = min(stop, size + p) - max(start, -p)
        rows.append(
            {
                "start": start,
                "stop": stop,
                "real": real,
                "padding": inside_padded - real,
                "overhang": k - inside_padded,
            }
        )
    return rows


def divisors(
    height: int,
    width: int,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> torch.Tensor:
    """The divisor of every output window of ``nn.AvgPool2d`` on an ``height × width`` input.

    Parameters are those of ``nn.AvgPool2d`` (ints or (height, width) pairs). Returns an int64
    tensor of the output's spatial shape, computed by the rule in the module docstring, without
    running PyTorch's pooling. ``divisor_override=0`` raises ``ValueError`` (PyTorch raises
    ``RuntimeError: divisor must be not zero``).
    """
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int):
            raise TypeError(f"divisor_override must be None or an int, got {divisor_override!r}.")
        if divisor_override == 0:
            raise ValueError(
                "divisor_override must not be 0 (PyTorch raises 'divisor must be not zero'). "
                "Use None for the usual divisor, or 1 for sum pooling."
            )
    per_dim = []
    for n, (k, s, p) in zip((height, width), _params(kernel_size, stride, padding), strict=True):
        rows = window_counts(n, k, s, p, ceil_mode)
        counts = [r["real"] + (r["padding"] if count_include_pad else 0) for r in rows]
        per_dim.append(torch.tensor(counts, dtype=torch.int64))
    table = per_dim[0][:, None] * per_dim[1][None, :]
    if divisor_override is not None:
        table = torch.full_like(table, divisor_override)
    return table


def measured_divisors(
    height: int,
    width: int,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> torch.Tensor:
    """The divisors PyTorch uses, measured: window sums of a ones tensor / its average pooling.

    ``F.avg_pool2d(ones, ..., divisor_override=1)`` is the number of real cells in each window
    (padding is zeros); dividing it by ``F.avg_pool2d(ones, ...)`` with the given parameters gives
    the divisor (every window holds at least one real cell). Computed in float64 and rounded to
    int64. Whatever PyTorch raises for the parameters is raised unchanged.
    """
    ones = torch.ones(1, 1, height, width, dtype=torch.float64)
    common = {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "ceil_mode": ceil_mode,
        "count_include_pad": count_include_pad,
    }
    sums = F.avg_pool2d(ones, **common, divisor_override=1)
    means = F.avg_pool2d(ones, **common, divisor_override=divisor_override)
    return torch.round(sums / means)[0, 0].to(torch.int64)


def window_table(
    grid,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> list[dict]:
    """Average pooling by hand on a small 2-D grid, one row per output window (row-major).

    Each row: ``out`` (output position), ``rows`` / ``cols`` (``range`` of real input rows and
    columns in the window), ``sum`` of those cells, ``padding`` and ``overhang`` (cells of the
    window in the padding and past it), ``divisor`` and ``value`` = ``Fraction(sum, divisor)``
    (exact; integer grids give exact fractions such as ``10/9``).
    """
    t = torch.as_tensor(grid)
    if t.dim() != 2:
        raise ValueError(f"grid must be 2-D (height × width), got shape {tuple(t.shape)}.")
    h, w = t.shape
    divs = divisors(
        h, w, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    (kh, sh, ph), (kw, sw, pw) = _params(kernel_size, stride, padding)
    row_windows = window_counts(h, kh, sh, ph, ceil_mode)
    col_windows = window_counts(w, kw, sw, pw, ceil_mode)
    out = []
    for i, rw in enumerate(row_windows):
        for j, cw in enumerate(col_windows):
            rows = range(max(rw["start"], 0), min(rw["stop"], h))
            cols = range(max(cw["start"], 0), min(cw["stop"], w))
            total = sum(t[r, c].item() for r in rows for c in cols)
            if isinstance(total, float) and total.is_integer():
                total = int(total)
            padded_cells = (rw["real"] + rw["padding"]) * (cw["real"] + cw["padding"])
            divisor = int(divs[i, j])
            value = Fraction(total, divisor) if isinstance(total, int) else total / divisor
            out.append(
                {
                    "out": (i, j),
                    "rows": rows,
                    "cols": cols,
                    "sum": total,
                    "padding": padded_cells - len(rows) * len(cols),
                    "overhang": kh * kw - padded_cells,
                    "divisor": divisor,
                    "value": value,
                }
            )
    return out


def divisor_labels(table: torch.Tensor, prefix: str = "÷") -> list[list[str]]:
    """Per-window labels such as ``"÷9"``, as rows (the ``labels`` of ``draw_windows``)."""
    return [[f"{prefix}{int(v)}" for v in row] for row in torch.as_tensor(table).tolist()]


def fraction_text(row: dict) -> str:
    """``"10/9"`` for a ``window_table`` row: the window's sum over its divisor, not reduced."""
    total = row["sum"]
    shown = str(total) if isinstance(total, int) else f"{total:.3g}"
    return f"{shown}/{row['divisor']}"


def draw_results(ax, table: list[dict], title: str | None = None, fontsize: int = 11):
    """Draw an average-pooling output grid with each cell as ``sum/divisor`` and its value.

    ``table`` comes from :func:`window_table`. The grid is drawn with ``utils.drawing``'s style,
    each output cell outlined in the colour of its window in ``draw_windows`` and showing e.g.
    ``10/9`` over ``1.11``. Returns ``ax``.
    """
    from utils.drawing import draw_windows

    out_h = max(row["out"][0] for row in table) + 1
    out_w = max(row["out"][1] for row in table) + 1
    draw_windows(ax, torch.zeros(out_h, out_w), 1, values=False, title=title, fontsize=fontsize)
    for row in table:
        i, j = row["out"]
        ax.text(j, i - 0.14, fraction_text(row), ha="center", va="center", fontsize=fontsize)
        ax.text(
            j,
            i + 0.22,
            f"{float(row['value']):.3g}",
            ha="center",
            va="center",
            fontsize=fontsize - 3,
            color="#555555",
        )
    return ax
