"""The TensorBoard helper: clean runs, honest images, read back with TensorBoard's own reader."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from utils.tensorboard_logging import (
    ClippingWarning,
    ImageRun,
    event_files,
    images_to_grid,
    read_run,
    read_run_images,
    read_scalars,
    samples_needed,
    summarize_logs,
    tensorboard_args,
)


def _batch(n=4, c=3, h=8, w=8, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def test_round_trip_tags_and_steps(tmp_path):
    steps = 5
    with ImageRun("logs_maxpool", logdir=tmp_path) as run:
        for step in range(steps):
            x = _batch(seed=step)
            run.log_pair(step, x, torch.nn.functional.max_pool2d(x, 2))
    logged = read_run(tmp_path / "logs_maxpool")
    assert sorted(logged) == ["input", "output"]
    for tag in ("input", "output"):
        assert [s for s, _, _ in logged[tag]] == list(range(steps))
    # make_grid with 4 images in one row, padding 2: width = 4*(8+2)+2, height = 8+2*2
    assert logged["input"][0][1:] == (12, 42)
    assert logged["output"][0][1:] == (8, 26)


def test_pixels_match_make_grid_and_png(tmp_path):
    x = _batch(n=3, h=5, w=7, seed=3)
    with ImageRun("r", logdir=tmp_path, nrow=2) as run:
        run.log_images("input", x, 0)
    (step, pixels), = read_run_images(tmp_path / "r")["input"]
    # What SummaryWriter.add_image itself would have stored for make_grid's grid
    with SummaryWriter(str(tmp_path / "plain")) as writer:
        writer.add_image("input", make_grid(x, nrow=2, padding=2, pad_value=1.0), 0)
    (_, expected), = read_run_images(tmp_path / "plain")["input"]
    assert step == 0
    assert np.array_equal(pixels, expected)


def test_one_event_file_after_reruns(tmp_path):
    for _ in range(3):
        with ImageRun("logs_avgpool", logdir=tmp_path) as run:
            for step in range(2):
                run.log_pair(step, _batch(), _batch(h=4, w=4))
    run_path = tmp_path / "logs_avgpool"
    assert len(event_files(run_path)) == 1
    assert [s for s, _, _ in read_run(run_path)["input"]] == [0, 1]


def test_plain_writer_twice_shows_the_problem_we_avoid(tmp_path):
    # The reason ImageRun deletes the folder: two writers into one run leave two event files
    # and TensorBoard then reports each step twice.
    for _ in range(2):
        with SummaryWriter(str(tmp_path / "run")) as writer:
            writer.add_images("input", _batch(), 0)
    assert len(event_files(tmp_path / "run")) == 2


def test_refuses_to_clear_a_folder_with_other_files(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "homework.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not TensorBoard event files"):
        ImageRun("notes", logdir=tmp_path)
    assert (tmp_path / "notes" / "homework.txt").exists()


@pytest.mark.parametrize("name", ["", "/abs", "../escape", "a/../../b"])
def test_bad_run_names(tmp_path, name):
    with pytest.raises(ValueError, match="relative folder name"):
        ImageRun(name, logdir=tmp_path)


def test_duplicate_step_is_an_error(tmp_path):
    with ImageRun("r", logdir=tmp_path) as run:
        run.log_images("input", _batch(), 0)
        with pytest.raises(ValueError, match="already logged at step 0"):
            run.log_images("input", _batch(), 0)


@pytest.mark.parametrize("step", [-1, 1.5, True, "0"])
def test_bad_steps(tmp_path, step):
    with ImageRun("r", logdir=tmp_path) as run, pytest.raises(ValueError, match="non-negative int"):
        run.log_images("input", _batch(), step)


def test_closed_run_refuses(tmp_path):
    run = ImageRun("r", logdir=tmp_path)
    run.close()
    run.close()  # twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        run.log_images("input", _batch(), 0)


@pytest.mark.parametrize("channels", [2, 4, 64])
def test_channels_other_than_1_or_3(channels):
    with pytest.raises(ValueError, match="1 \\(gray\\) or 3 \\(RGB\\) channels"):
        images_to_grid(torch.rand(2, channels, 4, 4))


def test_wrong_rank_and_types():
    with pytest.raises(ValueError, match="N×C×H×W"):
        images_to_grid(torch.rand(4, 4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        images_to_grid(np.zeros((1, 3, 4, 4)))
    with pytest.raises(TypeError, match="x.float"):
        images_to_grid(torch.zeros(1, 3, 4, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="empty"):
        images_to_grid(torch.zeros(0, 3, 4, 4))


def test_nan_and_inf_are_errors():
    x = _batch()
    x[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        images_to_grid(x)
    x[0, 0, 0, 0] = float("-inf")
    with pytest.raises(ValueError, match="inf"):
        images_to_grid(x)


def test_dropout_output_warns_with_the_fraction_that_clips():
    torch.manual_seed(0)
    x = torch.full((4, 3, 16, 16), 0.75)
    y = torch.nn.functional.dropout(x, p=0.5)  # kept values become 1.5
    fraction = (y > 1).float().mean().item()
    with pytest.warns(ClippingWarning, match=f"{fraction:.1%} of values lie outside"):
        grid = images_to_grid(y)
    assert grid.max().item() <= 1.0


def test_policies_error_clip_rescale():
    y = torch.tensor([[[[0.0, 2.0], [1.0, -1.0]]]])
    with pytest.raises(ValueError, match="outside \\[0, 1\\]"):
        images_to_grid(y, out_of_range="error")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clipped = images_to_grid(y, out_of_range="clip", padding=0)
        rescaled = images_to_grid(y, out_of_range="rescale", padding=0)
    assert torch.equal(clipped[0], y[0, 0].clamp(0, 1))
    assert torch.allclose(rescaled[0], (y[0, 0] + 1) / 3)
    with pytest.raises(ValueError, match="out_of_range must be"):
        images_to_grid(y, out_of_range="ignore")


def test_in_range_never_warns_and_uint8_is_accepted():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = images_to_grid(torch.zeros(1, 1, 3, 3, dtype=torch.uint8) + 255, padding=0)
        b = images_to_grid(torch.ones(1, 1, 3, 3), padding=0)
    assert torch.equal(a, b)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 20), c=st.sampled_from([1, 3]), h=st.integers(1, 12), w=st.integers(1, 12),
       nrow=st.integers(1, 9), padding=st.integers(0, 4), pad_value=st.sampled_from([0.0, 0.5, 1.0]))
def test_grid_matches_make_grid(n, c, h, w, nrow, padding, pad_value):
    x = torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(n * 1000 + h * 10 + w))
    ours = images_to_grid(x, nrow=nrow, padding=padding, pad_value=pad_value)
    assert torch.equal(ours, make_grid(x, nrow=nrow, padding=padding, pad_value=pad_value))


def test_scalars_summary_and_args(tmp_path):
    with ImageRun("logs_dropout_overfit/p0.5", logdir=tmp_path) as run:
        for step in range(3):
            run.log_scalar("loss/train", 1.0 / (step + 1), step)
    scalars = read_scalars(tmp_path / "logs_dropout_overfit" / "p0.5")
    assert [s for s, _ in scalars["loss/train"]] == [0, 1, 2]
    assert scalars["loss/train"][2][1] == pytest.approx(1 / 3)
    with ImageRun("logs_maxpool", logdir=tmp_path) as run:
        for step in range(2):
            run.log_pair(step, _batch(), _batch())
    rows = {row["run"]: row for row in summarize_logs(tmp_path)}
    assert set(rows) == {"logs_dropout_overfit/p0.5", "logs_maxpool"}
    assert rows["logs_maxpool"]["steps"] == 2 and rows["logs_maxpool"]["event_files"] == 1
    assert rows["logs_maxpool"]["image_tags"] == ["input", "output"]
    args = tensorboard_args(tmp_path, port=6123)
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert "--bind_all" not in args
    assert args[args.index("--samples_per_plugin") + 1] == f"images={samples_needed(tmp_path)}"
    assert samples_needed(tmp_path) >= 2
    assert summarize_logs(tmp_path / "missing") == []


def test_png_decodes_with_pil(tmp_path):
    with ImageRun("r", logdir=tmp_path) as run:
        run.log_images("input", _batch(n=1, c=1, h=6, w=6), 0)
    (_, pixels), = read_run_images(tmp_path / "r")["input"]
    # make_grid returns a single image as it is (no border), gray repeated to RGB
    assert Image.fromarray(pixels).size == (6, 6)
    assert pixels.shape == (6, 6, 3)
