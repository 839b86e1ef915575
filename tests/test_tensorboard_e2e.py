"""TensorBoard end to end: the lessons' runs, served by a real TensorBoard, seen by a real browser.

The lessons that log (01_max_pooling, 02_average_pooling, 04_dropout) are executed once per session
into a temporary logs folder (or, when the notebook tests run in the same session, their runs are
reused). TensorBoard is started on 127.0.0.1 on a free port with the arguments `make tensorboard`
uses, and everything is checked through the HTTP API the page itself uses. The server is stopped by
its process group in every case (fixture finalizer). The browser test opens the IMAGES dashboard in
headless Chromium and saves build/tensorboard_images.png.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import serve_tensorboard
from conftest import WALK_CARDS, browser_or_skip
from PIL import Image

from utils.environment import ROOT, build_dir
from utils.tensorboard_logging import read_run, read_run_images

#: run -> (lesson notebook that writes it, pooling factor: output cells per input cell per side)
LESSON_RUNS = {
    "logs_maxpool": ("01_max_pooling", 3),  # MaxPool2d(3): the original lesson's kernel
    "logs_maxpool_imagerun": ("01_max_pooling", 3),  # the same pairs, written with ImageRun
    "logs_avgpool": ("02_average_pooling", 3),  # AvgPool2d(3): the same windows as logs_maxpool
    "logs_dropout": ("04_dropout", 1),
}
TAGS = ("input", "output")
GRID_PADDING = 2  # torchvision make_grid's default, used by ImageRun
#: Runs written with plain SummaryWriter.add_images (the original lesson's loop): no border.
GRID_PADDINGS = {"logs_maxpool": 0}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
PAIRS = [(run, tag) for run in LESSON_RUNS for tag in TAGS]
PAIR_IDS = [f"{run}-{tag}" for run, tag in PAIRS]

pytestmark = pytest.mark.notebooks  # executes notebooks: slow, left out of `make test-fast`


def _lesson_path(run: str) -> Path:
    return ROOT / "notebooks" / f"{LESSON_RUNS[run][0]}.ipynb"


@pytest.fixture(scope="session")
def lesson_logs(request, tmp_path_factory) -> Path:
    """A logs folder holding the three lesson runs, each written by executing its notebook."""
    from run_notebooks import NotebookFailed, execute_notebook  # tools/ is on sys.path (conftest)

    missing = [
        f"notebooks/{LESSON_RUNS[run][0]}.ipynb"
        for run in LESSON_RUNS
        if not _lesson_path(run).exists()
    ]
    if missing:
        pytest.fail(
            f"Lesson notebooks missing: {', '.join(missing)}; they write the runs "
            "this test serves through TensorBoard."
        )
    shared = any("executed_notebooks" in item.fixturenames for item in request.session.items)
    if shared:  # `make test`: reuse the notebook tests' runs, every notebook executes once
        logs = request.getfixturevalue("notebook_logs_dir")
        results = request.getfixturevalue("executed_notebooks")
        for run in LESSON_RUNS:
            key = _lesson_path(run).relative_to(ROOT).as_posix()
            error = results.get(key, (None, 0.0, "not executed"))[2]
            if error is not None:
                pytest.fail(f"{key} failed, so {run} cannot be checked:\n{error}")
        return logs
    logs = tmp_path_factory.mktemp("e2e_logs")
    env = {"COURSE_LOGS_DIR": str(logs), "COURSE_BUILD_DIR": str(tmp_path_factory.mktemp("b"))}
    for run in LESSON_RUNS:
        try:
            execute_notebook(_lesson_path(run), env=env)
        except NotebookFailed as err:
            pytest.fail(f"{_lesson_path(run).name} failed, so {run} cannot be checked:\n{err}")
    return logs


@pytest.fixture(scope="session")
def logged(lesson_logs) -> dict:
    """What the notebooks wrote, read back with TensorBoard's EventAccumulator (keep all)."""
    out = {}
    for run in LESSON_RUNS:
        assert (lesson_logs / run).is_dir(), f"{LESSON_RUNS[run][0]} did not write {run}"
        out[run] = read_run_images(lesson_logs / run)
    return out


@pytest.fixture(scope="session")
def server(lesson_logs, logged, tmp_path_factory):
    """TensorBoard on 127.0.0.1 on a free port, with every lesson step loaded; always stopped."""
    tb = Server(serve_tensorboard.start(lesson_logs, timeout=90))
    tb.command = serve_tensorboard.server_args(lesson_logs)  # what start() passed to TensorBoard
    try:

        def all_loaded() -> bool:
            if not set(LESSON_RUNS) <= set(tb.get_json("data/runs")):
                return False
            tags = tb.get_json("data/plugin/images/tags")
            if any(tag not in tags.get(run, {}) for run, tag in PAIRS):
                return False
            return all(
                len(_entries(tb, run, tag)) >= len(logged[run].get(tag, [])) for run, tag in PAIRS
            )

        tb.wait_for(all_loaded, timeout=90, what="every lesson step to be loaded")
        yield tb
    finally:
        tb.stop()
        assert not tb.running()


