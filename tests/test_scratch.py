"""utils.scratch against torch.nn.functional itself.

Every expected value comes from F.max_pool2d / F.avg_pool2d / F.dropout on the same input, never
from our own output. Max pooling is compared bit for bit (values and int64 indices), average
pooling to float tolerance, dropout bit for bit after the same torch.manual_seed. Tests named
"canary" pin PyTorch behaviour we deliberately differ from: they fail when PyTorch changes.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode

from utils import scratch
from utils.checks.scratch import TorchCalls
from utils.scratch import avg_pool2d, dropout, max_pool2d
from utils.shapes import PoolingConfigError, PoolingTypeError

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
TORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError)

FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
INTS = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]
ALL_DTYPES = [
    *FLOATS, *INTS, torch.bool, torch.complex64, torch.uint16, torch.uint32, torch.uint64,
    torch.float8_e4m3fn,
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def bits(t: torch.Tensor) -> torch.Tensor:
    """The raw bit pattern, so -0.0 != 0.0; every NaN counts as the same NaN (payloads vary)."""
    if not t.is_floating_point():
        return t
    t = torch.where(t.isnan(), torch.tensor(math.nan, dtype=t.dtype), t)
    return t.contiguous().view({2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()])


def assert_bits_equal(got: torch.Tensor, ref: torch.Tensor) -> None:
    assert got.dtype == ref.dtype and got.shape == ref.shape, (got.dtype, got.shape, ref.shape)
    assert torch.equal(bits(got), bits(ref)), f"\n{got}\n!=\n{ref}"


def call(fn, *args, **kwargs):
    """(result, None) or (None, exception)."""
    try:
        return fn(*args, **kwargs), None
    except TORCH_ERRORS as err:
        return None, err


def assert_raises_like(ours: Exception | None, theirs: Exception) -> None:
    """We raise where PyTorch raises: a TypeError or NotImplementedError where it raises one,
    otherwise utils.shapes' ValueError with the rule and a fix, which is also a RuntimeError."""
    assert ours is not None, f"PyTorch raised {theirs!r}, we did not"
    if isinstance(theirs, (TypeError, NotImplementedError)):
        assert isinstance(ours, type(theirs)), (ours, theirs)
    else:
        assert isinstance(ours, ValueError) and isinstance(ours, RuntimeError), (ours, theirs)


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------
def pair_or_int(values: st.SearchStrategy) -> st.SearchStrategy:
    """An int, a 1-tuple or a 2-tuple, the three spellings PyTorch accepts."""
    return st.one_of(values, st.tuples(values), st.tuples(values, values))


def as_pair(v) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    return (v[0], v[0]) if len(v) == 1 else tuple(v)


@st.composite
def pool_configs(draw, dilation: bool = True):
    """A valid-or-nearly-valid configuration: padding up to kernel // 2, output may still be < 1."""
    kernel = draw(pair_or_int(st.integers(1, 5)))
    kh, kw = as_pair(kernel)
    stride = draw(st.one_of(st.none(), st.just(()), pair_or_int(st.integers(1, 4))))
    if isinstance(kernel, int) and draw(st.booleans()):
        padding = draw(st.integers(0, kh // 2))
    else:
        padding = (draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2)))
    dil = draw(pair_or_int(st.integers(1, 3))) if dilation else 1
    return {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dil,
            "ceil_mode": draw(st.booleans())}  # fmt: skip


