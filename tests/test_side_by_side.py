"""show_side_by_side: panels at one display size, each image pixel an exact block of pixels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from utils.side_by_side import show_side_by_side  # noqa: E402


def _render(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def test_every_image_pixel_is_an_exact_block():
    gen = torch.Generator().manual_seed(0)
    image = (torch.rand(3, 16, 16, generator=gen) * 255).round() / 255
    pooled = F.avg_pool2d(image[None], 2)[0]
    size, gap, dpi = 128, 20, 100
    fig = show_side_by_side({"input": image, "pooled": pooled}, size=size, gap=gap, dpi=dpi)
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
    fig = show_side_by_side(
        {"in": torch.zeros(1, 8, 8), "out": torch.ones(1, 3, 3)}, size=64, title="demo"
    )
    assert [ax.get_title() for ax in fig.axes] == ["in  8×8", "out  3×3"]
    x0, _, x1, _ = fig.axes[1].get_window_extent().extents
    assert round(x1 - x0) == 63  # 3 pixels × 21, not stretched to 64
    assert fig._suptitle.get_text() == "demo"
    plt.close(fig)


@pytest.mark.parametrize(
    "panels, match",
    [
        ({}, "empty"),
        ({"x": torch.zeros(2, 4, 4)}, "C = 1 or 3"),
        ({"x": torch.zeros(4, 4)}, "C×H×W"),
        ({"x": torch.full((1, 4, 4), 2.0)}, r"\[0, 1\]"),
        ({"x": torch.full((1, 4, 4), float("nan"))}, r"\[0, 1\]"),
        ({"x": torch.zeros(1, 300, 300)}, "size=300"),
    ],
)
def test_bad_input_says_what_to_do(panels, match):
    with pytest.raises(ValueError, match=match):
        show_side_by_side(panels)
    plt.close("all")
