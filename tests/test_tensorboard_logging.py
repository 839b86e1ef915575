"""The TensorBoard helper: clean runs, honest images, read back with TensorBoard's own reader."""

import io
import json
import re
import shlex
import warnings

import numpy as np
import pytest
import torch
import torchvision
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
    show_tensorboard,
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


def test_canary_plain_writer_twice_shows_the_problem_we_avoid(tmp_path):
    # The reason ImageRun deletes the folder: two writers into one run leave two event files; TensorBoard
    # then keeps tags only the older file has (and --load_fast=false doubles scalar points; see
    # tests/docs/test_troubleshooting.py::test_two_event_files_what_tensorboard_really_shows).
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



def test_scalars_and_run_names_with_a_slash(tmp_path):
    with ImageRun("logs_dropout_overfit/p0.5", logdir=tmp_path) as run:
        for step in range(3):
            run.log_scalar("loss/train", 1.0 / (step + 1), step)
    scalars = read_scalars(tmp_path / "logs_dropout_overfit" / "p0.5")
    assert [s for s, _ in scalars["loss/train"]] == [0, 1, 2]
    assert scalars["loss/train"][2][1] == pytest.approx(1 / 3)


def test_png_decodes_with_pil(tmp_path):
    with ImageRun("r", logdir=tmp_path) as run:
        run.log_images("input", _batch(n=1, c=1, h=6, w=6), 0)
    (_, pixels), = read_run_images(tmp_path / "r")["input"]
    # make_grid returns a single image as it is (no border), gray repeated to RGB
    assert Image.fromarray(pixels).size == (6, 6)
    assert pixels.shape == (6, 6, 3)


# -- issue 12, case 2: every layout that is not N×C×H×W (C in {1, 3}) gets a fix that works -------
FIX = r"Fix: log (.+) instead \(x is what you passed\)"
MAPS_FIX = r"for maps, log (.+?) instead"


def _apply_fix(bad, expected_error=(ValueError, TypeError), pattern=FIX):
    """Log ``bad``, expect an error, evaluate its fix literally, return (message, fixed batch)."""
    with pytest.raises(expected_error) as err:
        images_to_grid(bad)
    fix = re.search(pattern, str(err.value)).group(1)
    fixed = eval(fix, {"torch": torch, "torchvision": torchvision, "x": bad})
    return str(err.value), fixed


_gen = torch.Generator().manual_seed(0)
MAPS = torch.rand(3, 28, 28, generator=_gen)  # three single-channel maps, not one RGB image
pooled, indices = torch.nn.functional.max_pool2d(torch.rand(2, 3, 8, 8, generator=_gen), 2,
                                                 return_indices=True)
