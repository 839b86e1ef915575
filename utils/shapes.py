"""Output shapes of 2-D pooling, computed exactly as PyTorch computes them, and explained.

PyTorch's conventions (``nn.MaxPool2d`` / ``nn.AvgPool2d``, torch 2.x):

* Per dimension, ``out = floor((n + 2*p - d*(k - 1) - 1) / s) + 1`` with ``n`` the input size,
  ``k`` the kernel size, ``s`` the stride (``stride=None`` means ``s = k``), ``p`` the padding
  **per side** (added on the left *and* on the right), ``d`` the dilation (``AvgPool2d`` has none:
  use ``d = 1``). ``floor`` rounds down, also for negative numerators (Python ``//``).
* ``ceil_mode=True`` uses ``ceil`` instead, then **drops the last window if it would start in the
  right padding (or past it)**, i.e. if ``(out - 1)*s >= n + p``. The plain ceil formula of many textbooks
  skips that rule and is wrong for e.g. ``n=5, k=2, s=2, p=1``: PyTorch gives 3, not 4.
* PyTorch raises for: kernel, stride or dilation ``<= 0``; padding ``< 0``; padding larger than
  half the kernel, ``p > k // 2`` (dilation does not relax this); an output size below 1; an
  input that is not 3-D ``(C, H, W)`` or 4-D ``(N, C, H, W)``; ``C``, ``H`` or ``W`` equal to 0
  (only the batch size ``N`` may be 0). This module raises ``ValueError`` in exactly those
  cases (``TypeError`` for non-integers, as PyTorch does), with the rule and a fix in the message.

Every function here is checked against PyTorch itself in ``tests/test_shapes.py``.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "pool_output_size",
    "pool2d_output_shape",
    "PoolingConfigError",
    "textbook_output_size",
    "window_starts",
    "window_cells",
    "explain",
    "pytorch_output_shape",
    "shape_table",
    "table_markdown",
    "table_html",
    "ShapeTable",
    "CalculatorResult",
    "calculator",
]


class PoolingConfigError(ValueError):
    """A configuration PyTorch refuses. ``rule`` names the broken rule in a few words; the message
    quotes it with the numbers and says how to fix it."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


# --------------------------------------------------------------------------------------------
# Argument handling
# --------------------------------------------------------------------------------------------
def _as_int(value, name: str) -> int:
    """An int (or anything with ``__index__``, e.g. numpy ints); bools and floats are refused."""
    if isinstance(value, bool):
        raise TypeError(
            f"{name} must be an int, got the bool {value!r} (PyTorch refuses bools too)."
        )
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an int or a tuple of ints, got {value!r} of type "
            f"{type(value).__name__} (PyTorch refuses it too). Use e.g. {name}=2 or {name}=(2, 3)."
        ) from None


def _pair(value, name: str) -> tuple[int, int]:
    """``2`` -> ``(2, 2)``; ``(2,)`` -> ``(2, 2)``; ``(2, 3)`` -> ``(2, 3)``, like ``nn.MaxPool2d``."""
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        items = tuple(value)
        if len(items) not in (1, 2):
            raise PoolingConfigError(
                "an int or a pair",
                f"{name} must be a single int or a tuple of two ints (height, width), "
                f"got {value!r} with {len(items)} values. Fix: pass {name}=k or {name}=(k_h, k_w).",
            )
        ints = tuple(_as_int(v, name) for v in items)
        return (ints[0], ints[-1])
    v = _as_int(value, name)
    return (v, v)


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, bool) and type(value).__name__ not in ("bool", "bool_"):  # numpy
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def _one_dim_params(kernel_size, stride, padding, dilation) -> tuple[int, int, int, int]:
    k = _as_int(kernel_size, "kernel_size")
    s = k if stride is None else _as_int(stride, "stride")
    return k, s, _as_int(padding, "padding"), _as_int(dilation, "dilation")


def _two_dim_params(kernel_size, stride, padding, dilation) -> list[tuple[int, int, int, int]]:
    """Per-dimension (k, s, p, d) for height then width; ``stride=None`` or ``()`` means kernel."""
    ks = _pair(kernel_size, "kernel_size")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        ss = ks
    else:
        ss = _pair(stride, "stride")
    ps = _pair(padding, "padding")
    ds = _pair(dilation, "dilation")
    return [(ks[i], ss[i], ps[i], ds[i]) for i in range(2)]


