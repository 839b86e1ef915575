"""The "pairs" TensorBoard dashboard (plugins/tensorboard-pairs): routes, and the page in a real browser.

A temporary log folder gets runs written with ``tensorboard_pairs.summary.log_layer`` and a plain
``SummaryWriter``. The `tensorboard` command (the installed entry point, as `make tensorboard` and
`%tensorboard` find it) serves it on 127.0.0.1, port 0 (a free one). Routes are checked against the
event files (EventAccumulator) and the tensors; the browser tests hover output pixels and check the
window and values the page shows against what PyTorch computes for that pixel, with every request
that does not go to 127.0.0.1 blocked and counted.

The last part runs lesson 01's own cells (its original SummaryWriter loop, with its
``writer.add_text("layer", repr(tudui))`` line), serves the run with the command
`make tensorboard RUN=...` runs, and checks it at 1280×720 with the mouse, with the keyboard alone,
and with axe-core (WCAG 2.0/2.1 A and AA).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import allow_only, free_port
from PIL import Image
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from utils.environment import ROOT

pytest.importorskip("tensorboard_pairs", reason="run `make venv` (installs ./plugins/tensorboard-pairs)")
from tensorboard_pairs.summary import describe_layer, log_layer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
STEPS = 3
LAYERS = {
    "maxpool": nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
    "avgpool": nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
    "avgpool_real": nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    "dilated": nn.MaxPool2d(3, stride=2, padding=1, dilation=2, ceil_mode=True),
    "dropout": nn.Dropout(p=0.5),
}
#: The runs of the test: per run and step, the (inputs, outputs) that were logged.
LOGGED: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {}
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1: never a proxy


def _write_runs(logdir: Path) -> None:
    gen = torch.Generator().manual_seed(16)
    torch.manual_seed(16)
    for name, layer in LAYERS.items():
        LOGGED[name] = []
        with SummaryWriter(str(logdir / name)) as writer:
            for step in range(STEPS):
                x = torch.rand(3, 3, 19, 23, generator=gen)  # odd sizes: ceil_mode adds a pixel
                y = layer(x)
                log_layer(writer, layer, step, x, y)
                LOGGED[name].append((x, y))
    LOGGED["plain"] = []
    with SummaryWriter(str(logdir / "plain")) as writer:  # no metadata: side by side only
        for step in range(STEPS):
            x = torch.rand(2, 1, 16, 16, generator=gen)
            writer.add_images("input", x, step)
            writer.add_images("output", F.max_pool2d(x, 2), step)
            LOGGED["plain"].append((x, F.max_pool2d(x, 2)))
    LOGGED["speed"] = []
    with SummaryWriter(str(logdir / "speed")) as writer:  # 8 steps of 128×128, for the latency
        layer = nn.MaxPool2d(2)
        for step in range(8):
            x = torch.rand(4, 3, 128, 128, generator=gen)
            log_layer(writer, layer, step, x, layer(x), values=False)
            LOGGED["speed"].append((x, layer(x)))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`tensorboard --logdir <tmp> --host 127.0.0.1 --port 0`: yields its base URL."""
    logdir = tmp_path_factory.mktemp("pairs_logs")
    _write_runs(logdir)
    err = logdir.parent / "tensorboard.err"
    tensorboard = Path(sys.executable).with_name("tensorboard")
    with open(err, "w") as stderr:
        proc = subprocess.Popen(
            [str(tensorboard), "--logdir", str(logdir), "--host", "127.0.0.1", "--port", "0",
             "--samples_per_plugin", "images=100"],
            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        url = None
        for _ in range(600):
            found = re.search(r"(http://127\.0\.0\.1:\d+/)", err.read_text())
            if found:
                url = found.group(1)
                break
            assert proc.poll() is None, err.read_text()
            time.sleep(0.1)
        assert url, f"TensorBoard did not start: {err.read_text()}"
        for _ in range(300):  # wait until the data server has read every run
            runs = json.loads(_get(url + "data/plugin/pairs/runs"))
            if len(runs) == len(LOGGED):
                break
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _get(url: str) -> bytes:
    with OPENER.open(url, timeout=30) as response:
        return response.read()


def _json(server: str, route: str):
    return json.loads(_get(server + "data/plugin/pairs/" + route))


def _png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


# --- the package and its routes ---------------------------------------------------------------------
def test_entry_point_makes_tensorboard_find_the_plugin():
    found = [ep for ep in metadata.entry_points(group="tensorboard_plugins") if ep.name == "pairs"]
    assert found, "pip install ./plugins/tensorboard-pairs (requirements.txt lists it)"
    assert found[0].load().plugin_name == "pairs"


@pytest.mark.slow  # a subprocess
def test_the_dashboard_does_not_import_torch():
    """TensorBoard imports plugin.py in every TensorBoard process: with torch it grew from ~110 MB to
    ~800 MB RSS. The repository's copy (cwd first on sys.path) must stay torch-free."""
    code = ("import sys, tensorboard_pairs.plugin; "
            "assert 'torch' not in sys.modules, 'tensorboard_pairs.plugin imported torch'; "
            "print(tensorboard_pairs.plugin.__file__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "plugins" / "tensorboard-pairs",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).is_relative_to(ROOT / "plugins" / "tensorboard-pairs")


@pytest.mark.slow  # a TensorBoard server
def test_dashboard_is_listed_with_an_iframe_module(server):
    listing = json.loads(_get(server + "data/plugins_listing"))
    assert listing["pairs"]["enabled"]
    assert listing["pairs"]["loading_mechanism"] == {
        "type": "IFRAME", "module_path": "/data/plugin/pairs/index.js"}
    assert b"mountPairViewer" in _get(server + "data/plugin/pairs/viewer.js")


@pytest.mark.slow  # a TensorBoard server
def test_layer_metadata_round_trips(server):
    runs = _json(server, "runs")
    assert set(runs) == set(LOGGED)
    for name, layer in LAYERS.items():
        assert runs[name]["layer"] == json.loads(json.dumps(describe_layer(layer)))
        assert runs[name]["tags"] == ["input", "output"]
        assert runs[name]["grid"] == {"ncols": 8, "padding": 0}
    assert runs["maxpool"]["layer"]["kernel_size"] == [3, 3]
    assert runs["maxpool"]["layer"]["ceil_mode"] is True
    assert runs["dilated"]["layer"]["dilation"] == [2, 2]
    assert runs["dropout"]["layer"] == {"type": "Dropout", "repr": "Dropout(p=0.5, inplace=False)",
                                        "kind": "dropout", "p": 0.5, "training": True}
    assert runs["plain"]["layer"] is None


@pytest.mark.slow  # a TensorBoard server
def test_every_step_is_served_and_images_equal_the_event_files(server, tmp_path_factory):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = next(tmp_path_factory.getbasetemp().glob("pairs_logs*"))
    for run, logged in LOGGED.items():
        steps = _json(server, "steps?run=" + run)
        assert [s["step"] for s in steps] == list(range(len(logged)))
        events = EventAccumulator(str(logdir / run), size_guidance={"images": 0}).Reload()
        for entry, (x, y) in zip(steps, logged, strict=True):
            if run != "plain":
                assert entry["shapes"] == {"input": list(x.shape), "output": list(y.shape)}
            for tag in ("input", "output"):
                served = _png(_get(server + "data/plugin/pairs/image?" + entry[tag]))
                stored = [e for e in events.Images(tag) if e.step == entry["step"]]
                assert len(stored) == 1
                assert np.array_equal(served, _png(stored[0].encoded_image_string))
                # and that picture is the batch tiled as add_images tiles it
                batch = (x if tag == "input" else y)
                assert served.shape[:2] == (batch.shape[2], batch.shape[3] * batch.shape[0])


@pytest.mark.slow  # a TensorBoard server
def test_values_are_the_logged_float32_tensors(server):
    for run in LAYERS:
        for step, (x, y) in enumerate(LOGGED[run]):
            values = _json(server, f"values?run={run}&step={step}")
            for name, tensor in (("input", x), ("output", y)):
                data = np.frombuffer(base64.b64decode(values[name]["data"]), "<f4")
                assert values[name]["shape"] == list(tensor.shape)
                assert np.array_equal(data.reshape(tensor.shape), tensor.numpy())
    assert _json(server, "values?run=plain&step=0") == {}
    assert _json(server, "values?run=speed&step=0") == {}  # values=False


@pytest.mark.slow  # a TensorBoard server
def test_dropout_values_keep_what_the_png_clips(server):
    x, y = LOGGED["dropout"][0]
    assert (y > 1).any()  # the PNG shows these white; the values route still has them
    values = _json(server, "values?run=dropout&step=0")
    data = np.frombuffer(base64.b64decode(values["output"]["data"]), "<f4")
    assert data.max() == pytest.approx(float(y.max())) and data.max() > 1


def test_log_layer_explains_a_wrong_layer(tmp_path):
    x = torch.rand(1, 3, 10, 10)
    with SummaryWriter(str(tmp_path)) as writer:
        with pytest.raises(ValueError, match="pass the layer that made these outputs"):
            log_layer(writer, nn.MaxPool2d(2), 0, x, F.max_pool2d(x, 3))
        with pytest.raises(ValueError, match="N×C×H×W"):
            log_layer(writer, nn.MaxPool2d(2), 0, x.unsqueeze(0), x)
        with pytest.raises(ValueError, match="non-negative int"):
            log_layer(writer, nn.MaxPool2d(2), -1, x, F.max_pool2d(x, 2))


# --- the page in a real browser -------------------------------------------------------------------
def _window_from_pytorch(layer: nn.Module, plane: torch.Tensor, i: int, j: int) -> set:
    """The input cells output (i, j) depends on, found by changing one input cell at a time."""
    base = layer(plane)[0, 0, i, j]
    cells = set()
    for r in range(plane.shape[2]):
        for c in range(plane.shape[3]):
            changed = plane.clone()
            changed[0, 0, r, c] = 1000.0
            if layer(changed)[0, 0, i, j] != base:
                cells.add((r, c))
    return cells


@pytest.fixture(scope="module")
def browser_page(server):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    record = {"remote": [], "errors": []}
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 1000})

        def route(r):
            if r.request.url.startswith("http://127.0.0.1:"):
                r.continue_()
            else:
                record["remote"].append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: record["errors"].append(str(e)))
        page.on("console", lambda m: record["errors"].append(m.text) if m.type == "error" else None)
        page.goto(server + "#pairs")
        page.frame_locator("iframe").locator("canvas.pv-output").wait_for(timeout=60_000)
        frame = next(f for f in page.frames if "plugin_entry" in f.url)
        yield page, frame, record
        browser.close()


