"""Self-checks for the exercises of notebooks/06_under_the_hood.ipynb.

Every expected answer is computed by PyTorch when the check runs. A check never raises on a wrong or
malformed answer: it prints ✓ or ✗ with a hint (``utils.checks.report``) and returns True, False, or
None while the placeholder ``None`` is still there.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from utils.checks import report, unanswered

__all__ = ["TIE", "check_avg_fast", "check_dropout2d", "check_padding",
           "check_tie"]  # fmt: skip

#: Exercise 1: one 2×2 window whose maximum appears twice.
TIE = [[1.0, 3.0], [3.0, 2.0]]


class TorchCalls(TorchFunctionMode):
    """Record the torch functions called inside ``with TorchCalls() as calls:`` by name (``calls.names``)."""

    def __init__(self):
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


def _call(fn, args, where: str, banned: str, en: str, zh: str):
    """Run the student's ``fn(*args)``: ``(result, names of the torch functions called, failed)``;
    ``failed`` is None, or the ✗ (False) printed because it raised or called a function named
    like ``banned`` (``en``/``zh`` say why not)."""
    calls = TorchCalls()
    try:
        with calls:
            out = fn(*args)
    except Exception as err:  # noqa: BLE001 - a student's code may raise anything
        error = f"{type(err).__name__}: {err}"
        return None, calls.names, report(False, en=f"{where}: your function raised {error}",
                                         zh=f"{where}：你的函数报错了：{error}")
    banned_call = any(banned in name for name in calls.names)
    return out, calls.names, report(False, en=en, zh=zh) if banned_call else None


def _grid(answer, shape):
    """A nested list -> float tensor of ``shape``, or None if it is not one."""
    try:
        t = torch.tensor(answer, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return None
    return t if tuple(t.shape) == shape else None


def check_tie(answer):
    """Exercise 1: the gradient ``F.max_pool2d`` sends into ``TIE`` (first maximum wins)."""
    if unanswered(answer):
        return report(None)
    leaf = torch.tensor(TIE).reshape(1, 1, 2, 2).requires_grad_()
    F.max_pool2d(leaf, 2).sum().backward()
    expected = leaf.grad[0, 0].double()
    got = _grid(answer, (2, 2))
    if got is None:
        return report(False, en="Give a 2×2 list of numbers, like [[0, 0], [0, 0]].",
                      zh="请给出 2×2 的数字列表，例如 [[0, 0], [0, 0]]。")  # fmt: skip
    if torch.equal(got, expected):
        return report(True, en=f"{expected.tolist()}: the FIRST maximum in row order gets all of it. "
                               "Our loop's window.max() splits it evenly between the tied cells.",
                      zh=f"{expected.tolist()}：按行优先顺序的第一个最大值得到全部梯度；我们循环里的 "
                         "window.max() 则把梯度平分给并列的格子。")  # fmt: skip
    if got.sum() != 1:
        return report(False, en="One window, one output: the gradients in the window add up to 1.",
                      zh="一个窗口、一个输出：窗口内的梯度之和为 1。")  # fmt: skip
    return report(False, en="Only the maximum receives gradient, and with a tie PyTorch picks one "
                            "cell: the first it visits, row by row.",
                  zh="只有最大值得到梯度；出现并列时 PyTorch 只选一个格子：按行扫描时遇到的第一个。")


def check_padding(with_padding, without_padding):
    """Exercise 2: ``F.avg_pool2d(ones(1, 1, 3, 3), 2, 2, padding=1, count_include_pad=...)``."""
    if unanswered(with_padding) or unanswered(without_padding):
        return report(None)
    ones = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    for include, answer in ((True, with_padding), (False, without_padding)):
        expected = F.avg_pool2d(ones, 2, stride=2, padding=1, count_include_pad=include)[0, 0]
        got = _grid(answer, tuple(expected.shape))
        if got is None:
            return report(False, en="Each answer is a 2×2 list: (3 + 2·1 − 2) // 2 + 1 = 2 per side.",
                          zh="每个答案都是 2×2 的列表：每边 (3 + 2·1 − 2) // 2 + 1 = 2。")  # fmt: skip
        if not torch.allclose(got, expected):
            if include:
                return report(False, en="count_include_pad=True: padding cells are zeros that COUNT; "
                                        "every window divides by 2·2 = 4. How many real cells does "
                                        "the top-left window cover?",
                              zh="count_include_pad=True：填充格是计入除数的 0，每个窗口都除以 4。"
                                 "左上角窗口覆盖了几个真实格子？")  # fmt: skip
            return report(False, en="count_include_pad=False divides by the real cells only: an "
                                    "average of ones is then 1 in every window.",
                          zh="count_include_pad=False 只除以真实格子的个数：全 1 的平均处处为 1。")
    return report(True, en="With padding counted the corner window averages 1 real cell over 4; "
                           "without, every window averages ones: 1.",
                  zh="计入填充时，角上的窗口是 1 个真实格子除以 4；不计入时每个窗口都是 1。")


def check_dropout2d(fn):
    """Exercise 3: ``fn(X, p)`` drops whole (n, c) planes with probability p, scales the rest."""
    if unanswered(fn):
        return report(None)
    if not callable(fn):
        return report(False, en="Pass the function itself: my_dropout2d.", zh="请传入函数本身：my_dropout2d。")
    X = torch.rand(50, 40, 2, 3, generator=torch.Generator().manual_seed(0)) + 0.5  # no zeros
    before = X.clone()
    for p in (0.0, 0.3, 0.8, 1.0):
        where = f"p={p}"
        out, _, failed = _call(fn, (X, p), where, "dropout",
                               en="Draw the mask yourself (torch.rand), no PyTorch dropout function.",
                               zh="请自己用 torch.rand 生成掩码，不要调用 PyTorch 的 dropout 函数。")
        if failed is not None:
            return failed
        if not torch.equal(X, before):
            return report(False, en="Your function changed its input; return a new tensor.",
                          zh="函数修改了输入；请返回一个新张量。")  # fmt: skip
        if not isinstance(out, torch.Tensor) or out.shape != X.shape or out.isnan().any():
            return report(False, en=f"{where}: return a tensor of shape {tuple(X.shape)} without "
                                    "NaN (at p=1 there is nothing to divide).",
                          zh=f"{where}：返回形状为 {tuple(X.shape)} 且不含 NaN 的张量（p=1 时不要做除法）。")
        dropped = (out == 0).all(dim=(2, 3))
        kept_ok = torch.isclose(out, X / (1 - p) if p < 1 else X).all(dim=(2, 3))
        if not (dropped | kept_ok).all():
            return report(False, en=f"{where}: each plane must be all zeros or X / (1 − p) as a "
                                    "whole: one draw per (n, c), e.g. torch.rand(N, C, 1, 1).",
                          zh=f"{where}：每个平面要么全为 0，要么整体等于 X / (1 − p)：每个 (n, c) 只抽一次，"
                             "例如 torch.rand(N, C, 1, 1)。")  # fmt: skip
        fraction, sigma = dropped.double().mean().item(), math.sqrt(p * (1 - p) / dropped.numel())
        if abs(fraction - p) > 5 * sigma + 1e-9:
            return report(False, en=f"{where}: you dropped {fraction:.0%} of the planes; p is the "
                                    "probability to DROP one.",
                          zh=f"{where}：你丢弃了 {fraction:.0%} 的平面；p 是丢弃一个平面的概率，不是保留的概率。")  # fmt: skip
    return report(True, en="Whole planes dropped with probability p, the rest scaled, p=0 and p=1 "
                           "included.", zh="整个平面以概率 p 被丢弃，其余平面被放大；p=0 和 p=1 时也正确。")


AVG_CASES = [((1, 1, 5, 5), 3, 2, 1), ((2, 3, 6, 7), 2, 1, 1), ((1, 2, 8, 8), 3, 3, 0),
             ((1, 1, 4, 9), 2, 2, 1), ((2, 1, 7, 5), 3, 1, 1)]  # fmt: skip


def check_avg_fast(fn):
    """Exercise 4: ``fn(X, k, s, p)`` equals ``F.avg_pool2d(X, k, s, p, count_include_pad=False)``,
    vectorised (a bounded number of torch calls) and without a pooling function."""
    if unanswered(fn):
        return report(None)
    if not callable(fn):
        return report(False, en="Pass the function itself: avg_pool_fast.", zh="请传入函数本身：avg_pool_fast。")
    g = torch.Generator().manual_seed(0)
    for shape, k, s, p in AVG_CASES:
        X = torch.rand(shape, generator=g)
        expected = F.avg_pool2d(X, k, s, p, count_include_pad=False)
        where = f"shape {shape}, k={k}, s={s}, p={p}"
        out, names, failed = _call(fn, (X, k, s, p), where, "pool", en="No pooling function: unfold, "
                                   "then a reduction.", zh="不要调用池化函数：先 unfold，再做归约。")
        if failed is not None:
            return failed
        if len(names) > 40:
            return report(False, en=f"{where}: {len(names)} torch calls; without a loop over windows "
                                    "a dozen is enough.",
                          zh=f"{where}：调用了 {len(names)} 次 torch 函数；不遍历窗口的话，十几次就够了。")
        if not isinstance(out, torch.Tensor) or out.shape != expected.shape:
            return report(False, en=f"{where}: expected shape {tuple(expected.shape)}.",
                          zh=f"{where}：期望形状 {tuple(expected.shape)}。")  # fmt: skip
        if not torch.allclose(out, expected, atol=1e-6):
            with_pad = F.avg_pool2d(X, k, s, p, count_include_pad=True)
            counted = torch.allclose(out, with_pad, atol=1e-6)
            hint = ("that is count_include_pad=True: divide by the real cells, the window sums of a "
                    "padded tensor of ones" if counted else "values differ from PyTorch")  # fmt: skip
            zh_hint = ("这是 count_include_pad=True 的结果。应该只除以真实格子的个数，也就是填充后的全 1 张量的窗口和"
                       if counted else "数值与 PyTorch 不一致")  # fmt: skip
            return report(False, en=f"{where}: {hint}.", zh=f"{where}：{zh_hint}。")
    return report(True, en=f"Equal to F.avg_pool2d(..., count_include_pad=False) on {len(AVG_CASES)} "
                           "shapes, with and without padding.",
                  zh="在多种形状、有无填充的情况下都与 F.avg_pool2d(..., count_include_pad=False) 一致。")
