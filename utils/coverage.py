"""What pooling reads and what it throws away: how many windows read each input pixel.

Conventions are PyTorch's (``nn.MaxPool2d``; for ``nn.AvgPool2d`` use ``dilation=1``): parameters
are an int or a ``(height, width)`` pair, ``stride=None`` means stride = kernel_size, padding is
per side. The window positions come from ``utils.drawing.windows`` (PyTorch's output-size rule,
including ceil_mode's drop rule); ``tests/test_coverage.py`` checks the counts against PyTorch's own
``F.unfold``/``F.fold`` and ``F.max_pool2d``.

In floor mode (the default) a window never hangs over the right/bottom edge, so when
``n + 2p − d(k−1) − 1`` is not a multiple of the stride the last rows and columns are read by no
window at all: e.g. ``MaxPool2d(3)`` on 32×32 reads rows and columns 0–29 only and ignores
124 of 1024 pixels (12.1 %). ``ceil_mode=True`` adds partial windows that read them.
"""

from __future__ import annotations

import torch

from utils.drawing import windows


def coverage_map(
    in_hw: tuple[int, int], kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False
) -> torch.Tensor:
    """An ``H×W`` int64 tensor: how many pooling windows read each input pixel (0 = ignored)."""
    h, w = in_hw
    counts = torch.zeros(h, w, dtype=torch.int64)
    for win in windows(in_hw, kernel_size, stride, padding, dilation, ceil_mode):
        for r, c in win.real:
            counts[r, c] += 1
    return counts


def ignored_fraction(
    in_hw: tuple[int, int], kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False
) -> float:
    """Fraction of input pixels that no window reads (they cannot influence the output at all)."""
    counts = coverage_map(in_hw, kernel_size, stride, padding, dilation, ceil_mode)
    return (counts == 0).double().mean().item()
