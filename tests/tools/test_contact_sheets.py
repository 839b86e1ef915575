"""tools/contact_sheets.py: one PNG per image run, every logged image pasted pixel-exact at its true size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from contact_sheets import contact_sheet, pick_steps, sheet_name, write_contact_sheets
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from utils.tensorboard_logging import ImageRun, read_run_images


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("sheets_logs")
    gen = torch.Generator().manual_seed(0)
    with ImageRun("logs_maxpool", root) as run:
        for step in range(3):
            x = torch.rand(5, 3, 16, 12, generator=gen)
            run.log_pair(step, x, torch.nn.functional.max_pool2d(x, 2))
    with ImageRun("nested/logs_gray", root) as run:  # nested run, gray, an extra tag, a gap
        for step in (0, 1, 2):
            run.log_images("input", torch.rand(2, 1, 10, 10, generator=gen), step)
        run.log_images("output", torch.rand(2, 1, 5, 5, generator=gen), 0)
        run.log_images("attention", torch.rand(1, 1, 4, 4, generator=gen), 2)
    with ImageRun("logs_scalars_only", root) as run:
        for step in range(3):
            run.log_scalar("loss", 1.0 / (step + 1), step)
    return root


def test_one_sheet_per_image_run(logdir, tmp_path):
    written = write_contact_sheets(logdir, tmp_path / "sheets")
    assert [p.name for p in written] == ["logs_maxpool.png", "nested__logs_gray.png"]
    for path in written:
        with Image.open(path) as im:
            assert im.format == "PNG" and im.mode == "RGB"


@pytest.mark.parametrize("run", ["logs_maxpool", "nested/logs_gray"])
def test_every_image_is_on_the_sheet_pixel_exact(logdir, run):
    logged = read_run_images(logdir / run)
    drawn = contact_sheet(logdir / run, run)
    sheet = np.asarray(drawn.image)
    expected = {(tag, step) for tag, items in logged.items() for step, _ in items}
    assert set(drawn.boxes) == expected
    for tag, items in logged.items():
        for step, array in items:
            x, y, w, h = drawn.boxes[(tag, step)]
            assert (h, w) == array.shape[:2]  # true pixel size
            np.testing.assert_array_equal(sheet[y : y + h, x : x + w], array)


def test_layout_rows_are_steps_columns_are_tags(logdir):
    drawn = contact_sheet(logdir / "nested/logs_gray", "nested/logs_gray")
    assert drawn.tags == ["input", "output", "attention"]  # input, output first, then by name
    assert drawn.steps == [0, 1, 2]
    boxes = drawn.boxes
    # same step -> same row; same tag -> same column, columns left to right in tag order
    assert boxes[("input", 0)][1] == boxes[("output", 0)][1]
    assert boxes[("input", 2)][1] == boxes[("attention", 2)][1]
    assert boxes[("input", 0)][0] == boxes[("input", 1)][0] == boxes[("input", 2)][0]
    assert boxes[("input", 0)][0] < boxes[("output", 0)][0] < boxes[("attention", 2)][0]
    assert boxes[("input", 0)][1] < boxes[("input", 1)][1] < boxes[("input", 2)][1]


def test_boxes_do_not_overlap_and_fit(logdir):
    drawn = contact_sheet(logdir / "logs_maxpool")
    width, height = drawn.image.size
    rects = list(drawn.boxes.values())
    for i, (x, y, w, h) in enumerate(rects):
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height
        for x2, y2, w2, h2 in rects[i + 1 :]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y


def test_pooled_output_is_drawn_smaller(logdir):
    drawn = contact_sheet(logdir / "logs_maxpool")
    _, _, w_in, h_in = drawn.boxes[("input", 0)]
    _, _, w_out, h_out = drawn.boxes[("output", 0)]
    assert w_out < w_in and h_out < h_in


def test_long_runs_are_subsampled_and_say_so(tmp_path):
    with ImageRun("long", tmp_path) as run:
        for step in range(30):
            run.log_images("input", torch.full((1, 1, 3, 3), step / 30), step)
    drawn = contact_sheet(tmp_path / "long", max_steps=5)
    assert drawn.steps[0] == 0 and drawn.steps[-1] == 29 and len(drawn.steps) == 5
    assert drawn.total_steps == 30
    assert {s for _, s in drawn.boxes} == set(drawn.steps)


@settings(deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=60, unique=True), st.integers(1, 40))
def test_pick_steps(steps, k):
    picked = pick_steps(steps, k)
    assert picked == sorted(set(picked)) and set(picked) <= set(steps)
    assert len(picked) == min(k, len(steps))
    assert picked[-1] == max(steps)
    if k > 1:
        assert picked[0] == min(steps)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_pick_steps_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="max_steps must be a positive int"):
        pick_steps([0, 1], bad)


def test_names_and_empty_folders(tmp_path):
    assert sheet_name("logs_dropout_overfit/p0.5") == "logs_dropout_overfit__p0.5.png"
    assert write_contact_sheets(tmp_path / "missing", tmp_path / "out") == []
    (tmp_path / "empty").mkdir()
    assert write_contact_sheets(tmp_path / "empty", tmp_path / "out") == []
    assert not (tmp_path / "out").exists()
