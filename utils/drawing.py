"""Pictures of pooling windows, and images shown at their true pixel size.

Conventions (PyTorch's, for ``nn.MaxPool2d`` / ``nn.AvgPool2d``)
------------------------------------------------------------
* ``kernel_size``, ``stride``, ``padding``, ``dilation`` are an int or a ``(height, width)`` pair.
  ``stride=None`` means stride = kernel_size. ``padding`` is added on *each* side (a 5×5 input with
  ``padding=1`` is read as 7×7). ``dilation`` is the step between the cells one window reads
  (``dilation=2``: every other cell, a window with holes).
* Window ``(i, j)`` starts at row ``i·stride − padding`` and column ``j·stride − padding`` and reads
  ``kernel_size`` cells, ``dilation`` apart, in each direction. How many windows there are per dimension
  is PyTorch's rule (``utils.shapes.pool2d_output_shape``): ``floor((n + 2p − d(k−1) − 1)/s) + 1``;
  with ``ceil_mode`` use ceil instead, then drop the last window if it would start inside the right
  padding.
* Coordinates are ``(row, col)`` in the unpadded input: padding cells have row/col ``< 0`` or ``≥ n``.

``windows`` and ``window_cells`` are pure functions, tested against PyTorch in
``tests/test_drawing.py``; ``draw_windows`` and ``show_pair`` draw with matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextPath

from utils.shapes import pool2d_output_shape

#: Window outline colours (no gray: gray marks the padding).
WINDOW_COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#17becf",
    "#e377c2",
    "#8c564b",
    "#bcbd22",
)


def _pair(value, name: str) -> tuple[int, int]:
    """An int or a (height, width) pair of ints, as a pair."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, Sequence) and len(value) in (1, 2):
        return int(value[0]), int(value[-1])
    raise TypeError(f"{name} must be an int or a (height, width) pair of ints, got {value!r}.")


@dataclass(frozen=True)
class Window:
    """One pooling window: output position ``(i, j)`` and the cells it reads.

    ``cells``: every position it reads, row-major (PyTorch's order for ties), padding included.
    ``real``: those inside the input. ``ceil_only``: the window exists only because of ceil_mode.
    """

    i: int
    j: int
    cells: tuple[tuple[int, int], ...]
    real: tuple[tuple[int, int], ...]
    ceil_only: bool


def windows(
    in_hw: tuple[int, int], kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False
) -> list[Window]:
    """Every window of 2-D pooling on an ``(H, W)`` plane, row-major by output position."""
    # PyTorch's rule, and its errors, from utils.shapes (tested against nn.MaxPool2d there).
    out = pool2d_output_shape(in_hw, kernel_size, stride, padding, dilation, ceil_mode)
    try:  # windows past floor mode's count exist only because of ceil_mode
        floor_out = pool2d_output_shape(in_hw, kernel_size, stride, padding, dilation, False)
    except ValueError:  # e.g. 2×2 input, kernel 3, stride 2: no window in floor mode, one in ceil
        floor_out = (0, 0)
    k, p, d = (
        _pair(kernel_size, "kernel_size"),
        _pair(padding, "padding"),
        _pair(dilation, "dilation"),
    )
    s = k if stride is None else _pair(stride, "stride")
    result = []
    for i in range(out[0]):
        rows = [i * s[0] - p[0] + d[0] * t for t in range(k[0])]
        for j in range(out[1]):
            cols = [j * s[1] - p[1] + d[1] * t for t in range(k[1])]
            cells = tuple((r, c) for r in rows for c in cols)
            real = tuple((r, c) for r, c in cells if 0 <= r < in_hw[0] and 0 <= c < in_hw[1])
            result.append(Window(i, j, cells, real, i >= floor_out[0] or j >= floor_out[1]))
    return result


def window_cells(
    in_hw: tuple[int, int], kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False
) -> list[list[list[tuple[int, int]]]]:
    """The input cells each window reads: ``cells[i][j]`` lists ``(row, col)`` in row-major order.

    Only cells inside the input are listed (padding holds −∞ for max pooling, 0 for average pooling,
    and is never a real cell). ``len(cells), len(cells[0])`` is PyTorch's output shape. A dilated
    window may read padding only (e.g. a 1-row input, kernel 2, dilation 2, padding 1): its list is
    empty and max pooling outputs −∞ there.
    """
    ws = windows(in_hw, kernel_size, stride, padding, dilation, ceil_mode)
    out_h, out_w = ws[-1].i + 1, ws[-1].j + 1
    return [[list(ws[i * out_w + j].real) for j in range(out_w)] for i in range(out_h)]


def _as_grid(grid) -> np.ndarray:
    a = grid.detach().cpu().numpy() if isinstance(grid, torch.Tensor) else np.asarray(grid)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2:
        raise ValueError(f"grid must be H×W (or 1×1×H×W), got shape {a.shape}; pick one channel.")
    return a


