"""The window pictures draw exactly the windows PyTorch uses, and the window it drops."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from utils.shapes import textbook_output_size  # noqa: E402
from utils.shapes_drawing import draw_windows, draw_windows_1d, draw_windows_2d_axes  # noqa: E402


def test_drawn_windows_are_pytorchs_and_the_dropped_one_is_shown():
    fig, ax = plt.subplots()
    seen_dropped = 0
    for n, k, s, p, d in itertools.product(
        range(1, 9), range(1, 4), range(1, 4), range(0, 2), (1, 2)
    ):
        if p > k // 2:
            continue
        x = torch.arange(n, dtype=torch.float32).reshape(1, 1, n)
        try:
            out = F.max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode=True)
        except RuntimeError:
            with pytest.raises(ValueError):
                draw_windows_1d(ax, n, k, s, p, d, True)
            continue
        ax.clear()
        drawn = draw_windows_1d(ax, n, k, s, p, d, True)
        assert len(drawn["windows"]) == out.shape[-1]
        plain = textbook_output_size(n, k, s, p, d, ceil_mode=True)
        assert (drawn["dropped"] is not None) == (plain != out.shape[-1])
        if drawn["dropped"]:
            seen_dropped += 1
            assert drawn["dropped"][0] >= n  # it starts in the right padding
            assert drawn["dropped"][0] == drawn["windows"][-1][0] + s
    plt.close(fig)
    assert seen_dropped > 5


def test_figures_have_one_axis_per_dimension():
    fig = draw_windows(5, 2, 2, 1, ceil_mode=True)
    assert len(fig.axes) == 1 and "n_out = 3" in fig.axes[0].get_title()
    plt.close(fig)
    fig = draw_windows_2d_axes(5, 7, (2, 3), None, (1, 1), 1, False)
    titles = [ax.get_title() for ax in fig.axes]
    expected = F.max_pool2d(torch.zeros(1, 5, 7), (2, 3), None, (1, 1)).shape
    assert f"H_out = {expected[-2]}" in titles[0] and f"W_out = {expected[-1]}" in titles[1]
    plt.close(fig)
