"""Dropout measured: statistics with error bars, the mask it drew, images shown without clipping.

Conventions (PyTorch's)
-----------------------
* ``p`` is the probability to **zero** an element (``nn.Dropout(p=0.5)``). Some courses (CS231n) and
  TensorFlow 1 (``tf.nn.dropout(x, keep_prob)``) used the *keep* probability ``1 - p`` instead.
* In training mode every kept element is multiplied by ``1 / (1 - p)``, so the expected value of each
  element is unchanged: ``E[out] = (1 - p) · x / (1 - p) = x``. In ``eval()`` mode dropout is the identity.
* ``p = 0`` returns the input unchanged; ``p = 1`` returns zeros; ``p`` outside [0, 1] raises ValueError.
* ``nn.Dropout`` draws one Bernoulli number per element; ``nn.Dropout2d`` one per (sample, channel), so a
  whole channel (feature map) is kept or zeroed.

Every function here asks PyTorch for the numbers; nothing re-implements dropout (``utils/scratch.py``
does that, on purpose, for lesson 06).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "binomial_se",
    "mean_se",
    "dropout_statistics",
    "dropout_with_mask",
    "display_scaled",
    "clip_fraction",
    "expected_clip_fraction",
    "measure_dropout_memory",
    "functional_dropout_in_eval_model",
    "inplace_dropout_after",
    "is_dropout_output",
    "show_image_rows",
]


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(
            f"p is the probability to zero an element and must lie in [0, 1], got {p!r}. "
            "(If you have a keep probability k, use p = 1 - k.)"
        )
    return float(p)


def binomial_se(p: float, n: int) -> float:
    """Standard error of the fraction of zeros among ``n`` elements: ``sqrt(p (1 - p) / n)``."""
    p = _check_p(p)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int (number of elements), got {n!r}.")
    return math.sqrt(p * (1 - p) / n)


def mean_se(p: float, n: int) -> float:
    """Standard error of the mean of ``dropout(ones(n))``: ``sqrt(p / ((1 - p) n))``.

    Each element is ``1/(1-p)`` with probability ``1-p``, else 0: mean 1, variance ``p / (1 - p)``.
    Infinite for ``p = 1`` (no kept elements: the mean is 0, not 1).
    """
    p = _check_p(p)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int (number of elements), got {n!r}.")
    return math.inf if p == 1.0 else math.sqrt(p / ((1 - p) * n))


def dropout_statistics(ps=(0.2, 0.5, 0.8), n: int = 100_000, seed: int = 0) -> list[dict]:
    """One row per ``p``: what ``nn.Dropout(p)`` in training mode does to ``torch.ones(n)``.

    Keys: ``p``, ``keep`` (1 - p), ``scale`` (1 / (1 - p), the value of a kept element as PyTorch
    computed it), ``zeroed`` (fraction of zeros), ``zeroed_se`` (binomial standard error), ``mean``,
    ``mean_se``, ``values`` (the distinct values in the output). Uses a forked RNG seeded with
    ``seed``: the global random state is not touched.
    """
    rows = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for p in ps:
            p = _check_p(p)
            out = nn.Dropout(p).train()(torch.ones(n, dtype=torch.float64))
            kept = out[out != 0]
            rows.append(
                {
                    "p": p,
                    "keep": 1 - p,
                    "scale": kept[0].item() if len(kept) else math.nan,
                    "zeroed": (out == 0).double().mean().item(),
                    "zeroed_se": binomial_se(p, n),
                    "mean": out.mean().item(),
                    "mean_se": mean_se(p, n),
                    "values": sorted(set(out.unique().tolist())),
                }
            )
    return rows


def dropout_with_mask(x: torch.Tensor, dropout: nn.Module | float = 0.5):
    """Run ``dropout`` on ``x`` and also return the mask it drew: ``(output, kept)``.

    ``dropout`` is a module (``nn.Dropout``, ``nn.Dropout2d``, ... in its current mode) or a number
    ``p`` (then ``nn.Dropout(p)`` in training mode). ``kept`` is a bool tensor shaped like ``x``:
    True where the element was kept. How: the random state is saved, ``dropout(x)`` runs, the state is
    restored and the same module runs on ``torch.ones_like(x)``; the draws depend only on the shape, so
    the second call zeroes exactly the same places. (Looking at ``output == 0`` instead would call
    black pixels "dropped".) Afterwards the random state is as after ONE call. For an in-place module
    ``x`` itself is overwritten, as the module does.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}.")
    if not x.is_floating_point():
        raise TypeError(f"dropout needs a floating-point tensor, got {x.dtype}; use x.float().")
    if isinstance(dropout, (nn.AlphaDropout, nn.FeatureAlphaDropout)):
        raise ValueError(
            "AlphaDropout does not zero the dropped elements (it sets them to a negative value and "
            "rescales), so its mask cannot be read as output != 0. Use nn.Dropout or nn.Dropout2d."
        )
    module = dropout if isinstance(dropout, nn.Module) else nn.Dropout(_check_p(dropout)).train()
    state = torch.get_rng_state()
    output = module(x)
    after = torch.get_rng_state()
    torch.set_rng_state(state)
    with torch.no_grad():
        kept = module(torch.ones_like(x, requires_grad=False)) != 0
    if not torch.equal(torch.get_rng_state(), after):  # pragma: no cover - guards the replay idea
        raise RuntimeError(
            "The mask could not be replayed: the module drew a different number of "
            "random values for ones_like(x). Is it a dropout module?"
        )
    return output, kept


