"""utils.checks.max_pooling: right answers pass, typical wrong answers fail, placeholders are None.

Every right answer here is computed with PyTorch (or the DataLoader) in the test itself.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader

from utils.checks import max_pooling as mp


def changed(pool) -> set[tuple[int, int]]:
    x = torch.tensor(mp.SHIFT_GRID, dtype=torch.float32)[None, None]
    moved = torch.roll(x, 1, dims=-1)
    moved[..., 0] = 0  # a 0 enters on the left, the last column leaves
    diff = pool(x)[0, 0] != pool(moved)[0, 0]
    return {tuple(rc) for rc in diff.nonzero().tolist()}


def test_shifted_moves_one_pixel_right_with_a_zero_entering():
    x = torch.tensor(mp.SHIFT_GRID, dtype=torch.float32)
    moved = mp.shifted(mp.SHIFT_GRID)[0, 0]
    assert torch.equal(moved[:, 1:], x[:, :-1]) and (moved[:, 0] == 0).all()


def test_shift_exercise_separates_stride_2_from_stride_1():
    right2, right1 = changed(nn.MaxPool2d(2)), changed(nn.MaxPool2d(2, stride=1))
    assert right2 and right2 != right1  # the exercise's point: overlapping windows notice more
    x = torch.tensor(mp.SHIFT_GRID, dtype=torch.float32)[None, None]
    assert changed(nn.MaxPool2d(2)) != {(i, j) for i in range(2) for j in range(2)}  # something stays
    assert mp.check_shift(right2, right1) is True
    assert mp.check_shift(list(right2), [list(c) for c in right1]) is True  # any iterable
    assert mp.check_shift(right2, right2) is False  # "stride 1 behaves like stride 2"
    assert mp.check_shift(right1, right1) is False
    assert mp.check_shift(set(), set()) is False  # "max pooling ignores shifts"
    everything = {(i, j) for i in range(3) for j in range(3)}
    assert mp.check_shift({(i, j) for i in range(2) for j in range(2)}, everything) is False
    assert mp.check_shift(right2, everything) is False  # "with stride 1 everything changes"
    assert mp.check_shift(right2, set()) is False  # "overlap makes it more robust"
    assert mp.check_shift("(1, 0)", right1) is False  # malformed, no exception
    assert mp.check_shift(None, right1) is None
    assert mp.check_shift(right2, ...) is None
    # what the solution says: with stride 1 the whole output moves one column with the input
    pool = nn.MaxPool2d(2, stride=1)
    assert torch.equal(pool(mp.shifted(mp.SHIFT_GRID))[..., 1:], pool(x)[..., :-1])


def test_shift_messages_in_both_languages(monkeypatch, capsys):
    right2, right1 = changed(nn.MaxPool2d(2)), changed(nn.MaxPool2d(2, stride=1))
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    mp.check_shift(right2, right2)
    assert "3×3" in capsys.readouterr().out
    mp.check_shift(right2, right1)
    assert f"9 个中变了 {len(right1)} 个" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("layer", "ok"),
    [
        (nn.MaxPool2d(2, ceil_mode=True), True),
        (nn.MaxPool2d(3, stride=2, padding=1), True),
        (nn.AvgPool2d(2, ceil_mode=True), True),
        (nn.MaxPool2d(2), False),  # 27 -> 13
        (nn.MaxPool2d(3, stride=2), False),  # 28 -> 13
        (nn.MaxPool2d(3, ceil_mode=True), False),  # 28 -> 10
        (nn.MaxPool2d(2, padding=2), False),  # PyTorch refuses: reported, not raised
        ("MaxPool2d(2)", False),
    ],
)
def test_same_size_layer_is_judged_by_pytorch(layer, ok):
    if isinstance(layer, nn.Module) and ok:
        for n in mp.SAME_SIZE_INPUTS:
            assert layer(torch.zeros(1, 1, n, n)).shape[-2:] == (mp.SAME_SIZE_TARGET,) * 2
    assert mp.check_same_size_layer(layer) is ok


def test_same_size_layer_placeholder():
    assert mp.check_same_size_layer(None) is None


def test_network_shape():
    expected = tuple(mp.exercise_network()(torch.zeros(mp.NETWORK_INPUT)).shape)
    assert mp.check_network_shape(expected) is True
    assert mp.check_network_shape(list(expected)) is True
    n, c, h, w = expected
    assert mp.check_network_shape((n, c, h + 1, w + 1)) is False  # ceil instead of floor
    assert mp.check_network_shape((n, 3, h, w)) is False  # channels unchanged by the convs
    assert mp.check_network_shape((c, h, w)) is False
    assert mp.check_network_shape("abc") is False
    assert mp.check_network_shape(None) is None


def test_network_pools_like_the_original_lesson():
    pools = [m for m in mp.exercise_network() if isinstance(m, nn.MaxPool2d)]
    assert pools and all(p.kernel_size == 3 and not p.ceil_mode for p in pools)


def test_cifar_steps():
    sizes = [len(b) for b in DataLoader(range(mp.CIFAR_TEST_IMAGES), batch_size=mp.CIFAR_BATCH)]
    right = (len(sizes), len(sizes) - 1, sizes[-1])
    assert mp.check_cifar_steps(*right) is True
    assert mp.check_cifar_steps(len(sizes) - 1, len(sizes) - 2, mp.CIFAR_BATCH) is False  # drop_last
    assert mp.check_cifar_steps(right[0], right[0], right[2]) is False  # steps start at 0
    assert mp.check_cifar_steps(right[0], right[1], mp.CIFAR_BATCH) is False
    assert mp.check_cifar_steps(None, None, None) is None


@settings(deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), min_size=4, max_size=4), min_size=4, max_size=4))
def test_changed_outputs_agrees_with_pytorch_on_any_grid(grid):
    global_grid = mp.SHIFT_GRID
    try:
        mp.SHIFT_GRID = grid  # changed() reads mp.SHIFT_GRID
        for pool in (nn.MaxPool2d(2), nn.MaxPool2d(2, stride=1)):
            assert mp.changed_outputs(pool, grid) == changed(pool)
    finally:
        mp.SHIFT_GRID = global_grid


def test_messages_in_both_languages(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    mp.check_cifar_steps(1, 0, 1)
    assert "还不对" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_LANGUAGE", "en")
    mp.check_cifar_steps(1, 0, 1)
    assert "Not yet" in capsys.readouterr().out


@pytest.mark.parametrize("language", ["en", "zh"])
def test_same_size_hint_works_when_applied_literally(language, monkeypatch, capsys):
    """The hint for 'floor mode drops the 27th row' names a layer; that layer must pass, in both
    languages (the old hint said "ceil_mode=True (or a padding)": no padding works with kernel 2)."""
    import re

    monkeypatch.setenv("COURSE_LANGUAGE", language)
    assert mp.check_same_size_layer(nn.MaxPool2d(2)) is False
    hint = capsys.readouterr().out
    suggested = re.findall(r"nn\.(?:Max|Avg)Pool2d\([^)]*\)", hint)
    assert suggested, f"the hint names no layer to try: {hint}"
    for expression in suggested:
        layer = eval(expression, {"nn": nn})  # noqa: S307 - our own hint text
        assert mp.check_same_size_layer(layer) is True, expression
    for padding in (1,):  # the hint must not send a student to padding with kernel 2
        assert mp.check_same_size_layer(nn.MaxPool2d(2, padding=padding)) is False
    capsys.readouterr()
