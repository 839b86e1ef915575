"""utils.plots: the windows drawn are PyTorch's, images are drawn pixel for pixel, bad input says
what to do. Figures are also saved to build/test_plots/ to look at (not compared)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from utils.plots import (  # noqa: E402
    calculator,
    divisor_labels,
    draw_results,
    draw_window_view,
    draw_windows,
    draw_windows_1d,
    fraction_text,
    show_images,
    show_pair,
    window_view,
    windows_figure,
)
from utils.pooling import divisors, textbook_output_size, window_table  # noqa: E402

SAVED = Path(__file__).resolve().parent.parent / "build" / "test_plots"
CLASSIC = torch.tensor(
    [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
    dtype=torch.float32,
)


def save(fig, name: str) -> None:
    SAVED.mkdir(parents=True, exist_ok=True)
    fig.savefig(SAVED / f"{name}.png")
    plt.close(fig)


# -- drawing ------------------------------------------------------------------------------------
def _texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_draw_windows_shows_values_padding_and_dashed_partial_windows(ceil_mode):
    fig, ax = plt.subplots()
    ws = draw_windows(
        ax,
        CLASSIC,
        2,
        stride=2,
        padding=1,
        ceil_mode=ceil_mode,
        pad_label="−∞",
        labels=[["a"] * 3] * 3,
    )
    texts = _texts(ax)
    assert sorted(t for t in texts if t.isdigit()) == sorted(str(int(v)) for v in CLASSIC.flatten())
    assert texts.count("−∞") == 7 * 7 - 25  # the padding ring, 1 cell per side
    assert texts.count("a") == len(ws) == 9  # n=5, k=2, s=2, p=1: 3 windows per side, even in ceil
    assert not any(w.ceil_only for w in ws)
    save(fig, f"draw_windows_ceil_{ceil_mode}")


def test_draw_windows_dashes_exactly_the_ceil_mode_windows():
    fig, ax = plt.subplots()
    ws = draw_windows(ax, CLASSIC, 3, ceil_mode=True, pad_label="")
    dashed = [p for p in ax.patches if p.get_linestyle() == "--"]
    assert sum(w.ceil_only for w in ws) == len(dashed) == 3
    plt.close(fig)


def test_draw_windows_dilated_draws_one_square_per_cell_read():
    fig, ax = plt.subplots()
    draw_windows(ax, CLASSIC, 2, stride=1, dilation=2, only=[(0, 0)])
    outlines = [p for p in ax.patches if not p.get_fill()]
    assert len(outlines) == 4  # the 4 cells (0,0),(0,2),(2,0),(2,2): the holes stay open
    plt.close(fig)


def test_draw_windows_number_labels_and_bad_arguments():
    fig, ax = plt.subplots()
    draw_windows(ax, CLASSIC, 3, ceil_mode=True, labels=torch.tensor([[9, 6], [6, 4]]))
    assert sorted(t for t in _texts(ax) if t in {"9", "6", "4"}) == ["4", "6", "6", "9"]
    with pytest.raises(ValueError, match="2×2"):
        draw_windows(ax, CLASSIC, 3, ceil_mode=True, labels=[[1, 2, 3]])
    with pytest.raises(ValueError, match="does not exist"):
        draw_windows(ax, CLASSIC, 3, only=[(1, 0)])
    plt.close(fig)


def test_draw_windows_rejects_a_batch():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="H×W"):
        draw_windows(ax, torch.zeros(2, 1, 5, 5), 2)
    plt.close(fig)


# -- show_pair: true pixel size -------------------------------------------------------------------
def _rendered_axes_pixels(fig):
    fig.canvas.draw()
    canvas = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    height = canvas.shape[0]
    crops = []
    for ax in fig.axes:
        x0, y0, x1, y1 = np.round(ax.get_window_extent().extents).astype(int)
        crops.append(canvas[height - y1 : height - y0, x0:x1])
    return crops


def test_show_pair_draws_every_pixel_one_to_one():
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (3, 37, 50), generator=gen).float() / 255
    y = F.max_pool2d(x, 2)
    fig = show_pair(x, y, actual_size=True, dpi=100)
    crops = _rendered_axes_pixels(fig)
    for image, crop in zip((x, y), crops, strict=True):
        expected = (image.permute(1, 2, 0) * 255).round().byte().numpy()
        assert crop.shape == expected.shape
        assert np.array_equal(crop, expected)
    save(fig, "show_pair")


def test_show_pair_zoom_repeats_each_pixel():
    x = torch.randint(0, 256, (1, 9, 11)).float() / 255
    fig = show_pair(x, F.max_pool2d(x, 2), zoom=3)
    crop = _rendered_axes_pixels(fig)[0][..., 0]
    expected = np.kron((x[0] * 255).round().byte().numpy(), np.ones((3, 3), dtype=np.uint8))
    assert np.array_equal(crop, expected)
    plt.close(fig)
    with pytest.raises(ValueError, match="zoom"):
        show_pair(x, x, zoom=1.5)


def test_show_pair_titles_do_not_overlap():
    fig = show_pair(torch.zeros(1, 8, 8), torch.zeros(1, 4, 4), titles=("a long title " * 3,) * 2)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    first, second = (ax.title.get_window_extent(renderer) for ax in fig.axes)
    assert first.x1 < second.x0
    assert 0 <= first.x0 and second.x1 <= fig.bbox.width
    plt.close(fig)


def test_show_pair_stretched_shows_output_as_tall_as_input():
    x = torch.rand(1, 40, 40)
    fig = show_pair(x, F.max_pool2d(x, 2), actual_size=False)
    crops = _rendered_axes_pixels(fig)
    assert crops[0].shape[:2] == crops[1].shape[:2] == (40, 40)
    plt.close(fig)


def test_show_pair_refuses_values_outside_unit_range():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        show_pair(torch.full((1, 4, 4), 2.0), torch.zeros(1, 2, 2))


@pytest.mark.parametrize(
    ("n", "k", "s", "p", "d"),
    [
        (5, 2, 2, 1, 1),
        (6, 2, 3, 0, 1),
        (5, 3, 3, 1, 1),
        (2, 2, 1, 1, 3),
        (7, 3, 2, 1, 2),
        (2, 3, 2, 0, 1),
    ],
)
def test_drawn_windows_are_pytorchs_and_the_dropped_one_is_shown(n, k, s, p, d):
    fig, ax = plt.subplots()
    x = torch.arange(n, dtype=torch.float32).reshape(1, 1, n)
    try:
        out = F.max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode=False)
    except RuntimeError:
        with pytest.raises(ValueError, match="Fix: padding=1"):
            draw_windows_1d(ax, n, k, s, p, d, False)
    out, idx = F.max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode=True, return_indices=True)
    drawn = draw_windows_1d(ax, n, k, s, p, d, True)
    assert len(drawn["windows"]) == out.shape[-1]
    for window, i, v in zip(drawn["windows"], idx.flatten(), out.flatten(), strict=True):
        assert v == -torch.inf or max(c for c in window if 0 <= c < n) == i  # arange: last wins
    plain = textbook_output_size(n, k, s, p, d, ceil_mode=True)
    assert (drawn["dropped"] is not None) == (plain != out.shape[-1])
    if drawn["dropped"]:  # it starts in the right padding, one stride after the last window
        assert drawn["dropped"][0] >= n and drawn["dropped"][0] == drawn["windows"][-1][0] + s
        assert any("dropped" in t.get_text() for t in ax.texts)
    save(fig, f"draw_windows_1d_{n}_{k}_{s}_{p}_{d}")


def _render(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def test_every_image_pixel_is_an_exact_block():
    gen = torch.Generator().manual_seed(0)
    image = (torch.rand(3, 16, 16, generator=gen) * 255).round() / 255
    pooled = F.avg_pool2d(image[None], 2)[0]
    size, gap, dpi = 128, 20, 100
    fig = show_images({"input": image, "pooled": pooled}, size=size, gap=gap, dpi=dpi)
    pixels = _render(fig)
    assert pixels.shape[1] == 2 * (size + gap) + gap
    for n, (img, scale) in enumerate(((image, 8), (pooled, 16))):
        ax = fig.axes[n]
        x0, y0, x1, y1 = ax.get_window_extent().extents
        assert (round(x1 - x0), round(y1 - y0)) == (size, size)
        top = pixels.shape[0] - round(y1)
        shown = pixels[top : top + size, round(x0) : round(x0) + size].astype(int)
        expected = np.kron(
            (img.permute(1, 2, 0).numpy() * 255).round().astype(int),
            np.ones((scale, scale, 1), dtype=int),
        )
        inner = slice(2, size - 2)  # the frame line may cover the outermost pixels
        assert np.abs(shown[inner, inner] - expected[inner, inner]).max() <= 1
    plt.close(fig)


def test_titles_carry_the_size_and_small_images_are_centred():
    fig = show_images(
        {"in": torch.zeros(1, 8, 8), "out": torch.ones(1, 3, 3)}, size=64, title="demo"
    )
    assert [ax.get_title() for ax in fig.axes] == ["in  8×8", "out  3×3"]
    x0, _, x1, _ = fig.axes[1].get_window_extent().extents
    assert round(x1 - x0) == 63  # 3 pixels × 21, not stretched to 64
    assert fig._suptitle.get_text() == "demo"
    save(fig, "show_images_small")


@pytest.mark.parametrize(
    "panels, match",
    [
        ({}, "empty"),
        ({"x": torch.zeros(2, 4, 4)}, "C = 1 or 3"),
        ({"x": torch.zeros(2, 2, 4, 4)}, "C×H×W"),
        ({"x": torch.full((1, 4, 4), 2.0)}, r"\[0, 1\]"),
        ({"x": torch.full((1, 4, 4), float("nan"))}, r"\[0, 1\]"),
        ({"x": torch.zeros(1, 300, 300)}, "size=300"),
    ],
)
def test_bad_input_says_what_to_do(panels, match):
    with pytest.raises(ValueError, match=match):
        show_images(panels)
    plt.close("all")


@pytest.mark.parametrize(("shape", "k", "s"), [((6, 6), 3, 2), ((5, 9), 2, 3), ((4, 4), 4, 1)])
def test_window_view_is_unfold_without_copy(shape, k, s):
    x = torch.randn(shape)
    view = window_view(x, k, s)
    assert torch.equal(view, x.unfold(0, k, s).unfold(1, k, s))
    assert view.data_ptr() == x.data_ptr()
    assert torch.equal(view.amax((-2, -1)), F.max_pool2d(x[None], k, s)[0])


def test_window_view_rejects_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        window_view(torch.zeros(1, 4, 4), 2, 2)
    with pytest.raises(ValueError, match="kernel_size"):
        window_view(torch.zeros(4, 4), 5, 1)


def test_draw_window_view_labels_the_offsets():
    fig, windows = draw_window_view(6, 6, 3, 2)
    texts = [t.get_text() for ax in fig.get_axes() for t in ax.texts]
    assert len(fig.get_axes()) == 1 + windows.shape[0] * windows.shape[1]
    # the image shows 36 offsets, each window its 9
    assert len(texts) == 36 + windows.numel()
    assert texts[36:45] == [str(v) for v in windows[0, 0].flatten().tolist()]
    plt.close(fig)


def test_average_pooling_results_show_sum_over_divisor_like_pytorch():
    table = window_table(CLASSIC, 3, ceil_mode=True)
    out = F.avg_pool2d(CLASSIC[None], 3, ceil_mode=True)[0]
    assert [float(r["value"]) for r in table] == pytest.approx(out.flatten().tolist())
    assert [fraction_text(r) for r in table] == ["10/9", "8/6", "13/6", "4/4"]
    assert divisor_labels(divisors(5, 5, 3, ceil_mode=True)) == [["÷9", "÷6"], ["÷6", "÷4"]]
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    draw_windows(
        axes[0],
        CLASSIC,
        3,
        ceil_mode=True,
        labels=divisor_labels(divisors(5, 5, 3, ceil_mode=True)),
    )
    draw_results(axes[1], table, title="sum / divisor")
    assert {t.get_text() for t in axes[1].texts} >= {"10/9", "8/6", "13/6", "4/4"}
    save(fig, "draw_results")


def test_windows_figure_has_one_axis_per_dimension_with_pytorchs_sizes():
    fig = windows_figure(5, 2, 2, 1, ceil_mode=True)
    assert len(fig.axes) == 1 and "n_out = 3" in fig.axes[0].get_title()
    save(fig, "windows_figure_1d")
    fig = windows_figure((5, 7), (2, 3), None, (1, 1), 1, False)
    expected = F.max_pool2d(torch.zeros(1, 5, 7), (2, 3), None, (1, 1)).shape
    titles = [ax.get_title() for ax in fig.axes]
    assert f"H_out = {expected[-2]}" in titles[0] and f"W_out = {expected[-1]}" in titles[1]
    plt.close(fig)


def test_calculator_shows_formula_pytorch_shape_and_windows():
    result = calculator(height=5, width=7, kernel_size=2, stride=2, padding=1, ceil_mode=True)
    expected = tuple(nn.MaxPool2d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 1, 5, 7)).shape)
    assert result.pytorch_shape == expected == result.formula_shape and result.agree
    assert result.pytorch_error == "" and f"output shape {expected}" in result.explanation
    assert len(result.figure.axes) == 2
    save(result.figure, "calculator")


def test_calculator_on_an_invalid_configuration_shows_both_errors_and_the_fix():
    result = calculator(height=5, width=5, kernel_size=3, stride=1, padding=2, ceil_mode=False)
    assert result.formula_shape is None and result.pytorch_shape is None and result.agree
    assert "pad should be" in result.pytorch_error  # PyTorch's own words
    assert "Fix: padding=1" in result.explanation and result.figure is None
