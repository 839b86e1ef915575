"""The picture of lesson 06: ``as_strided`` turns an image into a grid of windows without copying.

Every number drawn is read from PyTorch: the image is ``torch.arange(H * W)``, so each cell shows
its own memory offset, and the windows show what ``as_strided`` actually returns.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle

__all__ = ["window_view", "draw_window_view"]

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def window_view(x: torch.Tensor, kernel_size: int, stride: int) -> torch.Tensor:
    """The (OH, OW, k, k) grid of windows of a 2-D tensor, as a view (no padding, no copy).

    Window (i, j) starts ``i * stride`` rows and ``j * stride`` columns in. Moving one window
    down skips ``stride`` rows, i.e. ``stride * x.stride(0)`` elements of memory; moving one cell
    down inside a window skips one row, ``x.stride(0)`` elements.
    """
    if x.dim() != 2:
        raise ValueError(f"window_view takes a 2-D tensor (H, W), got shape {tuple(x.shape)}")
    H, W = x.shape
    k, s = kernel_size, stride
    if not (1 <= k <= min(H, W)) or s < 1:
        raise ValueError(f"need 1 <= kernel_size <= {min(H, W)} and stride >= 1, got {k}, {s}")
    size = ((H - k) // s + 1, (W - k) // s + 1, k, k)
    row, col = x.stride()
    return x.as_strided(size, (s * row, s * col, row, col), x.storage_offset())


def _cells(ax, values, colors=None, fontsize=10):
    """Draw a 2-D table of ints as labeled cells (row 0 at the top)."""
    rows, cols = values.shape
    for r in range(rows):
        for c in range(cols):
            face = colors[r][c] if colors else "white"
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="0.6", lw=0.8))
            ax.text(c + 0.5, r + 0.5, str(int(values[r, c])), ha="center", va="center",
                    fontsize=fontsize)  # fmt: skip
    ax.set_xlim(-0.1, cols + 0.1)
    ax.set_ylim(rows + 0.1, -0.1)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_window_view(height: int = 6, width: int = 6, kernel_size: int = 3, stride: int = 2):
    """Left: the image in memory order, windows outlined. Right: ``as_strided``'s grid of windows.

    Returns ``(figure, windows)``; ``windows`` is the view drawn on the right.
    """
    image = torch.arange(height * width).reshape(height, width)
    windows = window_view(image, kernel_size, stride)
    OH, OW, k, _ = windows.shape
    fig = plt.figure(figsize=(11, 4.8), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1, 1.15])

    ax = left.subplots()
    _cells(ax, image)
    for i in range(OH):
        for j in range(OW):
            color = COLORS[(i * OW + j) % len(COLORS)]
            inset = 0.06 + 0.07 * ((i * OW + j) % 3)  # overlapping windows stay distinguishable
            ax.add_patch(Rectangle((j * stride + inset, i * stride + inset), k - 2 * inset,
                                   k - 2 * inset, fill=False, edgecolor=color, lw=2.2))  # fmt: skip
    ax.set_title(
        f"image {height}×{width}: each cell shows its memory offset\n"
        f"stride() = {tuple(image.stride())}",
        fontsize=11,
    )

    axes = right.subplots(OH, OW, squeeze=False)
    for i in range(OH):
        for j in range(OW):
            color = COLORS[(i * OW + j) % len(COLORS)]
            tint = [[color + "33"] * k for _ in range(k)]
            _cells(axes[i][j], windows[i, j], tint, fontsize=9)
            axes[i][j].set_title(f"window ({i}, {j})", fontsize=9, color=color)
    right.suptitle(
        f"as_strided(size={tuple(windows.shape)}, stride={tuple(windows.stride())})\n"
        "same offsets = same memory, nothing copied",
        fontsize=11,
    )
    return fig, windows