class Server:
    """HTTP access to a TensorBoard that tools/serve_tensorboard.py started."""

    def __init__(self, info):
        self.info, self.url = info, f"http://127.0.0.1:{info.port}"
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy

    def get(self, path: str, params: dict | None = None) -> bytes:
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return self.opener.open(f"{self.url}/{path}{query}", timeout=30).read()

    def get_json(self, path: str, params: dict | None = None):
        return json.loads(self.get(path, params))

    def wait_for(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"TensorBoard did not show {what} within {timeout:.0f} s")
            time.sleep(0.5)

    def stop(self) -> None:
        serve_tensorboard.stop(self.info)

    def running(self) -> bool:
        try:
            os.kill(self.info.pid, 0)
        except ProcessLookupError:
            return False
        return True


def _entries(tb, run: str, tag: str) -> list[dict]:
    return tb.get_json("data/plugin/images/images", {"run": run, "tag": tag, "sample": 0})


def _served_image(tb, entry: dict) -> tuple[bytes, np.ndarray]:
    data = tb.get("data/plugin/images/individualImage?" + entry["query"])
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return data, np.asarray(im.convert("RGB"))


def pooled_grid_fits(in_len: int, out_len: int, factor: int, pad: int = GRID_PADDING) -> bool:
    """True if a make_grid side of ``in_len`` pixels (n cells of c pixels, ``pad`` between and
    around) turns into ``out_len`` when every cell shrinks to ``c // factor``."""
    for n in range(1, in_len):
        if (in_len - pad) % n:
            continue
        cell = (in_len - pad) // n - pad
        if cell >= factor and n * (cell // factor + pad) + pad == out_len:
            return True
    return False


# -- the HTTP API ------------------------------------------------------------------------------
def test_server_is_local_and_keeps_every_step(server, logged):
    assert server.url.startswith("http://127.0.0.1:")
    command = server.command
    assert command[command.index("--host") + 1] == "127.0.0.1" and "--bind_all" not in command
    samples = int(command[command.index("--samples_per_plugin") + 1].split("=")[1])
    assert samples >= max(len(items) for run in logged.values() for items in run.values())


def test_runs_and_tags_exist(server):
    runs = server.get_json("data/runs")
    assert set(LESSON_RUNS) <= set(runs), runs
    tags = server.get_json("data/plugin/images/tags")
    for run in LESSON_RUNS:
        assert set(TAGS) <= set(tags[run]), f"{run}: image tags {sorted(tags[run])}"


@pytest.mark.parametrize(("run", "tag"), PAIRS, ids=PAIR_IDS)
def test_every_logged_step_is_served(server, lesson_logs, logged, run, tag):
    expected = [step for step, _, _ in read_run(lesson_logs / run)[tag]]
    assert len(expected) >= 2, f"{run}/{tag}: the lesson should log several steps"
    served = [entry["step"] for entry in _entries(server, run, tag)]
    assert served == expected, f"{run}/{tag}: served steps {served}, logged {expected}"


@pytest.mark.parametrize(("run", "tag"), PAIRS, ids=PAIR_IDS)
def test_served_pngs_are_the_logged_images(server, logged, run, tag):
    by_step = dict(logged[run][tag])
    for entry in _entries(server, run, tag):
        _, pixels = _served_image(server, entry)
        expected = by_step[entry["step"]]
        assert pixels.shape == expected.shape, f"{run}/{tag} step {entry['step']}"
        np.testing.assert_array_equal(pixels, expected)


@pytest.mark.parametrize("run", list(LESSON_RUNS))
def test_output_grid_is_smaller_by_the_pooling_factor(server, run):
    factor = LESSON_RUNS[run][1]
    inputs = {e["step"]: _served_image(server, e)[1].shape for e in _entries(server, run, "input")}
    outputs = {
        e["step"]: _served_image(server, e)[1].shape for e in _entries(server, run, "output")
    }
    assert inputs.keys() == outputs.keys()
    for step in inputs:
        (h_in, w_in, _), (h_out, w_out, _) = inputs[step], outputs[step]
        if factor == 1:
            assert (h_out, w_out) == (h_in, w_in), f"{run} step {step}"
        else:
            assert h_out < h_in and w_out < w_in, f"{run} step {step}"
            pad = GRID_PADDINGS.get(run, GRID_PADDING)
            assert pooled_grid_fits(h_in, h_out, factor, pad) and pooled_grid_fits(
                w_in, w_out, factor, pad
            ), (
                f"{run} step {step}: input grid {w_in}x{h_in}, output grid {w_out}x{h_out} "
                f"is not the input shrunk by {factor} per side"
            )


def test_max_and_average_pooling_show_the_same_inputs(server):
    # The two lessons log the same batches at the same steps so TensorBoard lines them up.
    max_in = _entries(server, "logs_maxpool_imagerun", "input")  # both written by ImageRun
    avg_in = _entries(server, "logs_avgpool", "input")
    assert [e["step"] for e in max_in] == [e["step"] for e in avg_in]
    for a, b in zip(max_in, avg_in, strict=True):
        np.testing.assert_array_equal(_served_image(server, a)[1], _served_image(server, b)[1])


@pytest.mark.parametrize(
    ("length", "factor", "expected"),
    [
        (8 * 130 + 2, 2, 8 * 66 + 2),  # eight 128-px images, pooled by 2
        (4 * 34 + 2, 2, 4 * 18 + 2),  # four 32-px images
        (34, 3, 14),  # one 32-px image, kernel 3: 10 px
    ],
)
def test_pooled_grid_fits_knows_make_grid(length, factor, expected):
    import torch
    from torchvision.utils import make_grid

    assert pooled_grid_fits(length, expected, factor)
    assert not pooled_grid_fits(length, expected + 1, factor)
    assert not pooled_grid_fits(length, length, factor)
    # and the formula is make_grid's own
    x = torch.zeros(3, 3, 32, 32)
    grid_in = make_grid(x, nrow=8, padding=2)
    grid_out = make_grid(torch.nn.functional.max_pool2d(x, 2), nrow=8, padding=2)
    assert pooled_grid_fits(grid_in.shape[2], grid_out.shape[2], 2)
    assert pooled_grid_fits(grid_in.shape[1], grid_out.shape[1], 2)


# -- a real browser ----------------------------------------------------------------------------


def _open_input_and_output_only(page) -> None:
    """TensorBoard opens only the first two tag sections (a lesson may log more tags, e.g. a
    dropout mask): click the headings, as a user would, so that input and output are open and
    every other tag section is closed."""
    sections = page.locator("tf-category-paginated-view")
    for i in range(sections.count()):
        name, opened = sections.nth(i).evaluate("e => [e.category.name, !!e.opened]")
        if name and opened != (name in TAGS):
            sections.nth(i).locator("button.heading").click()
    for i in range(sections.count()):
        name, opened = sections.nth(i).evaluate("e => [e.category.name, !!e.opened]")
        if name:
            assert opened == (name in TAGS), f"tag section {name!r} open={opened}"


def _wait_or_explain(page, screenshot: Path, script: str, arg=None, timeout: float = 60_000):
    """``page.wait_for_function``; on timeout save what the page showed and list its cards."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(script, arg=arg, timeout=timeout)
    except PlaywrightTimeout:
        failed = screenshot.with_name(screenshot.stem + "_failed.png")
        page.screenshot(path=str(failed), full_page=True)
        cards = page.evaluate(
            "() => {"
            + WALK_CARDS
            + """return cards.map((c) => {
                const img = c.shadowRoot && c.shadowRoot.querySelector('img');
                return [c.run, c.tag, img ? img.naturalWidth : null];
            }); }"""
        )
        pytest.fail(
            f"timed out waiting in the browser; cards [run, tag, width]: {cards}; "
            f"screenshot {failed}"
        )


def _walk_slider(page, server, run: str, tag: str, last: int) -> list[int]:
    """Step one card's slider from the last step down with the arrow key, as a user would; at each
    position check the heading's step and that the image shown is the one the API lists for it."""
    queries = {e["step"]: e["query"] for e in _entries(server, run, tag)}
    cards = page.locator("tf-image-loader")
    index = next(
        i
        for i in range(cards.count())
        if cards.nth(i).evaluate("e => [e.run, e.tag]") == [run, tag]
    )
    card = cards.nth(index)
    read = """e => [e.shadowRoot.querySelector('.heading-label').textContent.split(/\\s+/).join(' ').trim(),
                    e.shadowRoot.querySelector('img').getAttribute('src')]"""
    seen = []
    card.locator("#steps").focus()
    for i in range(len(queries)):
        if i:
            page.keyboard.press("ArrowLeft")
        expected = sorted(queries)[len(queries) - 1 - i]
        # The heading changes at once; the new image replaces the old one when it has loaded.
        _wait_or_explain(
            page,
            build_dir() / "tensorboard_images.png",
            """([e, want, query]) => {
                const img = e.shadowRoot.querySelector('img');
                const heading = e.shadowRoot.querySelector('.heading-label').textContent;
                return heading.split(/\\s+/).join(' ').trim() === want && img && img.complete
                    && img.naturalWidth > 0 && img.getAttribute('src').includes(query);
            }""",
            [card.element_handle(), f"step {expected}", queries[expected]],
            timeout=20_000,
        )
        heading, src = card.evaluate(read)
        assert queries[expected] in src, f"{run}/{tag} step {expected}: image {src}"
        seen.append(int(heading.split()[1]))
    assert seen[0] == last
    return seen


