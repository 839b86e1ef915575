"""Max pooling, average pooling and dropout rebuilt from tensor primitives: the fast twins of
``F.max_pool2d``, ``F.avg_pool2d`` and ``F.dropout``.

Same signatures and bit-for-bit the same results (``tests/test_scratch.py`` compares them with
PyTorch on many random inputs), yet no torch pooling or dropout function runs underneath. The
plain-loop versions, written for reading, are on the page in notebooks/06_under_the_hood.ipynb.

The one trick: pad the input once, then take ``k`` strided VIEWS of it per dimension, one per
kernel offset. View ``i`` holds, for every output position ``o``, the cell ``o·stride + i·dilation``
of that position's window. Max pooling keeps a running maximum over the views, average pooling
adds them up; both go along the rows first, then down the columns, so the Python loops run over
the ``k_h + k_w`` kernel offsets, never over pixels.

PyTorch's conventions: ``padding`` is per side, at most ``kernel_size // 2``; ``stride=None`` means
``stride = kernel_size``; ``p`` is the probability to DROP an element. The window arithmetic
(output size, divisors) comes from :mod:`utils.pooling`.

Errors: bad arguments get the messages of :mod:`utils.shapes` (the broken rule and a fix PyTorch
accepts); an unsupported dtype raises ``NotImplementedError`` like PyTorch, with a conversion that
keeps the picture (``uint8`` -> ``x.float() / 255``). Where we differ from PyTorch on purpose, a
test in ``tests/test_scratch.py`` says why and notices if PyTorch changes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from utils.pooling import divisors, pair
from utils.shapes import PoolingConfigError, pool2d_output_shape

__all__ = ["avg_pool2d", "dropout", "max_pool2d"]

# the dtypes PyTorch's CPU kernels accept (tests/test_scratch.py checks them against PyTorch)
AVG_POOL_DTYPES = (torch.int64, torch.float16, torch.bfloat16, torch.float32, torch.float64)
MAX_POOL_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, *AVG_POOL_DTYPES)
INT64_OVERFLOW = "avg_pool2d: a window sums to -2**63, and -2**63 / -1 does not fit in int64. Fix: x.double()"


def conversion(dtype: torch.dtype) -> str:
    """The conversion to floats that keeps the picture: uint8 images hold 0..255, uint16 0..65535."""
    return {torch.uint8: "x.float() / 255", torch.uint16: "x.float() / 65535"}.get(dtype, "x.float()")


def pool_params(fn, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Check a pooling call like PyTorch does; return the ``(height, width)`` pairs
    ``kernel, stride, padding, dilation`` and the output size ``(OH, OW)``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn}(): input must be a torch.Tensor, not {type(x).__name__}")
    out_hw = pool2d_output_shape(tuple(x.shape), kernel_size, stride, padding, dilation, ceil_mode)
    k, p, d = pair(kernel_size), pair(padding), pair(dilation)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else pair(stride)
    return k, s, p, d, out_hw[-2:]


def check_dtype(fn: str, x: torch.Tensor, allowed) -> None:
    """Raise ``NotImplementedError`` for the dtypes PyTorch's CPU kernel rejects."""
    if x.dtype not in allowed:
        names = ", ".join(str(t).removeprefix("torch.") for t in allowed)
        raise NotImplementedError(
            f'"{fn}" not implemented for {x.dtype} (PyTorch supports {names}). '
            f"Fix: x = {conversion(x.dtype)}"
        )


def lowest(dtype: torch.dtype):
    """What max pooling pads with: -inf for floats, the smallest integer for ints (never chosen)."""
    return -math.inf if dtype.is_floating_point else torch.iinfo(dtype).min