def _choose(frame, run: str, image: int = 0, channel: int = 0) -> None:
    frame.locator("select.pv-run").select_option(run)
    frame.wait_for_selector(f'body[data-run="{run}"]')
    if frame.locator("select.pv-image").is_visible():
        frame.locator("select.pv-image").select_option(str(image))
    if frame.locator("select.pv-channel").is_visible():
        frame.locator("select.pv-channel").select_option(str(channel))


def _step(frame, index: int) -> None:
    frame.evaluate("""(t) => { const s = document.querySelector('.pv-slider');
        s.value = t; s.dispatchEvent(new Event('input')); }""", index)
    frame.wait_for_selector(f'.pv[data-drawn-step="{index}"]')


def _hover(page, frame, i: int, j: int, canvas: str = "canvas.pv-output", margin: int = 0,
           step: int | None = None) -> dict:
    zoom = int(frame.locator("select.pv-zoom").input_value())
    box = frame.locator(canvas).bounding_box()
    page.mouse.move(0, 0)  # off the canvas first: a move to where the mouse already is sends no event
    page.mouse.move(box["x"] + (j + margin) * zoom + zoom / 2, box["y"] + (i + margin) * zoom + zoom / 2)
    # the info box must describe THIS pixel of the run, step, image and channel now selected (not an
    # earlier hover, nor a drawing still on its way)
    frame.wait_for_function("""([i, j, step]) => {
        const d = document.querySelector('.pv-info').dataset;
        const img = document.querySelector('select.pv-image'), ch = document.querySelector('select.pv-channel');
        const shown = (el) => el && el.offsetParent !== null;
        const run = document.body.dataset.run;
        return d.row == i && d.col == j && d.output !== undefined
            && (step === null || d.step == step) && (run === undefined || d.run == run)
            && (!shown(img) || d.image == img.value) && (!shown(ch) || d.channel == ch.value);
    }""", arg=[i, j, step])
    return frame.evaluate("() => ({...document.querySelector('.pv-info').dataset})")


