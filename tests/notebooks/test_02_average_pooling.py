"""Lesson 02's claims, checked on the values the executed notebook computed (in its own kernel).

Expected values come from PyTorch (or TensorBoard's own reader) in this process, never from the
notebook's printed output.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn

from utils.images import image_names, load_images
from utils.pooling import adaptive_windows

pytestmark = pytest.mark.notebooks

FIVE = [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]]


@pytest.fixture(scope="module")
def run(notebook_runs):
    return notebook_runs("02_average_pooling")


def pytorch_divisors(n, k, s, p, ceil_mode, count_include_pad=True):
    """What PyTorch divides each window by: window sums of ones ÷ their average."""
    ones = torch.ones(1, 1, n, n, dtype=torch.float64)
    sums = F.avg_pool2d(ones, k, s, p, ceil_mode, count_include_pad, divisor_override=1)
    return (sums / F.avg_pool2d(ones, k, s, p, ceil_mode, count_include_pad))[0, 0]


def test_the_input_is_the_original_5x5_example(run):
    assert run.value("x.shape") == [1, 1, 5, 5] and run.value("x[0, 0]") == FIVE


def test_by_hand_equals_avgpool_on_the_5x5_example(run):
    x = torch.tensor(FIVE, dtype=torch.float32)[None, None]
    expected = F.avg_pool2d(x, 3, ceil_mode=True)[0, 0]
    torch.testing.assert_close(torch.tensor(run.value("by_hand")), expected)
    torch.testing.assert_close(torch.tensor(run.value("avg_pool(x)[0, 0]")), expected)
    assert run.value("max_pool(x)[0, 0]") == F.max_pool2d(x, 3, ceil_mode=True)[0, 0].tolist()
    divisors = pytorch_divisors(5, 3, 3, 0, True)
    assert run.value("divisors") == divisors.tolist()
    assert divisors.tolist() == [[9, 6], [6, 4]]  # the text: ÷9, ÷6, ÷6, ÷4
    torch.testing.assert_close(expected, torch.tensor([[10 / 9, 8 / 6], [13 / 6, 4 / 4]]))


@st.composite
def configs(draw):
    k = draw(st.integers(1, 4))
    return dict(n=draw(st.integers(1, 8)), k=k, s=draw(st.integers(1, 4)), p=draw(st.integers(0, k // 2)),
                ceil=draw(st.booleans()), include=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(configs())
def test_the_loop_is_average_pooling(run, c):
    """The notebook's avg_pool_by_hand equals F.avg_pool2d wherever PyTorch accepts the layer."""
    grid = torch.randint(0, 10, (c["n"], c["n"]), generator=torch.Generator().manual_seed(c["seed"])).float()
    try:
        expected = F.avg_pool2d(grid[None, None], c["k"], c["s"], c["p"], c["ceil"], c["include"])[0, 0]
    except RuntimeError:
        return  # PyTorch refuses the layer: nothing to compare
    if expected.shape[0] != expected.shape[1]:
        return
    out, divs = run.value(
        f"avg_pool_by_hand(torch.tensor({grid.tolist()}), {c['k']}, {c['s']}, {c['p']}, "
        f"{expected.shape[0]}, count_include_pad={c['include']})"
    )
    torch.testing.assert_close(torch.tensor(out), expected)
    assert divs == pytorch_divisors(c["n"], c["k"], c["s"], c["p"], c["ceil"], c["include"]).tolist()


def test_counted_padding_darkens_the_border(run):
    white = torch.ones(1, 1, 4, 4)
    counted = F.avg_pool2d(white, 3, 1, 1)[0, 0]
    torch.testing.assert_close(counted[[0, 0, 1], [0, 1, 1]], torch.tensor([4 / 9, 6 / 9, 1.0]))
    assert (F.avg_pool2d(white, 3, 1, 1, count_include_pad=False) == 1).all()
    by_hand = run.value("avg_pool_by_hand(white, 3, 1, 1, 4, count_include_pad=True)")[0]
    torch.testing.assert_close(torch.tensor(by_hand), counted)
    assert run.value("out") == [[1.0] * 4] * 4  # the cell's last loop pass: count_include_pad=False


