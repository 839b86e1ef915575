"""Pictures of pooling windows along one dimension, for the output-shapes lesson and its calculator.

One row of cells (left padding, the input, right padding, and with ceil_mode the overhang past
the padding), and under it one row per output window showing the cells that window reads
(dilation leaves gaps). With ``ceil_mode=True``, a window PyTorch drops because it would start in
the right padding is drawn in red, dashed. The windows come from :func:`utils.shapes.window_cells`,
which the tests check against PyTorch's ``return_indices``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from utils.shapes import _one_dim_params, _pair, _raw_size, pool_output_size, window_cells

_INPUT, _PAD, _BEYOND = "#ffffff", "#d9d9d9", "#ffffff"
_WINDOW_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf")
_DROPPED = "#d62728"


def draw_windows_1d(
    ax, size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, label: str = "n"
) -> dict:
    """Draw the windows of one dimension on ``ax``; return what was drawn.

    Returns ``{"windows": [[positions], ...], "dropped": [positions] or None}``; positions are
    input coordinates (negative = left padding). Raises ``ValueError`` like PyTorch for an invalid
    configuration (nothing to draw).
    """
    out = pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
    k, s, p, d = _one_dim_params(kernel_size, stride, padding, dilation)
    windows = window_cells(size, k, s, p, d, ceil_mode)
    dropped = None
    if ceil_mode and _raw_size(size, k, s, p, d, True)[1]:
        start = out * s - p
        dropped = [start + j * d for j in range(k)]
    every = windows + ([dropped] if dropped else [])
    lo = min([-p] + [c for w in every for c in w])
    hi = max([size + p - 1] + [c for w in every for c in w])

    patches = []  # one PatchCollection at the end: much faster than one add_patch per cell
    for x in range(lo, hi + 1):
        if 0 <= x < size:
            face, text, hatch, style = _INPUT, str(x), None, "-"
        elif -p <= x < size + p:
            face, text, hatch, style = _PAD, "pad", "///", "-"
        else:
            face, text, hatch, style = _BEYOND, "", None, ":"
        patches.append(
            Rectangle(
                (x, 0),
                1,
                1,
                facecolor=face,
                edgecolor="black",
                hatch=hatch,
                linestyle=style,
                linewidth=1,
            )
        )
        box = {"facecolor": "white", "edgecolor": "none", "pad": 0.5} if text == "pad" else None
        ax.text(x + 0.5, 0.5, text, ha="center", va="center", fontsize=8 if box else 10, bbox=box)

    def draw_window(row: int, cells: list[int], colour: str, dashed: bool, name: str) -> None:
        y = -1.0 - row
        first, last = cells[0], cells[-1]
        ax.plot(
            [first + 0.5, last + 0.5],
            [y + 0.4, y + 0.4],
            color=colour,
            linewidth=1,
            linestyle="--" if dashed else "-",
        )
        for c in cells:
            patches.append(
                Rectangle(
                    (c + 0.1, y + 0.1),
                    0.8,
                    0.6,
                    facecolor=colour,
                    alpha=0.35 if dashed else 0.8,
                    edgecolor=colour,
                    linestyle="--" if dashed else "-",
                    linewidth=1.5,
                )
            )
        ax.text(lo - 0.3, y + 0.4, name, ha="right", va="center", fontsize=9, color=colour)

    for i, cells in enumerate(windows):
        draw_window(i, cells, _WINDOW_COLOURS[i % len(_WINDOW_COLOURS)], False, f"out[{i}]")
    if dropped:
        draw_window(len(windows), dropped, _DROPPED, True, "dropped")
        ax.text(
            dropped[-1] + 1.2,
            -0.6 - len(windows),
            f"starts at {dropped[0]} ≥ {label} = {size}: dropped",
            ha="left",
            va="center",
            fontsize=9,
            color=_DROPPED,
        )

    ax.add_collection(PatchCollection(patches, match_original=True))
    rows = len(windows) + (1 if dropped else 0)
    ax.set_xlim(lo - 3.2, hi + (9 if dropped else 1.5))
    ax.set_ylim(-rows - 0.2, 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        f"{label}={size}, kernel_size={k}, stride={s}, padding={p}, dilation={d}, "
        f"ceil_mode={ceil_mode}  →  {label}_out = {out}",
        fontsize=10,
    )
    return {"windows": windows, "dropped": dropped}


def draw_windows(
    size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, label: str = "n"
):
    """A new figure with :func:`draw_windows_1d` for one dimension; returns the Figure."""
    fig, ax = plt.subplots(figsize=_figsize([(size, kernel_size, stride, padding, dilation)]))
    draw_windows_1d(ax, size, kernel_size, stride, padding, dilation, ceil_mode, label)
    fig.tight_layout()
    return fig


def draw_windows_2d_axes(
    height, width, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False
):
    """Windows along H (top) and along W (bottom), parameters as in ``nn.MaxPool2d``."""
    ks, ps, ds = (
        _pair(kernel_size, "kernel_size"),
        _pair(padding, "padding"),
        _pair(dilation, "dilation"),
    )
    ss = ks if stride is None else _pair(stride, "stride")
    dims = [(height, ks[0], ss[0], ps[0], ds[0]), (width, ks[1], ss[1], ps[1], ds[1])]
    fig, axes = plt.subplots(
        2, 1, figsize=_figsize(dims), gridspec_kw={"height_ratios": [_rows(*dim) for dim in dims]}
    )
    for ax, label, (n, k, s, p, d) in zip(axes, ("H", "W"), dims, strict=True):
        draw_windows_1d(ax, n, k, s, p, d, ceil_mode, label)
    fig.tight_layout()
    return fig


def _rows(n, k, s, p, d) -> int:
    k, s, p, d = _one_dim_params(k, s, p, d)
    return (n + 2 * p - d * (k - 1) - 1 + s - 1) // s + 3


def _figsize(dims) -> tuple[float, float]:
    widest = max(n + 2 * _one_dim_params(k, s, p, d)[2] + 12 for n, k, s, p, d in dims)
    tall = sum(_rows(*dim) for dim in dims) + 1
    scale = min(0.42, 11 / widest)
    return (max(6.0, widest * scale), max(2.0, tall * scale))
