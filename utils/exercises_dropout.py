"""Self-checks for the exercises of notebooks/04_dropout.ipynb and 05_dropout_overfitting.ipynb.

Each ``check_*`` function takes the student's answer, prints what is right or what is wrong with a
hint, and returns ``True`` (right), ``False`` (wrong) or ``None`` (not answered: ``answer = None``).
It never raises on a wrong or malformed answer, so a notebook run headless with the placeholder
answers does not fail. Expected answers are computed by PyTorch when the check runs.

``p`` is PyTorch's: the probability to ZERO an element.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from utils.dropout_stats import expected_clip_fraction, inplace_dropout_after

__all__ = [
    "EXERCISE_KEEP_PROB",
    "EXERCISE_KEPT_VALUE",
    "EXERCISE_CLIP",
    "EXERCISE_INPLACE_LAYERS",
    "check_keep_probability",
    "check_kept_value",
    "check_eval_forward",
    "check_clip_fraction",
    "check_inplace_safe",
    "check_noise_free_accuracy",
    "check_accuracy_function",
    "check_mc_average",
]

#: 04, exercise 1: an old course writes keep_prob = 0.8. Which p for nn.Dropout?
EXERCISE_KEEP_PROB = 0.8
#: 04, exercise 2: nn.Dropout(p=0.75) in training mode; an element equal to 3.0 is kept. Its value?
EXERCISE_KEPT_VALUE = {"p": 0.75, "x": 3.0}
#: 04, exercise 4: x = torch.linspace(0, 1, 1001), p = 0.2: expected fraction of outputs above 1?
EXERCISE_CLIP = {"steps": 1001, "p": 0.2}
#: 04, exercise 5: which of these may be followed by nn.Dropout(inplace=True) while training?
EXERCISE_INPLACE_LAYERS = ("Linear", "ReLU", "Sigmoid", "LeakyReLU", "Tanh", "GELU")


def _report(ok: bool | None, message: str) -> bool | None:
    mark = {True: "✓ Right.", False: "✗ Not yet.", None: "… Not answered yet."}[ok]
    print(f"{mark} {message}".rstrip())
    return ok


def _number(answer) -> float | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, torch.Tensor):
        if answer.numel() != 1:
            return None
        answer = answer.item()
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


# ------------------------------------------------------------------------------------------
# 04 · Exercise 1 · keep probability -> p
# ------------------------------------------------------------------------------------------
def check_keep_probability(answer) -> bool | None:
    """04, exercise 1: the ``p`` for ``nn.Dropout`` that matches ``keep_prob = 0.8``."""
    if answer is None:
        return _report(None, "Give a number: the p you would pass to nn.Dropout(p=...).")
    value = _number(answer)
    if value is None:
        return _report(False, f"Got {answer!r}; give one number between 0 and 1, e.g. 0.3.")
    keep = EXERCISE_KEEP_PROB
    x = torch.ones(200_000)
    torch.manual_seed(0)
    try:
        kept = (nn.Dropout(p=value)(x) != 0).float().mean().item()
    except ValueError as err:
        return _report(False, f"PyTorch refuses it: {err}. Hint: p lies in [0, 1].")
    if abs(value - (1 - keep)) < 1e-6:
        return _report(
            True,
            f"nn.Dropout(p={value:g}) keeps {kept:.1%} of the elements, the "
            f"same as keep_prob={keep}. PyTorch's p is the probability to ZERO.",
        )
    if abs(value - keep) < 1e-6:
        return _report(
            False,
            f"nn.Dropout(p={value:g}) ZEROES {1 - kept:.0%} of the elements and "
            f"keeps only {kept:.0%}. Hint: PyTorch's p is the drop probability, "
            "keep_prob is the opposite; p = 1 - keep_prob.",
        )
    return _report(
        False,
        f"nn.Dropout(p={value:g}) keeps {kept:.1%} of the elements, but "
        f"keep_prob={keep} keeps {keep:.0%}. Hint: p = 1 - keep_prob.",
    )


# ------------------------------------------------------------------------------------------
# 04 · Exercise 2 · value of a kept element
# ------------------------------------------------------------------------------------------
def check_kept_value(answer) -> bool | None:
    """04, exercise 2: what a kept ``3.0`` becomes under ``nn.Dropout(p=0.75)`` in training mode."""
    if answer is None:
        return _report(None, "Give a number: the value of a kept element of 3.0.")
    value = _number(answer)
    if value is None:
        return _report(False, f"Got {answer!r}; give one number, e.g. 1.5.")
    p, x = EXERCISE_KEPT_VALUE["p"], EXERCISE_KEPT_VALUE["x"]
    torch.manual_seed(0)
    out = nn.Dropout(p=p).train()(torch.full((1000,), x, dtype=torch.float64))
    expected = out[out != 0][0].item()
    if math.isclose(value, expected, rel_tol=1e-6):
        return _report(
            True,
            f"{x:g} / (1 - {p}) = {expected:g}: kept values are divided by the "
            "keep probability, so the expected value stays 3.0.",
        )
    if math.isclose(value, x * (1 - p), rel_tol=1e-6):
        return _report(
            False,
            f"You multiplied by the keep probability 1 - p = {1 - p:g}. That is "
            "what the original paper did to the WEIGHTS at test time. PyTorch instead "
            "divides kept values by 1 - p during training (inverted dropout).",
        )
    if math.isclose(value, x, rel_tol=1e-6):
        return _report(
            False,
            "That is the value in eval() mode (dropout is then the identity). "
            "Hint: in training mode kept elements are scaled by 1 / (1 - p).",
        )
    if math.isclose(value, x / p, rel_tol=1e-6):
        return _report(
            False, f"You divided by p = {p}. Hint: divide by the KEEP probability 1 - p."
        )
    if value == 0:
        return _report(
            False, "The element was kept, so it is not zero. Hint: scale by 1 / (1 - p)."
        )
    return _report(False, f"{value:g} is not it. Hint: a kept element x becomes x / (1 - p).")


# ------------------------------------------------------------------------------------------
# 04 · Exercise 3 · F.dropout in a model
# ------------------------------------------------------------------------------------------
def check_eval_forward(net_class) -> bool | None:
    """04, exercise 3: a module class whose ``forward`` uses ``F.dropout(p=0.5)`` correctly.

    Right means: in ``eval()`` mode the output equals the input; in ``train()`` mode it drops
    about half the elements and scales the rest by 2 (PyTorch's ``F.dropout`` on the same seed).
    """
    if net_class is None:
        return _report(
            None,
            "Define class MyNet(nn.Module) with a forward that calls F.dropout, "
            "then set answer = MyNet.",
        )
    if not (isinstance(net_class, type) and issubclass(net_class, nn.Module)):
        return _report(
            False,
            f"Got {net_class!r}; give the CLASS (answer = MyNet, not MyNet()), "
            "a subclass of nn.Module.",
        )
    try:
        net = net_class()
    except Exception as err:  # noqa: BLE001 - report any failure to the student
        return _report(False, f"MyNet() failed: {err!r}. Hint: it needs no arguments.")
    x = torch.rand(4000) + 0.5
    try:
        net.eval()
        y_eval = net(x)
        net.train()
        torch.manual_seed(1)
        y_train = net(x)
    except Exception as err:  # noqa: BLE001
        return _report(False, f"Calling the model failed: {err!r}.")
    torch.manual_seed(1)
    reference = F.dropout(x, 0.5, training=True)
    if not isinstance(y_eval, torch.Tensor) or y_eval.shape != x.shape:
        return _report(False, "forward must return a tensor shaped like its input.")
    if not torch.equal(y_eval, x):
        if (y_eval == 0).any():
            return _report(
                False,
                "In eval() mode your model still drops elements: F.dropout's "
                "training argument defaults to True. Hint: pass "
                "training=self.training.",
            )
        return _report(False, "In eval() mode the output should equal the input exactly.")
    if torch.equal(y_train, x):
        return _report(
            False,
            "In train() mode nothing was dropped. Hint: training=self.training "
            "(not False), and p=0.5.",
        )
    if not torch.equal(y_train, reference):
        return _report(
            False,
            "In train() mode the output differs from F.dropout(x, 0.5, "
            "training=True) with the same seed. Hint: use p=0.5 and F.dropout itself.",
        )
    return _report(
        True,
        "Identity in eval(), drops half and doubles the rest in train(). "
        "nn.Dropout does exactly this for you.",
    )


# ------------------------------------------------------------------------------------------
# 04 · Exercise 4 · how much clips
# ------------------------------------------------------------------------------------------
def check_clip_fraction(answer) -> bool | None:
    """04, exercise 4: expected fraction of ``dropout(torch.linspace(0, 1, 1001), p=0.2)`` above 1."""
    if answer is None:
        return _report(None, "Give a number between 0 and 1: the expected fraction above 1.")
    value = _number(answer)
    if value is None or not 0 <= value <= 1:
        return _report(False, f"Got {answer!r}; give a fraction between 0 and 1, e.g. 0.05.")
    p = EXERCISE_CLIP["p"]
    x = torch.linspace(0, 1, EXERCISE_CLIP["steps"])
    expected = expected_clip_fraction(x, p)
    above = (x > 1 - p).double().mean().item()
    if abs(value - expected) <= 0.01:
        return _report(
            True,
            f"Kept with probability {1 - p:g}, and x / {1 - p:g} > 1 exactly when "
            f"x > {1 - p:g} ({above:.1%} of x): {1 - p:g} · {above:.4f} = "
            f"{expected:.4f}. TensorBoard would show those as white.",
        )
    if abs(value - above) <= 0.01:
        return _report(
            False,
            f"{above:.1%} of x lie above {1 - p:g}, but only the KEPT ones grow. "
            f"Hint: multiply by the keep probability {1 - p:g}.",
        )
    if abs(value - p * above) <= 0.01:
        return _report(
            False,
            f"You multiplied by p = {p}; an element clips only if it is KEPT. "
            f"Hint: use 1 - p = {1 - p:g}.",
        )
    if abs(value - (1 - p) * (x > p).double().mean().item()) <= 0.01:
        return _report(
            False, f"Which x grow above 1? x / (1 - p) > 1 means x > 1 - p = {1 - p:g}, not x > p."
        )
    return _report(
        False,
        "Hint: a kept element becomes x / (1 - p); count how many x exceed "
        "1 - p, then multiply by the keep probability.",
    )


# ------------------------------------------------------------------------------------------
# 04 · Exercise 5 · where inplace=True is safe
# ------------------------------------------------------------------------------------------
_LAYERS = {
    "Linear": lambda: nn.Linear(4, 4),
    "ReLU": nn.ReLU,
    "Sigmoid": nn.Sigmoid,
    "LeakyReLU": nn.LeakyReLU,
    "Tanh": nn.Tanh,
    "GELU": nn.GELU,
}
_WHY = {
    "ReLU": "ReLU's backward reads its OUTPUT (gradient passes where output > 0)",
    "Sigmoid": "sigmoid's backward reads its OUTPUT s: ds/dx = s·(1 − s)",
    "Tanh": "tanh's backward reads its OUTPUT t: dt/dx = 1 − t²",
}


def check_inplace_safe(answer) -> bool | None:
    """04, exercise 5: the names from ``EXERCISE_INPLACE_LAYERS`` after which
    ``nn.Dropout(inplace=True)`` trains without error. Checked by running forward and backward."""
    if answer is None:
        return _report(
            None, f"Give a set of names from {list(EXERCISE_INPLACE_LAYERS)}, e.g. {{'Linear'}}."
        )
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        return _report(False, f"Got {answer!r}; give a set of names, e.g. {{'Linear', 'GELU'}}.")
    names = set(answer)
    unknown = sorted(str(n) for n in names - set(EXERCISE_INPLACE_LAYERS))
    if unknown:
        return _report(
            False,
            f"Unknown names {unknown}; choose from {list(EXERCISE_INPLACE_LAYERS)}"
            " (spelled exactly, e.g. 'LeakyReLU').",
        )
    torch.manual_seed(0)
    errors = {name: inplace_dropout_after(make()) for name, make in _LAYERS.items()}
    safe = {name for name, err in errors.items() if err is None}
    if names == safe:
        return _report(
            True,
            f"{sorted(safe)} need only their INPUT for backward, so overwriting "
            "their output is harmless. After ReLU, Sigmoid and Tanh backward() fails.",
        )
    messages = []
    for name in sorted(names - safe):
        messages.append(
            f"{name} fails at backward(): {_WHY.get(name, errors[name])}, and "
            "in-place dropout overwrote it."
        )
    for name in sorted(safe - names):
        messages.append(
            f"{name} is safe: its backward needs its input, not its output. "
            "Try it: inplace_dropout_after(nn." + name + "()) returns None."
        )
    return _report(False, " ".join(messages))


# ------------------------------------------------------------------------------------------
# 05 · Exercise 1 · the noise-free rule
# ------------------------------------------------------------------------------------------
def check_noise_free_accuracy(answer, val_set) -> bool | None:
    """05, exercise 1: validation accuracy of the rule "the moon a point was drawn from".

    That rule is wrong exactly on the flipped labels, so its accuracy is ``1 - flipped fraction``.
    """
    if answer is None:
        return _report(None, "Give a number between 0 and 1 (hint: val_set.flipped).")
    value = _number(answer)
    if value is None:
        return _report(False, f"Got {answer!r}; give one number between 0 and 1, e.g. 0.75.")
    flipped = val_set.flipped.double().mean().item()
    expected = 1 - flipped
    if abs(value - expected) <= 0.002:
        return _report(
            True,
            f"It is wrong exactly on the {flipped:.1%} flipped labels: "
            f"{expected:.3f}. A network scoring much more than that on TRAINING data has "
            "memorised flipped labels.",
        )
    if abs(value - flipped) <= 0.002:
        return _report(False, "That is the fraction it gets WRONG. Hint: 1 minus that.")
    if value > 1:
        return _report(False, "Give a fraction between 0 and 1 (e.g. 0.75), not a percentage.")
    return _report(
        False,
        f"Not quite. Hint: the rule is right on every label that was not "
        f"flipped; count them with val_set.flipped (a bool tensor of {len(val_set)}).",
    )


# ------------------------------------------------------------------------------------------
# 05 · Exercise 2 · measuring accuracy honestly
# ------------------------------------------------------------------------------------------
def check_accuracy_function(fn) -> bool | None:
    """05, exercise 2: ``fn(model, split) -> float`` measuring accuracy with dropout OFF and leaving
    the model in the mode it found it in."""
    if fn is None:
        return _report(None, "Define def accuracy(model, split): ... and set answer = accuracy.")
    if not callable(fn):
        return _report(False, f"Got {fn!r}; give the function itself (answer = accuracy).")
    from utils.overfitting import evaluate, make_dataset, make_model

    train_set, _ = make_dataset(0, n_train=400)
    model = make_model(0.5, hidden=32, seed=0)
    _, expected = evaluate(model, train_set)
    results = []
    for mode in (True, False):
        model.train(mode)
        try:
            got = _number(fn(model, train_set))
        except Exception as err:  # noqa: BLE001
            return _report(False, f"Calling accuracy(model, split) failed: {err!r}.")
        if got is None:
            return _report(
                False, "accuracy must return one number (a float or a 1-element tensor)."
            )
        if model.training != mode:
            return _report(
                False,
                f"The model was in {'train' if mode else 'eval'}() mode and your "
                "function left it in the other one. Hint: remember model.training and "
                "call model.train(was_training) at the end.",
            )
        results.append(got)
    if any(abs(r - expected) > 1e-6 for r in results):
        if abs(results[1] - expected) <= 1e-6:
            return _report(
                False,
                "Right in eval mode, but with a model in train() mode your number "
                "differs: dropout was ON while you measured. Hint: call model.eval() "
                "before the forward pass.",
            )
        if any(abs(r - 100 * expected) <= 1e-4 for r in results):
            return _report(False, "Give a fraction (0.93), not a percentage.")
        return _report(
            False,
            f"Expected {expected:.4f} (fraction of argmax(logits) == y in eval "
            f"mode), got {results}. Hint: (model(x).argmax(1) == y).float().mean().",
        )
    return _report(
        True,
        "Dropout off while measuring, and the mode restored: the same rule "
        "utils.overfitting.evaluate follows.",
    )


# ------------------------------------------------------------------------------------------
# 05 · Exercise 3 · the ensemble view
# ------------------------------------------------------------------------------------------
def check_mc_average(probs, model, x, samples: int = 50) -> bool | None:
    """05, exercise 3: class probabilities averaged over ``samples`` dropout-ON passes of ``model``
    on ``x``. Compared with a 200-pass average (tolerance from the spread of the passes)."""
    if probs is None:
        return _report(None, "Give the averaged probabilities: an N×2 tensor.")
    from utils.overfitting import mc_dropout_probabilities

    if not isinstance(probs, torch.Tensor):
        return _report(False, f"Got {type(probs).__name__}; give a torch.Tensor of shape N×2.")
    probs = probs.detach().double()
    if probs.shape != (len(x), 2):
        return _report(
            False,
            f"Expected shape {(len(x), 2)}, got {tuple(probs.shape)}. Hint: "
            "softmax over dim=1 for every point, averaged over the passes.",
        )
    if not torch.allclose(probs.sum(1), torch.ones(len(x), dtype=torch.float64), atol=1e-4):
        return _report(
            False,
            "Rows do not sum to 1: average PROBABILITIES (F.softmax(logits, dim=1)), not logits.",
        )
    was_training = model.training
    model.eval()
    with torch.no_grad():
        eval_probs = F.softmax(model(x), dim=1).double()
    model.train(was_training)
    reference = mc_dropout_probabilities(model, x, samples=200, seed=12345).double()
    single = mc_dropout_probabilities(model, x, samples=1, seed=12345).double()
    error = (probs - reference).abs().mean().item()
    if torch.allclose(probs, eval_probs, atol=1e-6):
        return _report(
            False,
            "These are the eval-mode probabilities: dropout was OFF. Hint: "
            "model.train() before the passes (and model.eval() after).",
        )
    spread = (single - reference).abs().mean().item()
    if error > max(0.5 * spread, 0.02):
        return _report(
            False,
            f"Your average is {error:.3f} away (mean absolute difference) from a "
            f"200-pass average; one single pass is {spread:.3f} away. Hint: average "
            f"{samples} passes with dropout on.",
        )
    return _report(
        True,
        f"Within {error:.3f} of a 200-pass average. Each pass is one thinned "
        "network; the average is the ensemble the seed talks about.",
    )
