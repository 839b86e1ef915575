"""Pictures of pooling: windows over a grid, windows along one dimension, images at their true
pixel size (integer zoom, no blur, a grey frame so a white output shows), the strided view.

Parameters follow ``nn.MaxPool2d`` (padding per side, ``stride=None`` means kernel_size); windows
come from :mod:`utils.pooling`; a configuration PyTorch refuses raises :mod:`utils.shapes`' error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import font_manager
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from utils import alt_text, pooling
from utils.environment import DATA_DIR, label
from utils.scratch import window_view  # the view the lesson draws
from utils.shapes import explain, pool2d_output_shape, pool_output_size, pytorch_output_shape

#: Window outline colours (no grey: grey marks the padding).
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#e377c2", "#8c564b")
PAD, DROPPED = "#e0e0e0", "#d62728"
#: Lesson 06's windows: told apart without red–green (Okabe–Ito, darkened to 5:1 as text) and by line style.
SAFE_COLORS, LINE_STYLES = ("#0072b2", "#b34700", "#000000", "#a3417c"), ("-", "--", ":", "-.")
#: The course's Chinese font (data/fonts/, cut by tools/build_cjk_font.py): no □ without a CJK font.
FONT_FAMILY, FONT = "Noto Sans SC Course", DATA_DIR / "fonts" / "NotoSansSC-Course.ttf"
if FONT_FAMILY not in plt.rcParams["font.family"]:  # a fallback per glyph: Latin stays DejaVu Sans
    font_manager.fontManager.addfont(FONT)
    regular = next(f for f in font_manager.fontManager.ttflist if f.name == FONT_FAMILY)
    font_manager.fontManager.ttflist.append(dataclasses.replace(regular, weight=700))  # no bold cut
    plt.rcParams["font.family"] = [*plt.rcParams["font.family"], FONT_FAMILY]


_label = label  # for draw_windows_1d, whose parameter ``label`` (the axis name) hides it


def _fmt(v) -> str:
    if np.isneginf(v):
        return "−∞"
    text = str(int(v)) if float(v).is_integer() else f"{v:.2g}"
    return text.replace("-", "−")  # a true minus sign, as wide as the digits


def _square(ax, r, c, size=1.0, **style):
    ax.add_patch(Rectangle((c - size / 2, r - size / 2), size, size, **style))


def draw_windows(ax, grid, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, *,
                 highlight=None, labels=None, values=True, title=None, pad_label="−∞", only=None,
                 fontsize=11, color=None):
    """Draw a 2-D grid of numbers with the pooling windows over it; return the ``Window`` list.

    The padding ring is grey and shows ``pad_label`` ("−∞" for max pooling, "0" for average).
    Each window is a coloured outline (dilated: one square per cell read, the holes stay open);
    windows that exist only because of ceil_mode are dashed, the cells they hang past the padding
    dotted. ``color``: one colour for every window (default: a colour per window). ``highlight``: input cells ``(row, col)`` to mark; ``labels``: per-window text
    (``out_h×out_w`` nested list / tensor, or ``{(i, j): text}``); ``only``: the ``(i, j)`` to draw.
    """
    a = grid.detach().cpu().numpy() if isinstance(grid, torch.Tensor) else np.asarray(grid)
    a = a.reshape(a.shape[-2:]) if a.ndim > 2 and a.size == np.prod(a.shape[-2:]) else a
    if a.ndim != 2:
        raise ValueError(f"grid must be H×W (or 1×1×H×W), got shape {a.shape}; pick one channel.")
    h, w = a.shape
    out_hw = pool2d_output_shape((1, h, w), kernel_size, stride, padding, dilation, ceil_mode)[1:]
    ws = pooling.windows((h, w), kernel_size, stride, padding, dilation, ceil_mode)
    wanted = None if only is None else {tuple(int(v) for v in ij) for ij in only}
    if wanted and not all(0 <= i < out_hw[0] and 0 <= j < out_hw[1] for i, j in wanted):
        raise ValueError(
            f"only={sorted(wanted)} names a window that does not exist: the output is "
            f"{out_hw[0]}×{out_hw[1]}."
        )
    if labels is not None and not isinstance(labels, dict):
        table = labels.tolist() if hasattr(labels, "tolist") else labels
        if len(table) != out_hw[0] or any(len(row) != out_hw[1] for row in table):
            raise ValueError(f"labels must be {out_hw[0]}×{out_hw[1]} (one per window) or a dict.")
        labels = {(win.i, win.j): table[win.i][win.j] for win in ws}
    highlight = {tuple(int(v) for v in cell) for cell in (highlight or [])}
    p = pooling.pair(padding, "padding")
    every = {cell for win in ws for cell in win.cells}
    every |= {(r, c) for r in range(-p[0], h + p[0]) for c in range(-p[1], w + p[1])}
    for r, c in sorted(every):
        real = 0 <= r < h and 0 <= c < w
        padded = -p[0] <= r < h + p[0] and -p[1] <= c < w + p[1]
        face = (
            ("#fff3a0" if (r, c) in highlight else "white") if real else PAD if padded else "none"
        )
        _square(ax, r, c, facecolor=face, edgecolor="#b0b0b0", lw=0.8, ls="-" if padded else ":")
        if real and values:
            bold = "bold" if (r, c) in highlight else "normal"
            ax.text(c, r, _fmt(a[r, c]), ha="center", va="center", fontsize=fontsize, weight=bold)
        elif padded and not real and pad_label:
            ax.text(c, r, pad_label, ha="center", va="center", fontsize=fontsize - 2, color="grey")
    one_color, overlap = color, sum(len(w.cells) for w in ws) > len({c for w in ws for c in w.cells})
    for win in ws:
        if wanted is not None and (win.i, win.j) not in wanted:
            continue
        color = one_color or COLORS[(win.i * 3 + win.j) % len(COLORS)]
        inset = 0.05 + 0.06 * ((win.i + 2 * win.j) % 3) if overlap else 0.08  # keep overlaps apart
        style = dict(fill=False, edgecolor=color, lw=2.2, ls="--" if win.ceil_only else "-")
        rows, cols = [r for r, _ in win.cells], [c for _, c in win.cells]
        top, left = min(rows) - 0.5 + inset, min(cols) - 0.5 + inset
        height, width = max(rows) - min(rows) + 1, max(cols) - min(cols) + 1
        if len(win.cells) == height * width:  # a solid block: one rectangle
            ax.add_patch(Rectangle((left, top), width - 2 * inset, height - 2 * inset, **style))
        else:  # dilated: one square per cell read
            for r, c in win.cells:
                _square(ax, r, c, 1 - 2 * inset, **style)
        if labels is not None and (win.i, win.j) in labels:
            text = labels[(win.i, win.j)]
            text, box = _fmt(text) if not isinstance(text, str) else text, dict(facecolor=color)
            box.update(boxstyle="square,pad=0.1", edgecolor="none")
            style = dict(ha="left", va="top", color="white", weight="bold", bbox=box)
            ax.text(left + 0.04, top + 0.04, text, fontsize=fontsize - 3, **style)
    rows, cols = [r for r, _ in every], [c for _, c in every]
    ax.set(xlim=(min(cols) - 0.6, max(cols) + 0.6), ylim=(max(rows) + 0.6, min(rows) - 0.6), aspect="equal")
    ax.set(xticks=range(w), yticks=range(h))
    ax.tick_params(length=0, labelsize=fontsize - 3, labelcolor="grey")
    ax.spines[:].set_visible(False)
    if title:
        ax.set_title(label(title), fontsize=fontsize)
    if values:  # alt text: what this draws, in words
        alt_text.windows(ax.figure, title and label(title), a, ws, out_hw, kernel_size, stride, padding,
                         dilation, ceil_mode, highlight, _fmt)
    return ws


def divisor_labels(table, prefix: str = "÷") -> list[list[str]]:
    """Per-window labels such as ``"÷9"`` (the ``labels`` of :func:`draw_windows`)."""
    return [[f"{prefix}{int(v)}" for v in row] for row in torch.as_tensor(table).tolist()]


def fraction_text(row: dict) -> str:
    """``"10/9"`` for a :func:`utils.pooling.window_table` row: its sum over its divisor."""
    total = row["sum"]
    return f"{total if isinstance(total, int) else format(total, '.3g')}/{row['divisor']}"


def draw_results(ax, table: list[dict], title=None, fontsize: int = 11):
    """An average-pooling output grid, each cell as ``sum/divisor`` over its value; returns ``ax``.

    ``table`` comes from :func:`utils.pooling.window_table`; the colours match :func:`draw_windows`.
    """
    out_h, out_w = (max(row["out"][a] for row in table) + 1 for a in (0, 1))
    draw_windows(ax, torch.zeros(out_h, out_w), 1, values=False, title=title, fontsize=fontsize)
    for row in table:
        i, j = row["out"]
        ax.text(j, i - 0.14, fraction_text(row), ha="center", va="center", fontsize=fontsize)
        value = f"{float(row['value']):.3g}"
        ax.text(j, i + 0.22, value, ha="center", va="center", fontsize=fontsize - 3, color="#555555")
    alt_text.results(ax.figure, out_h, out_w, [f"{fraction_text(r)} = {float(r['value']):.3g}" for r in table])
    return ax


def draw_windows_1d(
    ax, size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, label: str = "n"
) -> dict:
    """The windows of one dimension: a row of cells (padding hatched), one row per window below.

    With ceil_mode a window PyTorch drops (it would start in the right padding) is drawn red and
    dashed. Returns ``{"windows": [[positions], ...], "dropped": [positions] or None}``.
    """
    out = pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
    k, s, p, d = kernel_size, kernel_size if stride is None else stride, padding, dilation
    cells = pooling.window_cells(size, k, s, p, d, ceil_mode)
    dropped = None
    if pooling.last_window_dropped(size, k, s, p, d, ceil_mode):
        dropped = [out * s - p + j * d for j in range(k)]
    reads = [c for w in cells + [dropped or []] for c in w]
    lo, hi = min([-p, *reads]), max([size + p - 1, *reads])
    patches = []  # one PatchCollection at the end: much faster than one add_patch per cell
    for x in range(lo, hi + 1):
        inside, padded = 0 <= x < size, -p <= x < size + p
        face, hatch = ("white", None) if inside or not padded else (PAD, "///")
        style = dict(facecolor=face, edgecolor="black", hatch=hatch, ls="-" if padded else ":")
        patches.append(Rectangle((x, 0), 1, 1, **style))
        text = str(x) if inside else "pad" if padded else ""
        ax.text(x + 0.5, 0.5, text, ha="center", va="center", fontsize=10 if inside else 8)
    rows = [(f"out[{i}]", w, COLORS[i % len(COLORS)], False) for i, w in enumerate(cells)]
    rows += [(_label("dropped"), dropped, DROPPED, True)] if dropped else []
    for row, (name, window, color, dashed) in enumerate(rows):
        y, ls = -1.0 - row, "--" if dashed else "-"
        ax.plot([window[0] + 0.5, window[-1] + 0.5], [y + 0.4] * 2, color=color, lw=1, ls=ls)
        style = dict(facecolor=color, edgecolor=color, ls=ls, lw=1.5, alpha=0.35 if dashed else 0.8)
        patches += [Rectangle((c + 0.1, y + 0.1), 0.8, 0.6, **style) for c in window]
        ax.text(lo - 0.3, y + 0.4, name, ha="right", va="center", fontsize=9, color=color)
    ax.add_collection(PatchCollection(patches, match_original=True))
    if dropped:
        note = _label("starts at {start} ≥ {label} = {size}: dropped", start=dropped[0],
                      label=label, size=size)
        ax.text(dropped[-1] + 1.2, -0.6 - len(cells), note, va="center", fontsize=9, color=DROPPED)
    ax.set(xlim=(lo - 3.2, hi + (9 if dropped else 1.5)), ylim=(-len(rows) - 1.2, 1.2), aspect="equal")
    ax.axis("off")
    params = f"kernel_size={k}, stride={s}, padding={p}, dilation={d}, ceil_mode={ceil_mode}"
    ax.set_title(f"{label}={size}, {params}  →  {label}_out = {out}", fontsize=10)
    alt_text.windows_1d(ax.figure, label, size, params, out, cells, dropped)
    return {"windows": cells, "dropped": dropped}


def windows_figure(
    size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, label=None
):
    """A figure of :func:`draw_windows_1d`: ``size`` an int (one axis, ``label`` "n") or ``(H, W)``
    (windows along H on top, along W below; parameters may then be pairs)."""
    sizes = (size,) if isinstance(size, int) else tuple(size)
    labels = (label or "n",) if len(sizes) == 1 else tuple(label or ("H", "W"))
    dims = [pooling.pair(v) for v in (kernel_size, stride or kernel_size, padding, dilation)]
    heights = [pooling.output_size(n, *(dim[i] for dim in dims), True) + 3 for i, n in enumerate(sizes)]
    wide = max(n + 2 * dims[2][i] + 12 for i, n in enumerate(sizes))
    scale = min(0.42, 11 / wide)
    fig, axes = plt.subplots(
        len(sizes),
        1,
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
        figsize=(max(6.0, wide * scale), max(2.0, (sum(heights) + 1) * scale)),
    )
    for i, (ax, n, name) in enumerate(zip(axes[:, 0], sizes, labels, strict=True)):
        k, s, p, d = (dim[i] for dim in dims)
        draw_windows_1d(ax, n, k, s, p, d, ceil_mode, name)
    fig.tight_layout()
    return fig


def _to_hwc(image, name: str = "image") -> np.ndarray:
    """One image ``C×H×W`` / ``1×C×H×W`` (C = 1 or 3) or ``H×W``, values in [0, 1] -> ``H×W×3``."""
    t = image.detach().cpu().float() if isinstance(image, torch.Tensor) else torch.as_tensor(image)
    shape, t = tuple(t.shape), t.float()
    while t.dim() == 4 and t.shape[0] == 1:
        t = t[0]
    t = t[None] if t.dim() == 2 else t
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(f"{name}: expected one image C×H×W (C = 1 or 3) or H×W, got {shape}.")
    if t.isnan().any() or t.min() < 0 or t.max() > 1:
        raise ValueError(
            f"{name}: values must lie in [0, 1] (min {t.min().item():.3g}, max {t.max().item():.3g})."
            " Fix: (x - x.min()) / (x.max() - x.min()), or x.clamp(0, 1) to see what TensorBoard shows."
        )
    return t.expand(3, -1, -1).permute(1, 2, 0).numpy()


def _panel(fig, box, image, title, fontsize=10):
    """One image in a pixel box ``(left, bottom, width, height)`` of ``fig``, with a 1-pixel grey
    frame just outside it (a white image stays visible; no image pixel is covered)."""
    fw, fh = fig.get_size_inches() * fig.dpi
    ax = fig.add_axes((box[0] / fw, box[1] / fh, box[2] / fw, box[3] / fh))
    ax.imshow(image, interpolation="nearest", aspect="auto")  # RGB in [0, 1]: no colormap
    ax.set_axis_off()
    ax.set_title(title, fontsize=fontsize, pad=4)
    corner = ((box[0] - 0.5) / fw, (box[1] - 0.5) / fh)
    frame = Rectangle(corner, (box[2] + 1) / fw, (box[3] + 1) / fh, transform=fig.transFigure)
    frame.set(fill=False, edgecolor="#999999", linewidth=72 / fig.dpi, snap=False)  # 1 pixel
    fig.add_artist(frame)


def show_pair(
    inputs, outputs, titles=("input", "output"), actual_size=True, *, zoom=1, dpi=100, gap=24
):
    """An input and an output image side by side; returns the matplotlib figure.

    ``actual_size=True``: one image pixel is ``zoom`` × ``zoom`` screen pixels (``zoom`` an int), so
    a 2×2 max pooling output is visibly half as tall and wide, like TensorBoard's "Show actual image
    size". ``actual_size=False``: both stretched to the input's height, as TensorBoard does by
    default. Titles get the size in pixels (and the zoom).
    """
    if isinstance(zoom, bool) or not isinstance(zoom, int) or zoom < 1:
        raise ValueError(f"zoom must be a positive int (screen pixels per pixel), got {zoom!r}.")
    images = [_to_hwc(inputs, "inputs"), _to_hwc(outputs, "outputs")]
    height = max(im.shape[0] for im in images) * zoom
    shown, widths, sizes, labels = f" (×{zoom})" if zoom > 1 else "", [], [], []
    for im, title in zip(images, titles, strict=True):
        f = zoom if actual_size else height / im.shape[0]  # stretched: the same height
        sizes.append((round(im.shape[0] * f), round(im.shape[1] * f)))
        labels.append(f"{label(title)}  {im.shape[0]}×{im.shape[1]}{shown}")
        # a title is ~7 pixels per Latin character at fontsize 9, ~12 per Chinese one
        widths.append(max(sizes[-1][1], sum(12 if ord(ch) > 0x2E80 else 7 for ch in labels[-1])))
    size = ((sum(widths) + 3 * gap) / dpi, (height + 26) / dpi)  # 22 pixels above, 4 below
    fig = plt.figure(figsize=size, dpi=dpi)
    x = gap
    for im, (h, w), col, title in zip(images, sizes, widths, labels, strict=True):
        _panel(fig, (x + (col - w) // 2, height + 4 - h, w, h), im, title, fontsize=9)
        x += col + gap
    return alt_text.pair(fig, labels, actual_size, zoom)


def show_images(panels: dict, size: int = 256, dpi: int = 100, title=None, gap: int = 20):
    """One panel per ``{title: image}`` (``C×H×W``, C = 1 or 3, values in [0, 1]); returns the figure.

    Every panel is ``size × size`` screen pixels; an ``H×W`` image is magnified by the integer
    ``size // max(H, W)`` (exact pixel blocks, no blur), centred and framed; titles get the size.
    """
    if not panels:
        raise ValueError("panels is empty: pass e.g. {'input': x, 'output': pool(x)}.")
    arrays = {name: _to_hwc(image, repr(name)) for name, image in panels.items()}
    for name, a in arrays.items():
        if max(a.shape[:2]) > size:
            shape = f"{a.shape[0]}×{a.shape[1]}"
            raise ValueError(
                f"{name!r} is {shape}, larger than size={size}. Fix: size={max(a.shape[:2])}"
            )
    top, bottom = 30 + (22 if title else 0), 6
    fig_h = size + top + bottom
    fig = plt.figure(figsize=((len(arrays) * (size + gap) + gap) / dpi, fig_h / dpi), dpi=dpi)
    for n, (name, a) in enumerate(arrays.items()):
        h, w = a.shape[:2]
        ph, pw = h * (size // max(h, w)), w * (size // max(h, w))
        box = (gap + n * (size + gap) + (size - pw) // 2, bottom + (size - ph) // 2, pw, ph)
        _panel(fig, box, a, f"{label(name)}  {h}×{w}")
    if title:
        fig.suptitle(label(title), fontsize=11, y=1 - 6 / fig_h, va="top")
    return alt_text.images(fig, title and label(title), [f"{label(n)} ({a.shape[0]}×{a.shape[1]})" for n, a in arrays.items()])


@dataclass
class CalculatorResult:
    """What the shape calculator shows: our formula, PyTorch's answer, and a drawing."""

    explanation: str
    formula_shape: tuple | None  # None when PyTorch refuses the configuration
    pytorch_shape: tuple | None  # what nn.MaxPool2d returned on a zero tensor, None if it raised
    pytorch_error: str  # "" unless PyTorch raised
    figure: object  # the windows along H and W (matplotlib Figure), None if invalid or not drawn

    @property
    def agree(self) -> bool:
        return self.formula_shape == self.pytorch_shape