def test_no_browser_skips_locally_but_fails_in_ci(monkeypatch):
    import conftest

    monkeypatch.setattr(conftest, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        browser_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="in CI this test must run"):
        browser_or_skip()


@pytest.mark.browser
def test_images_dashboard_renders_in_chromium(server, logged):
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    screenshot = build_dir() / "tensorboard_images.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    last_step = {run: logged[run]["input"][-1][0] for run in LESSON_RUNS}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            start = time.monotonic()
            page.goto(server.url + "#images", wait_until="domcontentloaded")
            # Cards live in shadow DOM; Playwright's CSS engine pierces open shadow roots.
            page.wait_for_selector("tf-image-loader img", timeout=60_000)
            _open_input_and_output_only(page)
            _wait_or_explain(
                page,
                screenshot,
                "(runs) => {"
                + WALK_CARDS
                + """
                    const ok = (c) => {
                        const img = c.shadowRoot && c.shadowRoot.querySelector('img');
                        return img && img.complete && img.naturalWidth > 0;
                    };
                    return runs.every((r) => ['input', 'output'].every(
                        (t) => cards.some((c) => c.run === r && c.tag === t && ok(c))));
                }""",
                list(LESSON_RUNS),
            )
            seconds = time.monotonic() - start
            # "Show actual image size": every image then takes its true pixel size on the page.
            page.get_by_text("Show actual image size").click()
            _wait_or_explain(
                page,
                screenshot,
                "(tags) => {"
                + WALK_CARDS
                + """
                const shown = cards.filter((c) => tags.includes(c.tag));
                return shown.length > 0 && shown.every((c) => {
                    const img = c.shadowRoot.querySelector('img');
                    return img && img.clientWidth === img.naturalWidth;
                });
                }""",
                list(TAGS),
            )
            cards = page.evaluate(
                "() => {"
                + WALK_CARDS
                + """
                return cards.map((e) => {
                    const img = e.shadowRoot.querySelector('img');
                    return {run: e.run, tag: e.tag, text: e.shadowRoot.textContent,
                            width: img.naturalWidth, height: img.naturalHeight,
                            shownWidth: img.clientWidth};
                });
                }"""
            )
            # The dashboard scrolls inside its own pane: grow the window to fit it all.
            height = page.evaluate(
                """() => {
                    let h = 0;
                    const walk = (root) => root.querySelectorAll('*').forEach((el) => {
                        h = Math.max(h, el.getBoundingClientRect().top + el.scrollHeight);
                        if (el.shadowRoot) walk(el.shadowRoot);
                    });
                    walk(document);
                    return Math.ceil(h);
                }"""
            )
            page.set_viewport_size({"width": 1400, "height": int(min(max(height, 1100), 5000))})
            page.wait_for_timeout(500)
            page.screenshot(path=str(screenshot), full_page=True)
            walked = _walk_slider(page, server, "logs_maxpool", "input", last_step["logs_maxpool"])
        finally:
            browser.close()
    shown = {(c["run"], c["tag"]): c for c in cards if c["run"] in LESSON_RUNS and c["tag"] in TAGS}
    assert set(shown) == set(PAIRS), f"cards on the page: {sorted(shown)}"
    for (run, tag), card in shown.items():
        step, expected = logged[run][tag][-1]  # the slider starts at the last step
        assert (card["height"], card["width"]) == expected.shape[:2], f"{run}/{tag}: {card}"
        assert card["shownWidth"] == card["width"], f"{run}/{tag} not shown at actual size"
        assert f"step {step}" in " ".join(card["text"].split()), f"{run}/{tag}: {card['text']!r}"
        assert step == last_step[run]
    assert screenshot.stat().st_size > 10_000
    # The slider reached every logged step, each with its own image.
    assert walked == [step for step, _ in logged["logs_maxpool"]["input"]][::-1]
    print(
        f"IMAGES dashboard rendered {len(shown)} cards in {seconds:.1f} s; screenshot {screenshot}"
    )
