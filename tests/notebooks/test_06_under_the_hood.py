"""Lesson 06's claims, checked on the executed notebook, in its own kernel, against PyTorch.

The lesson's own functions (``max_pool_plane``, ``avg_pool_plane``, ``over_batch``,
``dropout_loops``, ``MyDropout``, ``max_pool_fast``) are fetched from the kernel and run there on
many random inputs and configurations; PyTorch computes every expected value on the same input.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.overrides import TorchFunctionMode

from utils import scratch

pytestmark = pytest.mark.notebooks

LESSON = Path(__file__).resolve().parents[2] / "notebooks" / "06_under_the_hood.ipynb"
EXAMPLES = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip

# Defined once in the notebook's kernel: each returns plain Python values for .value().
HELPERS = '''
def __t06_input(shape, ties, seed):
    g = torch.Generator().manual_seed(seed)
    if ties:  # small integers: many ties
        return torch.randint(0, 3, shape, generator=g).float()
    return torch.randn(shape, generator=g)

def __t06_max(shape, k, s, p, ties, seed):
    x = __t06_input(shape, ties, seed)
    ref = F.max_pool2d(x, k, s, p)
    loops = over_batch(max_pool_plane, x, k, s=s, p=p)
    fast = max_pool_fast(x, k, s, p)
    result = {"loops": torch.equal(loops, ref), "fast": torch.equal(fast, ref), "grad": True}
    if not ties:  # with ties Tensor.max() splits the gradient (exercise 1); PyTorch does not
        mine, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
        over_batch(max_pool_plane, mine, k, s=s, p=p).sum().backward()
        F.max_pool2d(theirs, k, s, p).sum().backward()
        result["grad"] = torch.equal(mine.grad, theirs.grad)
    return result

def __t06_avg(shape, k, s, p, include, seed):
    x = __t06_input(shape, False, seed)
    mine, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    got = over_batch(avg_pool_plane, mine, k, s=s, p=p, count_include_pad=include)
    ref = F.avg_pool2d(theirs, k, s, p, count_include_pad=include)
    got.sum().backward()
    ref.sum().backward()
    return {"values": got.shape == ref.shape and torch.allclose(got, ref, atol=1e-6),
            "grad": torch.allclose(mine.grad, theirs.grad, atol=1e-6)}

def __t06_dropout(n, p, seed):
    torch.manual_seed(seed)
    x = (torch.rand(n) + 0.5).requires_grad_()
    out = dropout_loops(x, p)
    out.sum().backward()
    dropped = out == 0
    scale = 1 / (1 - p) if p < 1 else 0.0
    layer = MyDropout(p)
    return {"zero_or_scaled": bool((dropped | torch.isclose(out, x * scale)).all()),
            "fraction": dropped.float().mean().item(),
            "grad_is_mask": torch.equal(x.grad, (~dropped) * torch.tensor(scale)),
            "p1_zeros": p < 1 or torch.equal(out, torch.zeros_like(x)),
            "eval_identity": layer.eval()(x) is x,
            "train_differs": layer.train()(x) is not x}
'''


@pytest.fixture(scope="module")
def run(notebook_runs):
    executed = notebook_runs("06_under_the_hood")
    executed.run(HELPERS)
    return executed


@st.composite
def pool_configs(draw, ties=True):
    k = draw(st.integers(1, 4))
    p = draw(st.integers(0, k // 2))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)),
             draw(st.integers(max(1, k - 2 * p), 8)), draw(st.integers(max(1, k - 2 * p), 8)))  # fmt: skip
    return shape, k, draw(st.integers(1, 3)), p, draw(st.booleans()) if ties else False


@EXAMPLES
@given(cfg=pool_configs(), seed=st.integers(0, 2**31 - 1))
def test_max_pool_loops_and_fast_equal_pytorch(run, cfg, seed):
    shape, k, s, p, ties = cfg
    result = run.value(f"__t06_max({shape}, {k}, {s}, {p}, {ties}, {seed})")
    assert result == {"loops": True, "fast": True, "grad": True}, cfg


@EXAMPLES
@given(cfg=pool_configs(ties=False), include=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_avg_pool_loops_equal_pytorch_with_both_divisors(run, cfg, include, seed):
    shape, k, s, p, _ = cfg
    assert run.value(f"__t06_avg({shape}, {k}, {s}, {p}, {include}, {seed})") == {
        "values": True, "grad": True}, (cfg, include)  # fmt: skip


def test_sweep_every_small_configuration_on_ties(run):
    """The lesson's old in-page sweep: kernel 1–3, stride 1–3, every legal padding, ties."""
    configs = [(k, s, p) for k in (1, 2, 3) for s in (1, 2, 3) for p in range(k // 2 + 1)]
    results = run.value(f"[__t06_max((1, 2, 6, 7), k, s, p, True, 0) for k, s, p in {configs}]")
    bad = [c for c, r in zip(configs, results, strict=True) if not (r["loops"] and r["fast"])]
    assert not bad
    avg = run.value(f"[__t06_avg((1, 2, 6, 7), k, s, p, i, 0) for k, s, p in {configs} "
                    "for i in (True, False)]")  # fmt: skip
    assert all(r == {"values": True, "grad": True} for r in avg)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.8, 1.0])