@st.composite
def inputs(draw, dtypes, max_side: int = 12, max_batch: int = 2, specials: bool = True):
    """3-D or 4-D tensors of small integers (many ties), floats also with NaN, ±inf and -0.0."""
    dtype = draw(st.sampled_from(dtypes))
    shape = [
        draw(st.integers(1, 3)),
        draw(st.integers(1, max_side)),
        draw(st.integers(1, max_side)),
    ]
    if draw(st.booleans()):
        shape.insert(0, draw(st.integers(0, max_batch)))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    low = 0 if dtype == torch.uint8 else -4
    if dtype.is_floating_point and draw(st.booleans()):
        x = torch.randn(shape, generator=g, dtype=torch.float64)  # few ties
    else:
        x = torch.randint(low, 5, shape, generator=g).to(torch.float64)  # many ties
    if dtype.is_floating_point and specials and draw(st.booleans()):
        pick = torch.rand(shape, generator=g)
        x[pick < 0.08] = math.nan
        x[(pick >= 0.08) & (pick < 0.12)] = -math.inf
        x[(pick >= 0.12) & (pick < 0.14)] = math.inf
        x[(pick >= 0.14) & (pick < 0.20)] = -0.0
    if not dtype.is_floating_point and dtype != torch.uint8 and draw(st.booleans()):
        x[torch.rand(shape, generator=g) < 0.1] = torch.iinfo(dtype).min  # the padding value
    x = x.to(dtype)
    if draw(st.booleans()) and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    elif draw(st.booleans()):
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2)  # non-contiguous strides
    return x


# ---------------------------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------------------------
@SETTINGS
@given(x=inputs(FLOATS + INTS), cfg=pool_configs(), return_indices=st.booleans())
def test_max_pool2d_equals_pytorch(x, cfg, return_indices):
    before = x.clone()
    ref, err = call(F.max_pool2d, x, **cfg, return_indices=True)
    if err is not None and "integer_t" in str(err):  # PyTorch quirk, see the test below
        ref, err = call(F.max_pool2d, x.contiguous(), **cfg, return_indices=True)
    got, ours = call(max_pool2d, x, **cfg, return_indices=return_indices)
    if err is not None:
        assert_raises_like(ours, err)
        return
    assert ours is None, ours
    if return_indices:
        assert_bits_equal(got[0], ref[0])
        assert got[1].dtype == torch.int64
        assert torch.equal(got[1], ref[1])
        got = got[0]
    else:
        assert_bits_equal(got, ref[0])
    assert_bits_equal(x, before)  # the input is never modified ...
    if got.numel():  # ... and the output is never a view of it
        assert got.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()


@SETTINGS
@given(x=inputs([torch.float64, torch.float32], specials=False), cfg=pool_configs())
def test_max_pool2d_gradient_equals_pytorch(x, cfg):
    ref, err = call(F.max_pool2d, x, **cfg, return_indices=True)
    assume(err is None)
    # A window that covers only padding (possible with dilation) has no real cell, yet PyTorch
    # 2.14's backward sends its gradient to the index it reports: a wrong cell, or out of bounds
    # (memory corruption). PyTorch is no oracle there; see test_window_of_padding_only_*.
    # PyTorch itself tells us where such windows are: pooling zeros gives -inf there.
    assume(not (F.max_pool2d(torch.zeros_like(x), **cfg) == -math.inf).any())
    weights = torch.randn(ref[0].shape, dtype=x.dtype)
    grads = []
    for fn in (F.max_pool2d, max_pool2d):
        leaf = x.detach().clone().requires_grad_()
        (fn(leaf, **cfg) * weights).sum().backward()
        grads.append(leaf.grad)
    # each output sends its gradient to ONE input cell (the first maximum), none to tied cells
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-6, atol=1e-6)


def test_max_pool2d_the_lesson_example():
    x = torch.tensor([[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1],
                      [2, 1, 0, 1, 1]], dtype=torch.float32).reshape(1, 1, 5, 5)  # fmt: skip
    for ceil_mode in (False, True):
        ref = F.max_pool2d(x, 3, ceil_mode=ceil_mode, return_indices=True)
        got = max_pool2d(x, 3, ceil_mode=ceil_mode, return_indices=True)
        assert torch.equal(got[0], ref[0]) and torch.equal(got[1], ref[1])


@pytest.mark.parametrize("dtype", FLOATS + INTS)
def test_max_pool2d_window_of_padding_only(dtype):
    """With dilation a window can miss every real cell: the lowest value, PyTorch's index."""
    x = torch.arange(4).reshape(1, 1, 2, 2).to(dtype)
    ref = F.max_pool2d(x, 2, stride=1, padding=1, dilation=3, return_indices=True)
    got = max_pool2d(x, 2, stride=1, padding=1, dilation=3, return_indices=True)
    assert_bits_equal(got[0], ref[0])
    assert torch.equal(got[1], ref[1])


def test_window_of_padding_only_gets_no_gradient():
    """H = 1, rows -1 and 1 (padding 1, dilation 2): this window sees no real cell. Its index (3)
    lies outside the 1x3 plane, PyTorch's backward would write there (heap corruption in torch
    2.14.1, so we do not call it); ours sends no gradient anywhere for that window."""
    x = torch.randn(1, 3, 1, 3, dtype=torch.float64)
    values, indices = F.max_pool2d(x, 2, 2, (1, 0), 2, return_indices=True)  # forward is safe
    assert (indices >= 3).all() and (values == -math.inf).all()
    leaf = x.clone().requires_grad_()
    got_values, got_indices = max_pool2d(leaf, 2, 2, (1, 0), 2, return_indices=True)
    assert torch.equal(got_indices, indices) and torch.equal(got_values, values)
    got_values.sum().backward()
    assert torch.equal(leaf.grad, torch.zeros_like(x))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8])
def test_channels_last_small_ints_work_where_pytorch_refuses_canary(dtype):
    """PyTorch 2.14's channels-last kernel for int8/uint8 refuses planes with more than 127/255
    cells (an internal index-type check). The memory layout changes no values, so we do not copy
    that refusal: we return what PyTorch returns for the same tensor in the default layout."""
    x = torch.randint(0, 5, (1, 3, 11, 12)).to(dtype).contiguous(memory_format=torch.channels_last)
    with pytest.raises(RuntimeError, match="integer_t"):
        F.max_pool2d(x, 2)
    ref = F.max_pool2d(x.contiguous(), 2, return_indices=True)
    got = max_pool2d(x, 2, return_indices=True)
    assert torch.equal(got[0], ref[0]) and torch.equal(got[1], ref[1])


def test_window_of_padding_only_gradient_pytorch_sends_it_outside_the_window_canary():
    """W = 1, columns -1 and 1: no real cell. PyTorch reports index h * 1 + 1, which is the NEXT
    row's cell, and its backward puts the gradient there. Ours sends it nowhere."""
    x = torch.tensor([[[4.0], [-4.0], [-2.0]]], dtype=torch.float64)
    kw = {"kernel_size": 2, "padding": (0, 1), "dilation": 2}
    leaf = x.clone().requires_grad_()
    F.max_pool2d(leaf, **kw).sum().backward()
    assert (F.max_pool2d(x, **kw) == -math.inf).all()
    assert leaf.grad[0, 1, 0] == 1  # PyTorch: a gradient for a cell no window contains
    leaf = x.clone().requires_grad_()
    max_pool2d(leaf, **kw).sum().backward()
    assert torch.equal(leaf.grad, torch.zeros_like(x))


def test_max_pool2d_nan_index_is_the_last_nan_like_pytorch():
    x = torch.tensor([[[[math.nan, 1.0, math.nan, 2.0]]]])
    ref = F.max_pool2d(x, (1, 4), return_indices=True)
    got = max_pool2d(x, (1, 4), return_indices=True)
    assert torch.equal(got[1], ref[1])
    assert got[0].isnan().all() and ref[0].isnan().all()


# ---------------------------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------------------------
AVG_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64]


def assert_avg_equal(got, ref):
    assert got.dtype == ref.dtype and got.shape == ref.shape, (got.dtype, got.shape, ref.shape)
    if ref.is_floating_point():
        torch.testing.assert_close(got, ref, equal_nan=True)
    else:
        assert torch.equal(got, ref)  # int64: truncated exactly like PyTorch