def _show(frame, run: str, logged: list, step: int, k: int, c: int):
    """Choose ``run``, image ``k``, channel ``c`` and ``step`` on the page; that step's logged (x, y)."""
    _choose(frame, run, image=k, channel=c)
    _step(frame, step)
    return logged[step]


def _hover_window(page, frame, layer, x, y, k: int, c: int, i: int, j: int, step: int):
    """Hover output pixel (i, j) of image k, channel c: the outlined real cells must be the window
    PyTorch pools and the output PyTorch's value. Returns (what the info box shows, its cells, the
    real cells in the order shown)."""
    shown = _hover(page, frame, i, j, step=step)
    cells = json.loads(shown["cells"])
    real = [(r, q) for r, q, kind in cells if kind == "real"]
    assert set(real) == _window_from_pytorch(layer, x[k:k + 1, c:c + 1], i, j)
    assert float(shown["output"]) == pytest.approx(float(y[k, c, i, j]), abs=0)
    return shown, cells, real


def _hover_dropout(page, frame, x, y, k: int, c: int, step: int) -> list[int]:
    """Hover a kept pixel (above 1, which the PNG clips) and a dropped one: decision, input and output
    as PyTorch computed them. Returns the kept pixel."""
    kept = torch.nonzero(y[k, c] > 1)[0].tolist()
    dropped = torch.nonzero(y[k, c] == 0)[0].tolist()
    for (i, j), decision in [(kept, "kept"), (dropped, "dropped")]:
        shown = _hover(page, frame, i, j, step=step)
        assert shown["kept"] == decision
        assert float(shown["input"]) == pytest.approx(float(x[k, c, i, j]), abs=0)
        assert float(shown["output"]) == pytest.approx(float(y[k, c, i, j]), abs=0)
    return kept