def calculator(
    height=5, width=5, kernel_size=2, stride=2, padding=1, dilation=1, ceil_mode=True, draw=True
) -> CalculatorResult:
    """The plain, testable function behind the notebook's ipywidgets calculator (one channel):
    runs ``nn.MaxPool2d`` on a ``(1, 1, height, width)`` zero tensor, explains the formula and,
    with ``draw``, draws the windows along H and W. Wire it up with ``ipywidgets.interact``."""
    shape = (1, 1, height, width)
    params = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
    params["ceil_mode"] = ceil_mode
    try:
        formula = pool2d_output_shape(shape, **params)
    except (ValueError, TypeError):
        formula = None
    actual = pytorch_output_shape("max", shape, **params)
    figure = windows_figure((height, width), **params) if draw and formula else None
    ran = isinstance(actual, tuple)
    return CalculatorResult(
        explain(shape, **params), formula, *((actual, "") if ran else (None, actual)), figure
    )


def _cells(ax, values, color=None, fontsize=10):
    """A 2-D table of ints as labelled cells, row 0 at the top."""
    for (r, c), v in np.ndenumerate(np.asarray(values)):
        _square(ax, r + 0.5, c + 0.5, facecolor=color or "white", edgecolor="0.6", lw=0.8)
        ax.text(c + 0.5, r + 0.5, str(int(v)), ha="center", va="center", fontsize=fontsize)
    ax.set(xlim=(-0.1, values.shape[1] + 0.1), ylim=(values.shape[0] + 0.1, -0.1), aspect="equal")
    ax.axis("off")


