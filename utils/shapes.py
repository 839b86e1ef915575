"""Output shapes of 2-D pooling exactly as PyTorch computes them, explained, side by side with PyTorch.

The rule per dimension is written once, in :mod:`utils.pooling`. PyTorch refuses: kernel, stride or
dilation ``≤ 0``; padding ``< 0`` or ``> k // 2`` (dilation does not relax this); an output size
below 1; an input that is not 3-D ``(C, H, W)`` or 4-D ``(N, C, H, W)``; ``C``, ``H`` or ``W``
equal to 0 (only ``N`` may be 0); non-integer sizes. There this module raises
:class:`PoolingConfigError` (a ``ValueError``) or :class:`PoolingTypeError` (a ``TypeError``) naming
the rule; every message ends with ``Fix: name=value, ...``, a change PyTorch accepts for the same
input (also in ``.fix``), unless none can (an empty C, H or W). tests/test_shapes.py checks them all.
"""

from __future__ import annotations

import html
import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass, replace

import torch
from torch import nn

from utils.environment import label
from utils.pooling import is_valid, last_window_dropped, output_size, pair, textbook_output_size

_NAMES = ("kernel_size", "stride", "padding", "dilation")


class _Fixable:
    def __init__(self, message: str, rule: str = "", fix: dict | None = None):
        super().__init__(message)
        self.rule, self.fix = rule, dict(fix or {})


class PoolingConfigError(_Fixable, ValueError, RuntimeError):
    """A value PyTorch refuses: ``rule`` in a few words, ``fix`` the arguments that make the call valid
    (``{}`` if none can). Also the ``RuntimeError`` PyTorch raises, like the twins in utils.scratch."""


class PoolingTypeError(_Fixable, TypeError):
    """An argument of a type PyTorch refuses; ``rule`` and ``fix`` as in :class:`PoolingConfigError`."""


def _guess(value, ndim: int) -> tuple[int, ...]:
    """The ints someone probably meant: ``2.0`` -> 2, ``"3"`` -> 3, ``(3, 3, 3)`` -> (3, 3)."""
    items = list(value)[-2:] if isinstance(value, (tuple, list)) and len(value) else [value]
    ints = []
    for v in items:
        try:
            ints.append(int(round(float(v))))
        except (TypeError, ValueError, OverflowError):
            ints.append(2)
    return (ints[0],) * ndim if ndim == 1 else (ints[0], ints[-1])


def _read(value, name: str, ndim: int) -> tuple[int, ...]:
    if ndim == 2:
        return pair(value, name)
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    return (operator.index(value),)


def _show(values: tuple, given) -> object:
    """How to write a fixed value: an int when it can be one, else a (height, width) tuple."""
    same = len(set(values)) == 1 and not isinstance(given, (tuple, list))
    return values[0] if len(values) == 1 or same else values