# --------------------------------------------------------------------------------------------
# The rules
# --------------------------------------------------------------------------------------------
def _raw_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> tuple[int, bool]:
    """PyTorch's size before the ``>= 1`` check, and whether the ceil-mode drop rule fired."""
    numerator = n + 2 * p - d * (k - 1) - 1
    out = (numerator + (s - 1 if ceil_mode else 0)) // s + 1  # // rounds down, like div_rtn
    if ceil_mode and (out - 1) * s >= n + p:
        return out - 1, True
    return out, False


def _parameter_problem(k: int, s: int, p: int, d: int, dim: str = "") -> PoolingConfigError | None:
    """The first rule on kernel/stride/padding/dilation that PyTorch would refuse, or None."""
    where = f" (in {dim})" if dim else ""
    if k <= 0:
        return PoolingConfigError(
            "kernel_size > 0",
            f"kernel_size must be greater than zero{where}, got {k}. "
            "Fix: use a window of at least 1 cell, e.g. kernel_size=2.",
        )
    if s <= 0:
        return PoolingConfigError(
            "stride > 0",
            f"stride must be greater than zero{where}, got {s}. "
            "Fix: use stride >= 1, or stride=None, which means stride = kernel_size.",
        )
    if d <= 0:
        return PoolingConfigError(
            "dilation > 0",
            f"dilation must be greater than zero{where}, got {d}. "
            "Fix: use dilation=1 (a plain window) or more to spread the window out.",
        )
    if p < 0:
        return PoolingConfigError(
            "padding ≥ 0",
            f"padding must be non-negative{where}, got {p}: PyTorch pads, it never crops. "
            "Fix: use padding >= 0, or crop the input yourself first.",
        )
    if p > k // 2:
        return PoolingConfigError(
            "padding ≤ kernel_size // 2",
            f"padding must be at most half the kernel, padding <= kernel_size // 2{where}: got "
            f"padding={p} with kernel_size={k}, so the limit is {k // 2}. Padding is per side; "
            f"dilation (here {d}) does not raise this limit. Fix: use padding <= {k // 2}, "
            f"or a kernel_size of at least {2 * p}.",
        )
    return None


def _size_problem(
    n: int, k: int, s: int, p: int, d: int, ceil_mode: bool, dim: str = ""
) -> PoolingConfigError | None:
    """Why the output size is below 1 (assumes valid parameters and n >= 1), or None."""
    out, _ = _raw_size(n, k, s, p, d, ceil_mode)
    if out >= 1:
        return None
    where = f" for {dim}" if dim else ""
    span = d * (k - 1) + 1
    mode = "ceil" if ceil_mode else "floor"
    numerator = n + 2 * p - span
    fixes = ["a larger input", "a smaller kernel_size" + (" or dilation" if d > 1 else "")]
    if p < k // 2:
        fixes.append(f"more padding (at most kernel_size // 2 = {k // 2})")
    if not ceil_mode and _raw_size(n, k, s, p, d, True)[0] >= 1:
        fixes.append("ceil_mode=True (one window may hang over the end)")
    return PoolingConfigError(
        "output size ≥ 1",
        f"output size must be at least 1{where}, but {mode}((n + 2*padding - dilation*(kernel_size - 1)"
        f" - 1) / stride) + 1 = {mode}(({n} + 2*{p} - {d}*({k} - 1) - 1) / {s}) + 1 = "
        f"{mode}({numerator} / {s}) + 1 = {out}: the window spans dilation*(kernel_size - 1) + 1 = "
        f"{span} cells but the padded input has only n + 2*padding = {n + 2 * p}. "
        f"Fix: use {', '.join(fixes[:-1])} or {fixes[-1]}.",
    )


