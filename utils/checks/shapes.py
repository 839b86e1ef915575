"""Self-checks for the exercises of notebooks/03_output_shapes.ipynb.

Each ``check_*`` takes the student's answer, prints ✓/✗ with a hint (``utils.checks.report``) and
returns True, False, or None when the placeholder is still there. Expected answers come from PyTorch
(the size of a real pooling output, or whether PyTorch raises) when the check runs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from utils.checks import report, unanswered

#: Exercise 1 (floor mode).
BY_HAND = {"size": 20, "kernel_size": 4, "stride": 2, "padding": 2, "dilation": 2}
#: Exercise 2 (ceil_mode=True: careful with the last window).
CEIL = {"size": 6, "kernel_size": 4, "stride": 4, "padding": 2}
#: Exercise 3: one nn.MaxPool2d(3, stride, padding) that halves both sizes.
DESIGN = {"kernel_size": 3, "sizes": {28: 14, 32: 16}}
#: Exercise 4: label -> (input shape, layer, parameters). Which of them does PyTorch refuse?
WHICH_RAISE = {
    "A": ((1, 1, 5, 5), "MaxPool2d", {"kernel_size": 3, "padding": 2}),
    "B": ((1, 1, 5, 5), "MaxPool2d", {"kernel_size": 6, "ceil_mode": True}),
    "C": ((1, 1, 2, 2), "AvgPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    "D": ((5, 5), "MaxPool2d", {"kernel_size": 2}),
    "E": ((0, 3, 6, 6), "AvgPool2d", {"kernel_size": 2}),
    "F": ((1, 1, 9, 9), "MaxPool2d", {"kernel_size": 3, "padding": 2, "dilation": 2}),
}


def _size(n: int, ceil_mode: bool = False, **params) -> int | None:
    """The output width PyTorch gives on a 1×n input (kernel and friends along W only), or None."""
    pairs = {k: (1 if k != "padding" else 0, v) for k, v in params.items()}
    try:
        return F.max_pool2d(torch.zeros(1, 1, n), ceil_mode=ceil_mode, **pairs).shape[-1]
    except RuntimeError:
        return None


def _raises(shape, layer: str, params: dict) -> bool:
    try:
        getattr(torch.nn, layer)(**params)(torch.zeros(shape))
    except (RuntimeError, ValueError):
        return True
    return False


def _int(answer) -> int | None:
    if isinstance(answer, bool):
        return None
    try:
        value = int(answer)
    except (TypeError, ValueError):
        return None
    return value if value == answer else None


def check_by_hand(answer) -> bool | None:
    """Exercise 1: the floor-mode output size."""
    if unanswered(answer):
        return report(None)
    p = BY_HAND
    want = _size(p["size"], kernel_size=p["kernel_size"], stride=p["stride"], padding=p["padding"],
                 dilation=p["dilation"])
    got = _int(answer)
    if got == want:
        return report(True, en=f"(20 + 4 − 2·3 − 1) // 2 + 1 = {want}.",
                      zh=f"(20 + 4 − 2·3 − 1) // 2 + 1 = {want}。")
    if got == (p["size"] + 2 * p["padding"] - p["kernel_size"]) // p["stride"] + 1:
        return report(False, en="Dilation 2 spreads the window: it spans d·(k−1)+1 = 7 cells, not 4.",
                      zh="空洞 dilation=2 把窗口撑开了：它跨越 d·(k−1)+1 = 7 格，而不是 4 格。")
    return report(False, en="Substitute into (n + 2p − d(k−1) − 1) // s + 1; padding is per side.",
                  zh="代入 (n + 2p − d(k−1) − 1) // s + 1；注意填充在两侧各加一次。")


def check_ceil(answer) -> bool | None:
    """Exercise 2: the ceil-mode output size (with the drop rule)."""
    if unanswered(answer):
        return report(None)
    p = CEIL
    want = _size(p["size"], ceil_mode=True, kernel_size=p["kernel_size"], stride=p["stride"],
                 padding=p["padding"])
    got = _int(answer)
    if got == want:
        return report(True, en="Ceil gives 3, but the third window would start at 8 − 2 = 6, in the "
                      "right padding: dropped.", zh="向上取整得 3，但第三个窗口会从 8 − 2 = 6 开始，落在右侧填充中，所以被丢弃。")
    if got == want + 1:
        return report(False, en="That is the plain ceil formula. Where would the last window start? "
                      "Check (out − 1)·s ≥ n + p.", zh="这是单纯向上取整的结果。最后一个窗口从哪里开始？检查 (out − 1)·s ≥ n + p。")
    return report(False, en="Round the division up, then apply the drop rule.",
                  zh="先把除法向上取整，再应用丢弃规则。")


def check_design(stride, padding) -> bool | None:
    """Exercise 3: stride and padding for nn.MaxPool2d(3, stride, padding): 28→14 and 32→16."""
    if unanswered(stride) or unanswered(padding):
        return report(None)
    s, p = _int(stride), _int(padding)
    if s is None or p is None:
        return report(False, en="stride and padding are ints.", zh="stride 和 padding 都应该是整数。")
    k = DESIGN["kernel_size"]
    got = {n: _size(n, kernel_size=k, stride=s, padding=p) for n in DESIGN["sizes"]}
    if got == DESIGN["sizes"]:
        return report(True, en="stride 2 halves, and padding 1 gives back the cell a 3-wide window "
                      "loses at the end.", zh="步幅 2 让尺寸减半，填充 1 补上了宽为 3 的窗口在末尾缺的那一格。")
    if None in got.values():
        return report(False, en=f"PyTorch refuses stride={s}, padding={p} (padding ≤ kernel_size // 2 = 1).",
                      zh=f"PyTorch 不接受 stride={s}, padding={p}（padding ≤ kernel_size // 2 = 1）。")
    shown = ", ".join(f"{n} → {o}" for n, o in got.items())
    return report(False, en=f"Your layer gives {shown}; you need 28 → 14 and 32 → 16.",
                  zh=f"你的层给出的是 {shown.replace(', ', '，')}；要求是 28 → 14 和 32 → 16。")


def check_which_raise(answer) -> bool | None:
    """Exercise 4: the set of labels in WHICH_RAISE that PyTorch refuses."""
    if unanswered(answer):
        return report(None)
    want = {label for label, (shape, layer, params) in WHICH_RAISE.items() if _raises(shape, layer, params)}
    try:
        got = {str(a).strip().upper() for a in answer} if not isinstance(answer, str) else None
    except TypeError:
        got = None
    if got is None or not got <= set(WHICH_RAISE):
        return report(False, en='Give a set of labels, e.g. {"A", "B"}.', zh='请给出标签集合，例如 {"A", "B"}。')
    if got == want:
        return report(True, en=f"{sorted(want)} raise; the others only look wrong.",
                      zh=f"{sorted(want)} 会报错；其余的只是看起来不对。")
    missed, extra = sorted(want - got), sorted(got - want)
    return report(False, en=f"Look again at {missed + extra}: run each one in a try/except if unsure.",
                  zh=f"再看看 {missed + extra}：不确定就用 try/except 逐个运行。")