def test_dropout_loops_and_module(run, p):
    n = 2000
    r = run.value(f"__t06_dropout({n}, {p}, 3)")
    assert r["zero_or_scaled"] and r["grad_is_mask"] and r["p1_zeros"]
    assert r["eval_identity"] and (r["train_differs"] or p == 0)
    assert abs(r["fraction"] - p) <= 5 * math.sqrt(p * (1 - p) / n)


def test_section_1_outputs(run):
    assert run.value("torch.equal(max_pool_plane(X, 3, s=1), F.max_pool2d(X[None, None], 3, 1)[0, 0])")
    assert run.value("torch.equal(over_batch(max_pool_plane, batch, 3, s=2, p=1), "
                     "F.max_pool2d(batch, 3, stride=2, padding=1))")  # fmt: skip


def test_section_2_top_left_window(run):
    """'covers 4 real cells (1, 2, 0, 1, sum 4) ... divides by 9 ... and by 4, hence 0.44 and 1.0'."""
    X = torch.tensor(run.value("X"))[None, None]
    real = F.avg_pool2d(torch.ones_like(X), 3, 2, 1, count_include_pad=False, divisor_override=1)
    assert real[0, 0, 0, 0] == 4 and X[0, 0, :2, :2].flatten().tolist() == [1, 2, 0, 1]
    assert F.avg_pool2d(X, 3, 2, 1)[0, 0, 0, 0].item() == pytest.approx(4 / 9)
    assert F.avg_pool2d(X, 3, 2, 1, count_include_pad=False)[0, 0, 0, 0].item() == 1.0
    for include in (True, False):
        assert run.value(f"torch.allclose(avg_pool_plane(X, 3, s=2, p=1, count_include_pad={include}), "
                         f"F.avg_pool2d(X[None, None], 3, 2, 1, count_include_pad={include})[0, 0])")


def test_section_3_ones_become_zero_or_two_and_eval_returns_the_input(run):
    n = 1000  # the lesson's torch.ones(2, 500)
    r = run.value("[(sorted(set(l.train()(o).flatten().tolist())), l.train()(o).mean().item(), "
                  "l.eval()(o) is o) for o in [torch.ones(2, 500)] "
                  "for l in (MyDropout(0.5), nn.Dropout(0.5))]")  # fmt: skip
    for values, mean, same in r:
        assert values == [0.0, 2.0] and same
        assert abs(mean - 1) < 5 / math.sqrt(n)  # sd of the mean of n values 0/2 is 1/sqrt(n)


def test_section_4_each_cell_collects_one_per_window_it_wins(run):
    grad = torch.tensor(run.value("mine.grad"))
    x = torch.tensor(run.value("theirs.detach()"))
    _, indices = F.max_pool2d(x, 2, stride=1, return_indices=True)
    wins = torch.bincount(indices.flatten(), minlength=x.numel()).float()
    assert torch.equal(grad.flatten(), wins) and wins.max() > 1  # overlapping windows: several wins


def test_section_5_the_view(run):
    assert run.value("view.stride()") == [12, 2, 6, 1]
    assert run.value("view.data_ptr() == image.data_ptr() and torch.equal(view, windows)")
    assert run.value("all(14 in w for w in view.reshape(4, 9).tolist())")  # cell 14, all four windows
    titles = run.value("[t.get_text() for f in fig.subfigs for t in f.texts]")
    assert any("as_strided" in t for t in titles)  # "The picture builds its view with as_strided"
    assert run.value("torch.equal(max_pool_fast(batch, 3, 2, 1), F.max_pool2d(batch, 3, 2, 1))")


