"""Self-checks for the exercises of notebooks/03_output_shapes.ipynb.

Each ``check_*`` function takes the student's answer, prints what is right or what is wrong with a
hint, and returns ``True`` (right), ``False`` (wrong) or ``None`` (not answered: ``answer = None``).
It never raises on a wrong or malformed answer, so the lesson runs headless with its placeholders.
The expected answers are computed by PyTorch (``nn.MaxPool2d`` on a zero tensor) when the check
runs, never typed in here.
"""

from __future__ import annotations

import torch
from torch import nn

from utils.shapes import pool2d_output_shape, textbook_output_size

__all__ = [
    "EXERCISE_BY_HAND",
    "EXERCISE_CEIL",
    "EXERCISE_PADDING",
    "EXERCISE_DESIGN",
    "EXERCISE_WHICH_RAISE",
    "check_by_hand",
    "check_ceil",
    "check_padding_limit",
    "check_design",
    "check_which_raise",
]

#: Exercise 1: the output height, by hand, for this one dimension (floor mode).
EXERCISE_BY_HAND = {"size": 20, "kernel_size": 4, "stride": 2, "padding": 2, "dilation": 2}

#: Exercise 2: the output size with ceil_mode=True (the dropped-last-window rule fires here).
EXERCISE_CEIL = {"size": 6, "kernel_size": 4, "stride": 4, "padding": 2}

#: Exercise 3: every padding that MaxPool2d accepts with this kernel and dilation.
EXERCISE_PADDING = {"kernel_size": 5, "dilation": 2}

#: Exercise 4: choose stride and padding so that MaxPool2d(kernel_size=3, ...) maps input to target.
EXERCISE_DESIGN = {"input_shape": (1, 3, 28, 28), "kernel_size": 3, "target": (1, 3, 14, 14)}

