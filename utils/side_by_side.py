"""Several images of one input side by side (input, (a) max pooling, (b) average pooling, ...).

``utils.drawing.show_pair`` shows two images at their true pixel size. Comparing pooling
strategies needs three or more panels at one common display size, each image pixel drawn as an
exact square block of screen pixels (no resampling blur, no moiré on 1-pixel patterns). That is
what ``show_side_by_side`` does: every panel is ``size × size`` screen pixels at ``dpi``, and an
``H × W`` image is magnified by ``size // max(H, W)`` (an integer) and centred.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import Rectangle

__all__ = ["show_side_by_side"]


def _as_hwc(image: torch.Tensor, title: str):
    t = image.detach().cpu().float()
    while t.dim() == 4 and t.shape[0] == 1:
        t = t[0]
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(
            f"{title!r}: expected one image C×H×W with C = 1 or 3, got shape {tuple(image.shape)}."
        )
    if torch.isnan(t).any() or t.min() < 0 or t.max() > 1:
        raise ValueError(
            f"{title!r}: values must lie in [0, 1] (min {t.min().item():.3g}, max "
            f"{t.max().item():.3g}); rescale first, e.g. (x - x.min()) / (x.max() - x.min())."
        )
    return t.permute(1, 2, 0).numpy()


def show_side_by_side(
    panels: dict, size: int = 256, dpi: int = 100, title: str | None = None, gap: int = 20
):
    """One figure, one panel per ``{title: image}`` entry; returns the matplotlib ``Figure``.

    Each image (``C×H×W`` or ``1×C×H×W``, C = 1 or 3, values in [0, 1]) is drawn with
    ``interpolation="nearest"``, magnified by the integer ``size // max(H, W)`` so every image
    pixel is an exact block of screen pixels, inside a thin grey frame (so a white output stays
    visible). Titles get the image size appended, e.g. ``"(a) MaxPool2d(2)  64×64"``.
    Raises ``ValueError`` when an image is larger than ``size``: pass a larger ``size``.
    """
    if not panels:
        raise ValueError("panels is empty: pass e.g. {'input': x, 'output': pool(x)}.")
    arrays = {name: _as_hwc(img, name) for name, img in panels.items()}
    for name, a in arrays.items():
        if max(a.shape[:2]) > size:
            raise ValueError(
                f"{name!r} is {a.shape[0]}×{a.shape[1]}, larger than size={size}; pass "
                f"size={max(a.shape[:2])} or more."
            )
    top = 30 + (22 if title else 0)
    bottom = 6
    fig_w, fig_h = len(arrays) * (size + gap) + gap, size + top + bottom
    fig = plt.figure(figsize=(fig_w / dpi, fig_h / dpi), dpi=dpi)
    for n, (name, a) in enumerate(arrays.items()):
        h, w = a.shape[:2]
        scale = size // max(h, w)
        ph, pw = h * scale, w * scale
        left = gap + n * (size + gap) + (size - pw) // 2
        bottom_px = bottom + (size - ph) // 2
        ax = fig.add_axes((left / fig_w, bottom_px / fig_h, pw / fig_w, ph / fig_h))
        cmap = "gray" if a.shape[2] == 1 else None
        ax.imshow(
            a[..., 0] if a.shape[2] == 1 else a,
            cmap=cmap,
            vmin=0,
            vmax=1,
            interpolation="nearest",
            aspect="auto",
        )
        ax.set_axis_off()
        ax.add_patch(
            Rectangle(
                (-0.5, -0.5), w, h, fill=False, edgecolor="#999999", linewidth=1, clip_on=False
            )
        )
        ax.set_title(f"{name}  {h}×{w}", fontsize=10, pad=4)
    if title:
        fig.suptitle(title, fontsize=11, y=1 - 6 / fig_h, va="top")
    return fig