def pool_output_size(
    size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output size of one dimension of ``nn.MaxPool2d`` / ``nn.AvgPool2d`` (use dilation=1 for avg).

    ``floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1``; padding is per side
    and ``stride=None`` means ``stride = kernel_size``. With ``ceil_mode=True``: ceil instead of
    floor, then the last window is dropped if it would start in the right padding or past it
    (``(out - 1)*stride >= size + padding``).

    Raises ``ValueError`` (a :class:`PoolingConfigError`) exactly where PyTorch raises (size < 1,
    kernel/stride/dilation <= 0, padding < 0, padding > kernel_size // 2, result < 1),
    ``TypeError`` for non-ints.

    >>> pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True)
    3
    """
    n = _as_int(size, "size")
    k, s, p, d = _one_dim_params(kernel_size, stride, padding, dilation)
    ceil_mode = _check_bool(ceil_mode, "ceil_mode")
    problem = _parameter_problem(k, s, p, d)
    if problem is None and n <= 0:
        problem = PoolingConfigError(
            "size ≥ 1",
            f"size must be at least 1, got {size}: PyTorch refuses empty H or W. "
            "Fix: pool an input with at least one row and one column.",
        )
    problem = problem or _size_problem(n, k, s, p, d, ceil_mode)
    if problem:
        raise problem
    return _raw_size(n, k, s, p, d, ceil_mode)[0]


def _shape_problem(shape: tuple[int, ...]) -> PoolingConfigError | None:
    if len(shape) not in (2, 3, 4):
        return PoolingConfigError(
            "3-D or 4-D input",
            f"input_shape must be (H, W), (C, H, W) or (N, C, H, W), got {shape}, a "
            f"{len(shape)}-D shape: nn.MaxPool2d and nn.AvgPool2d take 3-D or 4-D tensors. "
            "Fix: add a channel dimension with x.unsqueeze(0), or fold extra dimensions into N.",
        )
    names = ("N", "C", "H", "W")[4 - len(shape) :]
    for name, value in zip(names, shape, strict=True):
        if name == "N" and value < 0:
            return PoolingConfigError(
                "N ≥ 0", f"the batch size N must be >= 0, got input_shape={shape}."
            )
        if name != "N" and value <= 0:
            return PoolingConfigError(
                "C, H, W ≥ 1",
                f"{name} must be at least 1, got input_shape={shape}: PyTorch allows an empty "
                "batch (N = 0) but refuses C, H or W equal to 0. "
                f"Fix: give the input at least one {'channel' if name == 'C' else 'row and column'}.",
            )
    return None


def pool2d_output_shape(
    input_shape: Sequence[int],
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
) -> tuple:
    """Shape that ``nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode=...)`` returns.

    ``input_shape`` is ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)``; the result has the same length
    with H and W replaced (``(H, W)`` is a convenience: PyTorch itself needs a channel dimension).
    Parameters are an int or a pair ``(height, width)`` as in ``nn.MaxPool2d``; padding is per side;
    ``stride=None`` means ``stride = kernel_size``. For ``nn.AvgPool2d`` use ``dilation=1``.

    Raises ``ValueError`` (a :class:`PoolingConfigError`, whose ``rule`` names the broken rule)
    exactly where PyTorch raises (see the module docstring), with the rule and how to fix it;
    ``TypeError`` for non-integers.

    >>> pool2d_output_shape((1, 3, 32, 32), 3, stride=2, padding=1)
    (1, 3, 16, 16)
    """
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Iterable):
        raise TypeError(f"input_shape must be a tuple like (N, C, H, W), got {input_shape!r}.")
    shape = tuple(_as_int(v, "input_shape") for v in input_shape)
    params = _two_dim_params(kernel_size, stride, padding, dilation)
    ceil_mode = _check_bool(ceil_mode, "ceil_mode")
    for dim, (k, s, p, d) in zip(("height", "width"), params, strict=True):
        problem = _parameter_problem(k, s, p, d, dim)
        if problem:
            raise problem
    problem = _shape_problem(shape)
    if problem:
        raise problem
    spatial = []
    for dim, n, (k, s, p, d) in zip(("H", "W"), shape[-2:], params, strict=True):
        problem = _size_problem(n, k, s, p, d, ceil_mode, dim)
        if problem:
            raise PoolingConfigError(problem.rule, f"{problem} (input_shape={shape})")
        spatial.append(_raw_size(n, k, s, p, d, ceil_mode)[0])
    return shape[:-2] + tuple(spatial)


def textbook_output_size(
    size: int, kernel_size: int, stride=None, padding: int = 0, dilation: int = 1, ceil_mode=False
) -> int:
    """The plain formula many textbooks give: floor or ceil, and **no** dropped-last-window rule.

    No validity checks: it is here to show where it disagrees with PyTorch. With
    ``ceil_mode=False`` it equals :func:`pool_output_size` on every valid configuration.
    """
    n = _as_int(size, "size")
    k, s, p, d = _one_dim_params(kernel_size, stride, padding, dilation)
    numerator = n + 2 * p - d * (k - 1) - 1
    rounded = -(-numerator // s) if ceil_mode else numerator // s
    return rounded + 1


def window_starts(
    size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False
) -> list[int]:
    """Where each output window starts, in input coordinates (negative = in the left padding)."""
    out = pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
    k, s, p, d = _one_dim_params(kernel_size, stride, padding, dilation)
    return [i * s - p for i in range(out)]


def window_cells(
    size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False
) -> list[list[int]]:
    """The input positions each output window reads, one list per output position.

    Positions below 0 or at/above ``size`` lie in the padding (or, with ceil_mode, past it): max
    pooling treats them as -inf, average pooling as zeros (``count_include_pad`` decides whether
    they count in the divisor). Window ``i`` reads ``i*stride - padding + j*dilation``, j < kernel.
    With dilation a window can miss every real cell (e.g. size=2, kernel_size=2, padding=1,
    dilation=3 reads -1 and 2): ``MaxPool2d`` then returns ``-inf`` there.
    """
    k, s, p, d = _one_dim_params(kernel_size, stride, padding, dilation)
    starts = window_starts(size, kernel_size, stride, padding, dilation, ceil_mode)
    return [[start + j * d for j in range(k)] for start in starts]


# --------------------------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------------------------
def _explain_dim(name: str, n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> list[str]:
    mode = "ceil" if ceil_mode else "floor"
    numerator = n + 2 * p - d * (k - 1) - 1
    lines = [
        f"{name}_out = {mode}(({name} + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1",
        f"      = {mode}(({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}) + 1",
        f"      = {mode}({numerator} / {s}) + 1",
    ]
    rounded = -(-numerator // s) if ceil_mode else numerator // s
    note = ""
    if numerator < 0 and not ceil_mode and numerator % s:
        note = "   (floor rounds down: toward −∞, not toward 0)"
    elif numerator % s and ceil_mode:
        note = "   (ceil rounds up: a last, partial window is allowed)"
    elif numerator % s:
        note = "   (floor rounds down: the leftover cells are not pooled)"
    lines.append(f"      = {rounded} + 1 = {rounded + 1}{note}")
    out = rounded + 1
    if ceil_mode and out >= 1:
        start = (out - 1) * s - p
        if (out - 1) * s >= n + p:
            lines += [
                f"  ceil_mode rule: the last window, out[{out - 1}], would start at "
                f"(out − 1)·stride − padding = {out - 1}·{s} − {p} = {start},",
                f"  which is ≥ {name} = {n}: it would start after the last input cell (in the "
                f"right padding{' or past it' if p else ', here past the end'}), so PyTorch drops it",
                f"  ((out − 1)·stride = {(out - 1) * s} ≥ {name} + padding = {n + p}).",
                f"  {name}_out = {out} − 1 = {out - 1}",
            ]
            out -= 1
        else:
            lines.append(
                f"  ceil_mode rule: the last window starts at {out - 1}·{s} − {p} = {start} < "
                f"{name} = {n}, inside the input: it is kept."
            )
    lines.append(f"  → {name}_out = {out}")
    return lines


def explain(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False) -> str:
    """The output-size formula with the numbers substituted, step by step, as text.

    ``size`` is one int (one dimension) or an input shape ``(H, W)``, ``(C, H, W)`` or
    ``(N, C, H, W)`` (both dimensions, parameters as in ``nn.MaxPool2d``). Shows floor or ceil, the
    ceil_mode dropped-last-window rule when it fires, and, for a configuration PyTorch refuses,
    the rule it breaks instead of a size (it does not raise for those; it raises ``TypeError`` for
    non-integers).
    """
    ceil_mode = _check_bool(ceil_mode, "ceil_mode")
    if isinstance(size, Iterable):
        shape = tuple(_as_int(v, "input_shape") for v in size)
        header = [
            f"input {shape}, kernel_size={_show(kernel_size)}, stride={_show(stride)}, "
            f"padding={_show(padding)}, dilation={_show(dilation)}, ceil_mode={ceil_mode}"
        ]
        try:
            result = pool2d_output_shape(shape, kernel_size, stride, padding, dilation, ceil_mode)
            params = _two_dim_params(kernel_size, stride, padding, dilation)
        except ValueError as error:
            return "\n".join(header + [f"✗ PyTorch raises: {error}"])
        body = []
        for name, n, (k, s, p, d) in zip(("H", "W"), shape[-2:], params, strict=True):
            body += _explain_dim(name, n, k, s, p, d, ceil_mode)
        return "\n".join(header + body + [f"output shape {result}"])
    n = _as_int(size, "size")
    k, s, p, d = _one_dim_params(kernel_size, stride, padding, dilation)
    header = [
        f"n={n}, kernel_size={k}, stride={s}, padding={p}, dilation={d}, ceil_mode={ceil_mode}"
    ]
    try:
        pool_output_size(n, k, s, p, d, ceil_mode)
    except ValueError as error:
        return "\n".join(header + [f"✗ PyTorch raises: {error}"])
    return "\n".join(header + _explain_dim("n", n, k, s, p, d, ceil_mode))


def _show(value) -> str:
    if value is None:
        return "None (= kernel_size)"
    return repr(tuple(value)) if isinstance(value, (list, tuple)) else repr(value)


# --------------------------------------------------------------------------------------------
# Side by side with PyTorch
# --------------------------------------------------------------------------------------------
def pytorch_output_shape(layer: str, input_shape, **params) -> tuple[int, ...] | str:
    """Run ``nn.MaxPool2d`` (``layer="max"``) or ``nn.AvgPool2d`` (``"avg"``) on a zero tensor.

    Returns the output shape, or ``"ErrorType: message"`` when PyTorch raises. An ``(H, W)`` input
    is run as ``(1, H, W)`` and the channel removed again. Uses real CPU tensors: keep shapes small.
    """
    import torch
    from torch import nn

    shape = tuple(input_shape)
    squeeze = len(shape) == 2
    try:
        if layer == "max":
            module = nn.MaxPool2d(**params)
        elif layer == "avg":
            if params.get("dilation", 1) not in (1, (1, 1), [1, 1]):
                raise ValueError("nn.AvgPool2d has no dilation argument; use dilation=1.")
            module = nn.AvgPool2d(**{k: v for k, v in params.items() if k != "dilation"})
        else:
            raise ValueError(f"layer must be 'max' or 'avg', got {layer!r}.")
        x = torch.zeros((1, *shape) if squeeze else shape)
        with torch.no_grad():
            out = tuple(module(x).shape)
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        return f"{type(error).__name__}: {error}"
    return out[1:] if squeeze else out


@dataclass(frozen=True)
class _Config:
    input_shape: tuple
    kernel_size: object
    stride: object = None
    padding: object = 0
    dilation: object = 1
    ceil_mode: bool = False

    def params(self) -> dict:
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "ceil_mode": self.ceil_mode,
        }


def shape_table(configs: Iterable[dict]) -> ShapeTable:
    """Formula vs PyTorch, one row per configuration.

    Each config is a dict with ``input_shape``, ``kernel_size`` and optionally ``stride``,
    ``padding``, ``dilation``, ``ceil_mode``. Each row holds the parameters, ``formula`` (our
    :func:`pool2d_output_shape`, or ``"ValueError"``), ``max_pool2d`` and ``avg_pool2d`` (the shape
    PyTorch returns on a zero tensor, ``"raises"`` or, for avg with dilation, ``"n/a"``),
    ``textbook_ceil`` (the plain ceil formula's H×W, only where it differs from PyTorch), ``agree``
    (formula == PyTorch), and when PyTorch refuses: ``rule`` (the broken rule in a few words),
    ``error`` (our full message) and ``pytorch_error`` (PyTorch's own).
    """
    rows = []
    for raw in configs:
        config = _Config(**raw)
        params = config.params()
        try:
            formula: object = pool2d_output_shape(config.input_shape, **params)
            error = rule = ""
        except PoolingConfigError as exc:
            formula, error, rule = "ValueError", str(exc), exc.rule
        maxed = pytorch_output_shape("max", config.input_shape, **params)
        if _pair(config.dilation, "dilation") == (1, 1):
            avg = pytorch_output_shape("avg", config.input_shape, **{**params, "dilation": 1})
        else:
            avg = "n/a"
        textbook = ""
        if config.ceil_mode and isinstance(maxed, tuple):
            dims = _two_dim_params(
                config.kernel_size, config.stride, config.padding, config.dilation
            )
            sizes = [
                textbook_output_size(n, k, s, p, d, ceil_mode=True)
                for n, (k, s, p, d) in zip(config.input_shape[-2:], dims, strict=True)
            ]
            if tuple(sizes) != maxed[-2:]:
                textbook = f"{sizes[0]}×{sizes[1]}"
        agree = all(
            (isinstance(torch_shape, tuple) and formula == torch_shape)
            or (isinstance(torch_shape, str) and torch_shape != "n/a" and formula == "ValueError")
            for torch_shape in (maxed, avg)
            if torch_shape != "n/a"
        )
        rows.append(
            {
                "input_shape": config.input_shape,
                "kernel_size": config.kernel_size,
                "stride": config.stride,
                "padding": config.padding,
                "dilation": config.dilation,
                "ceil_mode": config.ceil_mode,
                "formula": formula,
                "max_pool2d": maxed if isinstance(maxed, tuple) else "raises",
                "avg_pool2d": avg if isinstance(avg, tuple) or avg == "n/a" else "raises",
                "textbook_ceil": textbook,
                "agree": agree,
                "rule": rule,
                "error": error,
                "pytorch_error": "" if isinstance(maxed, tuple) else maxed,
            }
        )
    return ShapeTable(rows)


_COLUMNS = (
    ("input_shape", "input"),
    ("kernel_size", "k"),
    ("stride", "s"),
    ("padding", "p"),
    ("dilation", "d"),
    ("ceil_mode", "ceil"),
    ("formula", "formula"),
    ("max_pool2d", "MaxPool2d"),
    ("avg_pool2d", "AvgPool2d"),
    ("textbook_ceil", "textbook ceil (H×W, where wrong)"),
    ("rule", "rule broken"),
    ("agree", "agree"),
)


def _cell(key: str, value) -> str:
    if key == "agree":
        return "✓" if value else "✗"
    if key == "stride" and value is None:
        return "None"
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


def table_markdown(rows: Iterable[dict]) -> str:
    """A Markdown table of :func:`shape_table` rows (display with ``IPython.display.Markdown``)."""
    lines = [
        "| " + " | ".join(title for _, title in _COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(k, row[k]) for k, _ in _COLUMNS) + " |")
    return "\n".join(lines)


def table_html(rows: Iterable[dict]) -> str:
    """An HTML table of :func:`shape_table` rows; rows where the textbook is wrong are highlighted."""
    import html

    head = "".join(f"<th>{html.escape(title)}</th>" for _, title in _COLUMNS)
    body = []
    for row in rows:
        style = ' style="background:#fff3cd"' if row["textbook_ceil"] else ""
        cells = ""
        for key, _ in _COLUMNS:
            tip = (
                f' title="{html.escape(row["error"])}"' if key == "formula" and row["error"] else ""
            )
            cells += f"<td{tip}>{html.escape(_cell(key, row[key]))}</td>"
        body.append(f"<tr{style}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class ShapeTable(list):
    """A list of row dicts that Jupyter shows as a table (HTML, or Markdown in plain front ends)."""

    def _repr_html_(self) -> str:
        return table_html(self)

    def _repr_markdown_(self) -> str:
        return table_markdown(self)


# --------------------------------------------------------------------------------------------
# The calculator behind the notebook's sliders
# --------------------------------------------------------------------------------------------
@dataclass
class CalculatorResult:
    """What the interactive calculator shows: our formula, PyTorch's answer, and a drawing."""

    explanation: str
    formula_shape: tuple | None  # None when the configuration is invalid
    pytorch_shape: tuple | None  # what nn.MaxPool2d returned on a zero tensor, None if it raised
    pytorch_error: str  # "" unless PyTorch raised
    figure: object  # matplotlib Figure with the windows along H and W, or None if invalid

    @property
    def agree(self) -> bool:
        return self.formula_shape == self.pytorch_shape


def calculator(
    height: int = 5,
    width: int = 5,
    kernel_size: int = 2,
    stride: int = 2,
    padding: int = 1,
    dilation: int = 1,
    ceil_mode: bool = True,
    draw: bool = True,
) -> CalculatorResult:
    """The plain, testable function behind the notebook's ipywidgets calculator (one channel).

    Runs ``nn.MaxPool2d`` on a zero tensor of shape ``(1, 1, height, width)``, explains the formula
    and, if ``draw``, returns a matplotlib figure of the windows along H and along W.
    """
    shape = (1, 1, height, width)
    params = {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "ceil_mode": ceil_mode,
    }
    try:
        formula: tuple | None = pool2d_output_shape(shape, **params)
    except ValueError:
        formula = None
    actual = pytorch_output_shape("max", shape, **params)
    figure = None
    if draw and formula is not None:
        from utils.shapes_drawing import draw_windows_2d_axes

        figure = draw_windows_2d_axes(
            height, width, kernel_size, stride, padding, dilation, ceil_mode
        )
    return CalculatorResult(
        explanation=explain(shape, **params),
        formula_shape=formula,
        pytorch_shape=actual if isinstance(actual, tuple) else None,
        pytorch_error="" if isinstance(actual, tuple) else actual,
        figure=figure,
    )
