"""Window geometry checked against PyTorch's own pooling; pictures checked pixel by pixel."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from utils.drawing import draw_windows, show_pair, window_cells, windows  # noqa: E402

CLASSIC = torch.tensor(
    [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
    dtype=torch.float32,
)


@st.composite
def configs(draw):
    """Any 2-D max pooling configuration, valid or not, on a small plane."""
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    return (h, w), dict(
        kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=draw(st.booleans())
    )


def torch_pool(x, cfg, **extra):
    stride = cfg["stride"] if cfg["stride"] is not None else cfg["kernel_size"]
    return F.max_pool2d(
        x, cfg["kernel_size"], stride, cfg["padding"], cfg["dilation"], cfg["ceil_mode"], **extra
    )


def membership_from_torch(hw, cfg) -> list[list[set]]:
    """Which input cells each window reads, measured: a one-hot plane per cell, max pooled
    (padding is −∞, so window (i, j) outputs 1 exactly when it reads the hot cell)."""
    h, w = hw
    onehot = torch.eye(h * w).reshape(h * w, 1, h, w)
    hits = torch_pool(onehot, cfg)[:, 0] == 1  # (cell, out_h, out_w)
    out_h, out_w = hits.shape[1:]
    return [
        [{divmod(int(c), w) for c in torch.nonzero(hits[:, i, j]).flatten()} for j in range(out_w)]
        for i in range(out_h)
    ]


@settings(max_examples=400, deadline=None)
@given(configs())
def test_window_cells_are_the_cells_pytorch_reads(case):
    hw, cfg = case
    try:
        measured = membership_from_torch(hw, cfg)
    except RuntimeError:
        with pytest.raises(ValueError):
            window_cells(hw, **cfg)
        return
    ours = window_cells(hw, **cfg)
    assert [[set(cell) for cell in row] for row in ours] == measured


@settings(max_examples=300, deadline=None)
@given(configs())
def test_cells_are_in_pytorch_tie_order(case):
    """On a constant plane PyTorch returns the first cell of each window (row-major order)."""
    hw, cfg = case
    try:
        out, idx = torch_pool(torch.zeros(1, 1, *hw), cfg, return_indices=True)
    except RuntimeError:
        return
    for i, row in enumerate(window_cells(hw, **cfg)):
        for j, cells in enumerate(row):
            if cells:
                assert idx[0, 0, i, j].item() == cells[0][0] * hw[1] + cells[0][1]
            else:  # a dilated window can read only padding: PyTorch then returns −∞
                assert out[0, 0, i, j].item() == float("-inf")


def test_a_dilated_window_can_read_only_padding():
    """p <= k // 2 does not stop a dilated window from skipping over a 1-row input."""
    cfg = dict(kernel_size=(2, 1), stride=1, padding=(1, 0), dilation=(2, 1), ceil_mode=False)
    assert window_cells((1, 3), **cfg) == [[[], [], []]]
    assert torch_pool(torch.zeros(1, 1, 1, 3), cfg).isneginf().all()


@settings(max_examples=300, deadline=None)
@given(configs())
def test_floor_mode_cells_match_unfold_including_padding(case):
    """F.unfold lists every position each window reads (padding as 0), in the same order."""
    hw, cfg = case
    cfg = {**cfg, "ceil_mode": False}
    try:
        expected_shape = torch_pool(torch.zeros(1, 1, *hw), cfg).shape[2:]
    except RuntimeError:
        return
    h, w = hw
    ids = torch.arange(1, h * w + 1, dtype=torch.float64).reshape(1, 1, h, w)
    stride = cfg["stride"] or cfg["kernel_size"]
    cols = F.unfold(ids, cfg["kernel_size"], cfg["dilation"], cfg["padding"], stride)[0]
    ws = windows(hw, **cfg)
    assert (ws[-1].i + 1, ws[-1].j + 1) == tuple(expected_shape)
    for n, win in enumerate(ws):
        ours = [r * w + c + 1 if 0 <= r < h and 0 <= c < w else 0 for r, c in win.cells]
        assert cols[:, n].long().tolist() == ours
        assert not win.ceil_only


@settings(max_examples=300, deadline=None)
@given(configs())
def test_ceil_only_windows_are_the_extra_ones(case):
    hw, cfg = case
    try:
        ceil = torch_pool(torch.zeros(1, 1, *hw), {**cfg, "ceil_mode": True}).shape[2:]
    except RuntimeError:
        return
    try:
        floor = tuple(torch_pool(torch.zeros(1, 1, *hw), {**cfg, "ceil_mode": False}).shape[2:])
    except RuntimeError:
        floor = (0, 0)
    ws = windows(hw, **{**cfg, "ceil_mode": True})
    extra = [(win.i, win.j) for win in ws if win.ceil_only]
    assert extra == [
        (i, j) for i in range(ceil[0]) for j in range(ceil[1]) if i >= floor[0] or j >= floor[1]
    ]


def test_classic_example_windows():
    """The 5×5 lesson example: ceil_mode adds three partial windows; maxima at flat 1, 3, 15, 18."""
    ws = windows((5, 5), 3, ceil_mode=True)
    out, idx = F.max_pool2d(CLASSIC[None, None], 3, ceil_mode=True, return_indices=True)
    assert [w.ceil_only for w in ws] == [False, True, True, True]
    for win, flat, value in zip(ws, idx.flatten().tolist(), out.flatten().tolist(), strict=True):
        best = max(win.real, key=lambda rc: CLASSIC[rc].item())  # max keeps the first of ties
        assert best[0] * 5 + best[1] == flat and CLASSIC[best].item() == value


def test_invalid_configurations_raise_like_pytorch():
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.zeros(1, 1, 5, 5), 3, padding=2)
    with pytest.raises(ValueError, match="half"):
        window_cells((5, 5), 3, padding=2)
    with pytest.raises(ValueError):
        window_cells((2, 2), 3)


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
    plt.close(fig)


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
    plt.close(fig)


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
