"""Max pooling, average pooling and dropout rebuilt from tensor primitives.

Same signatures and same results as their ``torch.nn.functional`` twins (checked by
``tests/test_scratch.py`` against PyTorch on thousands of random configurations):

- :func:`max_pool2d` -- ``F.max_pool2d``: pad with the lowest value, take the maximum of strided views.
- :func:`avg_pool2d` -- ``F.avg_pool2d``: pad with zeros, add strided views, divide by the exact divisor.
- :func:`dropout` -- ``F.dropout``: a Bernoulli mask of KEPT elements, scaled by ``1 / (1 - p)``.

None of them calls a torch pooling or dropout function. Plain-loop versions written for reading
live in :mod:`utils.scratch_loops`; lesson ``notebooks/06_under_the_hood.ipynb`` walks through both.

PyTorch's conventions, which these functions follow exactly:

- ``padding`` is added on EACH side; it must be ``>= 0`` and at most ``kernel_size // 2``
  (dilation does not relax this rule).
- ``stride=None`` (or an empty tuple) means ``stride = kernel_size``.
- Output size per dimension: ``floor((n + 2p - d(k-1) - 1) / s) + 1``; with ``ceil_mode=True``
  use ceil, then drop the last window if it would start inside the right padding.
- Max pooling: the FIRST maximum in row-major window order wins a tie, any NaN in the window makes
  the output NaN (its index is then the LAST NaN of the window, as in PyTorch's CPU kernel);
  indices are int64 ``h * W + w`` into the unpadded plane of each (n, c). A window that covers
  only padding (possible with dilation) gives the lowest value of the dtype and the index of the
  first cell PyTorch would have visited.
- Average pooling divides by the number of cells in the window clipped to the padded extent
  ``[-p, n + p)`` (``count_include_pad=True``) or to the real cells only (``False``), unless
  ``divisor_override`` is given. int64 averages are truncated towards zero, like PyTorch.
- Dropout: ``p`` is the probability to ZERO an element; kept elements become ``x * (1 / (1 - p))``.

Errors: wherever PyTorch raises, these functions raise too. For a bad pooling configuration or
dropout probability they raise :class:`ArgumentError`, which is BOTH a ``RuntimeError`` (what
PyTorch raises for pooling configurations) and a ``ValueError`` (what PyTorch raises for a dropout
probability outside [0, 1], and what the course's shape helpers raise), so either ``except``
clause catches it. A wrong argument type gives ``TypeError`` and an unsupported dtype gives
``NotImplementedError``, as in PyTorch.

Where we deliberately differ from PyTorch 2.14.1 (each case is a test in tests/test_scratch.py):

- A max-pooling window that covers only padding: PyTorch's backward sends its gradient to the
  reported index, a cell outside the window or even outside the tensor (heap corruption).
  Ours sends that window's gradient nowhere. Values and indices are the same as PyTorch's.
- int8/uint8 in channels-last layout with more than 127/255 cells per sample: PyTorch refuses
  (an internal index-type check); ours returns what PyTorch gives for the default layout.
- ``avg_pool2d`` on a 2-D tensor: PyTorch raises ``IndexError``; ours ``ArgumentError`` with a hint.
- int64 ``avg_pool2d`` with ``divisor_override=-1`` on a window summing to -2**63: PyTorch's
  integer division overflows and the process dies (SIGFPE); ours raises ``ArgumentError``.
"""

from __future__ import annotations

import math
import operator

import torch
import torch.nn.functional as F

__all__ = ["ArgumentError", "avg_pool2d", "dropout", "max_pool2d"]


class ArgumentError(ValueError, RuntimeError):
    """Invalid argument: ``except ValueError`` and ``except RuntimeError`` both catch it."""


# dtypes PyTorch 2.14 accepts on CPU (checked in tests/test_scratch.py against PyTorch itself).
MAX_POOL_DTYPES = (
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
    torch.float16, torch.bfloat16, torch.float32, torch.float64,
)  # fmt: skip
AVG_POOL_DTYPES = (torch.int64, torch.float16, torch.bfloat16, torch.float32, torch.float64)

INT64_OVERFLOW = (
    "avg_pool2d: a window of this int64 tensor sums to -2**63, and -2**63 / -1 does not fit in "
    "int64 (PyTorch 2.14.1 kills the process with SIGFPE here). Use divisor_override=1 and "
    "negate, or pool a float64 copy: x.double()."
)