@SETTINGS
@given(
    x=inputs(AVG_DTYPES),
    cfg=pool_configs(dilation=False),
    count_include_pad=st.booleans(),
    divisor_override=st.one_of(st.none(), st.integers(-5, 12)),
)
def test_avg_pool2d_equals_pytorch(x, cfg, count_include_pad, divisor_override):
    cfg.pop("dilation")
    kw = dict(cfg, count_include_pad=count_include_pad, divisor_override=divisor_override)
    assume(not int64_crash(x, divisor_override))
    before = x.clone()
    ref, err = call(F.avg_pool2d, x, **kw)
    got, ours = call(avg_pool2d, x, **kw)
    if err is not None:
        assert_raises_like(ours, err)
        return
    assert ours is None, ours
    assert_avg_equal(got, ref)
    assert_bits_equal(x, before)


@SETTINGS
@given(
    x=inputs([torch.float64], specials=False),
    cfg=pool_configs(dilation=False),
    count_include_pad=st.booleans(),
    divisor_override=st.one_of(st.none(), st.integers(1, 12)),
)
def test_avg_pool2d_gradient_equals_pytorch(x, cfg, count_include_pad, divisor_override):
    cfg.pop("dilation")
    kw = dict(cfg, count_include_pad=count_include_pad, divisor_override=divisor_override)
    assume(call(F.avg_pool2d, x, **kw)[1] is None)
    weights = torch.randn(F.avg_pool2d(x, **kw).shape, dtype=x.dtype)
    grads = []
    for fn in (F.avg_pool2d, avg_pool2d):
        leaf = x.detach().clone().requires_grad_()
        (fn(leaf, **kw) * weights).sum().backward()
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[1], grads[0])


def int64_crash(x: torch.Tensor, divisor_override) -> bool:
    """-2**63 / -1 overflows int64: PyTorch's avg_pool2d kills the process (SIGFPE) there."""
    return x.dtype == torch.int64 and divisor_override == -1 and bool((x == -(2**63)).any())


@pytest.mark.parametrize("fn", [avg_pool2d])
def test_int64_overflow_raises_instead_of_crashing(fn):
    x = torch.tensor([[[[-(2**63), 0, 5]]]])
    # F.avg_pool2d(x, (1, 2), divisor_override=-1) would kill this process (SIGFPE), as would
    # torch.div(torch.tensor(-2**63), -1, rounding_mode="trunc"): we refuse with a message.
    with pytest.raises(ValueError, match="does not fit in int64"):
        fn(x, (1, 2), divisor_override=-1)
    safe = x[..., 1:]  # no -2**63: PyTorch computes it
    assert torch.equal(
        fn(safe, (1, 2), divisor_override=-1), F.avg_pool2d(safe, (1, 2), divisor_override=-1)
    )


@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [False, True])
def test_avg_pool2d_divisors(ceil_mode, count_include_pad):
    """Pooling a tensor of ones with divisor_override=1 gives the cell counts; 1/avg the divisors."""
    ones = torch.ones(1, 1, 7, 6, dtype=torch.float64)
    kw = {"kernel_size": (3, 4), "stride": 2, "padding": (1, 2), "ceil_mode": ceil_mode,
          "count_include_pad": count_include_pad}  # fmt: skip
    torch.testing.assert_close(1 / avg_pool2d(ones, **kw), 1 / F.avg_pool2d(ones, **kw))


def test_avg_pool2d_int64_truncates_towards_zero_like_pytorch():
    x = torch.tensor([[[[-3, -4, 5, 2, 7, -8]]]])
    for kw in ({}, {"divisor_override": 3}, {"divisor_override": -4}):
        ref = F.avg_pool2d(x, (1, 2), **kw)
        assert torch.equal(avg_pool2d(x, (1, 2), **kw), ref)


# ---------------------------------------------------------------------------------------------
# Errors: wherever PyTorch raises, we raise (same kind)
# ---------------------------------------------------------------------------------------------
@st.composite
def wild_configs(draw):
    """Anything, including zero or negative sizes, padding too large, wrong tuple lengths."""
    small = st.integers(-1, 6)
    seq = st.lists(small, min_size=0, max_size=3).map(tuple)
    return {
        "kernel_size": draw(st.one_of(small, seq)),
        "stride": draw(st.one_of(st.none(), small, seq)),
        "padding": draw(st.one_of(st.integers(-1, 4), seq)),
        "dilation": draw(st.one_of(st.integers(-1, 3), seq)),
        "ceil_mode": draw(st.booleans()),
    }