def display_scaled(output: torch.Tensor, p: float) -> torch.Tensor:
    """``output · (1 - p)``: undo dropout's ``1/(1-p)`` scaling for display.

    Kept elements get back their input value (up to rounding), dropped ones stay 0; an image in [0, 1]
    stays in [0, 1], so nothing is clipped. This is a picture of the output, not the output: the
    network sees values up to ``1/(1-p)``.
    """
    return output * (1.0 - _check_p(p))


def clip_fraction(images: torch.Tensor) -> float:
    """Fraction of values above 1: what TensorBoard (``×255``, then clipped) would show as white."""
    return (images > 1).double().mean().item()


def expected_clip_fraction(x: torch.Tensor, p: float) -> float:
    """Expected fraction of ``dropout(x)`` above 1: ``(1 - p) · fraction(x > 1 - p)``.

    A kept element becomes ``x / (1 - p)``, which is above 1 exactly when ``x > 1 - p``.
    """
    p = _check_p(p)
    return (1 - p) * (x > 1 - p).double().mean().item()


@contextlib.contextmanager
def _quiet_fds():
    """Silence file descriptors 1 and 2 (the profiler's C++ start/stop lines go there)."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # pragma: no cover - no real descriptors (rare front ends)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def measure_dropout_memory(
    numel: int = 1_000_000,
    p: float = 0.5,
    inplace: bool = False,
    dtype: torch.dtype = torch.float32,
) -> dict:
    """Bytes PyTorch's CPU allocator handed out during one ``nn.Dropout(p, inplace)`` call.

    Measured with ``torch.profiler`` (``profile_memory=True``) around the call alone, on an input of
    ``numel`` elements made beforehand. Returns ``{"allocated": sum of all allocations,
    "held": bytes still allocated when the call returns (the output, if new), "input_bytes",
    "same_storage": output shares the input's memory, "per_op": {op: bytes allocated}}``.
    """
    from torch.profiler import ProfilerActivity, profile

    p = _check_p(p)
    x = torch.rand(numel, dtype=dtype)
    ptr = x.data_ptr()
    module = nn.Dropout(p, inplace=inplace).train()
    with _quiet_fds(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = module(x)
    per_op: dict[str, int] = {}
    allocated = held = 0
    for event in prof.key_averages():
        change = event.self_cpu_memory_usage
        held += change
        if change > 0:
            per_op[event.key] = per_op.get(event.key, 0) + change
            allocated += change
    return {
        "allocated": allocated,
        "held": held,
        "input_bytes": x.numel() * x.element_size(),
        "same_storage": out.data_ptr() == ptr,
        "per_op": per_op,
    }


def functional_dropout_in_eval_model(x: torch.Tensor, p: float = 0.5):
    """The ``F.dropout`` trap: a model in ``eval()`` whose forward calls ``F.dropout(h, p)``.

    Returns ``(trap_output, fixed_output)``: the first forward forgets ``training=self.training``
    (``F.dropout``'s default is ``training=True``, so it still drops in eval mode), the second passes it.
    """
    p = _check_p(p)

    class Trap(nn.Module):
        def forward(self, h):
            return F.dropout(h, p)  # training defaults to True!

    class Fixed(nn.Module):
        def forward(self, h):
            return F.dropout(h, p, training=self.training)

    return Trap().eval()(x), Fixed().eval()(x)


def inplace_dropout_after(
    layer: nn.Module, x: torch.Tensor | None = None, p: float = 0.5
) -> str | None:
    """Train one step of ``nn.Sequential(layer, nn.Dropout(p, inplace=True))``: None if fine, else
    PyTorch's error message.

    ``x`` (default ``torch.randn(3, 4)``) gets ``requires_grad=True``; forward and ``backward()`` run.
    In-place dropout fails when the layer's backward needs the layer's *output* (ReLU, Sigmoid, Tanh,
    Softmax) -- at ``backward()``, not where the in-place op is -- or when the value it overwrites is a
    leaf that requires grad (``nn.Identity()``). It is fine after layers whose backward needs only
    their input (Linear, Conv, GELU, LeakyReLU, pooling).
    """
    p = _check_p(p)
    x = (torch.randn(3, 4) if x is None else x.detach().clone()).requires_grad_(True)
    try:
        nn.Sequential(layer, nn.Dropout(p, inplace=True)).train()(x).sum().backward()
    except RuntimeError as err:
        return str(err)
    return None


def is_dropout_output(output, x, p: float, *, rtol: float = 1e-6) -> bool:
    """True if every element of ``output`` is 0 or ``x / (1 - p)`` (what dropout can produce)."""
    p = _check_p(p)
    output = torch.as_tensor(output, dtype=torch.float64)
    x = torch.as_tensor(x, dtype=torch.float64)
    if output.shape != x.shape:
        return False
    if p == 1.0:
        return bool((output == 0).all())
    scaled = x / (1 - p)
    ok = (output == 0) | torch.isclose(output, scaled, rtol=rtol, atol=0.0)
    return bool(ok.all())


def show_image_rows(
    rows: dict,
    *,
    nrow: int = 8,
    width: float = 11.0,
    title: str | None = None,
    pad_value: float = 0.5,
):
    """A matplotlib figure with one row of images per entry of ``rows`` (label -> batch).

    A value is an ``N×C×H×W`` batch or ``(batch, out_of_range)``; batches are laid out with
    ``images_to_grid`` (the same make_grid TensorBoard gets) and ``out_of_range="error"`` by default,
    so a value outside [0, 1] is never clipped silently, here either. The gaps between images are
    grey (``pad_value``), so white masks keep their edges. Returns the figure.
    """
    import matplotlib.pyplot as plt

    from utils.tensorboard_logging import images_to_grid

    if not rows:
        raise ValueError("rows is empty; give {label: batch}.")
    grids = []
    for label, value in rows.items():
        batch, policy = value if isinstance(value, tuple) else (value, "error")
        grids.append(
            (
                label,
                images_to_grid(
                    batch, nrow=nrow, pad_value=pad_value, out_of_range=policy, what=label
                ),
            )
        )
    heights = [g.shape[1] / g.shape[2] for _, g in grids]
    fig, axes = plt.subplots(
        len(grids),
        1,
        figsize=(width, width * sum(heights) + 0.35 * len(grids)),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    for ax, (label, grid) in zip(axes[:, 0], grids, strict=True):
        ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
        ax.set_title(label, fontsize=11, loc="left")
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig
