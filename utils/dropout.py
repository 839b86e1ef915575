"""Dropout measurements and pictures (lesson 04) and the two-moons experiment (lesson 05).

* ``p`` is PyTorch's: the probability to **zero** an element. Kept elements become ``x / (1 - p)``.
* ``dropout_with_mask``: the mask a dropout layer drew; ``clip_fraction`` / ``expected_clip_fraction``:
  how much of a dropped-out image `add_images` stores white (floats ×255, clipped to [0, 255]).
* ``make_dataset``, ``make_model``, ``train``: the cells of ``notebooks/05_dropout_overfitting.ipynb``
  (§1–§3), for ``tools/dropout_seed_sweep.py``; ``best_and_final`` reads a history.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from utils import alt_text

# -- lesson 04 -----------------------------------------------------------------------------------
SCALING = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)  # kept: x / (1 - p); dropped: 0
DROPOUTS = (*SCALING, nn.AlphaDropout, nn.FeatureAlphaDropout)  # every one torch.nn has


def dropout_with_mask(x: torch.Tensor, dropout: nn.Module | float = 0.5):
    """Run ``dropout`` (one of ``DROPOUTS`` in its mode, or ``p`` for ``nn.Dropout(p)``) on ``x``;
    return ``(output, kept)``. From the same random state the layer runs again on ones and on zeros
    (draws depend on the shape only): kept is where the output depends on the input. Not
    ``output == 0``: black pixels are kept too, and AlphaDropout's dropped values are not 0.
    """
    if not x.is_floating_point():
        raise TypeError(f"dropout needs a floating-point tensor, got {x.dtype}; use x.float() / 255.")
    module = dropout if isinstance(dropout, nn.Module) else nn.Dropout(dropout).train()
    if not isinstance(module, DROPOUTS):
        raise TypeError(f"dropout_with_mask takes a dropout layer ({', '.join(c.__name__ for c in DROPOUTS)}), "
                        f"got {type(module).__name__}; pass the model's dropout layer itself.")
    state = torch.get_rng_state()
    output = module(x)
    after = torch.get_rng_state()
    with torch.no_grad():
        torch.set_rng_state(state)
        on_ones = module(torch.ones_like(x))
        torch.set_rng_state(state)
        kept = module(torch.zeros_like(x)) != on_ones
    torch.set_rng_state(after)  # as after one call
    return output, kept


def draw_thinned_network(ax, kept, inputs: int = 3, outputs: int = 2) -> None:
    """One thin network: a fully connected net whose hidden units ``kept`` (one bool tensor per hidden
    layer, e.g. a real dropout mask) survive; kept units orange, dropped ones hollow, their links faded."""
    rows = [[True] * inputs, *[[bool(k) for k in layer] for layer in kept], [True] * outputs]
    units = [[(on, (x, (len(row) - 1) / 2 - i)) for i, on in enumerate(row)] for x, row in enumerate(rows)]
    for left, right in itertools.pairwise(units):
        for (a, (x0, y0)), (b, (x1, y1)) in itertools.product(left, right):
            on = a and b
            ax.plot([x0, x1], [y0, y1], color="#444444" if on else "#e4e4e4", lw=0.9 if on else 0.5, zorder=2 if on else 1)
    for layer in units:
        ax.scatter([x for _, (x, _) in layer], [y for _, (_, y) in layer], s=200, zorder=3,
                   c=["#ff7f0e" if on else "white" for on, _ in layer],
                   edgecolors=["#444444" if on else "#767676" for on, _ in layer])
    ax.set_axis_off()
    hidden = [u for layer in rows[1:-1] for u in layer]
    alt_text.describe(ax.figure, "A network of {i} inputs, {h} hidden units and {o} outputs after dropout: {k} "
                      "hidden units kept (filled, their links dark), {d} dropped (hollow, their links faded).",
                      i=inputs, h=len(hidden), o=outputs, k=sum(hidden), d=len(hidden) - sum(hidden))


def clip_fraction(images: torch.Tensor) -> float:
    """Fraction of values above 1: what TensorBoard (×255, then clipped to [0, 255]) shows white."""
    return (images > 1).double().mean().item()


def expected_clip_fraction(x: torch.Tensor, p: float | nn.Module) -> float:
    """Expected fraction of ``dropout(x)`` above 1: ``(1 - p) · fraction(x > 1 - p)`` (kept values are
    ``x / (1 - p)``). ``p``: a number, or a layer of ``SCALING`` (whole channels change which pixels,
    not how many on average; in ``eval()`` p is 0). Alpha dropouts are refused: they scale otherwise."""
    if isinstance(p, nn.Module):
        if not isinstance(p, SCALING):
            raise TypeError(f"expected_clip_fraction knows layers that keep x / (1 - p) and zero the rest "
                            f"(nn.Dropout, Dropout1d/2d/3d); {type(p).__name__} does not. Measure it "
                            "instead: clip_fraction(layer(x)).")
        p = p.p if p.training else 0.0
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p!r}.")
    return (1 - p) * (x > 1 - p).double().mean().item()


# -- lesson 05 -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    """Points ``x`` (N×2 float32), labels ``y`` (N, int64) and which labels were flipped (N, bool)."""

    x: torch.Tensor
    y: torch.Tensor
    flipped: torch.Tensor


def two_moons(n: int, *, noise: float = 0.2, flip: float = 0.1, generator=None) -> Split:
    """``n`` points of two interleaving half circles, Gaussian ``noise``, a fraction ``flip`` of labels flipped."""
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=g)
    t = torch.rand(n, generator=g) * math.pi
    top = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    bottom = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)
    x = torch.where(y[:, None] == 1, bottom, top) + noise * torch.randn(n, 2, generator=g)
    flipped = torch.rand(n, generator=g) < flip
    return Split(x.float(), torch.where(flipped, 1 - y, y).long(), flipped)


def make_dataset(seed: int = 0, *, n_train: int = 200, n_val: int = 1000, flip: float = 0.1):
    """Training and validation sets drawn from one seeded generator (lesson 05 §1)."""
    g = torch.Generator().manual_seed(seed)
    return two_moons(n_train, flip=flip, generator=g), two_moons(n_val, flip=flip, generator=g)


def make_model(p: float, seed: int = 0, hidden: int = 128) -> nn.Sequential:
    """``2 → hidden → hidden → 2``, ReLU then ``nn.Dropout(p)`` after each hidden layer (lesson 05 §2);
    same ``seed``, same weights for every ``p``; the global RNG is left alone."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(
            nn.Linear(2, hidden), nn.ReLU(), nn.Dropout(p),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(p),
            nn.Linear(hidden, 2),
        )