@st.composite
def wild_shapes(draw):
    return tuple(draw(st.lists(st.integers(0, 7), min_size=2, max_size=5)))


@SETTINGS
@given(shape=wild_shapes(), cfg=wild_configs())
def test_max_pool2d_raises_where_pytorch_raises(shape, cfg):
    x = torch.randn(shape)
    ref, err = call(F.max_pool2d, x, **cfg)
    got, ours = call(max_pool2d, x, **cfg)
    if err is not None:
        assert_raises_like(ours, err)
    else:
        assert ours is None, f"PyTorch accepts {cfg} on {shape}, we raised {ours!r}"
        assert_bits_equal(got, ref)


@SETTINGS
@given(shape=wild_shapes(), cfg=wild_configs(), divisor_override=st.sampled_from([None, 0, 2]))
def test_avg_pool2d_raises_where_pytorch_raises(shape, cfg, divisor_override):
    cfg.pop("dilation")
    x = torch.randn(shape)
    ref, err = call(F.avg_pool2d, x, **cfg, divisor_override=divisor_override)
    got, ours = call(avg_pool2d, x, **cfg, divisor_override=divisor_override)
    if err is not None:
        assert_raises_like(ours, err)
    else:
        assert ours is None, f"PyTorch accepts {cfg} on {shape}, we raised {ours!r}"
        torch.testing.assert_close(got, ref)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
def test_dtypes_supported_exactly_where_pytorch_supports_them(name, dtype):
    x = torch.arange(16).reshape(1, 1, 4, 4).to(dtype)
    ref, err = call(getattr(F, name), x, 2)
    got, ours = call(getattr(scratch, name), x, 2)
    if err is not None:
        assert_raises_like(ours, err)
        assert "x.float()" in str(ours)  # says what to do
    else:
        assert ours is None, ours
        assert got.dtype == ref.dtype and torch.equal(got, ref)


@pytest.mark.parametrize(
    ("call_args", "words"),
    [
        ((torch.rand(1, 5, 5), 2, 1, 2), "at most half the kernel"),
        ((torch.rand(1, 5, 5), 6), "output size must be at least 1"),
        ((torch.rand(5, 5), 2), "3-D (C, H, W) or 4-D"),
        ((torch.rand(1, 5, 5), 2, 0), "stride must be > 0"),
        ((torch.rand(1, 5, 5), 2.0), "pair of ints"),
    ],
)
def test_error_messages_say_what_is_wrong_and_the_fix_works(call_args, words):
    x, *params = call_args
    for fn, twin in ((max_pool2d, F.max_pool2d), (avg_pool2d, F.avg_pool2d)):
        with pytest.raises(TORCH_ERRORS):
            twin(*call_args)
        with pytest.raises((PoolingConfigError, PoolingTypeError)) as info:
            fn(*call_args)
        assert words in str(info.value) and "Fix: " in str(info.value)
        assert_fix_works(fn, twin, x, params, info.value.fix)


def assert_fix_works(fn, twin, x, params, fix):
    """Apply the fix literally: reshape x to its input_shape, replace the named arguments."""
    names = ["kernel_size", "stride", "padding", "dilation", "ceil_mode"]
    if fn is avg_pool2d:
        names.remove("dilation")
    kwargs = {**dict(zip(names, params, strict=False)), **fix}
    x = x.reshape(kwargs.pop("input_shape", x.shape))
    assert torch.allclose(fn(x, **kwargs), twin(x, **kwargs), equal_nan=True)


@SETTINGS
@given(shape=wild_shapes(), cfg=wild_configs())
def test_every_fix_of_max_pool2d_works(shape, cfg):
    assume(0 not in shape[-3:])
    x = torch.randn(shape)
    try:
        max_pool2d(x, **cfg)
    except (PoolingConfigError, PoolingTypeError) as err:
        kwargs = {**cfg, **err.fix}
        x = x.reshape(kwargs.pop("input_shape", x.shape))
        assert torch.equal(max_pool2d(x, **kwargs), F.max_pool2d(x, **kwargs))