def test_images_and_the_claims_about_them(run):
    images = load_images()
    assert run.value("list(images.shape)") == list(images.shape)
    assert math.isclose(run.value("images.sum().item()"), images.sum().item(), rel_tol=1e-6)
    names = image_names()
    assert names[0] == "pattern_checkerboard_01.png" and names[17] == "pattern_text_dark.png"
    board, text = images[0][:, :64, :64], images[17][:, :64, :64]
    assert (F.max_pool2d(board, 2) == 1).all() and (F.avg_pool2d(board, 2) == 0.5).all()

    def dark(t):
        return (t < 0.5).float().mean().item()

    assert dark(F.max_pool2d(text, 2)) < 0.3 * dark(text)  # strokes fade or vanish under max
    assert dark(F.avg_pool2d(text, 2)) > 2 * dark(F.max_pool2d(text, 2))  # kept, greyer, under average
    assert ((F.avg_pool2d(text, 2) > 0) & (F.avg_pool2d(text, 2) < 1)).any()


def test_logs_avgpool_one_event_file_two_tags_one_step_per_batch(run):
    path = Path(run.value("str(run.path)"))
    assert path.name == "logs_avgpool"
    assert len(list(path.glob("events.out.tfevents.*"))) == 1
    acc = EventAccumulator(str(path), size_guidance={"images": 0})
    acc.Reload()
    assert sorted(acc.Tags()["images"]) == ["input", "output"]
    images = load_images()
    steps = list(range(math.ceil(len(images) / 4)))
    for tag in ("input", "output"):
        assert [e.step for e in acc.Images(tag)] == steps
    # step 0: the first image of the output grid is AvgPool2d(3) of the first sample image
    first = acc.Images("output")[0]
    grid = np.asarray(Image.open(io.BytesIO(first.encoded_image_string)).convert("RGB")) / 255
    pooled = F.avg_pool2d(images[:1], 3)[0].permute(1, 2, 0).numpy()
    h, w = pooled.shape[:2]
    np.testing.assert_allclose(grid[2:2 + h, 2:2 + w], pooled, atol=1 / 255 + 1e-6)
    # ... the 1-pixel checkerboard: white under max pooling, grey under average pooling
    assert (F.max_pool2d(images[0], 3) == 1).all()
    assert ((F.avg_pool2d(images[0], 3) > 0.4) & (F.avg_pool2d(images[0], 3) < 0.6)).all()


def pytorch_adaptive_windows(n, o):
    weights = F.adaptive_avg_pool1d(torch.eye(n, dtype=torch.float64)[None], o)[0]
    return [(int(c[0]), int(c[-1]) + 1) for c in (weights[:, j].nonzero().flatten() for j in range(o))]


def test_adaptive_pooling_claims(run):
    assert run.value("windows") == [list(w) for w in pytorch_adaptive_windows(10, 4)]
    assert pytorch_adaptive_windows(10, 4) == [(0, 3), (2, 5), (5, 8), (7, 10)]
    for n in range(1, 25):
        for o in range(1, n + 1):
            assert adaptive_windows(n, o) == pytorch_adaptive_windows(n, o), (n, o)
    fm = torch.rand(1, 8, 14, 14)
    assert F.avg_pool2d(fm, 7).shape == (1, 8, 2, 2)
    assert nn.AdaptiveAvgPool2d(2)(torch.rand(1, 8, 20, 20)).shape == (1, 8, 2, 2)
    torch.testing.assert_close(nn.AdaptiveAvgPool2d(1)(fm), fm.mean(dim=(2, 3), keepdim=True))
    torch.testing.assert_close(nn.AdaptiveMaxPool2d(1)(fm), fm.amax(dim=(2, 3), keepdim=True))
    assert run.value("nn.AdaptiveAvgPool1d(4)(row)[0, 0]") == run.value("means")


