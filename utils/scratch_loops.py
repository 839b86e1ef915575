"""Max pooling, average pooling and dropout as plain Python loops, written for reading.

One output cell at a time, one window cell at a time: the rules are visible in the code.
Slow (Python loops over every element), so use them on tiny inputs only. Same arguments, same
checks and same results as :mod:`utils.scratch` and ``torch.nn.functional`` (tested); the
arithmetic is done on 0-d tensors, so dtypes and gradients behave like PyTorch's.
"""

from __future__ import annotations

import torch

from utils.scratch import (
    AVG_POOL_DTYPES,
    INT64_OVERFLOW,
    MAX_POOL_DTYPES,
    check_dtype,
    lowest,
    pool_params,
)
from utils.scratch import (
    PoolingConfigError as ArgumentError,
)

__all__ = ["avg_pool2d_loops", "dropout_loops", "max_pool2d_loops"]


def max_pool2d_loops(
    x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """``F.max_pool2d`` with for-loops. Padding cells are simply skipped (PyTorch pads with -inf,
    which can never win)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (OH, OW) = pool_params(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode
    )
    check_dtype("max_pool2d", x, MAX_POOL_DTYPES)
    x4 = x if x.dim() == 4 else x.unsqueeze(0)
    N, C, H, W = x4.shape
    values, indices = [], []
    for n in range(N):
        for c in range(C):
            for oh in range(OH):
                for ow in range(OW):
                    top, left = oh * sh - ph, ow * sw - pw  # window corner, may be in the padding
                    # Start from "nothing found yet": the lowest value and the first real cell.
                    best = torch.tensor(lowest(x.dtype), dtype=x.dtype)
                    h0 = top + dh * max(0, -(top // dh))  # first row >= 0 on the dilated grid
                    w0 = left + dw * max(0, -(left // dw))
                    best_index = h0 * W + w0
                    for i in range(kh):
                        for j in range(kw):
                            h, w = top + i * dh, left + j * dw
                            if not (0 <= h < H and 0 <= w < W):
                                continue  # a padding cell
                            value = x4[n, c, h, w]
                            # strictly greater: the FIRST maximum wins a tie; NaN always wins
                            if value > best or value.isnan():
                                best, best_index = value, h * W + w
                    values.append(best)
                    indices.append(best_index)
    if not values:  # an empty batch (N = 0)
        values.append(x4.new_empty(0))
    out = torch.stack(values).reshape(N, C, OH, OW)
    idx = torch.tensor(indices, dtype=torch.int64).reshape(N, C, OH, OW)
    if x.dim() == 3:
        out, idx = out[0], idx[0]
    return (out, idx) if return_indices else out


def avg_pool2d_loops(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """``F.avg_pool2d`` with for-loops: add the real cells of each window, divide by the divisor."""
    (kh, kw), (sh, sw), (ph, pw), _, (OH, OW) = pool_params(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    check_dtype("avg_pool2d", x, AVG_POOL_DTYPES)
    if divisor_override == 0:
        raise ArgumentError("avg_pool2d: divisor_override must not be zero")
    acc = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    x4 = x if x.dim() == 4 else x.unsqueeze(0)
    N, C, H, W = x4.shape
    values = []
    for n in range(N):
        for c in range(C):
            for oh in range(OH):
                for ow in range(OW):
                    top, left = oh * sh - ph, ow * sw - pw
                    total = torch.zeros((), dtype=acc)
                    for h in range(max(top, 0), min(top + kh, H)):  # real rows of the window
                        for w in range(max(left, 0), min(left + kw, W)):
                            total = total + x4[n, c, h, w].to(acc)
                    if divisor_override is not None:
                        divisor = divisor_override
                    elif count_include_pad:  # window clipped to the padded extent [-p, n + p)
                        divisor = (min(top + kh, H + ph) - top) * (min(left + kw, W + pw) - left)
                    else:  # real cells only
                        divisor = (min(top + kh, H) - max(top, 0)) * (
                            min(left + kw, W) - max(left, 0)
                        )
                    if acc.is_floating_point:
                        values.append((total / divisor).to(x.dtype))
                    else:  # integers: truncate towards zero, like C++ (and PyTorch)
                        if divisor == -1 and total == torch.iinfo(acc).min:
                            raise ArgumentError(INT64_OVERFLOW)  # -2**63 / -1 overflows
                        values.append(torch.div(total, divisor, rounding_mode="trunc"))
    if not values:  # an empty batch (N = 0)
        values.append(x4.new_empty(0))
    out = torch.stack(values).reshape(N, C, OH, OW)
    return out if x.dim() == 4 else out[0]


def dropout_loops(x, p=0.5, training=True, inplace=False):
    """``F.dropout`` with a for-loop over the elements of a floating-point tensor.

    Each element is zeroed with probability ``p`` and otherwise multiplied by ``1 / (1 - p)``.
    The random draws differ from ``F.dropout``'s (one ``torch.rand`` per element), so compare
    the rules, not the masks.
    """
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or x.numel() == 0:
        return x  # nothing is dropped: the same tensor comes back, like F.dropout
    scale = 1.0 / (1.0 - p) if p < 1.0 else 0.0
    factors = []
    for _ in range(x.numel()):
        dropped = torch.rand(()).item() < p  # True with probability p
        factors.append(0.0 if dropped else scale)
    mask = torch.tensor(factors, dtype=x.dtype).reshape(x.shape)
    return x.mul_(mask) if inplace else x * mask