@pytest.mark.parametrize(
    ("dtype", "top"), [(torch.uint8, 255), (torch.uint16, 65535), (torch.bool, 1), (torch.int32, 7)]
)
def test_dtype_fixes_keep_the_picture(dtype, top):
    """An image stored as integers 0..top: the suggested conversion gives floats in [0, 1] that
    PyTorch pools (and drops out) like the image it is."""
    x = torch.tensor([[[0, top], [top, 0]]]).to(dtype)
    for fn, twin in ((avg_pool2d, F.avg_pool2d), (dropout, F.dropout)):
        try:
            twin(x.clone(), 1) if fn is avg_pool2d else twin(x.clone(), 0.5)
        except (RuntimeError, NotImplementedError) as err:
            with pytest.raises(type(err)) as info:
                fn(x.clone(), 1) if fn is avg_pool2d else fn(x.clone(), 0.5)
            fix = str(info.value).split("Fix: x = ")[1]
            fixed = eval(fix, {"x": x})  # the conversion, applied literally
            assert fixed.is_floating_point() and fixed.min() == 0
            assert fixed.max() == (1 if dtype in (torch.uint8, torch.uint16, torch.bool) else top)
            assert torch.equal(avg_pool2d(fixed, 1), F.avg_pool2d(fixed, 1))


def test_avg_pool2d_on_2d_input_canary():
    """PyTorch's F.avg_pool2d on an (H, W) tensor raises IndexError (max_pool2d a RuntimeError);
    ours gives utils.shapes' message. If this fails, PyTorch's error changed."""
    with pytest.raises(IndexError):
        F.avg_pool2d(torch.rand(4, 4), 2)
    with pytest.raises(ValueError, match="Fix: input_shape=.1, 4, 4."):
        avg_pool2d(torch.rand(4, 4), 2)


def test_divisor_override_zero_raises_like_pytorch():
    x = torch.rand(1, 4, 4)
    with pytest.raises(RuntimeError):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="divisor_override must not be zero"):
        avg_pool2d(x, 2, divisor_override=0)


# ---------------------------------------------------------------------------------------------
# Built from primitives: no pooling or dropout kernel runs underneath
# ---------------------------------------------------------------------------------------------
class RecordKernels(TorchDispatchMode):
    """Names of the ATen kernels that run (forward and backward)."""

    def __init__(self):
        super().__init__()
        self.names: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(str(func))
        return func(*args, **(kwargs or {}))


def recorded(fn, x) -> list[str]:
    """ATen kernels and torch-level functions (F.dropout never reaches ATen by name) that ran."""
    with TorchCalls() as functions, RecordKernels() as kernels:
        out = fn(x)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
    return functions.names + kernels.names


@pytest.mark.parametrize(
    "run",
    [
        lambda x: max_pool2d(x, 3, 2, 1, 2, True, True),
        lambda x: max_pool2d(x, 3, 2, 1),
        lambda x: avg_pool2d(x, 3, 2, 1, True, False),
        lambda x: dropout(x, 0.3),
    ],
)
def test_no_pooling_or_dropout_kernel_is_called(run):
    x = torch.randn(2, 3, 9, 9, requires_grad=True)
    names = recorded(run, x)
    assert any("where" in n or "add" in n or "mul" in n for n in names), names
    banned = [n for n in names if "pool" in n or "dropout" in n]
    assert not banned, banned


@pytest.mark.parametrize(
    "run", [lambda x: F.max_pool2d(x, 2), lambda x: F.avg_pool2d(x, 2), lambda x: F.dropout(x)]
)
def test_the_recorder_sees_pytorchs_own_functions(run):
    names = recorded(run, torch.randn(1, 2, 4, 4, requires_grad=True))
    assert any("pool" in n or "dropout" in n for n in names), names


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------
def test_dropout_mask_reproduces_f_dropout_on_cpu():
    """The finding behind the exact-equality property below: same seed -> same mask."""
    x = torch.randn(1000)
    torch.manual_seed(7)
    ref = F.dropout(x, 0.3)
    torch.manual_seed(7)
    keep = torch.empty_like(x).bernoulli_(0.7)
    assert torch.equal(ref == 0, keep == 0)


@SETTINGS
@given(
    shape=st.lists(st.integers(0, 12), min_size=0, max_size=4),
    p=st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0, 1)),
    dtype=st.sampled_from(FLOATS),
    training=st.booleans(),
    inplace=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_dropout_equals_f_dropout_after_the_same_seed(shape, p, dtype, training, inplace, seed):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed)).to(dtype)
    xs = [x.clone(), x.clone()]
    outs = []
    for fn, xi in zip((F.dropout, dropout), xs, strict=True):
        torch.manual_seed(seed)
        outs.append(fn(xi, p, training, inplace))
    assert_bits_equal(outs[1], outs[0])
    if inplace or not training or p == 0 or x.numel() == 0:
        assert outs[1] is xs[1]  # the input itself comes back, like F.dropout
    else:
        assert_bits_equal(xs[1], x)  # input untouched


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
@pytest.mark.parametrize("p", [0.5, 1.0])
def test_dropout_dtypes_like_pytorch(dtype, p):
    x = torch.arange(12).reshape(3, 4).to(dtype)
    torch.manual_seed(0)
    ref, err = call(F.dropout, x.clone(), p)
    torch.manual_seed(0)
    got, ours = call(dropout, x.clone(), p)
    if err is not None:
        assert ours is not None and isinstance(ours, type(err))
    else:
        assert ours is None, ours
        assert got.dtype == ref.dtype and torch.equal(got, ref)


def test_dropout_gradient_equals_pytorch():
    x = torch.randn(4, 50)
    grads = []
    for fn in (F.dropout, dropout):
        leaf = x.clone().requires_grad_()
        torch.manual_seed(3)
        fn(leaf, 0.4).sum().backward()
        grads.append(leaf.grad)
    assert torch.equal(grads[0], grads[1])
    assert set(grads[1].unique().tolist()) == {0.0, torch.tensor(1 / 0.6).item()}


@pytest.mark.parametrize("fn", [dropout])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_semantics(fn, p):
    torch.manual_seed(0)
    n = 20_000 if fn is dropout else 2_000
    x = torch.rand(n) + 0.5  # no zeros in the input
    y = fn(x, p)
    zero = y == 0
    scale = torch.tensor(1.0 / (1.0 - p))  # float32, like x
    kept_ok = torch.isclose(y, x * scale, rtol=1e-6, atol=0)
    assert (zero | kept_ok).all(), "every element is either 0 or x / (1 - p)"
    # fraction zeroed: binomial(n, p), within 5 standard deviations
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(zero.float().mean().item() - p) < 5 * sigma


@pytest.mark.parametrize("fn", [dropout])
def test_dropout_identity_zero_and_errors(fn):
    x = torch.randn(5, 6)
    assert fn(x, 0.7, training=False) is x
    assert fn(x, 0.0) is x
    assert torch.equal(fn(x, 1.0), torch.zeros_like(x))
    for p in (-0.1, 1.1, math.nan):
        with pytest.raises(ValueError, match="between 0 and 1"):
            fn(x, p)
        with pytest.raises((ValueError, RuntimeError)):
            F.dropout(x, p)  # PyTorch raises too (RuntimeError for NaN)


@pytest.mark.parametrize("fn", [dropout])
def test_dropout_inplace_writes_into_the_input(fn):
    x = torch.randn(8, 8) + 3
    before = x.clone()
    y = fn(x, 0.5, inplace=True)
    assert y is x
    assert (x == 0).any() and not torch.equal(x, before)
    leaf = torch.randn(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.dropout(leaf, 0.5, inplace=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        fn(leaf, 0.5, inplace=True)


def test_dropout_p_one_propagates_nan_like_pytorch():
    x = torch.tensor([math.nan, math.inf, 1.0])
    assert_bits_equal(dropout(x, 1.0), F.dropout(x, 1.0))