@pytest.mark.browser
@pytest.mark.parametrize("run", ["maxpool", "dilated"])
def test_hover_max_pooling_shows_the_window_pytorch_uses(browser_page, run):
    page, frame, record = browser_page
    layer, k, c = LAYERS[run], 1, 2
    step = 2
    x, y = _show(frame, run, LOGGED[run], step, k, c)
    h_out, w_out = y.shape[2:]
    _, flat = F.max_pool2d(x[k:k + 1, c:c + 1], layer.kernel_size, layer.stride, layer.padding,
                           layer.dilation, ceil_mode=True, return_indices=True)
    for i, j in [(h_out - 1, w_out - 1), (0, 0), (h_out // 2, w_out // 3)]:  # the ceil pixel first
        shown, cells, _ = _hover_window(page, frame, layer, x, y, k, c, i, j, step)
        assert len(cells) == 9  # the whole 3×3 window, padding and overhang drawn as such
        values = json.loads(shown["values"])
        for (r, q, kind), v in zip(cells, values, strict=True):
            assert (v is None) == (kind != "real")
            if v is not None:
                assert v == pytest.approx(float(x[k, c, r, q]), rel=1e-6)
        winner = cells[int(shown["winner"])]
        assert winner[0] * x.shape[3] + winner[1] == int(flat[0, 0, i, j])
    page.screenshot(path=str(_screens() / f"pairs_plugin_{run}.png"))
    assert not record["remote"] and not record["errors"]


@pytest.mark.browser
@pytest.mark.parametrize("run", ["avgpool", "avgpool_real"])
def test_hover_average_pooling_shows_sum_and_divisor(browser_page, run):
    page, frame, record = browser_page
    layer, k, c = LAYERS[run], 2, 0
    step = 1
    x, y = _show(frame, run, LOGGED[run], step, k, c)
    ones = layer(torch.ones_like(x[k:k + 1, c:c + 1]))  # real cells / divisor, as PyTorch counts them
    h_out, w_out = y.shape[2:]
    for i, j in [(h_out - 1, w_out - 1), (0, w_out - 1), (h_out // 2, 1)]:
        shown, _, real = _hover_window(page, frame, layer, x, y, k, c, i, j, step)
        assert int(shown["divisor"]) == round(len(real) / float(ones[0, 0, i, j]))
        assert float(shown["sum"]) / int(shown["divisor"]) == pytest.approx(float(y[k, c, i, j]), rel=1e-5)
    page.screenshot(path=str(_screens() / f"pairs_plugin_{run}.png"))
    assert not record["remote"] and not record["errors"]


@pytest.mark.browser
def test_hover_dropout_shows_input_decision_and_unclipped_output(browser_page):
    page, frame, record = browser_page
    k, c = 0, 1
    x, y = _show(frame, "dropout", LOGGED["dropout"], 0, k, c)
    kept = _hover_dropout(page, frame, x, y, k, c, step=0)
    _hover(page, frame, *kept)
    assert "clipped" in frame.locator(".pv-info").inner_text()
    page.screenshot(path=str(_screens() / "pairs_plugin_dropout.png"))
    assert not record["remote"] and not record["errors"]


@pytest.mark.browser
def test_run_without_metadata_shows_side_by_side(browser_page):
    page, frame, record = browser_page
    _choose(frame, "plain")
    status = frame.locator(".pv-status").inner_text()  # what to add to the loop, in a student's words
    assert 'writer.add_text("layer", repr(' in status and "tensorboard_pairs" not in status
    assert frame.locator("canvas.pv-input").bounding_box()["width"] > 0
    assert not record["remote"] and not record["errors"]


@pytest.mark.browser
def test_slider_move_to_drawn_image_latency(browser_page):
    """8 steps of 4×128×128 images: time from the slider's input event to the drawn canvas."""
    page, frame, record = browser_page
    _choose(frame, "speed")
    _step(frame, 7)  # every step has been fetched once (prefetch), as after a first look
    times = []
    for index in [0, 3, 5, 1, 6, 2, 4, 7] * 3:
        ms = frame.evaluate("""async (t) => {
            const s = document.querySelector('.pv-slider'), box = document.querySelector('.pv');
            const drawn = new Promise((ok) => box.addEventListener('pv-drawn', ok, {once: true}));
            const t0 = performance.now();
            s.value = t; s.dispatchEvent(new Event('input'));
            await drawn;
            await new Promise((ok) => requestAnimationFrame(() => ok()));  // painted
            return performance.now() - t0; }""", index)
        times.append(ms)
    report = {"median_ms": float(np.median(times)), "max_ms": float(np.max(times)), "moves": len(times)}
    (_screens().parent / "pairs_slider_latency.json").write_text(json.dumps(report))
    print("slider move to drawn image:", report)
    assert not record["remote"] and not record["errors"]


def _screens() -> Path:
    path = ROOT / "build" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- end to end: ImageRun(layer=...) runs, served the way `make tensorboard` serves them ------------
#: The runs a lesson writes, with ImageRun's own grid (make_grid, 8 per row, 2-pixel border).
LESSON_LAYERS = {
    "logs_maxpool": nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
    "logs_avgpool": nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True),
    "logs_dropout": nn.Dropout(p=0.5),
}
LESSON_LOGGED: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {}


@pytest.fixture(scope="module")
def make_tensorboard(tmp_path_factory):
    """Runs written by ``ImageRun(name, layer=...)``, served by tools/serve_tensorboard.py, the program
    `make tensorboard` runs (127.0.0.1, a free port instead of 6006); yields its base URL."""
    from utils.tensorboard_logging import ImageRun

    logdir = tmp_path_factory.mktemp("lesson_logs")
    gen = torch.Generator().manual_seed(1616)
    torch.manual_seed(1616)
    for name, layer in LESSON_LAYERS.items():
        LESSON_LOGGED[name] = []
        with ImageRun(name, logdir=logdir, layer=layer) as run:
            for step in range(4):
                x = torch.rand(5, 3, 21, 17, generator=gen)
                y = layer(x)
                run.log_pair(step, x, y, out_of_range="clip")
                LESSON_LOGGED[name].append((x, y))
    port = free_port()
    err = logdir.parent / "serve_tensorboard.err"
    with open(err, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "serve_tensorboard.py"), "--host", "127.0.0.1",
             "--port", str(port), "--logdir", str(logdir)],
            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            assert proc.poll() is None, err.read_text()
            try:
                if len(json.loads(_get(url + "data/plugin/pairs/runs"))) == len(LESSON_LAYERS):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(f"serve_tensorboard.py did not serve the runs: {err.read_text()}")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_image_run_layers_reach_the_dashboard(make_tensorboard):
    runs = _json(make_tensorboard, "runs")
    for name, layer in LESSON_LAYERS.items():
        assert runs[name]["layer"] == json.loads(json.dumps(describe_layer(layer)))
        assert runs[name]["grid"] == {"ncols": 8, "padding": 2}  # ImageRun's make_grid
        steps = _json(make_tensorboard, "steps?run=" + name)
        assert [s["step"] for s in steps] == [0, 1, 2, 3] and all(s["values"] for s in steps)
    # "Link by step": every pair step has a scalar on TIME SERIES
    scalars = json.loads(_get(make_tensorboard + "data/plugin/scalars/tags"))
    assert all("output/mean" in scalars[name] for name in LESSON_LAYERS)


@pytest.mark.browser
def test_make_tensorboard_pairs_page_end_to_end(make_tensorboard, browser_page):
    """The PAIRS page of `make tensorboard`'s server: slider, then hover max / avg / dropout pixels and
    compare the outlined window and the values with PyTorch; offline (no remote request, no JS error)."""
    errors = []
    # the module's browser (one sync Playwright per thread), with a page of its own
    page = browser_page[0].context.browser.new_page(viewport={"width": 1500, "height": 1000})

    remote = allow_only(page, make_tensorboard)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(make_tensorboard + "#pairs")
    page.frame_locator("iframe").locator("canvas.pv-output").wait_for(timeout=60_000)
    frame = next(f for f in page.frames if "plugin_entry" in f.url)

    k, c = 3, 1  # image 3 of 5 sits in the grid picture after 4 two-pixel borders
    for name in ("logs_maxpool", "logs_avgpool"):
        layer = LESSON_LAYERS[name]
        x, y = _show(frame, name, LESSON_LOGGED[name], 2, k, c)  # step 2
        h_out, w_out = y.shape[2:]
        captions = frame.locator("figcaption").all_inner_texts()  # H×W, as PyTorch prints shapes
        assert captions[0].startswith(f"input {x.shape[2]}×{x.shape[3]} (H×W)"), captions
        assert captions[1] == f"output {h_out}×{w_out}", captions
        for i, j in [(h_out - 1, w_out - 1), (0, 0), (h_out // 2, w_out // 2)]:
            shown, _, real = _hover_window(page, frame, layer, x, y, k, c, i, j, step=2)
            values = [v for v in json.loads(shown["values"]) if v is not None]
            assert values == pytest.approx([float(x[k, c, r, q]) for r, q in real], rel=1e-6)
            if name == "logs_avgpool":
                ones = layer(torch.ones_like(x[k:k + 1, c:c + 1]))[0, 0, i, j]
                assert int(shown["divisor"]) == round(len(real) / float(ones))
        page.screenshot(path=str(_screens() / f"pairs_make_tensorboard_{name}.png"))

    x, y = _show(frame, "logs_dropout", LESSON_LOGGED["logs_dropout"], 1, k, c)
    _hover_dropout(page, frame, x, y, k, c, step=1)
    page.close()
    assert not remote, remote
    assert not errors, errors


@pytest.mark.browser
def test_the_run_chosen_last_is_the_one_shown(make_tensorboard, browser_page):
    """A run chosen while the first one still loads (the page opens on logs_avgpool; its steps arrive
    late) must not be replaced by the first when it finally arrives: both layers have the same
    windows, so only the values tell them apart (a CI run once showed avg values for a max pool)."""
    page = browser_page[0].context.browser.new_page(viewport={"width": 1500, "height": 1000})
    held = []

    def hold_first_steps(route):
        if "steps?run=logs_avgpool" in route.request.url and not held:
            held.append(route)  # answered below, after the second choice
        else:
            route.continue_()

    page.route("**/*", hold_first_steps)
    page.goto(make_tensorboard + "#pairs")
    page.frame_locator("iframe").locator("select.pv-run").wait_for(timeout=60_000)
    frame = next(f for f in page.frames if "plugin_entry" in f.url)
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the first run's steps were never requested"
    k, c, step = 3, 1, 0
    x, y = _show(frame, "logs_maxpool", LESSON_LOGGED["logs_maxpool"], step, k, c)
    held[0].continue_()  # the first run's steps arrive now, too late to matter
    page.wait_for_timeout(1000)
    assert frame.evaluate("() => document.body.dataset.run") == "logs_maxpool"
    h_out, w_out = y.shape[2:]
    _hover_window(page, frame, LESSON_LAYERS["logs_maxpool"], x, y, k, c, h_out - 1, w_out - 1, step)
    page.close()


# --- lesson 01's original SummaryWriter loop, served by `make tensorboard RUN=...` -------------------
def test_layer_text_is_read_as_pytorch_describes_the_layer():
    """repr() of a layer, or of a module holding it, as the loop logs it with writer.add_text."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from tensorboard_pairs.plugin import parse_layer

    size = st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5)))

    @st.composite
    def layers(draw):
        kernel = draw(st.tuples(st.integers(1, 5), st.integers(1, 5)))
        stride = draw(st.one_of(st.none(), size))
        padding = draw(st.tuples(*(st.integers(0, k // 2) for k in kernel)))
        if draw(st.booleans()):
            return nn.MaxPool2d(kernel, stride, padding, draw(size), ceil_mode=draw(st.booleans()))
        return nn.AvgPool2d(kernel, stride, padding, ceil_mode=draw(st.booleans()),
                            count_include_pad=draw(st.booleans()))

    @settings(max_examples=150, deadline=None)
    @given(layers(), st.booleans())
    def check(layer, in_module):
        text = repr(nn.Sequential(nn.Identity(), layer)) if in_module else repr(layer)
        parsed, expected = parse_layer(text), describe_layer(layer)
        for key in ("type", "kind", "kernel_size", "stride", "padding", "dilation"):
            assert parsed[key] == expected.get(key, [1, 1]), (text, key)
        if isinstance(layer, nn.MaxPool2d):
            assert parsed["ceil_mode"] == layer.ceil_mode and "unsure" not in parsed
        else:  # repr(nn.AvgPool2d) hides these: the page settles them from the pictures
            assert parsed["unsure"] == ["ceil_mode", "count_include_pad"]

    check()
    assert parse_layer(repr(nn.Dropout(0.3)))["p"] == 0.3
    with pytest.raises(ValueError, match="names 2 layers"):
        parse_layer(repr(nn.Sequential(nn.MaxPool2d(2), nn.AvgPool2d(2))))
    with pytest.raises(ValueError, match="names none of them"):
        parse_layer(repr(nn.Conv2d(3, 8, 3)))


#: Runs written like the lesson's loop: with padding and ceil_mode ("pad" and "outside" cells), and an
#: average pool whose repr() hides ceil_mode=True (the page must find it from the pictures).
PADDED = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
AVG_CEIL = nn.AvgPool2d(3, ceil_mode=True)


@pytest.fixture(scope="module")
def lesson_loop(tmp_path_factory):
    """``logs_maxpool`` written by lesson 01's own cells (the Tudui class and the original loop, read
    from the notebook), plus ``logs_padded`` written the same way; served by the command
    `make tensorboard RUN="logs_maxpool logs_padded"` runs. Yields (url, the loop's namespace, logdir)."""
    import nbformat
    from conftest import make_recipe

    from utils.images import load_images

    logdir = tmp_path_factory.mktemp("lesson_loop") / "logs"
    logdir.mkdir()
    lesson = nbformat.read(ROOT / "notebooks" / "01_max_pooling.ipynb", as_version=4)
    code = [c.source for c in lesson.cells if c.cell_type == "code"]
    tudui_cell = next(s for s in code if "class Tudui" in s)
    loop_cell = next(s for s in code if '"logs_maxpool"' in s and "SummaryWriter(" in s)
    namespace = {"nn": nn, "torch": torch, "x": torch.rand(1, 1, 5, 5), "images": load_images(),
                 "LOGS": logdir}
    exec(tudui_cell, namespace)
    exec(loop_cell, namespace)  # noqa: S102 - the lesson's own loop, as a student runs it
    for name, layer in (("logs_padded", PADDED), ("logs_pooled_avg_ceil", AVG_CEIL)):
        with SummaryWriter(str(logdir / name)) as writer:
            writer.add_text("layer", repr(layer))
            for step, imgs in enumerate(namespace["dataloader"]):
                writer.add_images("input", imgs, step)
                writer.add_images("output", layer(imgs), step)
    port = free_port()
    command = make_recipe("tensorboard", f"PORT={port}", "RUN=logs_maxpool logs_padded logs_pooled_avg_ceil")
    env = dict(os.environ, COURSE_LOGS_DIR=str(logdir))
    err = logdir.parent / "tensorboard.err"
    with open(err, "w") as stderr:
        proc = subprocess.Popen(command, shell=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=stderr, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(900):
            assert proc.poll() is None, err.read_text()
            try:
                if len(json.loads(_get(url + "data/plugin/pairs/runs"))) == 3:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(f"`make tensorboard RUN=...` did not serve the runs: {err.read_text()}")
        yield url, namespace, logdir
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _logged_pictures(logdir: Path, run: str, step: int) -> dict[str, np.ndarray]:
    """The input and output pictures of ``step`` as the event file holds them (H×W×3, uint8)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logdir / run), size_guidance={"images": 0}).Reload()
    return {tag: _png(next(e for e in events.Images(tag) if e.step == step).encoded_image_string)
            for tag in ("input", "output")}


def _tile(picture: np.ndarray, k: int, c: int, h: int, w: int) -> torch.Tensor:
    """Image k, channel c of an add_images picture of a batch of 4 (one row), as a 1×1×h×w tensor in
    [0, 1]: what the page reads from the picture."""
    plane = picture[:h, k * w:(k + 1) * w, c].astype(np.float32) / np.float32(255)
    return torch.from_numpy(np.ascontiguousarray(plane))[None, None]


def _lesson_page(browser_page, url: str, **context):
    browser = browser_page[0].context.browser
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, **context)
    page = ctx.new_page()
    remote = allow_only(page, url)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url + "#pairs")
    page.frame_locator("iframe").locator("canvas.pv-output").wait_for(timeout=60_000)
    frame = next(f for f in page.frames if "plugin_entry" in f.url)
    return ctx, page, frame, remote, errors


def _check_window(shown: dict, layer: nn.Module, plane: torch.Tensor, out_plane: torch.Tensor,
                  i: int, j: int) -> None:
    """The outlined real cells are the window PyTorch pools for (i, j); the values are the logged
    input's; the maximum is nn.MaxPool2d's on the logged input, and the logged output's pixel."""
    cells = json.loads(shown["cells"])
    real = [(r, q) for r, q, kind in cells if kind == "real"]
    assert set(real) == _window_from_pytorch(layer, plane, i, j)
    values = [v for v in json.loads(shown["values"]) if v is not None]
    assert values == pytest.approx([float(plane[0, 0, r, q]) for r, q in real], abs=1e-7)
    pooled = float(layer(plane)[0, 0, i, j])
    assert float(shown["output"]) == pytest.approx(pooled, abs=1e-7)
    assert float(shown["output"]) == pytest.approx(float(out_plane[0, 0, i, j]), abs=1e-7)
    assert json.loads(shown["values"])[int(shown["winner"])] == pytest.approx(pooled, abs=1e-7)


@pytest.mark.browser
def test_hover_the_original_loops_run_shows_pytorchs_window_and_maximum(lesson_loop, browser_page):
    """Issue 24: logs_maxpool as lesson 01's original loop wrote it (add_images + the add_text line);
    at 1280×720 the default zoom shows input and output side by side."""
    url, namespace, logdir = lesson_loop
    layer = namespace["tudui"].maxpool1
    ctx, page, frame, remote, errors = _lesson_page(browser_page, url)
    run, step = "logs_maxpool", 2
    pictures = _logged_pictures(logdir, run, step)
    # not the first image (its place in the picture is the page's to find), the one with most levels
    k = max((1, 2, 3), key=lambda t: len(np.unique(pictures["input"][:, t * 128:(t + 1) * 128])))
    _choose(frame, run, image=k, channel=1)
    _step(frame, step)
    channel = int(frame.locator("select.pv-channel").input_value()) if frame.locator(
        "select.pv-channel").is_visible() else 0
    assert "MaxPool2d(kernel_size=3, stride=3" in frame.locator("body").inner_text()
    inp, out = (frame.locator(f"canvas.pv-{n}").bounding_box() for n in ("input", "output"))  # page px
    assert inp["x"] + inp["width"] < out["x"] and out["x"] + out["width"] <= 1280
    assert inp["y"] + inp["height"] <= 720 and out["y"] == pytest.approx(inp["y"], abs=30)
    assert int(frame.locator("select.pv-zoom").input_value()) >= 3  # not shrunk to a stamp either
    plane = _tile(pictures["input"], k, channel, 128, 128)
    out_plane = _tile(pictures["output"], k, channel, 42, 42)
    spread = (F.max_pool2d(plane, 3) + F.max_pool2d(-plane, 3))[0, 0]  # a window with one clear max
    widest = divmod(int(spread.argmax()), 42)
    for i, j in [(41, 41), (0, 0), widest]:
        shown = _hover(page, frame, i, j, step=step)
        _check_window(shown, layer, plane, out_plane, i, j)
    page.screenshot(path=str(_screens() / "pairs_original_loop_hover.png"))
    ctx.close()
    assert not remote and not errors, (remote, errors)


@pytest.mark.browser
def test_average_pool_repr_hides_ceil_mode_and_the_pictures_settle_it(lesson_loop, browser_page):
    """repr(nn.AvgPool2d(3, ceil_mode=True)) reads 'AvgPool2d(kernel_size=3, stride=3, padding=0)':
    the page finds ceil_mode=True from the logged sizes, says so, and explains the pixel it adds."""
    url, _, logdir = lesson_loop
    assert "ceil_mode" not in repr(AVG_CEIL)
    ctx, page, frame, remote, errors = _lesson_page(browser_page, url)
    _choose(frame, "logs_pooled_avg_ceil")
    shown = _hover(page, frame, 42, 42, step=0)  # the window ceil_mode adds: 2×2 real cells
    assert "from the pictures: ceil_mode=True" in frame.locator("body").inner_text()
    pictures = _logged_pictures(logdir, "logs_pooled_avg_ceil", 0)
    c = int(shown["channel"])
    plane = _tile(pictures["input"], 0, c, 128, 128)
    real = [(r, q) for r, q, kind in json.loads(shown["cells"]) if kind == "real"]
    assert set(real) == _window_from_pytorch(AVG_CEIL, plane, 42, 42)
    ones = AVG_CEIL(torch.ones_like(plane))[0, 0, 42, 42]
    assert int(shown["divisor"]) == round(len(real) / float(ones)) == 4
    assert float(shown["output"]) == pytest.approx(float(_tile(pictures["output"], 0, c, 43, 43)[0, 0, 42, 42]))
    assert abs(float(shown["sum"]) / 4 - float(AVG_CEIL(plane)[0, 0, 42, 42])) < 1e-6
    ctx.close()
    assert not remote and not errors, (remote, errors)


def _focused(frame) -> str:
    return frame.evaluate("() => document.hasFocus() ? document.activeElement.className || "
                          "document.activeElement.tagName : ''")


def _tab_to_output(page, frame) -> int:
    """Press Tab until the output picture has the focus; returns the presses."""
    for presses in range(1, 40):
        page.keyboard.press("Tab")
        if _focused(frame) == "pv-output":
            return presses
    pytest.fail("Tab never reached the output picture")


@pytest.mark.browser
def test_keyboard_only_choose_a_pixel_and_pin_it(lesson_loop, browser_page):
    """Issue 25: Tab to the step slider and the output picture, arrows, Enter; the window and values
    match PyTorch for the chosen pixel, and the table is announced (aria-live)."""
    url, namespace, logdir = lesson_loop
    layer = namespace["tudui"].maxpool1
    ctx, page, frame, remote, errors = _lesson_page(browser_page, url)
    frame.wait_for_selector('body[data-run="logs_maxpool"]')  # the first run in order (the others sort after it): no mouse
    for _ in range(40):
        page.keyboard.press("Tab")
        if _focused(frame) == "pv-slider":
            break
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # step 2
    frame.wait_for_selector('.pv[data-drawn-step="2"]')
    _tab_to_output(page, frame)
    ring = frame.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
    assert ring[0] != "none" and ring[1] >= 2, ring  # a visible focus ring
    info = frame.locator(".pv-info")
    assert info.get_attribute("aria-live") == "polite"
    for key in ["ArrowRight"] * 5 + ["ArrowDown"] * 3 + ["ArrowLeft"]:
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    frame.wait_for_selector('.pv-info[data-row="3"][data-col="4"][data-pinned="true"][data-output]')
    shown = frame.evaluate("() => ({...document.querySelector('.pv-info').dataset})")
    assert shown["step"] == "2" and shown["image"] == "0"
    pictures = _logged_pictures(logdir, "logs_maxpool", 2)
    c = int(shown["channel"])
    _check_window(shown, layer, _tile(pictures["input"], 0, c, 128, 128),
                  _tile(pictures["output"], 0, c, 42, 42), 3, 4)
    text = info.inner_text()  # what a screen reader hears: the pixel, the nine values, the maximum
    assert "row 3, column 4" in text and f"= {float(shown['output']):.3f}" in text
    box = frame.locator("canvas.pv-output").bounding_box()  # pinned: the mouse no longer moves it
    page.mouse.move(box["x"] + 30, box["y"] + 60)
    page.wait_for_timeout(300)
    assert info.get_attribute("data-row") == "3"
    page.keyboard.press("End")
    page.keyboard.press("PageDown")  # the last pixel: the arrows still move a pinned selection
    frame.wait_for_selector('.pv-info[data-row="41"][data-col="41"]')
    page.screenshot(path=str(_screens() / "pairs_keyboard.png"))
    ctx.close()
    assert not remote and not errors, (remote, errors)


def _axe_source() -> str:
    """axe-core's axe.min.js: from build/ or node_modules/, else `npm install --prefix build/axe
    axe-core@4` once (skipped when neither is possible, e.g. offline with no copy)."""
    candidates = [ROOT / "node_modules" / "axe-core" / "axe.min.js",
                  *sorted((ROOT / "build").glob("**/node_modules/axe-core/axe.min.js"))]
    found = next((p for p in candidates if p.exists()), None)
    if found is None:
        import shutil

        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("axe-core is needed: npm install --prefix build/axe axe-core@4")
        done = subprocess.run([npm, "install", "--prefix", str(ROOT / "build" / "axe"), "axe-core@4",
                               "--no-audit", "--no-fund"], capture_output=True, text=True, timeout=300)
        found = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
        if done.returncode or not found.exists():
            pytest.skip(f"could not install axe-core: {done.stderr[-500:]}")
    return found.read_text("utf-8")


@pytest.mark.browser
@pytest.mark.parametrize("run", ["logs_maxpool", "logs_padded"])
def test_axe_finds_no_wcag_violation_while_a_pixel_is_selected(lesson_loop, browser_page, run):
    """axe-core, WCAG 2.0/2.1 A and AA, on the PAIRS frame with a pinned pixel; logs_padded's last
    pixel shows padding and "outside" (ceil_mode overhang) cells, 3.45:1 before."""
    url, _, _ = lesson_loop
    source = _axe_source()
    ctx, page, frame, remote, errors = _lesson_page(browser_page, url, bypass_csp=True)
    _choose(frame, run)
    _hover(page, frame, 0, 0)
    page.mouse.down()
    page.mouse.up()  # pinned; then the last pixel, by keyboard
    frame.locator("canvas.pv-output").press("End")
    frame.locator("canvas.pv-output").press("PageDown")
    frame.wait_for_selector('.pv-info[data-pinned="true"][data-output]:not([data-row="0"])')
    if run == "logs_padded":
        kinds = {kind for *_, kind in json.loads(frame.locator(".pv-info").get_attribute("data-cells"))}
        assert kinds == {"real", "pad", "over"}
    frame.add_script_tag(content=source)
    result = frame.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then((r) => ({
        violations: r.violations.map((v) => ({id: v.id, nodes: v.nodes.map((n) => n.target.join(' '))})),
        passes: r.passes.length}))""")
    print(run, "axe:", result["passes"], "rules passed, violations:", result["violations"])
    assert result["violations"] == [] and result["passes"] > 10
    assert frame.evaluate("() => [document.documentElement.lang, document.title]")[0] == "en"
    assert frame.evaluate("() => document.title")
    page.screenshot(path=str(_screens() / f"pairs_axe_{run}.png"))
    ctx.close()
    assert not remote and not errors, (remote, errors)