def _problem(sizes, v: dict):
    """The first rule PyTorch refuses for these sizes and values: (rule, message, name, new value)."""
    ceil = v["ceil_mode"]
    for i, n in enumerate(sizes):
        k, p, d = v["kernel_size"][i], v["padding"][i], v["dilation"][i]
        s = k if v["stride"] is None else v["stride"][i]
        where = f" (for {'HW'[i] if len(sizes) == 2 else 'the size'} = {n})"

        def change(name, value, i=i):
            old = list(v[name] if v[name] is not None else v["kernel_size"])
            old[i] = value
            return name, tuple(old)

        half = (f"padding must be at most half the kernel, kernel_size // 2{where}: padding={p} "
                f"with kernel_size={k} (limit {k // 2}). Padding is per side; dilation (here {d}) "
                "does not raise the limit.")
        rules = [  # PyTorch's order: (broken?, rule, message, the argument to change)
            (k <= 0, "kernel_size > 0", f"kernel_size must be > 0{where}, got {k}.", "kernel_size"),
            (s <= 0, "stride > 0", f"stride must be > 0{where}, got {s}.", "stride"),
            (d <= 0, "dilation > 0", f"dilation must be > 0{where}, got {d}.", "dilation"),
            (p < 0, "padding ≥ 0", f"padding must be >= 0{where}, got {p}: PyTorch pads, it never crops.", "padding"),
            (p > k // 2, "padding ≤ kernel_size // 2", half, "padding"),
        ]
        fixed = dict(kernel_size=max(1, 2 * p), stride=k, dilation=1, padding=max(0, min(p, k // 2)))
        for broken, rule, message, name in rules:
            if broken:
                return rule, message, *change(name, fixed[name])
        out = output_size(n, k, s, p, d, ceil)
        if out >= 1:
            continue
        span, mode, rule = d * (k - 1) + 1, "ceil" if ceil else "floor", "output size ≥ 1"
        message = (f"output size must be at least 1{where}, but {mode}((n + 2·padding − dilation·"
                   f"(kernel_size − 1) − 1) / stride) + 1 = {mode}(({n} + 2·{p} − {d}·({k} − 1) − 1) / "
                   f"{s}) + 1 = {out}: the window spans {span} cells but the padded input has only {n + 2 * p}.")
        if is_valid(n, k, s, k // 2, d, ceil):
            return rule, message, *change("padding", k // 2)
        if not ceil and is_valid(n, k, s, p, d, True):
            return rule, message, "ceil_mode", True
        if d > 1:
            return rule, message, *change("dilation", 1)
        smaller = max(j for j in range(1, k + 1) if is_valid(n, j, s, min(p, j // 2), 1, ceil))
        return rule, message, *change("kernel_size", smaller)
    return None


def _check(sizes, kernel_size, stride, padding, dilation, ceil_mode, fixes=None):
    """``(k, s, p, d, ceil_mode)`` per spatial size, checked like PyTorch. Raises with the first
    broken rule and a fix that repairs every rule (``fixes``: changes needed already, e.g. to the shape)."""
    ndim, fixes = len(sizes), dict(fixes or {})
    given = dict(zip(_NAMES, (kernel_size, stride, padding, dilation), strict=True))
    values, first = {}, None
    for name, value in given.items():
        if name == "stride" and (value is None or (isinstance(value, (tuple, list)) and not value)):
            values[name] = None
            continue
        try:
            values[name] = _read(value, name, ndim)
        except (TypeError, ValueError) as err:
            cls = PoolingConfigError if isinstance(err, ValueError) else PoolingTypeError
            first = first or (cls, "an int or a pair of ints", f"{err} PyTorch refuses it too.")
            values[name] = _guess(value, ndim)
            fixes[name] = _show(values[name], value)
    values["ceil_mode"] = ceil_mode
    if type(ceil_mode).__name__ not in ("bool", "bool_"):  # numpy's bool is fine too
        message = f"ceil_mode must be True or False, got {ceil_mode!r}."
        first = first or (PoolingTypeError, "ceil_mode is a bool", message)
        values["ceil_mode"] = fixes["ceil_mode"] = bool(ceil_mode)
    while problem := _problem(sizes, values):  # each fix repairs one rule: a few rounds at most
        rule, message, name, new = problem
        first = first or (PoolingConfigError, rule, message)
        values[name] = new
        fixes[name] = new if name == "ceil_mode" else _show(new, given[name])
    if first:
        cls, rule, message = first
        fix_text = ", ".join(f"{name}={value!r}" for name, value in fixes.items())
        raise cls(f"{message} Fix: {fix_text}." if fixes else message, rule, fixes)
    s = values["stride"] or values["kernel_size"]
    return [(k, s[i], values["padding"][i], values["dilation"][i], values["ceil_mode"])
            for i, k in enumerate(values["kernel_size"])]  # (k, s, p, d, ceil_mode) per dimension


def pool_output_size(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Output size of one dimension of ``nn.MaxPool2d`` / ``nn.AvgPool2d`` (use dilation=1 for avg).

    Padding is per side; ``stride=None`` means ``stride = kernel_size``. Raises where PyTorch refuses.

    >>> pool_output_size(5, 2, stride=2, padding=1, ceil_mode=True)  # ceil_mode drops a window
    3
    """
    (n,) = _read(size, "size", 1)
    if n <= 0:
        message = f"size must be at least 1, got {size}: PyTorch refuses an empty H or W."
        raise PoolingConfigError(message, "size ≥ 1")
    return output_size(n, *_check((n,), kernel_size, stride, padding, dilation, ceil_mode)[0])


def _read_shape(input_shape) -> tuple[tuple[int, ...], dict]:
    """The shape as ints, and the input_shape fix PyTorch needs (``{}`` if none); raises if no fix."""
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Iterable):
        raise PoolingTypeError(f"input_shape must be a tuple like x.shape, got {input_shape!r}.")
    try:
        shape = tuple(_read(v, "input_shape", 1)[0] for v in input_shape)
    except TypeError as err:
        raise PoolingTypeError(f"{err} input_shape holds ints, e.g. x.shape.", "ints") from None
    for i, value in enumerate(shape):
        name = "CHW"[i - len(shape)] if i >= len(shape) - 3 else "N"
        if value < (0 if name == "N" else 1):
            raise PoolingConfigError(f"{name} must be at least {int(name != 'N')}, got input_shape="
                                     f"{shape}: PyTorch allows an empty batch (N = 0) but no empty "
                                     "C, H or W.", "C, H, W ≥ 1")
    if len(shape) in (3, 4):
        return shape, {}
    # add channel/batch dimensions of 1, or fold the extra leading dimensions into N
    fixed = (1,) * (3 - len(shape)) + shape if len(shape) < 3 else (math.prod(shape[:-3]), *shape[-3:])
    message = (f"input_shape must be 3-D (C, H, W) or 4-D (N, C, H, W): got {shape}, a "
               f"{len(shape)}-D shape (x.reshape{fixed} gives a shape PyTorch accepts).")
    return fixed, {"input_shape": fixed, "_message": message}


def pool2d_output_shape(input_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The shape ``nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode=...)`` returns.

    ``input_shape`` is ``(C, H, W)`` or ``(N, C, H, W)``; parameters are an int or a ``(height, width)``
    pair; for ``nn.AvgPool2d`` use ``dilation=1``. Raises like :func:`pool_output_size`.

    >>> pool2d_output_shape((1, 3, 32, 32), 3, stride=2, padding=1)
    (1, 3, 16, 16)
    """
    shape, fixes = _read_shape(input_shape)
    message = fixes.pop("_message", None)
    dims = _check(shape[-2:], kernel_size, stride, padding, dilation, ceil_mode, fixes)
    if message:
        raise PoolingConfigError(f"{message} Fix: input_shape={shape}.", "3-D or 4-D input", fixes)
    return shape[:-2] + tuple(output_size(n, *dim) for n, dim in zip(shape[-2:], dims, strict=True))


def _explain_dim(name: str, n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> list[str]:
    mode, numerator = "ceil" if ceil_mode else "floor", n + 2 * p - d * (k - 1) - 1
    out = textbook_output_size(n, k, s, p, d, ceil_mode)
    note = ("" if numerator % s == 0 else "   " + label("(ceil rounds up: a last, partial window is allowed)")
            if ceil_mode else "   " + label("(floor rounds down: toward −∞, not toward 0)") if numerator < 0
            else "   " + label("(floor rounds down: the leftover cells are not pooled)"))
    lines = [
        f"{name}_out = {mode}(({name} + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1",
        f"      = {mode}(({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}) + 1",
        f"      = {mode}({numerator} / {s}) + 1",
        f"      = {out - 1} + 1 = {out}{note}",
    ]
    start = (out - 1) * s - p
    if last_window_dropped(n, k, s, p, d, ceil_mode):
        lines += ["  " + label("ceil_mode rule: the last window, out[{last}], would start at (out − 1)·stride − "
                               "padding = {last}·{s} − {p} = {start} ≥ {name} = {n},", last=out - 1, s=s, p=p,
                               start=start, name=name, n=n),
                  "  " + label("after the last input cell (in the right padding or past it), so PyTorch drops "
                               "it: {name}_out = {out} − 1 = {last}", name=name, out=out, last=out - 1)]
        out -= 1
    elif ceil_mode:
        lines.append("  " + label("ceil_mode rule: the last window starts at {last}·{s} − {p} = {start} < "
                                  "{name} = {n}, inside the input: it is kept.", last=out - 1, s=s, p=p,
                                  start=start, name=name, n=n))
    return lines + [f"  → {name}_out = {out}"]


def explain(size, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False) -> str:
    """The output-size formula with the numbers substituted, step by step, as text; ``size`` is one int
    or an input shape ``(C, H, W)`` / ``(N, C, H, W)``. Shows floor or ceil and ceil_mode's dropped
    last window; where PyTorch refuses, the broken rule and the fix instead of raising."""
    params = (kernel_size, stride, padding, dilation, ceil_mode)
    shown = ", ".join(f"{n}={v!r}" for n, v in zip((*_NAMES, "ceil_mode"), params, strict=True))
    two_d = isinstance(size, Iterable)
    header = label("input {size}, {shown}", size=tuple(size) if two_d else size, shown=shown)
    try:
        result = (pool2d_output_shape if two_d else pool_output_size)(size, *params)
    except (PoolingConfigError, PoolingTypeError) as error:
        return f"{header}\n✗ {label('PyTorch raises:')} {error}"
    sizes, names = (tuple(size)[-2:], "HW") if two_d else ((size,), ("n",))
    body = [line for name, n, dim in zip(names, sizes, _check(sizes, *params), strict=True)
            for line in _explain_dim(name, n, *dim)]
    return "\n".join([header, *body, *([label("output shape {result}", result=result)] if two_d else [])])


def pytorch_output_shape(layer: str, input_shape, **params) -> tuple[int, ...] | str:
    """The shape ``nn.MaxPool2d`` (``layer="max"``) or ``nn.AvgPool2d`` (``"avg"``) returns for a zero
    tensor (keep it small), or ``"ErrorType: message"`` when PyTorch raises."""
    try:
        if layer == "avg" and params.pop("dilation", 1) not in (1, (1, 1), [1, 1]):
            raise ValueError("nn.AvgPool2d has no dilation argument; use dilation=1.")
        module = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[layer](**params)
        with torch.no_grad():
            return tuple(module(torch.zeros(tuple(input_shape))).shape)
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class ShapeRow:
    """One configuration, our formula and PyTorch side by side (a row of :func:`shape_table`)."""

    input_shape: tuple
    kernel_size: object
    stride: object = None
    padding: object = 0
    dilation: object = 1
    ceil_mode: bool = False
    formula: tuple | None = None  # pool2d_output_shape, None when it raises
    max_pool2d: tuple | None = None  # what nn.MaxPool2d returns, None when it raises
    avg_pool2d: tuple | None = None  # nn.AvgPool2d (dilation 1 only), None when it raises / n/a
    textbook_ceil: tuple | None = None  # the plain ceil formula's (H, W), only where it is wrong
    rule: str = ""  # the rule PyTorch's refusal breaks
    error: str = ""  # our message, with its fix
    pytorch_error: str = ""  # nn.MaxPool2d's own message

    def __getitem__(self, key: str):  # row["formula"] reads like row.formula
        return getattr(self, key)

    @property
    def agree(self) -> bool:
        """Our formula gives PyTorch's shape, or refuses where PyTorch refuses."""
        return self.formula == self.max_pool2d and (
            self.avg_pool2d in (None, self.formula) or self.dilation not in (1, (1, 1)))

    def cell(self, key: str) -> str:  # the text of one column of the table
        value = getattr(self, key)
        if key == "agree":
            return "✓" if value else "✗"
        if value is None and key in ("formula", "max_pool2d", "avg_pool2d"):
            return "n/a" if key == "avg_pool2d" and self.dilation not in (1, (1, 1)) else "raises"
        return "" if value is None else str(value)


_COLUMNS = {"input_shape": "input", "kernel_size": "k", "stride": "s", "padding": "p",
            "dilation": "d", "ceil_mode": "ceil", "formula": "formula", "max_pool2d": "MaxPool2d",
            "avg_pool2d": "AvgPool2d", "textbook_ceil": "textbook ceil (where wrong)",
            "rule": "rule broken", "agree": "agree"}


class ShapeTable(list):
    """The rows of :func:`shape_table`; Jupyter shows them as a table (HTML or Markdown)."""

    def _repr_markdown_(self) -> str:
        rows = [_COLUMNS.values(), ["---"] * len(_COLUMNS)]
        rows += [[r.cell(k) for k in _COLUMNS] for r in self]
        return "\n".join("| " + " | ".join(row) + " |" for row in rows)

    def _repr_html_(self) -> str:  # hover over a row: our message, with its fix
        head = "".join(f"<th>{html.escape(t)}</th>" for t in _COLUMNS.values())
        body = "".join(f"<tr title='{html.escape(r.error)}'>" + "".join(
            f"<td>{html.escape(r.cell(k))}</td>" for k in _COLUMNS) + "</tr>" for r in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def shape_table(configs: Iterable[dict]) -> ShapeTable:
    """Our formula next to what ``nn.MaxPool2d`` and ``nn.AvgPool2d`` return: one :class:`ShapeRow` per
    config (a dict of ``input_shape`` and ``nn.MaxPool2d``'s arguments), displayed as a table."""
    rows = ShapeTable()
    for config in configs:
        row = ShapeRow(**config)
        params = {name: getattr(row, name) for name in (*_NAMES, "ceil_mode")}
        try:
            formula, rule, error = pool2d_output_shape(row.input_shape, **params), "", ""
        except (PoolingConfigError, PoolingTypeError) as exc:
            formula, rule, error = None, exc.rule, str(exc)
        maxed, avg = (pytorch_output_shape(layer, row.input_shape, **params) for layer in ("max", "avg"))
        textbook = None
        if row.ceil_mode and formula:
            sizes = tuple(row.input_shape)[-2:]
            plain = tuple(textbook_output_size(n, *dim)
                          for n, dim in zip(sizes, _check(sizes, *params.values()), strict=True))
            textbook = plain if plain != formula[-2:] else None
        ran = isinstance(maxed, tuple)
        rows.append(replace(row, formula=formula, rule=rule, error=error, textbook_ceil=textbook,
                            max_pool2d=maxed if ran else None, pytorch_error="" if ran else maxed,
                            avg_pool2d=avg if isinstance(avg, tuple) else None))
    return rows