def draw_window_view(height: int = 6, width: int = 6, kernel_size: int = 3, stride: int = 2):
    """Left: an image in memory order with its windows; right: ``as_strided``'s grid of windows.

    Every number is read from PyTorch (the image is ``torch.arange``: each cell shows its memory
    offset). Returns ``(figure, windows)``, ``windows`` being the view drawn on the right.
    """
    image = torch.arange(height * width).reshape(height, width)
    windows = window_view(image, kernel_size, stride)
    out_h, out_w, k, _ = windows.shape
    fig = plt.figure(figsize=(11, 4.8), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1, 1.15])
    ax = left.subplots()
    _cells(ax, image)
    axes = right.subplots(out_h, out_w, squeeze=False)
    for i, j in np.ndindex(out_h, out_w):
        color, style, inset = SAFE_COLORS[(n := i * out_w + j) % 4], LINE_STYLES[n % 4], 0.06 + 0.07 * (n % 3)
        corner, side = (j * stride + inset, i * stride + inset), k - 2 * inset
        ax.add_patch(Rectangle(corner, side, side, fill=False, edgecolor=color, lw=2.2, ls=style))
        _cells(axes[i][j], windows[i, j], color + "33", fontsize=9)
        axes[i][j].add_patch(Rectangle((0, 0), k, k, fill=False, edgecolor=color, lw=2.2, ls=style))
        axes[i][j].set_title(label("window ({i}, {j})", i=i, j=j), fontsize=9, color=color)
    memory = label("image {height}×{width}: each cell shows its memory offset", height=height,
                   width=width)
    ax.set_title(f"{memory}\nstride() = {tuple(image.stride())}", fontsize=11)
    view = f"as_strided(size={tuple(windows.shape)}, stride={tuple(windows.stride())})"
    right.suptitle(f"{view}\n{label('same offsets = same memory, nothing copied')}", fontsize=11)
    alt_text.window_view(fig, image, view, windows, k, stride)
    return fig, windows