def _fmt(v) -> str:
    if np.isneginf(v):
        return "−∞"
    text = str(int(v)) if float(v).is_integer() else f"{v:.2g}"
    return text.replace("-", "−")  # a true minus sign, as wide as the digits


def _label_text(label) -> str:
    return label if isinstance(label, str) else _fmt(float(label))


def draw_windows(
    ax,
    grid,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    *,
    highlight=None,
    labels=None,
    values=True,
    title=None,
    pad_label="−∞",
    only=None,
    fontsize=11,
):
    """Draw a 2-D grid of numbers and the pooling windows over it; return the list of ``Window``.

    * The padding ring is gray and shows ``pad_label`` ("−∞" for max pooling, "0" for average).
    * Each window is a coloured outline (dilated windows: one square per cell it reads, so the holes
      show). Windows that exist only because of ``ceil_mode`` are dashed; the cells they overhang beyond
      the padding are dotted and empty (nothing is read there).
    * ``highlight``: input cells ``(row, col)`` to mark (e.g. each window's maximum).
    * ``labels``: per-window text, an ``out_h×out_w`` nested list / tensor or a dict ``{(i, j): text}``
      (e.g. average pooling's divisors), drawn in the window's colour at its top-left corner.
    * ``only``: a list of ``(i, j)`` windows to draw (default: all).
    """
    a = _as_grid(grid)
    h, w = a.shape
    p = _pair(padding, "padding")
    ws = windows((h, w), kernel_size, stride, padding, dilation, ceil_mode)
    out_hw = (ws[-1].i + 1, ws[-1].j + 1)
    wanted = None if only is None else {tuple(int(v) for v in ij) for ij in only}
    if wanted is not None and not all(0 <= i < out_hw[0] and 0 <= j < out_hw[1] for i, j in wanted):
        raise ValueError(
            f"only={sorted(wanted)} names a window that does not exist: the output is "
            f"{out_hw[0]}×{out_hw[1]}, so windows are (i, j) with i < {out_hw[0]}, j < {out_hw[1]}."
        )
    drawn = [win for win in ws if wanted is None or (win.i, win.j) in wanted]
    if labels is not None and not isinstance(labels, dict):
        table = labels.tolist() if isinstance(labels, (torch.Tensor, np.ndarray)) else labels
        if len(table) != out_hw[0] or any(len(row) != out_hw[1] for row in table):
            raise ValueError(
                f"labels must be {out_hw[0]}×{out_hw[1]} (one per window, the output shape), "
                "or a dict {(i, j): text}."
            )
        labels = {(win.i, win.j): table[win.i][win.j] for win in ws}
    highlight = {tuple(int(x) for x in cell) for cell in (highlight or [])}

    # Cells: real, padding ring, and the ceil-mode overhang past the padding.
    every = {cell for win in ws for cell in win.cells}
    every |= {(r, c) for r in range(-p[0], h + p[0]) for c in range(-p[1], w + p[1])}
    for r, c in sorted(every):
        real = 0 <= r < h and 0 <= c < w
        padded = -p[0] <= r < h + p[0] and -p[1] <= c < w + p[1]
        face = (
            ("#fff3a0" if (r, c) in highlight else "white")
            if real
            else ("#e6e6e6" if padded else "none")
        )
        ax.add_patch(
            Rectangle(
                (c - 0.5, r - 0.5),
                1,
                1,
                facecolor=face,
                edgecolor="#b0b0b0",
                linewidth=0.8,
                linestyle="-" if real or padded else ":",
            )
        )
        if real and values:
            ax.text(
                c,
                r,
                _fmt(a[r, c]),
                ha="center",
                va="center",
                fontsize=fontsize,
                fontweight="bold" if (r, c) in highlight else "normal",
            )
        elif padded and not real and pad_label:
            ax.text(
                c, r, pad_label, ha="center", va="center", fontsize=fontsize - 2, color="#808080"
            )

    for win in drawn:
        color = WINDOW_COLORS[(win.i * 3 + win.j) % len(WINDOW_COLORS)]
        inset = 0.05 + 0.06 * ((win.i + 2 * win.j) % 3)
        style = dict(
            fill=False, edgecolor=color, linewidth=2.2, linestyle="--" if win.ceil_only else "-"
        )
        rows = [r for r, _ in win.cells]
        cols = [c for _, c in win.cells]
        height, width = max(rows) - min(rows) + 1, max(cols) - min(cols) + 1
        if len(win.cells) == height * width:  # a solid block: one rectangle
            ax.add_patch(
                Rectangle(
                    (min(cols) - 0.5 + inset, min(rows) - 0.5 + inset),
                    width - 2 * inset,
                    height - 2 * inset,
                    **style,
                )
            )
        else:  # dilated: one square per cell read, the holes stay open
            for r, c in win.cells:
                ax.add_patch(
                    Rectangle(
                        (c - 0.5 + inset, r - 0.5 + inset), 1 - 2 * inset, 1 - 2 * inset, **style
                    )
                )
        if labels is not None and (win.i, win.j) in labels:
            ax.text(
                min(cols) - 0.5 + inset + 0.04,
                min(rows) - 0.5 + inset + 0.04,
                _label_text(labels[(win.i, win.j)]),
                ha="left",
                va="top",
                fontsize=fontsize - 3,
                color="white",
                fontweight="bold",
                bbox=dict(boxstyle="square,pad=0.1", facecolor=color, edgecolor="none"),
            )

    rows = [r for r, _ in every]
    cols = [c for _, c in every]
    ax.set_xlim(min(cols) - 0.6, max(cols) + 0.6)
    ax.set_ylim(max(rows) + 0.6, min(rows) - 0.6)  # row 0 at the top
    ax.set_aspect("equal")
    ax.set_xticks(range(0, w))
    ax.set_yticks(range(0, h))
    ax.tick_params(length=0, labelsize=fontsize - 3, labelcolor="#808080")
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=fontsize)
    return ws