# ---------------------------------------------------------------------------------------------
# Argument checking shared by the fast and the loop versions
# ---------------------------------------------------------------------------------------------
def _pair(name: str, fn: str, value, *, allow_empty: bool = False) -> tuple[int, int] | None:
    """An int or a sequence of one or two ints -> (height value, width value)."""
    if isinstance(value, bool):
        raise TypeError(f"{fn}(): {name} must be an int or a tuple of two ints, not bool")
    if isinstance(value, (tuple, list, torch.Size)):
        if len(value) == 0 and allow_empty:
            return None
        if len(value) not in (1, 2):
            what = "either be omitted, a single int," if allow_empty else "either be a single int,"
            raise ArgumentError(
                f"{fn}: {name} must {what} or a tuple of two ints, got {tuple(value)!r}"
            )
        items = tuple(value) * (2 if len(value) == 1 else 1)
    else:
        items = (value, value)
    try:
        return tuple(operator.index(v) for v in items)  # type: ignore[return-value]
    except TypeError:
        raise TypeError(
            f"{fn}(): {name} must be an int or a tuple of two ints, not {value!r}"
        ) from None


def _output_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's output length along one dimension (may be < 1 for an invalid configuration)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1  # // rounds down, also for negative spans
    if ceil_mode and (out - 1) * s >= n + p:  # the last window would start in the right padding
        out -= 1
    return out


