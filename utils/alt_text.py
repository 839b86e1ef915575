"""Alt text: what each figure of :mod:`utils.plots` shows, in words, in the reader's language.

``describe(fig, text, **fields)`` adds a sentence to ``fig.alt_text``; the figure's PNG output then
carries it as ``{"image/png": {"alt": ...}}`` metadata, which JupyterLab, the website (make site)
and the slides write as ``<img alt>``. Chinese sentences: utils/labels_zh.json (``say`` is
:func:`utils.environment.label`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from utils.environment import label

say = label  # one home for the Chinese of every figure text


def describe(fig, text: str, **fields):
    """Add ``say(text, **fields)`` to ``fig.alt_text``; returns ``fig``. In a kernel, the PNG of
    a figure with alt text gets it as output metadata (IPython formatters may return (data, md))."""
    fig.alt_text = " ".join(filter(None, [getattr(fig, "alt_text", ""), say(text, **fields)]))
    shell = getattr(__import__("IPython").get_ipython(), "display_formatter", None)
    png = shell.formatters["image/png"] if shell else None
    draw = png.lookup_by_type(Figure) if png and Figure in png.type_printers else None
    if draw and not getattr(draw, "alt", False):  # once per kernel, after the inline backend's own

        def with_alt(figure):
            alt = getattr(figure, "alt_text", "")
            return (draw(figure), {"alt": alt}) if alt else draw(figure)

        with_alt.alt = True
        png.for_type(Figure, with_alt)
    return fig


def grid(a, fmt=str) -> str:
    """Rows of a small 2-D table as text, ``"1 2 0; 0 1 2"`` (``…`` when larger than 7×7)."""
    a = np.asarray(a)
    return "; ".join(" ".join(fmt(v) for v in row) for row in a) if a.size <= 49 else "…"


def windows(fig, title, a, ws, out_hw, kernel_size, stride, padding, dilation, ceil_mode, marked, fmt):
    marked = say(" Marked cells (row, column): {cells}.", cells=", ".join(map(str, sorted(marked)))) if marked else ""
    describe(fig, "{title}A {h}×{w} grid (rows: {rows}) with {n} pooling windows of {k} (stride {s}, padding "
             "{p}, dilation {d}, ceil_mode={c}): output {oh}×{ow}.{marked}", title=f"{title}. " if title else "",
             h=a.shape[0], w=a.shape[1], rows=grid(a, fmt), n=len(ws), k=kernel_size, s=stride or kernel_size,
             p=padding, d=dilation, c=ceil_mode, oh=out_hw[0], ow=out_hw[1], marked=marked)


def results(fig, h, w, cells):
    describe(fig, "Average pooling output {h}×{w}, sum/divisor = value per cell: {cells}.", h=h, w=w,
             cells="; ".join(cells))


def images(fig, title, names):
    return describe(fig, "{title}{n} images side by side, each magnified to the same square: {names}.",
                    title=f"{title}. " if title else "", n=len(names), names=", ".join(names))


def windows_1d(fig, label, size, params, out, cells, dropped):
    gone = say(" A last window starting at {start} is dropped.", start=dropped[0]) if dropped else ""
    describe(fig, "Pooling windows along {label} = {size} ({params}): {out} windows, reading cells {cells}.{gone}",
             label=label, size=size, params=params, out=out, cells="; ".join(" ".join(map(str, w)) for w in cells),
             gone=gone)


def pair(fig, labels, actual_size, zoom):
    shown = say("at their true sizes") if actual_size else say("stretched to the same height")
    return describe(fig, "Two images side by side, {shown}: {a}, and {b}; one image pixel is {z}×{z} screen "
                    "pixels.", shown=shown, a=labels[0], b=labels[1], z=zoom)


def window_view(fig, image, view, windows, k, stride):
    each = " ".join(say("{window}: {cells}.", window=say("window ({i}, {j})", i=i, j=j), cells=grid(windows[i, j].numpy()))
                    for i, j in np.ndindex(*windows.shape[:2]))
    describe(fig, "Left: a {h}×{w} image whose cells show their memory offsets 0 to {last}, with its {n} "
             "windows of {k}×{k} at stride {s} outlined. Right: {view}, the grid of windows: same offsets, same "
             "memory, nothing copied. {each}", h=image.shape[0], w=image.shape[1], last=image.numel() - 1,
             n=windows.shape[0] * windows.shape[1], k=k, s=stride, view=view, each=each)
