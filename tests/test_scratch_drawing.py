"""The as_strided picture: the view is PyTorch's own windows and shares the image's memory."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from utils.scratch_drawing import draw_window_view, window_view  # noqa: E402


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
