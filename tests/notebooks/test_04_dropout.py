"""Lesson 04's claims, checked on the values the executed notebook computed, against PyTorch itself."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn
from torchvision.utils import make_grid

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "notebooks" / "04_dropout.ipynb"
#: The output block of the original lesson (its lines 17-23), for output and the overwritten input.
ORIGINAL = [[[2.0, 4.0, 0.0], [0.0, 10.0, 12.0], [0.0, 16.0, 0.0]]]




def stdout_of(run, marker: str) -> str:
    cell = next(c for c in run.nb.cells if c.cell_type == "code" and marker in c.source)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def test_by_hand_mask_and_scaling(notebook_runs):
    run = notebook_runs("04_dropout")
    h, keep = torch.tensor(run.value("h")), torch.tensor(run.value("keep"))
    p = 0.5  # §1 sets p = 0.5 (the name is reused later in the notebook)
    printed = stdout_of(run, "eight hidden activations")
    assert f"out : {(h * keep / (1 - p)).tolist()}" in printed
    # a million ones: kept fraction and mean within 4 standard errors of 1 - p and 1
    mask = torch.tensor(run.value("mask"))
    assert abs(mask.double().mean().item() - 0.5) < 4 * 0.5 / 1000
    printed = stdout_of(run, "x = torch.ones(1_000_000)")
    mean = float(printed.split("mean after scaling")[1])
    assert mean == pytest.approx((mask.double() / (1 - p)).mean().item(), abs=1e-5)
    assert abs(mean - 1) < 4 * 1 / 1000


def test_nn_dropout_kept_values_are_x_over_one_minus_p(notebook_runs):
    run = notebook_runs("04_dropout")
    # the §2 tensors were overwritten later; re-run the claim on the same PyTorch, many p
    for p in (0.1, 0.3, 0.5, 0.9):
        x = torch.rand(10_000) + 0.1
        y = nn.Dropout(p)(x)
        kept = y != 0
        torch.testing.assert_close(y[kept], x[kept] * (1 / (1 - p)))
        assert abs(kept.float().mean().item() - (1 - p)) < 0.03
    assert "tensor(" in stdout_of(run, "drop = nn.Dropout(p=0.5)\nx = torch.arange")


def test_no_grad_leaves_dropout_on_eval_turns_it_off(notebook_runs):
    run = notebook_runs("04_dropout")
    printed = stdout_of(run, "with torch.no_grad():")
    line = next(s for s in printed.splitlines() if s.startswith("no_grad"))
    values = [float(v) for v in re.findall(r"[\d.]+(?=[,\]])", line)]
    assert 0.0 in values  # something was dropped under no_grad
    torch.manual_seed(1)
    with torch.no_grad():
        assert (nn.Dropout(0.5)(torch.ones(1000)) == 0).any()
    x = torch.rand(1000)
    assert torch.equal(nn.Dropout(0.5).eval()(x), x)
    assert run.value("isinstance(drop, torch.nn.Dropout) and drop.training")


def test_inplace_demo_reproduces_the_original_lesson(notebook_runs):
    run = notebook_runs("04_dropout")
    assert run.value("output") == ORIGINAL and run.value("input") == ORIGINAL
    assert run.value("before") == [[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]
    assert run.value("output is input") is True
    # this PyTorch draws the original lesson's mask with seed 231 (a new torch version is caught here)
    t = torch.arange(1.0, 10.0, dtype=torch.float64).view(1, 3, 3)
    torch.manual_seed(231)
    assert nn.Dropout(p=0.5, inplace=True)(t).tolist() == ORIGINAL
    printed = stdout_of(run, "torch.manual_seed(231)")
    assert printed.count("[ 0., 16.,  0.]") == 2 and "[7., 8., 9.]" in printed


def _event_file(folder: Path) -> Path:
    files = [f for f in folder.iterdir() if "tfevents" in f.name]
    assert len(files) == 1, files
    return files[0]


def test_logs_dropout_run(notebook_runs):
    run = notebook_runs("04_dropout")
    folder = Path(run.value("str(LOGS)")) / "logs_dropout"
    acc = EventAccumulator(str(_event_file(folder)), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    assert set(acc.Tags()["images"]) == {"input", "output"}
    assert [e.step for e in acc.Images("input")] == [0, 1, 2, 3]
    assert [e.step for e in acc.Images("output")] == [0, 1, 2, 3]
    assert [e.step for e in acc.Scalars("kept_fraction")] == [0, 1, 2, 3]
    kept = torch.tensor(run.value("kept"))
    assert acc.Scalars("kept_fraction")[-1].value == pytest.approx(kept.float().mean().item())
    batch, out = torch.tensor(run.value("batch")), torch.tensor(run.value("out"))
    for tag, images in (("input", batch), ("output", out.clamp(0, 1))):
        png = np.asarray(Image.open(io.BytesIO(acc.Images(tag)[-1].encoded_image_string)).convert("RGB"))
        grid = make_grid(images, nrow=8, padding=2, pad_value=1.0).permute(1, 2, 0).numpy() * 255
        assert png.shape == grid.shape and np.abs(png - grid).max() <= 1.0


def test_image_dropout_values_and_why_white(notebook_runs):
    run = notebook_runs("04_dropout")
    batch, out = torch.tensor(run.value("batch")), torch.tensor(run.value("out"))
    kept = torch.tensor(run.value("kept"))
    torch.testing.assert_close(out[kept], batch[kept] / 0.5)
    assert (out[~kept] == 0).all()
    assert torch.equal(out > 1, kept & (batch > 0.5))  # white exactly where a kept pixel was above 1 - p
    printed = stdout_of(run, 'ImageRun("logs_dropout"')
    white = (out > 1).double().mean().item()
    assert f"white after clipping: {round(white, 3)}" in printed
    # the two output rows of the figure are not the same picture
    for i in (0, 1):
        assert not torch.equal(out[i].clamp(0, 1), out[i] * 0.5)


@pytest.mark.parametrize("dtype,name", [(torch.uint8, "Byte"), (torch.int64, "Long")])
def test_integer_images_fail_in_training_only(notebook_runs, dtype, name):
    run = notebook_runs("04_dropout")
    x = torch.randint(0, 256, (2, 3, 4, 4)).to(dtype)
    with pytest.raises(RuntimeError, match=f"result type Float can't be cast to the desired output type {name}"):
        nn.Dropout(0.5)(x)
    assert torch.equal(nn.Dropout(0.5).eval()(x), x)
    assert nn.Dropout(0.5)(x.float() / 255).dtype == torch.float32
    assert "can't be cast to the desired output type Byte" in stdout_of(run, "raw = (images[:2]")


def test_dropout2d_maps_are_whole(notebook_runs):
    run = notebook_runs("04_dropout")
    maps = torch.tensor(run.value("maps"))
    assert set(maps.unique().tolist()) <= {0.0, 2.0}
    assert all(len(m.unique()) == 1 for m in maps.flatten(0, 1))


def _warnings_of(x):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = nn.Dropout2d(0.5)(x)
    return y, " ".join(str(w.message) for w in caught)


def test_dropout2d_table_matches_pytorch(notebook_runs):
    run = notebook_runs("04_dropout")
    table = next(c.source for c in run.nb.cells if c.cell_type == "markdown" and "| you pass |" in c.source)
    quoted = dict(re.findall(r"^\| ([^|]+?) \|[^|]+\| `([^`]+)` \|", table, re.MULTILINE))
    shapes = {"C×H×W (one image)": (3, 8, 8), "H×W (one gray image)": (8, 8), "N×C×D×H×W (5-D)": (2, 3, 2, 8, 8)}
    assert set(quoted) == set(shapes), quoted
    for row, shape in shapes.items():
        assert quoted[row] in _warnings_of(torch.ones(shape))[1]
    torch.manual_seed(0)
    gray, text = _warnings_of(torch.ones(64, 1, 8, 8))  # N×1×H×W: silent, whole images
    assert not text and all(len(img.unique()) == 1 for img in gray) and (gray == 0).any()
    rows, _ = _warnings_of(torch.ones(16, 8, 8))  # C×H×W read as N×C×L: whole rows
    assert all(len(r.unique()) == 1 for r in rows.flatten(0, 1)) and not all(len(c.unique()) == 1 for c in rows)
    pixels, _ = _warnings_of(torch.ones(32, 32))  # H×W: single pixels
    assert not all(len(r.unique()) == 1 for r in pixels)
    # the fixes in the table work when applied literally
    x3, x2 = torch.ones(3, 8, 8), torch.ones(8, 8)
    fixed, text = _warnings_of(x3.unsqueeze(0))
    assert not text and fixed.squeeze(0).shape == x3.shape
    assert not _warnings_of(x2[None, None])[1]
    assert "Received a 3D input" in _warnings_of(x2.unsqueeze(0))[1]  # the trap the table warns about
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Dropout3d(0.5)(torch.ones(2, 3, 2, 8, 8))
        nn.Dropout(0.5)(x2)


def test_inplace_autograd_deep_dive(notebook_runs):
    printed = stdout_of(notebook_runs("04_dropout"), "leaf = torch.rand(3, 3, requires_grad=True)")
    assert "a leaf Variable that requires grad is being used in an in-place operation." in printed
    assert "modified by an inplace operation" in printed
    for layer, works in ((nn.Linear(3, 3), True), (nn.GELU(), True), (nn.Sigmoid(), False),
                         (nn.Tanh(), False), (nn.ReLU(), False)):
        y = nn.Dropout(0.5, inplace=True)(layer(torch.rand(4, 3, requires_grad=True)))
        try:
            y.sum().backward()
            ok = True
        except RuntimeError:
            ok = False
        assert ok is works, layer


def test_inplace_saves_only_a_temporary():
    """Autograd saves the same number of tensors with and without inplace (the lesson's memory claim)."""
    def saved(inplace: bool) -> list[tuple]:
        shapes = []
        def pack(t):
            shapes.append(tuple(t.shape))
            return t
        net = nn.Sequential(nn.Linear(10, 50), nn.GELU(), nn.Dropout(0.5, inplace=inplace), nn.Linear(50, 2))
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            net(torch.rand(8, 10)).sum()
        return sorted(shapes)
    assert saved(True) == saved(False)


def test_clip_fraction_maths(notebook_runs):
    run = notebook_runs("04_dropout")
    images = torch.tensor(run.value("images"))
    for p in (0.2, 0.5, 0.8):
        expected = (1 - p) * (images > 1 - p).double().mean().item()
        measured = [(nn.Dropout(p)(images) > 1).double().mean().item() for _ in range(3)]
        se = (expected * (1 - expected) / images.numel()) ** 0.5
        assert all(abs(m - expected) < 5 * se + 1e-4 for m in measured)
    printed = stdout_of(run, "for p in (0.2, 0.5, 0.8):")
    assert printed.count("expected") == 3


def test_logs_dropout_carries_its_layer_and_the_unclipped_output(notebook_runs):
    """With layer=drop, the PAIRS tab and PairViewer show the true values (up to 2), not the clipped PNG."""
    from tensorboard.util.tensor_util import make_ndarray

    from utils.tensorboard_logging import pairs_summary

    run, summary = notebook_runs("04_dropout"), pairs_summary()
    folder = Path(run.value("str(LOGS)")) / "logs_dropout"
    acc = EventAccumulator(str(_event_file(folder)), size_guidance={"tensors": 0}).Reload()
    content = acc.SummaryMetadata(summary.LAYER_TAG).plugin_data.content
    assert b'"kind": "dropout"' in content and b'"p": 0.5' in content
    out = torch.tensor(run.value("out"))
    logged = make_ndarray(acc.Tensors(summary.VALUE_TAGS["output"])[-1].tensor_proto)
    assert np.array_equal(logged, out.numpy()) and logged.max() > 1
    shown = run.value("PairViewer(batch[:4], out[:4], drop).data['layer']['kind']")
    assert shown == "dropout"


def test_the_thin_network_is_drawn_from_the_real_mask(notebook_runs):
    """§1's picture: the units kept are the mask drawn by hand (seed 0, p = 0.5, the same draw PyTorch
    makes), and only links between kept units are drawn dark."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from utils.dropout import draw_thinned_network

    keep = notebook_runs("04_dropout").value("keep.tolist()")
    torch.manual_seed(0)
    assert keep == (torch.rand(8) >= 0.5).tolist()
    assert 0 < sum(keep) < 8  # a real thinning, neither all nor nothing
    fig, ax = plt.subplots()
    draw_thinned_network(ax, [torch.tensor(keep)])
    dark = [line for line in ax.lines if to_hex(line.get_color()) == "#444444"]
    assert len(dark) == 3 * sum(keep) + sum(keep) * 2  # inputs → kept → outputs
    assert len(ax.lines) == 3 * 8 + 8 * 2  # every link drawn, the dropped ones faded
    filled = [to_hex(c) for col in ax.collections for c in col.get_facecolors()]
    assert filled.count("#ff7f0e") == 3 + sum(keep) + 2
    plt.close(fig)


def _saved_by_dropout(device: str, inplace: bool) -> list[tuple[tuple[int, ...], torch.dtype]]:
    from torch.autograd.graph import saved_tensors_hooks

    saved = []
    a = torch.randn(1000, requires_grad=True, device=device)
    h = a * 2
    with saved_tensors_hooks(lambda t: saved.append((tuple(t.shape), t.dtype)) or t, lambda t: t):
        torch.nn.functional.dropout(h, 0.5, training=True, inplace=inplace)
    return saved


def test_dropout_memory_claims_on_the_cpu():
    """§4 and Deep dive 1: on the CPU dropout saves one mask in the input's dtype, in-place or not
    (never its input); in-place saves nothing less."""
    assert _saved_by_dropout("cpu", False) == _saved_by_dropout("cpu", True) == [((1000,), torch.float32)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_dropout_memory_claims_on_cuda():
    """Deep dive 1: on CUDA the out-of-place layer saves a 1-byte mask, in-place one in the input's dtype."""
    assert [d for _, d in _saved_by_dropout("cuda", False)] == [torch.bool]
    assert [d for _, d in _saved_by_dropout("cuda", True)] == [torch.float32]