def test_no_avgpool_setting_reproduces_adaptive_10_to_4():
    x = torch.rand(1, 1, 10, generator=torch.Generator().manual_seed(0))
    target = F.adaptive_avg_pool1d(x, 4)
    for k in range(1, 11):
        for s in range(1, 11):
            for p in range(k // 2 + 1):
                for ceil in (False, True):
                    for include in (False, True):
                        try:
                            out = F.avg_pool1d(x, k, s, p, ceil, include)
                        except RuntimeError:
                            continue
                        assert not (out.shape == target.shape and torch.allclose(out, target))


def test_deep_dive_claims(run):
    x = torch.tensor(FIVE, dtype=torch.float32)[None, None]
    # the overhang never counts: the 6×6 example
    assert pytorch_divisors(6, 3, 2, 1, True, True)[-1, -1] == 4
    assert pytorch_divisors(6, 3, 2, 1, True, False)[-1, -1] == 1
    # divisor_override=1 is sum pooling; 0 raises; repr hides ceil_mode
    sums = F.avg_pool2d(x, 3, ceil_mode=True, divisor_override=1)[0, 0]
    windows = [x[0, 0, r:r + 3, c:c + 3].sum().item() for r in (0, 3) for c in (0, 3)]
    assert sums.flatten().tolist() == windows
    with pytest.raises(RuntimeError):
        F.avg_pool2d(x, 3, divisor_override=0)
    assert repr(nn.AvgPool2d(3)) == repr(nn.AvgPool2d(3, ceil_mode=True))
    assert repr(nn.AvgPool2d(3)) == repr(nn.AvgPool2d(3, count_include_pad=False))
    assert repr(nn.AvgPool2d(3)) == repr(nn.AvgPool2d(3, divisor_override=1))
    assert run.value("nn.AvgPool2d(3, ceil_mode=True)(x).shape") != run.value("nn.AvgPool2d(3)(x).shape")
    # gradient: 1/divisor to every cell of its window
    divisors = pytorch_divisors(5, 3, 3, 0, True)
    expected = (1 / divisors).repeat_interleave(3, 0).repeat_interleave(3, 1)[:5, :5].float()
    torch.testing.assert_close(torch.tensor(run.value("x_grad.grad[0, 0]")), expected)
    # integers on the CPU: int64 truncates toward zero; uint8 raises; max pooling accepts them
    avg = F.avg_pool2d(x, 3, ceil_mode=True)
    assert torch.equal(F.avg_pool2d(x.long(), 3, ceil_mode=True), torch.trunc(avg).long())
    assert torch.equal(F.avg_pool2d(-x.long(), 3, ceil_mode=True), torch.trunc(-avg).long())
    assert F.avg_pool2d(-x.long(), 3, ceil_mode=True)[0, 0, 1, 0] == -2  # not floor's −3
    for dtype in (torch.uint8, torch.int8, torch.int16, torch.int32, torch.bool):
        with pytest.raises(NotImplementedError):
            F.avg_pool2d(x.to(dtype), 3, ceil_mode=True)
    for dtype in (torch.uint8, torch.int8, torch.int16, torch.int32):
        assert F.max_pool2d(x.to(dtype), 3, ceil_mode=True).dtype == dtype
    assert run.value("str(as_float.dtype)") == "torch.float32"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_integer_average_pooling_raises_on_cuda():
    with pytest.raises(RuntimeError):
        F.avg_pool2d(torch.ones(1, 1, 4, 4, dtype=torch.int64, device="cuda"), 2)


# -- the pair viewer (issue 16) ------------------------------------------------------------------------
def test_logs_avgpool_carries_its_layer_for_the_pairs_tab(run):
    from utils.tensorboard_logging import pairs_summary

    summary = pairs_summary()
    acc = EventAccumulator(run.value("str(run.path)"), size_guidance={"tensors": 0}).Reload()
    content = json.loads(acc.SummaryMetadata(summary.LAYER_TAG).plugin_data.content)
    assert content["layer"] == json.loads(json.dumps(summary.describe_layer(nn.AvgPool2d(kernel_size=3))))


def test_pair_viewer_divisor_counts_padding_not_the_overhang(run):
    """'Hover the bottom-right pixel: the divisor counts the padding but not the overhang.'"""
    assert run.value("str(padded_pool)") == str(nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True))
    ones = torch.ones(1, 1, 128, 128)
    corner = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)(ones)[0, 0, -1, -1].item()
    # its 3×3 window: 1 input cell, 3 padding cells, 5 overhang cells; PyTorch divides by 4
    assert corner == pytest.approx(1 / 4)
    assert nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)(ones)[0, 0, -1, -1] == 1