def first_real(start: torch.Tensor, d: int) -> torch.Tensor:
    """A window's first cell at or after 0 (it starts at ``start`` and steps by ``d``)."""
    return torch.where(start < 0, start + d * ((-start + d - 1) // d), start)


def _pad(x4, k, s, p, d, out_hw, value):
    """Pad H and W by ``p`` on each side, more at the bottom/right if ceil_mode's last window
    reaches past the padding (that overhang is never chosen: it holds ``value``)."""
    reach = [(out_hw[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 for i in (0, 1)]  # padded length read
    end = [max(p[i], reach[i] - x4.shape[2 + i] - p[i]) for i in (0, 1)]
    if not any(p) and not any(end):
        return x4
    return F.pad(x4, (p[1], end[1], p[0], end[0]), value=value)  # F.pad: last dimension first


def _views(t, dim: int, k: int, s: int, d: int, out: int) -> list:
    """The ``k`` strided views of ``t`` along ``dim`` (-2 rows, -1 columns), no copy: view ``i``
    holds, for output position ``o``, the cell ``o·s + i·d``."""
    index = [slice(None)] * t.dim()
    views = []
    for i in range(k):
        index[dim] = slice(i * d, i * d + (out - 1) * s + 1, s)
        views.append(t[tuple(index)])
    return views


def _running_max(values, positions, dim, k, s, d, out, best, best_position):
    """Visit the ``k`` window offsets along ``dim`` in order, keeping the best cell and where it is.

    PyTorch's rule: a cell replaces the best if it is strictly greater (the FIRST maximum wins a
    tie, also -0.0 against 0.0) or NaN (NaN wins, the LAST NaN is reported). ``torch.where`` sends
    the gradient to the chosen cell only, as PyTorch does. ``positions=None``: values only.
    """
    value_views = _views(values, dim, k, s, d, out)
    position_views = _views(positions, dim, k, s, d, out) if positions is not None else [None] * k
    for v, where in zip(value_views, position_views, strict=True):
        better = v > best
        if v.is_floating_point():
            better |= v.isnan()
        best = torch.where(better, v, best)
        if where is not None:
            best_position = torch.where(better, where, best_position)
    return best, (None if positions is None else best_position)


def window_view(x: torch.Tensor, kernel_size: int, stride: int) -> torch.Tensor:
    """The ``(OH, OW, k, k)`` grid of windows of a 2-D tensor as a view (no padding, no copy).

    Moving one window down skips ``stride`` rows, ``stride * x.stride(0)`` elements of memory;
    moving one cell down inside a window skips one row, ``x.stride(0)`` elements.
    """
    if x.dim() != 2:
        raise ValueError(f"window_view takes a 2-D tensor (H, W), got shape {tuple(x.shape)}")
    (H, W), k, s = x.shape, kernel_size, stride
    if not (1 <= k <= min(H, W)) or s < 1:
        raise ValueError(f"need 1 <= kernel_size <= {min(H, W)} and stride >= 1, got {k}, {s}")
    row, col = x.stride()
    size = ((H - k) // s + 1, (W - k) // s + 1, k, k)
    return x.as_strided(size, (s * row, s * col, row, col), x.storage_offset())


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``F.max_pool2d`` from scratch: the maximum of every (dilated) window.

    ``x``: ``(N, C, H, W)`` or ``(C, H, W)``; padding holds -inf (never chosen). Returns values of
    x's dtype and, with ``return_indices=True``, int64 indices ``h·W + w`` into each unpadded plane.
    A window that covers only padding (possible with dilation) gives the lowest value and the
    index of the first cell PyTorch would have visited.
    """
    k, s, p, d, (out_h, out_w) = pool_params("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    check_dtype("max_pool2d", x, MAX_POOL_DTYPES)
    x4 = x if x.dim() == 4 else x.unsqueeze(0)
    nothing = torch.tensor(lowest(x.dtype), dtype=x.dtype)  # "no cell seen yet"
    padded = _pad(x4, k, s, p, d, (out_h, out_w), nothing.item())
    W = x4.shape[-1]
    positions = start = None
    if return_indices:  # flat index h·W + w of every padded cell, in unpadded coordinates
        rows = torch.arange(padded.shape[-2]) - p[0]
        positions = rows[:, None] * W + (torch.arange(padded.shape[-1]) - p[1])
        start_h, start_w = (torch.arange(o) * s[i] - p[i] for i, o in enumerate((out_h, out_w)))
        start = first_real(start_h, d[0])[:, None] * W + first_real(start_w, d[1])  # PyTorch's
    # 1) along each row: the best of every window's k_w columns; 2) down: the best of k_h rows
    zero = torch.zeros((), dtype=torch.int64)
    row_best, row_where = _running_max(padded, positions, -1, k[1], s[1], d[1], out_w, nothing, zero)
    values, indices = _running_max(row_best, row_where, -2, k[0], s[0], d[0], out_h, nothing, start)
    if x.dim() == 3:
        values, indices = values[0], None if indices is None else indices[0]
    return (values, indices) if return_indices else values


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """``F.avg_pool2d`` from scratch: the sum of every window divided by its divisor.

    ``x``: ``(N, C, H, W)`` or ``(C, H, W)``; padding holds zeros. The divisor is
    :func:`utils.pooling.divisors` (the window clipped to the padded extent, or to the real cells
    with ``count_include_pad=False``, or ``divisor_override``). float16/bfloat16 add in float32
    and int64 results are truncated towards zero, like PyTorch.
    """
    k, s, p, _, (out_h, out_w) = pool_params("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    check_dtype("avg_pool2d", x, AVG_POOL_DTYPES)
    if divisor_override == 0:
        raise PoolingConfigError("avg_pool2d: divisor_override must not be zero. Fix: divisor_override=None")
    acc = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    x4 = (x if x.dim() == 4 else x.unsqueeze(0)).to(acc)
    padded = _pad(x4, k, s, p, (1, 1), (out_h, out_w), 0)
    total = sum(_views(padded, -1, k[1], s[1], 1, out_w))  # along the rows ...
    total = sum(_views(total, -2, k[0], s[0], 1, out_h))  # ... then down the columns
    H, W = x.shape[-2:]
    divisor = divisors(H, W, k, s, p, ceil_mode, count_include_pad, divisor_override)
    if acc.is_floating_point:
        out = (total / divisor.to(acc)).to(x.dtype)
    else:
        if divisor_override == -1 and (total == torch.iinfo(acc).min).any():
            raise PoolingConfigError(INT64_OVERFLOW)
        out = torch.div(total, divisor, rounding_mode="trunc")
    return out if x.dim() == 4 else out[0]


def dropout(x, p=0.5, training=True, inplace=False):
    """``F.dropout`` from scratch: zero each element with probability ``p``, scale the rest.

    ``p`` is the probability to DROP (zero) an element, not to keep it. Kept elements become
    ``x * (1 / (1 - p))``, so the expected value stays ``x``. ``training=False``, ``p=0`` or an empty
    input return ``x`` itself (the same object, as PyTorch does); ``p=1`` multiplies by 0;
    ``inplace=True`` writes into ``x``. The same operations in the same order as PyTorch's CPU
    code, so after the same ``torch.manual_seed`` the result is bit-for-bit ``F.dropout``'s.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"dropout(): input must be a torch.Tensor, not {type(x).__name__}")
    p = float(p)
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ValueError(
            f"dropout probability has to be between 0 and 1, but got {p} "
            "(p is the probability to zero an element; keep probability = 1 - p)"
        )
    if not training or p == 0.0 or x.numel() == 0:
        return x
    try:
        if p == 1.0:
            noise = torch.zeros((), dtype=x.dtype, device=x.device)
        else:
            noise = torch.empty_like(x).bernoulli_(1.0 - p)  # 1 = keep, with probability 1 - p
            noise.div_(1.0 - p)  # kept entries become 1 / (1 - p)
        return x.mul_(noise) if inplace else x * noise
    except (RuntimeError, NotImplementedError) as err:  # integer tensors, like PyTorch
        if x.is_floating_point() or x.is_complex():
            raise
        raise type(err)(
            f"{err}: dropout multiplies the kept values by 1 / (1 - p), a float, and an integer "
            f"tensor cannot hold it. Fix: x = {conversion(x.dtype)}"
        ) from None