def _as_image(x) -> np.ndarray:
    """C×H×W / 1×C×H×W / H×W tensor in [0, 1] -> H×W×3 float array (gray repeated: no colormap)."""
    t = x.detach().cpu().float() if isinstance(x, torch.Tensor) else torch.as_tensor(x).float()
    shape = tuple(t.shape)
    while t.dim() == 4 and t.shape[0] == 1:
        t = t[0]
    if t.dim() == 2:
        t = t[None]
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(f"Expected one image C×H×W (C = 1 or 3) or H×W, got shape {shape}.")
    if torch.isnan(t).any() or t.min() < 0 or t.max() > 1:
        raise ValueError(
            f"Image values must lie in [0, 1] (got min {t.min().item():.3g}, max {t.max().item():.3g}); "
            "rescale first, e.g. (x - x.min()) / (x.max() - x.min())."
        )
    return t.expand(3, -1, -1).permute(1, 2, 0).numpy()


def _text_width(text: str, fontsize: float, dpi: float) -> int:
    """Width in pixels of one line of text in matplotlib's default font."""
    return int(np.ceil(TextPath((0, 0), text, size=fontsize).get_extents().width * dpi / 72))


def show_pair(
    inputs, outputs, titles=("input", "output"), actual_size=True, *, zoom=1, dpi=100, gap=24
):
    """Show an input and an output image side by side; return the matplotlib figure.

    ``actual_size=True``: one image pixel is one screen pixel (figure inches = pixels / dpi), so a 2×2
    max pooling output is visibly half as tall and wide, as with TensorBoard's "Show actual image size".
    ``zoom=n`` (an int) draws each pixel as an n×n block, still to scale with each other.
    ``actual_size=False``: both are stretched to the input's height, as TensorBoard does by default.
    Titles get the image size in pixels appended (and the zoom, if any).
    """
    if isinstance(zoom, bool) or not isinstance(zoom, int) or zoom < 1:
        raise ValueError(f"zoom must be a positive int (pixels per image pixel), got {zoom!r}.")
    images = [_as_image(inputs), _as_image(outputs)]
    top, bottom, fontsize = 22, 4, 9  # pixels for the titles above and a margin below
    height = max(im.shape[0] for im in images) * zoom
    sizes = [
        (im.shape[0] * zoom, im.shape[1] * zoom)
        if actual_size
        else (height, round(im.shape[1] * height / im.shape[0]))
        for im in images
    ]
    labels = [
        f"{t}  {im.shape[0]}×{im.shape[1]}" + (f" (×{zoom})" if zoom > 1 else "")
        for im, t in zip(images, titles, strict=True)
    ]
    widths = [
        max(w, _text_width(t, fontsize, dpi) + 4) for (_, w), t in zip(sizes, labels, strict=True)
    ]
    fig_w, fig_h = sum(widths) + gap * (len(images) + 1), height + top + bottom
    fig = plt.figure(figsize=(fig_w / dpi, fig_h / dpi), dpi=dpi)
    x = gap
    for im, (h, w), col, t in zip(images, sizes, widths, labels, strict=True):
        left = x + (col - w) // 2
        ax = fig.add_axes((left / fig_w, (fig_h - top - h) / fig_h, w / fig_w, h / fig_h))
        ax.imshow(im, interpolation="nearest", aspect="auto")
        ax.set_axis_off()
        ax.set_title(t, fontsize=fontsize, pad=3)
        x += col + gap
    return fig