def train(model, train_set, val_set, *, epochs=300, lr=0.01, seed=0, every=5, writers=None):
    """The loop of notebooks/05_dropout_overfitting.ipynb §3 (full-batch Adam). Every ``every`` epochs it
    measures loss and accuracy on both splits in ``eval()`` (dropout off); ``history["dropout_on"]``: the
    loss the optimiser saw (dropout on). ``writers``: optional ``{"train": SummaryWriter, "val": ...}``
    (and ``"dropout_on"``), tags ``loss``, ``accuracy``; step = epoch. Masks: ``torch.manual_seed(seed)``.
    """
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"epoch": [], "train_loss": [], "val_loss": [], "train_acc": [], "val_acc": [], "dropout_on": []}
    for epoch in range(epochs + 1):
        if epoch > 0:  # one training step: dropout ON
            model.train()
            loss = F.cross_entropy(model(train_set.x), train_set.y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history["dropout_on"].append(loss.item())
            if writers and "dropout_on" in writers:
                writers["dropout_on"].add_scalar("loss", loss.item(), epoch)
        if epoch % every == 0:  # measure: dropout OFF
            model.eval()
            history["epoch"].append(epoch)
            with torch.no_grad():
                for split, data in (("train", train_set), ("val", val_set)):
                    logits = model(data.x)
                    loss_value = F.cross_entropy(logits, data.y).item()
                    accuracy = (logits.argmax(dim=1) == data.y).float().mean().item()
                    history[f"{split}_loss"].append(loss_value)
                    history[f"{split}_acc"].append(accuracy)
                    if writers:
                        writers[split].add_scalar("loss", loss_value, epoch)
                        writers[split].add_scalar("accuracy", accuracy, epoch)
    model.eval()
    return history


def best_and_final(history) -> dict[str, float]:
    """Validation numbers at the epoch of lowest validation loss (early stopping) and at the last epoch."""
    best = min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__)
    return {"best_epoch": history["epoch"][best], "best_val_loss": history["val_loss"][best],
            "best_val_acc": history["val_acc"][best], "final_val_loss": history["val_loss"][-1],
            "final_val_acc": history["val_acc"][-1]}