def test_section_5_scratch_bit_for_bit(run):
    assert run.value("torch.equal(ours_max[0], ref_max[0]) and torch.equal(ours_max[1], ref_max[1])")
    assert run.value("torch.equal(ours_drop, ref_drop)")
    diff = run.value("(ours_avg - ref_avg).abs().max().item()")
    assert diff < 1e-6  # "up to rounding"


class Calls(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.names = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.add(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize(("call", "expected"), [
    (lambda x: scratch.max_pool2d(x, 3, 2, 1, return_indices=True), {"where", "pad"}),
    (lambda x: scratch.avg_pool2d(x, 3, 2, 1), {"pad"}),
    (lambda x: scratch.dropout(x, 0.3), set()),
])  # fmt: skip
def test_scratch_uses_no_pooling_or_dropout_function(call, expected):
    """'built without any PyTorch pooling or dropout function'; 'pads once', 'torch.where'."""
    calls = Calls()
    with calls:
        call(torch.randn(2, 3, 9, 9))
    assert not [n for n in calls.names if "pool" in n or "dropout" in n], calls.names
    assert expected <= calls.names, calls.names


def test_section_6_timing_claims(run):
    rows = run.value("[(m.task_spec.sub_label, m.task_spec.description, m.median) "
                     "for m in measurements]")  # fmt: skip
    t = {(label, name): median for label, name, median in rows}
    small, large = "(1, 3, 16, 16)", "(8, 16, 64, 64)"
    for task in ("max pool", "avg pool", "dropout"):
        assert t[(f"{task} {small}", "loops")] > 100 * t[(f"{task} {small}", "PyTorch")]  # hundreds
        assert (f"{task} {large}", "loops") not in t
        assert t[(f"{task} {large}", "vectorised")] < 4 * t[(f"{task} {large}", "PyTorch")]
    for task in ("max pool", "avg pool"):  # tiny input: the vectorised pooling loses
        assert t[(f"{task} {small}", "vectorised")] > 2 * t[(f"{task} {small}", "PyTorch")]
    ratio = t[(f"dropout {large}", "vectorised")] / t[(f"dropout {large}", "PyTorch")]
    assert 0.5 < ratio < 2  # about the same time


def test_deep_dive_nan_and_padding_only_window(run):
    nan = torch.tensor([[[[math.nan, 1.0, math.nan, 2.0]]]])
    values, indices = F.max_pool2d(nan, (1, 4), return_indices=True)
    assert values.isnan().all() and indices.item() == 2  # the LAST NaN
    assert scratch.max_pool2d(nan, (1, 4), return_indices=True)[1].item() == 2
    x = torch.tensor(run.value("x"))
    config = dict(kernel_size=2, padding=(0, 1), dilation=2)
    values, indices = F.max_pool2d(x, **config, return_indices=True)
    assert values.item() == -math.inf and indices.item() == 1
    assert scratch.max_pool2d(x, **config, return_indices=True)[1].item() == 1
    grads = []
    for pool in (F.max_pool2d, scratch.max_pool2d):
        leaf = x.clone().requires_grad_()
        pool(leaf, **config).sum().backward()
        grads.append(leaf.grad.flatten().tolist())
    assert grads == [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]


def test_fast_enough(run):
    assert run.seconds < 90, f"the lesson took {run.seconds:.0f} s; keep it under ~40 s"


def test_an_out_of_plane_index_lands_in_the_next_channel_on_the_cpu():
    """Deep dive: an all-padding dilated window gets index 1 on a 1×1 plane; PyTorch's CPU backward
    adds that window's gradient into the NEXT channel's gradient (no bounds check)."""
    y = torch.tensor([[[[5.0]], [[7.0]]]], requires_grad=True)  # N=1, C=2, H=W=1
    out, idx = torch.nn.functional.max_pool2d(y, (1, 2), padding=(0, 1), dilation=(1, 2), return_indices=True)
    assert out.flatten().tolist() == [float("-inf")] * 2 and idx.flatten().tolist() == [1, 1]
    out[0, 0].sum().backward()  # a gradient for channel 0's window only
    assert y.grad.flatten().tolist() == [0.0, 1.0]  # ... written into channel 1
