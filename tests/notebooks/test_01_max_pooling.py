"""Lesson 01's claims, checked on the values the executed notebook computed (in its own kernel).

Expected values come from PyTorch and TensorBoard here, never from the notebook's printed output.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import nbformat
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.tensorboard.summary import image as image_summary

from utils.environment import IMAGES_DIR
from utils.images import PATTERNS_DIR, load_images

pytestmark = pytest.mark.notebooks

LESSON = "01_max_pooling"
ROOT = Path(__file__).resolve().parents[2]
GRID = [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]]


@pytest.fixture(scope="module")
def run(notebook_runs):
    return notebook_runs(LESSON)


def t(value) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float32)


def events(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.iterdir() if "tfevents" in p.name)


def accumulate(run_dir: Path) -> EventAccumulator:
    acc = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    acc.Reload()
    return acc


# -- §1 why pool ------------------------------------------------------------------------------------
def test_shift_inside_a_window_keeps_the_output_and_across_a_border_changes_it(run):
    maps = {int(k): t(v) for k, v in run.value("maps").items()}
    assert sorted(maps) == [2, 3, 4]
    for column, feature in maps.items():  # a vertical line in exactly that column
        assert feature.shape == (4, 6) and torch.equal(feature.nonzero()[:, 1].unique(), t([column]).long())
    pooled = {c: nn.MaxPool2d(2)(m[None, None]) for c, m in maps.items()}
    assert torch.equal(pooled[2], pooled[3])  # 2 -> 3 stays in window columns 2–3
    assert not torch.equal(pooled[3], pooled[4])  # 3 -> 4 crosses into the next window
    assert run.value("str(pool)") == str(nn.MaxPool2d(2))


def test_a_2x2_pool_keeps_a_quarter_and_widens_a_3x3_view_to_6x6():
    x = torch.zeros(1, 1, 12, 12)
    assert nn.MaxPool2d(2)(x).numel() * 4 == x.numel()
    # every input pixel that can reach one output of a 3×3 filter on the pooled map: the windows
    # of MaxPool2d(2) are AvgPool2d(2)'s, so the gradient through the average marks all of them
    x = torch.zeros(1, 1, 12, 12, requires_grad=True)
    conv = nn.Conv2d(1, 1, 3, bias=False)
    nn.init.ones_(conv.weight)
    conv(nn.AvgPool2d(2)(x))[0, 0, 0, 0].backward()
    seen = x.grad[0, 0] != 0
    assert seen.sum() == 36 and seen[:6, :6].all()


# -- §2 the 5×5 example -----------------------------------------------------------------------------
def test_the_grid_is_the_original_lessons(run):
    assert run.value("grid") == GRID
    assert run.value("x") == t(GRID).reshape(1, 1, 5, 5).tolist()


def test_floor_and_ceil_outputs_are_pytorchs(run):
    x = t(run.value("x"))
    assert torch.equal(t(run.value("floor_out")), nn.MaxPool2d(3)(x))
    assert torch.equal(t(run.value("ceil_out")), nn.MaxPool2d(3, ceil_mode=True)(x))


def test_by_hand_loop_matches_pytorch_on_many_grids(run):
    rng = random.Random(0)
    cases = []
    for _ in range(40):
        n, k = rng.randint(1, 9), rng.randint(1, 4)
        if k > n:
            continue
        grid = [[rng.randint(-5, 9) for _ in range(n)] for _ in range(n)]
        cases.append((grid, k, rng.random() < 0.5))
    by_hand = run.value(f"[max_pool_by_hand(g, k, ceil_mode=c) for g, k, c in {cases!r}]")
    for (grid, k, ceil), mine in zip(cases, by_hand, strict=True):
        expected = nn.MaxPool2d(k, ceil_mode=ceil)(t(grid)[None, None])[0, 0]
        assert torch.equal(t(mine), expected), (grid, k, ceil)


def test_the_figure_marks_pytorchs_argmax_cells(run):
    _, idx = nn.MaxPool2d(3, ceil_mode=True, return_indices=True)(t(GRID)[None, None])
    assert run.value("maxima") == [list(divmod(i, 5)) for i in idx.flatten().tolist()]


# -- §3 the six parameters, return_indices ----------------------------------------------------------
def test_six_parameters_of_the_table_are_maxpool2ds():
    import inspect

    names = list(inspect.signature(nn.MaxPool2d).parameters)
    assert names == ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"]
    layer = nn.MaxPool2d(3)
    assert (layer.stride, layer.padding, layer.dilation) == (3, 0, 1)
    assert not layer.return_indices and not layer.ceil_mode
    source = nbformat.read(ROOT / "notebooks" / f"{LESSON}.ipynb", 4)
    table = next(c.source for c in source.cells if "| `kernel_size` |" in c.source)
    assert re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE) == names


def test_padding_is_minus_infinity():
    x = -torch.rand(1, 1, 4, 4) - 1  # all negative: zero padding would win the border windows
    assert (nn.MaxPool2d(3, stride=1, padding=1)(x) < 0).all()


def test_indices_are_flat_and_int64(run):
    _, expected = nn.MaxPool2d(3, ceil_mode=True, return_indices=True)(t(GRID)[None, None])
    assert run.value("str(idx.dtype)") == str(torch.float32)  # §3 ends with the forgotten case
    first = run.value("nn.MaxPool2d(3, ceil_mode=True, return_indices=True)(x)[1]")
    assert first == expected.tolist() and expected.dtype == torch.int64


def test_forgotten_return_indices_unpacks_the_batch(run):
    assert run.value("list(idx.shape)") == [3, 4, 4]  # the second pooled image of 2×3×8×8
    two = torch.rand(2, 3, 8, 8)
    out, idx = nn.MaxPool2d(2)(two)  # no error: the batch unpacks
    assert torch.equal(idx, nn.MaxPool2d(2)(two)[1]) and idx.dtype == torch.float32
    pooled, _ = nn.MaxPool2d(2, return_indices=True)(two)
    with pytest.raises(RuntimeError, match="elements in indices should be type int64 but got: Float"):
        nn.MaxUnpool2d(2)(pooled, idx)


# -- §4 network -------------------------------------------------------------------------------------
def test_tudui_is_the_original_lessons_module(run):
    assert run.value("str(tudui.maxpool1)") == str(nn.MaxPool2d(kernel_size=3, ceil_mode=False))
    assert run.value("tudui(x)") == nn.MaxPool2d(3)(t(GRID)[None, None]).tolist()
    assert run.value("isinstance(tudui, nn.Module)") is True


def test_network_shapes_pooling_halves_h_w_and_keeps_channels(run):
    layers = run.value("[type(m).__name__ for m in net]")
    shapes = run.value("[list(s.shape) for s in __import__('itertools').accumulate("
                       "net, lambda h, m: m(h), initial=images[:4].clone())][1:]")
    reference = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    )
    h, expected = torch.zeros(4, 3, 128, 128), []
    for m in reference:
        h = m(h)
        expected.append(list(h.shape))
    assert layers == [type(m).__name__ for m in reference] and shapes == expected
    assert run.value("list(h.shape)") == expected[-1]
    for before, after, name in zip([[4, 3, 128, 128], *shapes[:-1]], shapes, layers, strict=True):
        if name == "MaxPool2d":
            assert after[:2] == before[:2] and after[2:] == [before[2] // 2, before[3] // 2]


# -- §5 the original TensorBoard loop ---------------------------------------------------------------
def test_logs_maxpool_is_one_clean_run_with_input_and_output_per_batch(run):
    run_dir = Path(run.value("str(run_dir)"))
    assert run_dir.name == "logs_maxpool" and run_dir.parent == Path(run.value("str(LOGS)"))
    assert len(events(run_dir)) == 1
    acc = accumulate(run_dir)
    assert sorted(acc.Tags()["images"]) == ["input", "output"]
    images = load_images()
    batches = list(DataLoader(images, batch_size=4))
    for tag in ("input", "output"):
        logged = acc.Images(tag)
        assert [e.step for e in logged] == list(range(len(batches))) == list(range(8))
        for event, batch in zip(logged, batches, strict=True):
            shown = batch if tag == "input" else nn.MaxPool2d(3)(batch)
            proto = image_summary(tag, shown, dataformats="NCHW").value[0].image
            assert (event.height, event.width) == (proto.height, proto.width)
            assert event.encoded_image_string == proto.encoded_image_string  # the same pixels


def test_rerunning_the_logging_cell_still_leaves_one_event_file(run):
    nb = nbformat.read(ROOT / "notebooks" / f"{LESSON}.ipynb", 4)
    cell = next(c.source for c in nb.cells if c.cell_type == "code" and "SummaryWriter(" in c.source)
    run.run(cell)
    run_dir = Path(run.value("str(run_dir)"))
    assert len(events(run_dir)) == 1
    assert [e.step for e in accumulate(run_dir).Images("input")] == list(range(8))


def test_without_cleaning_a_second_writer_adds_a_second_event_file(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    for _ in range(2):
        with SummaryWriter(str(tmp_path)) as writer:
            writer.add_images("input", torch.zeros(1, 3, 4, 4), 0)
    assert len(events(tmp_path)) == 2
    assert len(accumulate(tmp_path).Images("input")) == 2  # step 0 shown twice


def test_the_pair_shown_is_the_first_photo_and_pools_to_42(run):
    patterns = sorted(p.name for p in PATTERNS_DIR.glob("*.png"))  # load_images(): patterns, then photos
    first_photo = sorted(p.name for p in IMAGES_DIR.glob("*.png"))[0]
    assert run.value("i") == len(patterns) and run.value("image_names()[i]") == first_photo
    assert run.value("images[i]") == load_images(IMAGES_DIR)[0].tolist()
    assert run.value("list(tudui(images[i][None]).shape)") == [1, 3, 42, 42]
    assert nn.MaxPool2d(3)(torch.zeros(1, 1, 128, 128)).shape[-1] == 42 == (128 - 2) // 3


def test_original_cifar_batches_are_not_stated_in_the_core_text():
    # exercise 4 asks for them: the text above it must not give the answer away
    nb = nbformat.read(ROOT / "notebooks" / f"{LESSON}.ipynb", 4)
    text = "\n".join(c.source for c in nb.cells)
    exercises = text.index("## Exercises")
    assert "157" not in text[:exercises] and "156" not in text[:exercises]


# -- §6 ImageRun ------------------------------------------------------------------------------------
def test_imagerun_writes_the_same_pairs_in_one_event_file(run):
    run_dir = Path(run.value("str(LOGS)")) / "logs_maxpool_imagerun"
    assert len(events(run_dir)) == 1
    acc = accumulate(run_dir)
    assert sorted(acc.Tags()["images"]) == ["input", "output"]
    assert [e.step for e in acc.Images("output")] == list(range(8))


def test_imagerun_warns_where_add_images_clips_silently(tmp_path):
    import warnings

    from utils.tensorboard_logging import ImageRun

    with warnings.catch_warnings(record=True) as caught, ImageRun("r", logdir=tmp_path) as run:
        warnings.simplefilter("always")
        run.log_images("input", torch.full((1, 3, 4, 4), 2.0), 0)
    assert caught, "ImageRun must warn on values above 1"


# -- deep dive --------------------------------------------------------------------------------------
def test_gradient_goes_to_each_windows_argmax(run):
    leaf = t(GRID)[None, None].requires_grad_()
    out, idx = nn.MaxPool2d(3, ceil_mode=True, return_indices=True)(leaf)
    out.sum().backward()
    one_hot = torch.zeros(25).index_add_(0, idx.flatten(), torch.ones(idx.numel())).reshape(5, 5)
    assert torch.equal(leaf.grad[0, 0], one_hot)
    assert run.value("leaf.grad") == leaf.grad.tolist()
    flat = torch.zeros(1, 1, 2, 2, requires_grad=True)  # a tie: the first cell wins
    nn.MaxPool2d(2)(flat).sum().backward()
    assert flat.grad.flatten().tolist() == [1, 0, 0, 0]


def test_unpool_without_output_size_builds_6x6_and_misplaces(run):
    wrong, right = t(run.value("wrong")), t(run.value("right"))
    x = t(GRID)[None, None]
    out, idx = nn.MaxPool2d(3, ceil_mode=True, return_indices=True)(x)
    assert wrong.shape[-2:] == (6, 6) == ((2 - 1) * 3 + 3,) * 2
    assert torch.equal(right, nn.MaxUnpool2d(3)(out, idx, output_size=(5, 5)))
    kept = torch.zeros(25).index_fill_(0, idx.flatten(), 1).reshape(1, 1, 5, 5).bool()
    assert torch.equal(right, torch.where(kept, x, 0))
    assert not torch.equal(wrong[..., :5, :5], right)  # silently in the wrong places


def test_dilated_stripes_turn_black(run):
    stripes = load_images(PATTERNS_DIR / "pattern_stripes_vertical_1.png")[0]
    assert run.value("stripes") == stripes.tolist()
    assert (stripes[:, :, 0::2] == 0).all() and (stripes[:, :, 1::2] == 1).all()
    assert (nn.MaxPool2d(2)(stripes) == 1).all()
    assert (nn.MaxPool2d(2, stride=2, dilation=2)(stripes) == 0).all()


def test_floor_mode_never_reads_12_1_percent_of_32x32():
    unread = torch.ones(1, 1, 32, 32, requires_grad=True)
    nn.AvgPool2d(3, divisor_override=1)(unread).sum().backward()  # windows per pixel (MaxPool2d's)
    read = unread.grad[0, 0] > 0
    assert read[:30, :30].all() and not read[30:].any() and not read[:, 30:].any()
    assert round(100 * (1 - read.float().mean().item()), 1) == round(100 * (1 - 30**2 / 32**2), 1) == 12.1
    assert nn.MaxPool2d(3)(torch.zeros(1, 1, 128, 128)).shape[-1] * 3 == 126


def test_integer_max_pooling_on_cpu_and_nan_propagates(run):
    x = t(GRID)[None, None]
    result = nn.MaxPool2d(3, ceil_mode=True)(x.long())
    assert result.dtype == torch.int64 and torch.equal(result.float(), nn.MaxPool2d(3, ceil_mode=True)(x))
    with pytest.raises(RuntimeError):
        nn.MaxPool2d(3)(x.bool())
    nan = run.value("nn.MaxPool2d(3, ceil_mode=True)(with_nan)")
    assert nan[0][0][1][1] == "nan" and nan[0][0][0] == [2.0, 3.0]


# -- the lesson's shape ------------------------------------------------------------------------------
def core_cells():
    nb = nbformat.read(ROOT / "notebooks" / f"{LESSON}.ipynb", 4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## Deep dive"):
            break
        cells.append(cell)
    return nb, cells



def test_contains_the_original_lessons_code():
    nb = nbformat.read(ROOT / "notebooks" / f"{LESSON}.ipynb", 4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for needle in ('SummaryWriter(', 'writer.add_images("input", imgs, step)',
                   'writer.add_images("output", output, step)', "writer.close()",
                   "class Tudui(nn.Module)", "nn.MaxPool2d(kernel_size=3, ceil_mode=False)",
                   "nn.Conv2d(", "nn.ReLU()"):
        assert needle in code, needle
    assert code.index("SummaryWriter(") < code.index("ImageRun(")  # plain first, then the helper
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "seed" not in text.lower() and "种子" not in text
    assert text.count("小土堆") == 1 and "the original lesson" in text and "原教程" in text


def test_imagerun_adds_a_2_pixel_border_where_add_images_has_none(run):
    plain = accumulate(Path(run.value("str(run_dir)"))).Images("output")[0]
    helper = accumulate(Path(run.value("str(LOGS)")) / "logs_maxpool_imagerun").Images("output")[0]
    side = nn.MaxPool2d(3)(torch.zeros(1, 1, 128, 128)).shape[-1]
    assert (plain.height, plain.width) == (side, 4 * side)  # 4 images edge to edge
    assert (helper.height, helper.width) == (side + 4, 4 * (side + 2) + 2)  # make_grid, padding 2


# -- the pair viewer (issue 16) ------------------------------------------------------------------------
def test_pair_viewer_shows_the_pixel_ceil_mode_adds(run):
    """'Hover the last output column: the pixel ceil_mode adds, its window hanging over the edge.'"""
    x = torch.tensor(run.value("images[:4]"))
    layer = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
    assert run.value("str(padded_pool)") == str(layer)
    w_ceil, w_floor = layer(x).shape[-1], nn.MaxPool2d(3, stride=2, padding=1)(x).shape[-1]
    assert w_ceil == w_floor + 1  # the last column exists only because of ceil_mode
    last_start = (w_ceil - 1) * 2 - 1
    assert last_start + 3 > x.shape[-1] + 1  # its window reaches past the padding: the overhang
    data = run.value("PairViewer(images[:4], padded_pool(images[:4]), padded_pool).data['steps'][0]['shapes']")
    assert data == {"input": list(x.shape), "output": list(layer(x).shape)}
