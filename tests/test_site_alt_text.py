"""Alt text where figures are drawn (utils/plots.py, utils/alt_text.py, the pair viewer's picture), how it
reaches a notebook's output, and lesson 06's window colours under red–green colour blindness."""

from __future__ import annotations

import base64
import io
import itertools
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from conftest import ROOT  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from torch import nn  # noqa: E402

from utils import plots  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")
GRID = torch.tensor([[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
                    dtype=torch.float32)


def figure_of(name):
    image = torch.rand(3, 16, 16)
    if name == "show_pair":
        return plots.show_pair(image, nn.MaxPool2d(2)(image), zoom=2)
    if name == "show_images":
        return plots.show_images({"input": image, "output": nn.MaxPool2d(2)(image)}, size=64)
    if name == "calculator":
        return plots.calculator(5, 7, 2, 2, 1, 1, True).figure
    if name == "draw_window_view":
        return plots.draw_window_view(6, 6, 3, 2)[0]
    fig, ax = plt.subplots()
    if name == "draw_windows":
        plots.draw_windows(ax, GRID, 3, ceil_mode=True)
    else:
        plots.draw_windows_1d(ax, 5, kernel_size=2, stride=2, padding=1, ceil_mode=True)
    return fig


NAMES = ["show_pair", "show_images", "draw_windows", "draw_windows_1d", "calculator", "draw_window_view"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_figure_says_what_it_shows_in_the_lesson_language(name, lang, monkeypatch):
    monkeypatch.setenv("COURSE_LANGUAGE", lang)
    fig = figure_of(name)
    alt = getattr(fig, "alt_text", "")
    plt.close(fig)
    assert len(alt) >= 40, alt
    assert bool(CJK.search(alt)) == (lang == "zh"), alt
    assert "{" not in alt, alt  # every field filled in


def test_the_grid_alt_text_gives_the_values_and_pytorchs_output_size():
    fig, ax = plt.subplots()
    plots.draw_windows(ax, GRID, 3, ceil_mode=True, highlight=[(0, 1)])
    alt = fig.alt_text
    plt.close(fig)
    rows = "; ".join(" ".join(str(int(v)) for v in row) for row in GRID.tolist())
    assert rows in alt
    out = nn.MaxPool2d(3, ceil_mode=True)(GRID[None, None]).shape[-2:]
    assert f"output {out[0]}×{out[1]}" in alt
    assert "(0, 1)" in alt


def test_the_window_view_alt_text_lists_what_as_strided_reads():
    fig, windows = plots.draw_window_view(6, 6, 3, 2)
    alt = fig.alt_text
    plt.close(fig)
    view = torch.arange(36).reshape(6, 6).unfold(0, 3, 2).unfold(1, 3, 2)
    for i, j in itertools.product(range(2), range(2)):
        cells = "; ".join(" ".join(map(str, row)) for row in view[i, j].tolist())
        assert f"window ({i}, {j}): {cells}." in alt


def test_the_pair_viewer_offers_a_picture_and_a_caption():
    from utils.viewer import PairViewer

    x = torch.rand(2, 3, 16, 16)
    pool = nn.MaxPool2d(2)
    data, metadata = PairViewer(x, pool(x), pool)._repr_mimebundle_()
    from PIL import Image

    picture = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert picture.size == (2 * 16 + 2 * 8 + 16, 16)  # the batch in a row, then the output, 16 apart
    assert "2×3×16×16" in data["text/plain"] and "2×3×8×8" in data["text/plain"]
    assert data["text/plain"].startswith(metadata["image/png"]["alt"])  # then the way out (issue 26)
    assert "object at 0x" not in data["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in data  # the live widget is still there


@pytest.mark.slow  # starts a kernel
def test_alt_text_reaches_the_notebook_output(tmp_path):
    from run_notebooks import execute_notebook

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import sys; sys.path.insert(0, {str(ROOT)!r})"),
                nbformat.v4.new_code_cell("import torch\nfrom utils.plots import show_pair\n"
                                          "import matplotlib.pyplot as plt\nx = torch.rand(3, 8, 8)\n"
                                          "show_pair(x, x[:, :4, :4])\nplt.show()"),
                nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()")]
    nbformat.write(nb, tmp_path / "alt.ipynb")
    ran, _ = execute_notebook(tmp_path / "alt.ipynb")
    figure = [o for o in ran.cells[1].outputs if "image/png" in o.get("data", {})]
    assert len(figure) == 1
    assert figure[0].metadata["image/png"]["alt"].startswith("Two images side by side")
    plain = [o for o in ran.cells[2].outputs if "image/png" in o.get("data", {})]
    assert plain and "alt" not in plain[0].get("metadata", {}).get("image/png", {})  # no made-up alt


# Machado, Oliveira & Fernandes (2009), severity 1.0, applied in linear sRGB.
CVD = {"deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
       "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]}


def _lab(rgb_linear):
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(rgb_linear, 0, 1)
    f = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(f > 0.008856, np.cbrt(f), 7.787 * f + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _linear(color):
    c = np.array(matplotlib.colors.to_rgb(color))
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def delta_e(a, b, deficiency=None):
    m = np.array(CVD[deficiency]) if deficiency else np.eye(3)
    return float(np.linalg.norm(_lab(m @ _linear(a)) - _lab(m @ _linear(b))))


def test_colour_model_reproduces_the_audit():
    # the review measured lesson 06's old red and green at about ΔE 7 under deuteranopia
    assert 5 < delta_e("#d62728", "#2ca02c", "deuteranopia") < 9


def test_lesson_06_windows_are_told_apart_without_red_green():
    fig, _ = plots.draw_window_view(6, 6, 3, 2)
    outlines = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and not p.get_fill()]
    plt.close(fig)
    assert len(outlines) == 4
    colors = [matplotlib.colors.to_hex(p.get_edgecolor()) for p in outlines]
    styles = [p.get_linestyle() for p in outlines]
    assert len(set(styles)) == 4, styles  # a line style each: readable in grey too
    for a, b in itertools.combinations(colors, 2):
        for deficiency in CVD:
            assert delta_e(a, b, deficiency) > 15, (a, b, deficiency)
