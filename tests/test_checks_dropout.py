"""The self-checks of lessons 04 and 05: right answers pass, the stated mistakes are caught."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from utils.checks.dropout import (
    check_dropout2d_prediction,
    check_inplace_prediction,
    check_keep_prob,
    check_mc_average,
    check_memorised,
    check_my_dropout,
    check_placement,
    inplace_after_works,
    memorised_fraction,
)
from utils.dropout import make_dataset, make_model, train


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("COURSE_LANGUAGE", "en")


def test_unanswered_is_none():
    assert check_keep_prob(None, None) is None
    assert check_dropout2d_prediction(None, None) is None
    assert check_my_dropout(None) is None
    assert check_inplace_prediction(None) is None
    assert check_placement(None) is None


def test_keep_prob():
    assert check_keep_prob(nn.Dropout(0.1), 1 / 0.9) is True
    assert check_keep_prob(nn.Dropout(0.9), 1 / 0.1) is False      # keep-probability mix-up
    assert check_keep_prob(nn.Dropout(0.1), 1.0) is False          # forgot the scaling
    assert check_keep_prob(nn.ReLU(), 1 / 0.9) is False


def test_dropout2d_prediction():
    assert check_dropout2d_prediction(0.25, 4) is True
    assert check_dropout2d_prediction(0.25, 0) is False   # "Dropout2d drops pixels"
    assert check_dropout2d_prediction(0.75, 12) is False  # keep/drop mix-up


def reference(x, p, training=True):
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    return x * (torch.rand(x.shape) >= p) / (1 - p)


def test_my_dropout_edges():
    assert check_my_dropout(reference) is True
    assert check_my_dropout(lambda x, p, training=True: F.dropout(x, p, training)) is True
    nan_at_one = lambda x, p, training=True: x if not training else x * (torch.rand(x.shape) >= p) / (1 - p)  # noqa: E731
    assert check_my_dropout(nan_at_one) is False
    unscaled = lambda x, p, training=True: x if not training or p == 0 else x * (torch.rand(x.shape) >= p)  # noqa: E731
    assert check_my_dropout(unscaled) is False
    ignores_training = lambda x, p, training=True: F.dropout(x, p, True)  # noqa: E731
    assert check_my_dropout(ignores_training) is False
    keep_prob = lambda x, p, training=True: reference(x, 1 - p, training) if p not in (0, 1) else reference(x, p, training)  # noqa: E731
    assert check_my_dropout(keep_prob) is False
    torch.manual_seed(0)
    fixed = torch.rand(200_000) >= 0.3
    same_mask = lambda x, p, training=True: reference(x, p, training) if p in (0, 1) or not training else x * fixed / (1 - p)  # noqa: E731
    assert check_my_dropout(same_mask) is False


def _backward_after(layer) -> bool:
    """Ground truth from PyTorch itself: does backward survive in-place dropout right after ``layer``?"""
    y = nn.Dropout(0.5, inplace=True)(layer(torch.randn(4, 5, requires_grad=True)))
    try:
        y.sum().backward()
    except RuntimeError:
        return False
    return True


def test_inplace_prediction_follows_pytorch():
    truth = {"Softmax": _backward_after(nn.Softmax(dim=1)), "Tanh": _backward_after(nn.Tanh())}
    assert truth == {name: inplace_after_works(name) for name in truth}
    assert check_inplace_prediction(truth) is True
    assert check_inplace_prediction({"Softmax": not truth["Softmax"], "Tanh": truth["Tanh"]}) is False
    assert check_inplace_prediction({"Tanh": truth["Tanh"]}) is False


def test_inplace_exercise_asks_nothing_the_maths_cannot_decide():
    """ELU's derivative can be written with its output (y + α for x < 0), yet PyTorch's nn.ELU reads its
    input, so in-place dropout after it works: the exercise must not ask a student to predict that.
    Every layer it asks about fails after in-place dropout, as its output-based derivative suggests."""
    assert _backward_after(nn.ELU()) is True  # the implementation fact, kept out of the exercise
    assert check_inplace_prediction({"Softmax": False, "Tanh": False}) is True


@pytest.fixture(scope="module")
def trained():
    train_set, val_set = make_dataset(0, n_train=100, n_val=200)
    models = {}
    for p in (0.0, 0.5):
        models[p] = make_model(p, 0, hidden=32)
        train(models[p], train_set, val_set, epochs=100)
    return models, train_set, val_set


class Memoriser(nn.Module):
    """A stand-in for a trained model: on the training points it predicts their (possibly flipped)
    label for the first ``learned`` flipped points and the other label for the rest."""

    def __init__(self, train_set, learned: int):
        super().__init__()
        flipped = train_set.flipped.nonzero().flatten()
        target = train_set.y.clone()
        target[flipped[learned:]] = 1 - target[flipped[learned:]]
        self.x, self.target = train_set.x, target

    def forward(self, x):
        rows = torch.cdist(x, self.x).argmin(dim=1)
        return F.one_hot(self.target[rows], 2).float()


def test_memorised(trained):
    models, train_set, _ = trained
    n = int(train_set.flipped.sum())
    many, few = Memoriser(train_set, (n * 3) // 4), Memoriser(train_set, n // 4)
    truth = (memorised_fraction(many, train_set), memorised_fraction(few, train_set))
    assert truth == ((n * 3) // 4 / n, (n // 4) / n)
    assert check_memorised(many, few, train_set, truth) is True
    assert check_memorised(many, few, train_set, truth[::-1]) is False  # the wrong order
    assert check_memorised(many, few, train_set, (50, 10)) is False  # percentages
    assert check_memorised(many, few, train_set, "half") is False
    # the real models of the fixture run too (whatever their fractions)
    real = (memorised_fraction(models[0.0], train_set), memorised_fraction(models[0.5], train_set))
    assert check_memorised(models[0.0], models[0.5], train_set, real) is True


def test_memorised_accepts_a_prediction_not_only_the_measured_value(trained):
    """05 ex. 1 says "predict, then run": a reasonable prediction in the right order passes, whatever
    the exact measured fractions (the old check wanted the measurement to within half a point)."""
    _, train_set, _ = trained
    n = int(train_set.flipped.sum())
    many, few = Memoriser(train_set, n // 2), Memoriser(train_set, n // 7)
    for guess in ((0.5, 0.2), (0.7, 0.0), (0.3, 0.1)):
        assert check_memorised(many, few, train_set, guess) is True, guess


def mc(model, x, n, restore=True):
    model.train()
    with torch.no_grad():
        probs = torch.stack([F.softmax(model(x), dim=1) for _ in range(n)]).mean(dim=0)
    if restore:
        model.eval()
    return probs


def test_mc_average_enforces_fifty_passes_and_eval_mode(trained):
    models, _, val_set = trained
    model = models[0.5]
    torch.manual_seed(3)
    assert check_mc_average(mc(model, val_set.x, 50), model, val_set.x) is True
    assert check_mc_average(mc(model, val_set.x, 5), model, val_set.x) is False      # 5 passes, not 50
    left_in_train = mc(model, val_set.x, 50, restore=False)
    assert check_mc_average(left_in_train, model, val_set.x) is False                 # model left in train()
    model.eval()
    with torch.no_grad():
        eval_probs = F.softmax(model(val_set.x), dim=1)
    assert check_mc_average(eval_probs, model, val_set.x) is False                    # dropout never on
    assert check_mc_average(torch.ones(3, 2), model, val_set.x) is False
    assert not model.training


def test_placement():
    good = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 64), nn.ReLU(),
                         nn.Dropout(0.3), nn.Linear(64, 2))
    assert check_placement(good) is True
    on_output = nn.Sequential(*good, nn.Dropout(0.3))
    assert check_placement(on_output) is False
    on_input = nn.Sequential(nn.Dropout(0.3), *good)
    assert check_placement(on_input) is False
    missing = nn.Sequential(*list(good)[:5], nn.Linear(64, 2))
    assert check_placement(missing) is False
    wrong_p = nn.Sequential(*[nn.Dropout(0.5) if isinstance(m, nn.Dropout) else m for m in good])
    assert check_placement(wrong_p) is False


def test_placement_accepts_dropout_just_before_the_relu():
    """Linear → Dropout → ReLU computes what Linear → ReLU → Dropout computes, with the same mask:
    05 ex. 3 must accept it (the old check rejected it). Checked with PyTorch on the same weights."""
    after = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 64), nn.ReLU(),
                          nn.Dropout(0.3), nn.Linear(64, 2))
    before = nn.Sequential(after[0], nn.Dropout(0.3), after[1], after[3], nn.Dropout(0.3), after[4], after[6])
    x = torch.randn(16, 2)
    torch.manual_seed(7)
    y_after = after(x)
    torch.manual_seed(7)
    assert torch.allclose(before(x), y_after)  # the same function, mask for mask
    assert check_placement(before) is True
    assert check_placement(after) is True
    mixed = nn.Sequential(after[0], nn.Dropout(0.3), after[1], after[3], after[4], nn.Dropout(0.3), after[6])
    assert check_placement(mixed) is True
    before_linear = nn.Sequential(after[0], after[1], nn.Dropout(0.3), after[3], after[4], after[6], nn.Dropout(0.3))
    assert check_placement(before_linear) is False
