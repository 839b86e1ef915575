"""Window arithmetic of pooling (TEMPORARY facade while utils/ is reorganised).

PyTorch's conventions: padding is per side; ``stride=None`` means stride = kernel_size.
"""

from __future__ import annotations


def adaptive_windows(size: int, output_size: int) -> list[tuple[int, int]]:
    """Half-open windows ``[start, end)`` of adaptive pooling, one per output cell.

    Output ``i`` of ``o`` over ``n`` cells spans ``[floor(i·n/o), ceil((i+1)·n/o))`` (the rule of
    ``nn.AdaptiveAvgPool2d`` / ``nn.AdaptiveMaxPool2d``). Example: n=10, o=4 gives
    ``[(0, 3), (2, 5), (5, 8), (7, 10)]``: uneven, overlapping windows no ``AvgPool2d`` reproduces.
    """
    return [(i * size // output_size, -(-(i + 1) * size // output_size)) for i in range(output_size)]


__all__ = ["adaptive_windows"]