#: Exercise 5: which of these raise? (label: (input shape, layer, keyword arguments)).
EXERCISE_WHICH_RAISE = {
    "A": ((1, 1, 6, 6), "MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    "B": ((1, 1, 6, 6), "MaxPool2d", {"kernel_size": 3, "padding": 2}),
    "C": ((1, 1, 6, 6), "MaxPool2d", {"kernel_size": 3, "padding": 2, "dilation": 2}),
    "D": ((1, 1, 6, 6), "MaxPool2d", {"kernel_size": 7}),
    "E": ((1, 1, 6, 6), "MaxPool2d", {"kernel_size": 7, "ceil_mode": True}),
    "F": ((0, 1, 6, 6), "AvgPool2d", {"kernel_size": 2}),
}


def _report(ok: bool | None, message: str) -> bool | None:
    mark = {True: "✓ Right.", False: "✗ Not yet.", None: "… Not answered yet."}[ok]
    print(f"{mark} {message}".rstrip())
    return ok


def _torch_size(
    size: int,
    kernel_size: int,
    stride: int,
    padding: int,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """One dimension's output size, from nn.MaxPool2d on a (1, 1, size) zero tensor."""
    layer = nn.MaxPool2d(
        (1, kernel_size), (1, stride), (0, padding), (1, dilation), ceil_mode=ceil_mode
    )
    return layer(torch.zeros(1, 1, size)).shape[-1]


def _torch_raises(input_shape, layer: str, params: dict) -> tuple[bool, str]:
    """(does PyTorch raise, its shape or its error message)."""
    try:
        out = getattr(nn, layer)(**params)(torch.zeros(input_shape))
    except (RuntimeError, ValueError, TypeError) as error:
        return True, str(error)
    return False, str(tuple(out.shape))


def _as_int(answer) -> int | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    return answer if isinstance(answer, int) else None


def check_by_hand(answer) -> bool | None:
    """Exercise 1: the output size of EXERCISE_BY_HAND (floor mode), as an int."""
    if answer is None:
        return _report(None, "Set answer to an int, the output size you computed by hand.")
    value = _as_int(answer)
    if value is None:
        return _report(False, f"{answer!r} is not a whole number. Hint: an output size is an int.")
    e = EXERCISE_BY_HAND
    n, k, s, p, d = e["size"], e["kernel_size"], e["stride"], e["padding"], e["dilation"]
    expected = _torch_size(n, k, s, p, d)
    if value == expected:
        return _report(True, f"nn.MaxPool2d agrees: {expected}.")
    numerator = n + 2 * p - d * (k - 1) - 1
    hints = []
    if value == numerator // s:
        hints.append("you seem to have forgotten the final + 1 (the first window is counted by it)")
    if value == (n + p - d * (k - 1) - 1) // s + 1:
        hints.append(f"padding is added on BOTH sides: use 2·padding = {2 * p}, not {p}")
    if value == textbook_output_size(n, k, s, p, d, ceil_mode=True):
        hints.append("you rounded up; without ceil_mode PyTorch rounds down (floor)")
    if value == (n + 2 * p - (k - 1) - 1) // s + 1:
        hints.append(
            f"you left out the dilation: the window spans dilation·(kernel_size − 1) + 1 = "
            f"{d * (k - 1) + 1} cells, not {k}"
        )
    if not hints:
        hints.append(
            "substitute into floor((n + 2·padding − dilation·(kernel_size − 1) − 1) / stride) + 1 "
            "one term at a time"
        )
    return _report(False, f"{value} is not PyTorch's answer. Hint: " + "; ".join(hints) + ".")


def check_ceil(answer) -> bool | None:
    """Exercise 2: the output size of EXERCISE_CEIL with ceil_mode=True, as an int."""
    if answer is None:
        return _report(None, "Set answer to an int, the output size with ceil_mode=True.")
    value = _as_int(answer)
    if value is None:
        return _report(False, f"{answer!r} is not a whole number. Hint: an output size is an int.")
    e = EXERCISE_CEIL
    n, k, s, p = e["size"], e["kernel_size"], e["stride"], e["padding"]
    expected = _torch_size(n, k, s, p, ceil_mode=True)
    plain = textbook_output_size(n, k, s, p, ceil_mode=True)
    if value == expected:
        return _report(
            True,
            f"nn.MaxPool2d(ceil_mode=True) gives {expected}: the plain ceil formula's last window, "
            f"out[{plain - 1}], would start at {(plain - 1) * s - p}, in the right padding, so it "
            "is dropped.",
        )
    if value == plain:
        return _report(
            False,
            f"{value} is what the plain ceil formula says, but PyTorch has one more rule. Hint: "
            f"where would the last window start? Window i starts at i·stride − padding; if that is "
            f"≥ n = {n} it lies entirely in the right padding.",
        )
    return _report(
        False,
        f"{value} is not PyTorch's answer. Hint: compute ceil((n + 2·padding − (kernel_size − 1) − 1)"
        " / stride) + 1 first, then check where the last window would start.",
    )


def check_padding_limit(answer) -> bool | None:
    """Exercise 3: the set of paddings MaxPool2d accepts for EXERCISE_PADDING (any input size)."""
    if answer is None:
        return _report(None, "Set answer to a set of ints, e.g. {0, 1}.")
    try:
        given = {int(v) for v in answer}
    except (TypeError, ValueError):
        return _report(False, f"{answer!r} is not a set of ints. Hint: write e.g. {{0, 1}}.")
    k, d = EXERCISE_PADDING["kernel_size"], EXERCISE_PADDING["dilation"]
    accepted = {
        p
        for p in range(0, 4 * k)
        if not _torch_raises(
            (1, 64, 64), "MaxPool2d", {"kernel_size": k, "padding": p, "dilation": d}
        )[0]
    }
    if given == accepted:
        return _report(
            True, f"PyTorch accepts padding in {sorted(accepted)}: at most kernel_size // 2."
        )
    extra, missing = sorted(given - accepted), sorted(accepted - given)
    hints = []
    if any(p < 0 for p in extra):
        hints.append("negative padding raises: PyTorch pads, it never crops")
    if any(p > k // 2 for p in extra):
        span = d * (k - 1) + 1
        hints.append(
            f"{[p for p in extra if p > k // 2]} raise: the limit is kernel_size // 2 = {k // 2}; the "
            f"dilated window spans {span} cells, but dilation does not raise the limit"
        )
    if missing:
        hints.append(
            f"also accepted: {missing} (padding = 0 is always allowed, and so is exactly "
            "kernel_size // 2)"
        )
    return _report(False, "Hint: " + "; ".join(hints) + ".")


def check_design(stride, padding) -> bool | None:
    """Exercise 4: stride and padding so that MaxPool2d(3, stride, padding) maps 28×28 to 14×14."""
    if stride is None or padding is None:
        return _report(None, "Set stride and padding to ints.")
    e = EXERCISE_DESIGN
    if _as_int(stride) is None or _as_int(padding) is None:
        return _report(False, f"stride={stride!r}, padding={padding!r}: both must be ints.")
    raised, result = _torch_raises(
        e["input_shape"],
        "MaxPool2d",
        {"kernel_size": e["kernel_size"], "stride": stride, "padding": padding},
    )
    if raised:
        try:  # our message says how to fix it
            pool2d_output_shape(e["input_shape"], e["kernel_size"], stride, padding)
            why = ""
        except (ValueError, TypeError) as error:
            why = f" The rule: {error}"
        return _report(False, f"PyTorch raises: {result}.{why}")
    if result == str(e["target"]):
        return _report(
            True, f"nn.MaxPool2d({e['kernel_size']}, {stride}, {padding}) gives {result}."
        )
    return _report(
        False,
        f"nn.MaxPool2d({e['kernel_size']}, stride={stride}, padding={padding}) gives {result}, not "
        f"{e['target']}. Hint: to halve a size the stride must be 2; then choose the padding "
        "(at most kernel_size // 2) so that floor((28 + 2·padding − 3) / 2) + 1 = 14.",
    )


def check_which_raise(answer) -> bool | None:
    """Exercise 5: the set of labels in EXERCISE_WHICH_RAISE for which PyTorch raises."""
    if answer is None:
        return _report(None, 'Set answer to a set of letters, e.g. {"A", "B"}.')
    try:
        given = {str(v).strip().upper() for v in answer}
    except TypeError:
        return _report(False, f'{answer!r} is not a set of letters. Hint: write e.g. {{"A", "B"}}.')
    unknown = given - set(EXERCISE_WHICH_RAISE)
    if unknown:
        return _report(
            False, f"{sorted(unknown)} are not labels; use {sorted(EXERCISE_WHICH_RAISE)}."
        )
    outcomes = {label: _torch_raises(*case) for label, case in EXERCISE_WHICH_RAISE.items()}
    raising = {label for label, (raised, _) in outcomes.items() if raised}
    if given == raising:
        return _report(True, f"PyTorch raises for {sorted(raising)} and computes the others.")
    lines = []
    for label in sorted(given - raising):
        lines.append(f"{label} does not raise: PyTorch returns shape {outcomes[label][1]}.")
    for label in sorted(raising - given):
        shape, _, params = EXERCISE_WHICH_RAISE[label]
        try:
            pool2d_output_shape(shape, **params)
            rule = outcomes[label][1]
        except (ValueError, TypeError) as error:
            rule = str(error).split(". Fix")[0]
        lines.append(f"{label} raises. Hint: {rule}.")
    return _report(False, " ".join(lines))