def pool_params(fn, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Check a pooling call like PyTorch does; return (kernel, stride, padding, dilation, out_hw).

    Each of the first four is an (height, width) pair of ints; ``out_hw`` is the output (OH, OW).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn}(): input must be a torch.Tensor, not {type(x).__name__}")
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{fn}(): ceil_mode must be bool, not {type(ceil_mode).__name__}")
    k = _pair("kernel_size", fn, kernel_size)
    s = _pair("stride", fn, stride, allow_empty=True) if stride is not None else None
    s = k if s is None else s
    p = _pair("padding", fn, padding)
    d = _pair("dilation", fn, dilation)
    if min(k) <= 0:
        raise ArgumentError(f"{fn}: kernel size must be greater than zero, got {k}")
    if min(s) <= 0:
        raise ArgumentError(f"{fn}: stride must be greater than zero, got {s}")
    if min(d) <= 0:
        raise ArgumentError(f"{fn}: dilation must be greater than zero, got {d}")
    if x.dim() not in (3, 4) or 0 in x.shape[-3:]:
        raise ArgumentError(
            f"{fn}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) tensor whose C, H, W are not 0 "
            f"(only the batch size N may be 0), got shape {tuple(x.shape)}. "
            "Add a batch or channel dimension with x.unsqueeze(0)."
        )
    if min(p) < 0:
        raise ArgumentError(f"{fn}: padding must be non-negative, got {p}")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ArgumentError(
            f"{fn}: padding (added on each side) must be at most half the kernel size, "
            f"got padding={p} for kernel_size={k}; use padding <= kernel_size // 2"
        )
    n_hw = tuple(x.shape[-2:])
    out_hw = tuple(_output_size(n_hw[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(2))
    if min(out_hw) < 1:
        raise ArgumentError(
            f"{fn}: input size {n_hw} gives output size {out_hw}: output size is too small. "
            "Use a smaller kernel, dilation or stride, more padding, or a larger input."
        )
    return k, s, p, d, out_hw


def check_dtype(fn: str, x: torch.Tensor, allowed) -> None:
    """Raise NotImplementedError for the dtypes PyTorch's CPU kernel rejects."""
    if x.dtype not in allowed:
        names = ", ".join(str(t).removeprefix("torch.") for t in allowed)
        raise NotImplementedError(
            f'"{fn}" not implemented for {x.dtype} (PyTorch supports {names}); '
            "convert first, e.g. x.float()"
        )


def lowest(dtype: torch.dtype):
    """The value max pooling pads with: -inf for floats, the smallest integer for ints."""
    return -math.inf if dtype.is_floating_point else torch.iinfo(dtype).min


def first_real(start: torch.Tensor, d: int) -> torch.Tensor:
    """First window cell at or after 0: ``start + d * ceil(-start / d)`` for negative ``start``."""
    return torch.where(start < 0, start + d * ((-start + d - 1) // d), start)


# ---------------------------------------------------------------------------------------------
# The windows: strided views into a padded tensor, no copy
# ---------------------------------------------------------------------------------------------
def _pad_for_windows(x4, k, s, p, d, out_hw, value):
    """Pad (N, C, H, W) by p on each side, plus extra on the right/bottom for ceil_mode overhang."""
    pads = []
    for dim in (1, 0):  # F.pad lists the last dimension first: (left, right, top, bottom)
        needed = (out_hw[dim] - 1) * s[dim] + d[dim] * (k[dim] - 1) + 1  # padded length we read
        n = x4.shape[2 + dim]
        pads += [p[dim], max(p[dim], needed - n - p[dim])]
    if not any(pads):
        return x4
    return F.pad(x4, pads, value=value)


def _offsets(xp, dim, k, s, d, out):
    """The k strided views of ``xp`` along ``dim`` (2 = rows, 3 = columns), one per kernel offset.

    View ``i`` holds, for every output position o, the element at ``o * s + i * d``.
    """
    views = []
    for i in range(k):
        index = [slice(None)] * 4
        index[dim] = slice(i * d, i * d + (out - 1) * s + 1, s)
        views.append(xp[tuple(index)])
    return views


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------
def max_pool2d(
    x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """``F.max_pool2d`` from scratch: the maximum of every (dilated) window.

    x: (N, C, H, W) or (C, H, W). ``padding`` is per side (pads with -inf, never chosen).
    Returns values of x's dtype and, with ``return_indices=True``, int64 indices ``h * W + w``.
    """
    fn = "max_pool2d"
    k, s, p, d, out_hw = pool_params(fn, x, kernel_size, stride, padding, dilation, ceil_mode)
    check_dtype(fn, x, MAX_POOL_DTYPES)
    x4 = x if x.dim() == 4 else x.unsqueeze(0)
    xp = _pad_for_windows(x4, k, s, p, d, out_hw, lowest(x.dtype))

    values, indices = _running_max(x4, xp, k, s, p, d, out_hw, with_index=return_indices)
    if x.dim() == 3:
        values = values.squeeze(0)
        indices = None if indices is None else indices.squeeze(0)
    return (values, indices) if return_indices else values


def _better(v: torch.Tensor, best: torch.Tensor) -> torch.Tensor:
    """PyTorch's kernel rule: a cell replaces the current best if it is strictly greater
    (so the FIRST maximum wins a tie, also between -0.0 and 0.0) or if it is NaN."""
    better = v > best
    if v.is_floating_point():
        better |= v.isnan()
    return better


def _running_max(x4, xp, k, s, p, d, out_hw, with_index):
    """Visit the window cells in row-major order, keeping the best so far with ``torch.where``.

    Separable: first along each padded row (best of the k[1] columns of every window), then
    down the columns (best of those k[0] row results). Each step works on whole tensors at once.
    ``torch.where`` sends the gradient to the chosen cell only, as PyTorch does.
    """
    W = x4.shape[-1]
    starts_h = torch.arange(out_hw[0]) * s[0] - p[0]  # window starts in unpadded coordinates
    starts_w = torch.arange(out_hw[1]) * s[1] - p[1]
    nothing = torch.tensor(lowest(x4.dtype), dtype=x4.dtype)  # what padding holds: never better

    # 1) along each padded row: best of the k[1] columns of every window (and which column)
    best, col = nothing, first_real(starts_w, d[1])  # PyTorch starts at the first real column
    for j, v in enumerate(_offsets(xp, 3, k[1], s[1], d[1], out_hw[1])):
        better = _better(v, best)
        best = torch.where(better, v, best)
        if with_index:
            col = torch.where(better, starts_w + j * d[1], col)

    # 2) down the columns: best of the k[0] row results (and its flat index h * W + w)
    values = nothing
    index = first_real(starts_h, d[0])[:, None] * W + first_real(starts_w, d[1])
    row_col = _offsets(col.expand(best.shape), 2, k[0], s[0], d[0], out_hw[0]) if with_index else []
    for i, v in enumerate(_offsets(best, 2, k[0], s[0], d[0], out_hw[0])):
        better = _better(v, values)
        values = torch.where(better, v, values)
        if with_index:
            index = torch.where(better, (starts_h[:, None] + i * d[0]) * W + row_col[i], index)
    return values, (index if with_index else None)  # fresh tensors of shape (N, C, OH, OW)


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------
def window_counts(n: int, k: int, s: int, p: int, out: int, count_include_pad: bool):
    """Cells each window covers along one dimension: clipped to [-p, n + p) or to [0, n)."""
    start = torch.arange(out) * s - p
    if count_include_pad:  # padding counts, the ceil_mode overhang beyond n + p does not
        return (start + k).clamp(max=n + p) - start
    return (start + k).clamp(max=n) - start.clamp(min=0)


def avg_pool2d(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """``F.avg_pool2d`` from scratch: the sum of every window divided by the divisor.

    x: (N, C, H, W) or (C, H, W). ``padding`` is per side (pads with zeros). The divisor is the
    window size clipped to the padded extent (``count_include_pad=True``), the number of real cells
    (``False``), or ``divisor_override``. int64 results are truncated towards zero, like PyTorch.
    """
    fn = "avg_pool2d"
    k, s, p, d, out_hw = pool_params(fn, x, kernel_size, stride, padding, 1, ceil_mode)
    check_dtype(fn, x, AVG_POOL_DTYPES)
    if divisor_override is not None:
        divisor_override = operator.index(divisor_override)
        if divisor_override == 0:
            raise ArgumentError(f"{fn}: divisor_override must not be zero")

    # float16/bfloat16 add in float32, like PyTorch's kernel; int64 adds in int64
    acc = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    x4 = (x if x.dim() == 4 else x.unsqueeze(0)).to(acc)
    xp = _pad_for_windows(x4, k, s, p, d, out_hw, 0)

    rows = _offsets(xp, 3, k[1], s[1], 1, out_hw[1])
    total = rows[0].clone()  # clone: never add into (a view of) the input
    for v in rows[1:]:
        total += v
    cols = _offsets(total, 2, k[0], s[0], 1, out_hw[0])
    total = cols[0].clone()
    for v in cols[1:]:
        total += v

    if divisor_override is not None:
        divisor = torch.tensor(divisor_override)
    else:
        n_hw = x.shape[-2:]
        ch, cw = (
            window_counts(n_hw[i], k[i], s[i], p[i], out_hw[i], count_include_pad) for i in range(2)
        )
        divisor = ch[:, None] * cw[None, :]
    if acc.is_floating_point:
        out = (total / divisor.to(acc)).to(x.dtype)
    else:
        if divisor_override == -1 and (total == torch.iinfo(acc).min).any():
            raise ArgumentError(INT64_OVERFLOW)
        out = torch.div(total, divisor, rounding_mode="trunc")
    return out if x.dim() == 4 else out.squeeze(0)


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------
def dropout(x, p=0.5, training=True, inplace=False):
    """``F.dropout`` from scratch: zero each element with probability ``p``, scale the rest.

    ``p`` is the probability to DROP (zero) an element, not to keep it. Kept elements become
    ``x * (1 / (1 - p))`` so the expected value stays ``x``. ``training=False``, ``p=0`` or an empty
    input return ``x`` itself (the same tensor object, as PyTorch does); ``p=1`` multiplies by 0.
    ``inplace=True`` writes the result into ``x`` and returns it.

    Same operations in the same order as PyTorch's CPU implementation, so after the same
    ``torch.manual_seed`` the result is bit-for-bit equal to ``F.dropout``'s.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"dropout(): input must be a torch.Tensor, not {type(x).__name__}")
    p = float(p)
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ArgumentError(
            f"dropout probability has to be between 0 and 1, but got {p} "
            "(p is the probability to zero an element; keep probability = 1 - p)"
        )
    if not training or p == 0.0 or x.numel() == 0:
        return x
    if p == 1.0:
        noise = torch.zeros((), dtype=x.dtype, device=x.device)
    else:
        noise = torch.empty_like(x).bernoulli_(1.0 - p)  # 1 = keep, with probability 1 - p
        noise.div_(1.0 - p)  # kept entries become 1 / (1 - p)
    return x.mul_(noise) if inplace else x * noise