LAYOUTS = {
    # name: (bad input, words the message must name, the intended batch N×C×H×W)
    "H×W": (MAPS[0], "H×W", MAPS[0][None, None]),
    "N×H×W (N=3)": (MAPS, "3 separate gray maps", MAPS.unsqueeze(1)),
    "N×H×W (N=20)": (torch.rand(20, 5, 5, generator=_gen), "20 gray maps", None),
    "C×H×W (C=3)": (MAPS, "one RGB image", MAPS.unsqueeze(0)),
    "H×W×C": (MAPS.permute(1, 2, 0), "channels last", MAPS.unsqueeze(0)),
    "N×H×W×C": (MAPS.unsqueeze(0).permute(0, 2, 3, 1), "channels last", MAPS.unsqueeze(0)),
    "N×16×H×W": (torch.rand(2, 16, 4, 4, generator=_gen), "16 channels", None),
    "(output, indices)": ((pooled, indices), "return_indices=True", pooled),
    "list of C×H×W": ([MAPS, MAPS], "list of 2 tensors", torch.stack([MAPS, MAPS])),
    "list of H×W": ([MAPS[0], MAPS[1]], "list of 2 tensors", MAPS[:2].unsqueeze(1)),
    "NumPy H×W×3": (MAPS.permute(1, 2, 0).numpy(), "NumPy array", MAPS.unsqueeze(0)),
    "NumPy uint8 H×W": ((MAPS[0] * 255).to(torch.uint8).numpy(), "NumPy array",
                        (MAPS[0] * 255).to(torch.uint8)[None, None].float() / 255),
    "PIL RGB": (Image.fromarray((MAPS.permute(1, 2, 0) * 255).to(torch.uint8).numpy()), "PIL image",
                (MAPS * 255).to(torch.uint8).float().unsqueeze(0) / 255),
    "5-D": (torch.rand(2, 2, 3, 4, 4, generator=_gen), "5 dimensions", None),
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_wrong_layout_names_it_and_its_fix_works_literally(name, tmp_path):
    bad, words, intended = LAYOUTS[name]
    message, fixed = _apply_fix(bad, pattern=MAPS_FIX if name == "N×H×W (N=3)" else FIX)
    assert words in message
    with warnings.catch_warnings(), ImageRun("r", logdir=tmp_path) as run:
        warnings.simplefilter("ignore", ClippingWarning)
        run.log_images("fixed", fixed, 0)
    if intended is not None:
        assert torch.allclose(images_to_grid(fixed), images_to_grid(intended), atol=1 / 255)


def test_a_leading_axis_of_three_is_never_taken_for_colour():
    for x in (torch.rand(3, 28, 28), torch.rand(3, 2, 2)):
        with pytest.raises(ValueError, match="ambiguous"):
            images_to_grid(x)


# -- issue 12, case 3: integer images; the suggested conversion gives the intended picture -------
@pytest.mark.parametrize("dtype, top, scale", [
    (torch.uint16, 65535, 65535), (torch.int16, 255, 255), (torch.int32, 4000, 65535),
    (torch.int64, 255, 255), (torch.int64, 65535, 65535), (torch.bool, 1, 1),
])
def test_integer_images_get_a_conversion_that_keeps_the_picture(dtype, top, scale):
    values = torch.linspace(0, top, 16).round().reshape(1, 1, 4, 4)
    x = values.to(dtype)
    message, fixed = _apply_fix(x, TypeError)
    assert str(dtype) in message
    # the intended picture: 0 is black, the type's full scale is white (Pillow's and TensorBoard's view)
    assert torch.allclose(images_to_grid(fixed), images_to_grid(values / scale))


def test_uint16_numpy_channels_last_gets_one_fix_for_both():
    x = (np.arange(48, dtype=np.uint16) * 1365).reshape(4, 4, 3)
    _, fixed = _apply_fix(x)
    intended = torch.from_numpy(x.astype(np.float32) / 65535).permute(2, 0, 1).unsqueeze(0)
    assert torch.allclose(images_to_grid(fixed), images_to_grid(intended))


@pytest.mark.parametrize("n, c, h, w, nrow, padding", [(1, 1, 3, 5, 8, 2), (5, 3, 4, 4, 2, 0),
                                                        (20, 1, 7, 3, 8, 2), (7, 3, 2, 9, 3, 4)])
def test_the_grid_is_make_grid(n, c, h, w, nrow, padding):
    x = torch.rand(n, c, h, w)
    assert torch.equal(images_to_grid(x, nrow=nrow, padding=padding),
                       make_grid(x, nrow=nrow, padding=padding, pad_value=1.0))


# -- issue 12, case 1: the %tensorboard line and the printed command survive any folder name -------
AWKWARD = ["logs", "My Course #1/logs", "it's \"quoted\"/logs", "课程/日志", "C:\\Users\\李 雷\\logs",
           "a;b && c|d $(x) `y` *", "  lead and trail  "]


@pytest.mark.parametrize("folder", AWKWARD)
def test_the_magic_line_reaches_tensorboard_intact(folder, monkeypatch):
    import IPython
    import tensorboard.manager
    import tensorboard.notebook

    import utils.tensorboard_logging as tbl

    seen = []

    def fake_start(args, timeout=None):  # TensorBoard's own magic parses the line, then calls this
        seen.append(args)
        return tensorboard.manager.StartFailed(exit_code=1, stdout="", stderr="")

    class Shell:  # a terminal IPython (no kernel): TensorBoard then prints instead of embedding
        def has_trait(self, name):
            return False

        def run_line_magic(self, name, line):
            if name == "tensorboard":
                tensorboard.notebook.start(line)

    monkeypatch.setattr(tensorboard.manager, "start", fake_start)
    monkeypatch.setattr(tbl, "in_notebook_frontend", lambda: True)
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    show_tensorboard(folder)
    assert seen == [tensorboard_args(folder)]
    args = seen[0]
    assert args[args.index("--logdir") + 1] == str(folder) or folder.strip() != folder
    assert args[args.index("--host") + 1] == "127.0.0.1"


@pytest.mark.parametrize("folder", AWKWARD)
def test_the_printed_command_parses_back_to_the_same_arguments(folder, capsys):
    command = show_tensorboard(folder)
    assert command in capsys.readouterr().out
    assert shlex.split(command, comments=True) == ["tensorboard", *tensorboard_args(folder)]


def test_tensorboard_stays_on_loopback():
    args = tensorboard_args("logs")
    assert args[args.index("--host") + 1] == "127.0.0.1" and "--bind_all" not in args


# -- ImageRun(layer=...): what the PAIRS dashboard needs, and "Link by step" -------------------------
def test_every_pair_logs_output_mean_for_link_by_step(tmp_path):
    """TIME SERIES → Settings → "Link by step" moves the image cards to the step picked on a scalar
    chart, so every log_pair writes one scalar per step."""
    with ImageRun("logs_plain", logdir=tmp_path) as run:
        for step in range(3):
            x = _batch(seed=step)
            run.log_pair(step, x, torch.nn.functional.max_pool2d(x, 2))
    means = read_scalars(tmp_path / "logs_plain")["output/mean"]
    assert [s for s, _ in means] == [0, 1, 2]
    for step, value in means:
        x = _batch(seed=step)
        assert value == pytest.approx(torch.nn.functional.max_pool2d(x, 2).mean().item(), rel=1e-6)


@pytest.mark.parametrize("layer", [torch.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                                   torch.nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
                                   torch.nn.Dropout(p=0.5)])
def test_image_run_with_a_layer_logs_what_the_pairs_dashboard_reads(tmp_path, layer):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from utils.tensorboard_logging import pairs_summary

    summary = pairs_summary()
    torch.manual_seed(0)
    logged = []
    with ImageRun("logs_layer", logdir=tmp_path, layer=layer, nrow=4, padding=3) as run:
        for step in range(2):
            x = _batch(n=5, h=9, w=11, seed=step)
            y = layer(x)
            run.log_pair(step, x, y, out_of_range="clip")
            logged.append((x, y))
    acc = EventAccumulator(str(tmp_path / "logs_layer"),
                           size_guidance={"images": 0, "scalars": 0, "tensors": 0}).Reload()
    assert set(acc.Tags()["images"]) == {"input", "output"}  # the images are ImageRun's own grids
    png = np.asarray(Image.open(io.BytesIO(acc.Images("input")[1].encoded_image_string)))
    assert png.shape[:2] == tuple(make_grid(logged[1][0], nrow=4, padding=3).shape[1:])
    meta = json.loads(acc.SummaryMetadata(summary.LAYER_TAG).plugin_data.content)
    assert meta["layer"] == json.loads(json.dumps(summary.describe_layer(layer)))
    assert meta["grid"] == {"ncols": 4, "padding": 3}  # where each image sits in the grid picture
    from tensorboard.util.tensor_util import make_ndarray

    for step, (x, y) in enumerate(logged):
        for tag, tensor in ((summary.VALUE_TAGS["input"], x), (summary.VALUE_TAGS["output"], y)):
            event = next(e for e in acc.Tensors(tag) if e.step == step)
            assert np.array_equal(make_ndarray(event.tensor_proto), tensor.numpy())  # unclipped
    assert [e.step for e in acc.Scalars("output/mean")] == [0, 1]


def test_image_run_refuses_a_layer_that_did_not_make_the_outputs(tmp_path):
    x = _batch(h=10, w=10)
    with ImageRun("logs_wrong", logdir=tmp_path, layer=torch.nn.MaxPool2d(2)) as run:
        with pytest.raises(ValueError, match="pass the layer that made these outputs"):
            run.log_pair(0, x, torch.nn.functional.max_pool2d(x, 3))
        run.log_pair(0, x, torch.nn.functional.max_pool2d(x, 2))  # nothing was written at step 0


# -- issue 26, kind 4: an embed that never renders always has a plain-text way out beside it ---------
@pytest.mark.slow
def test_the_embed_prints_its_url_and_command_and_the_url_serves(tmp_path, monkeypatch, capsys):
    """A real %tensorboard in an IPython shell (as a front end that does not run TensorBoard's frame
    script sees it): beside the embed, the URL of the very server it started, and the command."""
    import os
    import signal
    import urllib.request

    from IPython.core.interactiveshell import InteractiveShell
    from tensorboard import manager

    import utils.tensorboard_logging as tbl

    monkeypatch.setattr(tbl, "in_notebook_frontend", lambda: True)
    for name in ("JUPYTERHUB_SERVICE_PREFIX", "TENSORBOARD_PROXY_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_LANGUAGE", "en")
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(str(tmp_path / "logs" / "run_a")) as writer:
        writer.add_scalar("x", 1.0, 0)
    InteractiveShell.instance()
    before = {info.pid for info in manager.get_all()}
    try:
        command = show_tensorboard(tmp_path / "logs")
        printed = capsys.readouterr().out
        url = re.search(r"open (http://127\.0\.0\.1:\d+/#images) in your browser", printed).group(1)
        assert "If TensorBoard does not appear above" in printed and "  " + command in printed
        runs = json.loads(urllib.request.urlopen(url.split("#")[0] + "data/runs", timeout=30).read())
        assert runs == ["run_a"]
        assert shlex.split(command)[0] == "tensorboard"
    finally:
        for info in manager.get_all():  # only the server this test started
            if info.pid not in before and info.logdir == str(tmp_path / "logs"):
                os.kill(info.pid, signal.SIGTERM)
        InteractiveShell.clear_instance()


def test_on_a_hub_the_embed_is_the_students_own_tensorboard_with_a_way_out(monkeypatch, capsys):
    """On a hub with the course's entry: an iframe of <prefix>tensorboard/ (a socket only the student
    can open, behind the hub's login), no %tensorboard on a loopback port, and the address in text."""
    import importlib.metadata

    import IPython.display

    import utils.tensorboard_logging as tbl

    if not any(e.name == "tensorboard" for e in importlib.metadata.entry_points(group="jupyter_serverproxy_servers")):
        pytest.skip("the course's proxy entry is not installed (requirements.txt)")
    shown = []
    monkeypatch.setattr(tbl, "in_notebook_frontend", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    monkeypatch.setattr(IPython, "get_ipython", lambda: pytest.fail("no %tensorboard on a hub"))
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada/")
    monkeypatch.setenv("COURSE_LANGUAGE", "en")
    show_tensorboard()
    [frame] = shown
    assert isinstance(frame, IPython.display.IFrame) and frame.src == "/user/ada/tensorboard/#images"
    assert 'src="/user/ada/tensorboard/#images"' in frame._repr_html_()
    printed = capsys.readouterr().out
    assert "/user/ada/tensorboard/#images" in printed and "TensorBoard — course logs" in printed
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    show_tensorboard()
    assert "/user/ada/tensorboard/#images" in capsys.readouterr().out


def test_the_pair_viewer_says_in_plain_text_where_else_to_look():
    """A front end that cannot show widgets displays the widget's text/plain: a way out, not its data
    (before issue 26: 'PairViewer(data={...base64...})')."""
    from torch import nn

    from utils.viewer import PairViewer

    drop = nn.Dropout(0.5)
    x = torch.rand(1, 1, 4, 4)
    bundle = PairViewer(x, drop(x), drop)._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    text = bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "make lab" in text and "make tensorboard" in text and "data=" not in text and len(text) < 300
