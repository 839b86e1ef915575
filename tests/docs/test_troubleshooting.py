"""docs/troubleshooting.md: every listed message is real.

The tables are parsed; each row has an anchor id (``<a id="..."></a>``) and, in backticks, the exact
text a student sees (plus optional examples written as ``(e.g. `...`)``). For each id this file has a
*reproducer* that triggers the error for real with the installed versions (PyTorch code, torchvision,
a TensorBoard server on an empty folder or on an occupied port, a subprocess import) and returns the
message it produced. The test asserts the documented text is a substring of that real message.
The only substitution: the documented port 6006 is replaced by the free port the test occupies.

Faithfulness notes
* ``pkg_resources``: setuptools 82 removed the module, and TensorBoard 2.20 and older import it. With
  setuptools ≥ 82 installed (as in requirements), ``import pkg_resources`` fails exactly as old
  TensorBoard does. With an older setuptools the import is run with site-packages left out (``-I -S``),
  which produces the same interpreter message for a module that is not there.
* CIFAR-10 offline: the download goes through a proxy on a closed local port, so urllib fails at once
  with its ``<urlopen error ...>`` wrapper (the errno text differs from a DNS failure; the documented
  key is the part common to both).
* "No dashboards are active": text of TensorBoard's web page, read from the page in headless Chromium;
  without Chromium (outside CI) from the page bundle the same server serves, after checking that the
  server reports no active dashboard.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import free_port, go_offline
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "troubleshooting.md"
DOCUMENTED_PORT = "6006"
IN_CI = bool(os.environ.get("CI"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CJK = re.compile(r"[\u4e00-\u9fff]")


# -- the document --------------------------------------------------------------------------------
def parse_rows(text: str) -> list[dict]:
    """Rows of every table whose first cell starts with an anchor: id, key, examples, cells."""
    rows = []
    for line in text.splitlines():
        match = re.match(r'\|\s*<a id="([a-z0-9-]+)"></a>(.*)', line)
        if not match:
            continue
        cells = [c.strip() for c in match.group(2).split(" | ")]
        cells[-1] = cells[-1].rstrip("|").strip()
        first = cells[0]
        # ``double backticks`` hold messages that contain a backtick themselves
        spans = [a or b for a, b in re.findall(r"``(.+?)``|`([^`]+)`", first)]
        rows.append(
            {
                "id": match.group(1),
                "key": spans[0] if spans else "",
                "examples": re.findall(r"e\.g\. `([^`]+)`", first),
                "cells": cells,
            }
        )
    return rows


ROWS = parse_rows(DOC.read_text(encoding="utf-8"))


# -- reproducers: each returns the real message ---------------------------------------------------
def _message(fn) -> str:
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - we want the message of whatever PyTorch raises
        return f"{type(err).__name__}: {err}"
    raise AssertionError("expected an error, none was raised")


def _unpool_forgotten_indices() -> None:
    x = torch.rand(2, 3, 8, 8)
    out, idx = nn.MaxPool2d(2)(x)  # return_indices forgotten: the batch of 2 unpacks
    nn.MaxUnpool2d(2)(out, idx)


def _warning(fn) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    assert caught, "expected a warning, none was issued"
    return "\n".join(str(w.message) for w in caught)


def _tensorboard_command(logdir: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir",
        str(logdir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


class TensorBoardServer:
    """TensorBoard on an empty folder and a free port; stderr kept for the start-up messages."""

    def __init__(self, tmp: Path):
        self.logdir = tmp / "empty_logs"
        self.logdir.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = tmp / "tensorboard.stderr"
        self._stderr = open(self.stderr_path, "w")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        self.process = subprocess.Popen(
            _tensorboard_command(self.logdir, self.port),
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            env=env,
        )
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"TensorBoard exited: {self.stderr_path.read_text()}")
            try:
                urllib.request.urlopen(self.url + "/data/plugins_listing", timeout=2).read()
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("TensorBoard did not answer within 45 s")

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._stderr.close()


@pytest.fixture(scope="module")
def tensorboard(tmp_path_factory):
    server = TensorBoardServer(tmp_path_factory.mktemp("tb"))
    yield server
    server.stop()


def no_dashboards_text(server: TensorBoardServer) -> str:
    if CHROMIUM:
        sync_api = pytest.importorskip("playwright.sync_api")
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page()
                page.goto(server.url + "/")
                message = page.get_by_text("No dashboards are active").first
                message.wait_for(timeout=30000)
                return page.locator("body").inner_text()
            finally:
                browser.close()
    if IN_CI:
        pytest.fail("chromium is required under CI to read TensorBoard's page")
    import json

    listing = json.loads(urllib.request.urlopen(server.url + "/data/plugins_listing").read())
    assert not any(plugin["enabled"] for plugin in listing.values()), listing
    index = urllib.request.urlopen(server.url + "/").read().decode()
    bundle = re.search(r'src="(index\.js[^"]*)"', index).group(1)
    return urllib.request.urlopen(f"{server.url}/{bundle}").read().decode("utf-8", "replace")


def port_in_use_text(server: TensorBoardServer) -> str:
    result = subprocess.run(
        _tensorboard_command(server.logdir, server.port),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode != 0
    return result.stderr.replace(str(server.port), DOCUMENTED_PORT)


MAGIC_HARNESS = """
import os, signal, sys
from tensorboard import manager, notebook

port = int(sys.argv[1])
try:
    for _ in range(int(sys.argv[2])):
        notebook.start(f"--logdir logs --host 127.0.0.1 --port {port}")
finally:  # stop only the server this script started (on its own port)
    for info in manager.get_all():
        if info.port == port and info.logdir.endswith("logs"):
            os.kill(info.pid, signal.SIGTERM)
"""


def tensorboard_magic_text(tmp: Path, *, times: int, binary: bool) -> str:
    """What `%tensorboard` prints (it calls tensorboard.notebook.start), run ``times`` times."""
    (tmp / "logs").mkdir(exist_ok=True)
    script = tmp / "magic.py"
    script.write_text(MAGIC_HARNESS, encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TENSORBOARD_BINARY"}
    empty_bin = tmp / "empty_bin"
    empty_bin.mkdir(exist_ok=True)
    env["PATH"] = str(empty_bin)  # no `tensorboard` program on PATH, as under `.venv/bin/jupyter`
    if binary:
        env["TENSORBOARD_BINARY"] = str(Path(sys.executable).parent / "tensorboard")
        if not Path(env["TENSORBOARD_BINARY"]).exists():
            pytest.skip("no tensorboard program next to this Python")
    result = subprocess.run(
        [sys.executable, str(script), str(port), str(times)],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return (result.stdout + result.stderr).replace(str(port), DOCUMENTED_PORT)


def pkg_resources_text() -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import pkg_resources"], capture_output=True, text=True, timeout=60
    )
    if result.returncode == 0:  # setuptools < 82 still ships it: leave site-packages out
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", "import pkg_resources"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    return result.stderr


def no_module_utils_text(tmp: Path) -> str:
    """Outside the repository (setup cell not run), and with a PyPI-style `utils` package first."""
    outside = subprocess.run(
        [sys.executable, "-I", "-c", "import utils.environment"],
        capture_output=True,
        text=True,
        cwd=tmp,
        timeout=60,
    )
    other = tmp / "site" / "utils"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text(
        '"""A different package that happens to be named utils."""\n'
    )
    code = f"import sys; sys.path.insert(0, {str(other.parent)!r}); import utils.environment"
    shadowed = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp, timeout=60
    )
    assert outside.returncode != 0 and shadowed.returncode != 0
    assert "No module named 'utils'" in outside.stderr
    assert "No module named 'utils.environment'" in shadowed.stderr
    return outside.stderr + shadowed.stderr


def cifar_offline_text(tmp: Path, monkeypatch) -> str:
    import torchvision

    go_offline(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _message(
            lambda: torchvision.datasets.CIFAR10(str(tmp / "cifar"), train=False, download=True)
        )


def cifar_not_found_text(tmp: Path) -> str:
    import torchvision

    return _message(lambda: torchvision.datasets.CIFAR10(str(tmp / "nothing"), train=False))


def clipping_text() -> str:
    from utils.tensorboard_logging import ClippingWarning, images_to_grid

    x = torch.rand(1, 3, 8, 8)
    dropped = F.dropout(x, p=0.5, training=True)  # kept values doubled: some exceed 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images_to_grid(dropped)
    clipping = [w for w in caught if issubclass(w.category, ClippingWarning)]
    assert clipping, "dropout output of a [0, 1] image should trigger the ClippingWarning"
    return str(clipping[0].message)


def _images_to_grid():
    from utils.tensorboard_logging import images_to_grid

    return images_to_grid


def unquoted_logdir_text() -> str:
    """A folder named `My Course #1` typed unquoted after %tensorboard: TensorBoard's own parsing."""
    import contextlib
    import io
    import shlex

    from tensorboard import program

    args = shlex.split("--logdir My Course #1/logs --host 127.0.0.1", comments=True, posix=True)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit):
        program.TensorBoard().configure(argv=["tensorboard", *args])
    return err.getvalue()


def no_usable_image_text(tmp: Path) -> str:
    from utils.images import load_images

    (tmp / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    (tmp / "empty.png").write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = _message(lambda: load_images(tmp))
    return text + "\n".join(str(w.message) for w in caught)


def _sigmoid_inplace_backward():
    a = torch.rand(3, 3, dtype=torch.float64, requires_grad=True)
    y = torch.sigmoid(a)
    nn.Dropout(p=0.5, inplace=True)(y)
    y.sum().backward()



# -- issue 26: unpooling, TensorBoard's own image errors, widgets --------------------------------
def _unpool_chain():
    """7×7 → 3×3 → 1×1 with MaxPool2d(2): (x, a, i1, b, i2)."""
    x = torch.arange(49.0).view(1, 1, 7, 7)
    pool = nn.MaxPool2d(2, return_indices=True)
    a, i1 = pool(x)
    b, i2 = pool(a)
    return x, a, i1, b, i2


def unpool_invalid_index_text() -> str:
    x = torch.arange(100.0).view(1, 1, 10, 10)  # kernel 3 leaves the last row and column out
    out, idx = F.max_pool2d(x, 3, return_indices=True)
    _, _, i1, b, i2 = _unpool_chain()
    unpool = nn.MaxUnpool2d(2)
    return (_message(lambda: F.max_unpool2d(out, idx, 3))
            + _message(lambda: unpool(unpool(b, i2), i1)))


def unpool_indices_shape_text() -> str:
    _, _, i1, b, _ = _unpool_chain()
    return _message(lambda: nn.MaxUnpool2d(2)(b, i1))


def unpool_output_size_text() -> str:
    x, _, _, b, i2 = _unpool_chain()
    return _message(lambda: nn.MaxUnpool2d(2)(b, i2, output_size=x.shape[-2:]))


#: (row, method, tensor, extra keyword arguments): each raises inside SummaryWriter's image methods.
TENSORBOARD_IMAGE_MISTAKES = {
    "tb-image-format": [
        ("add_image", lambda: torch.rand(8, 3, 16, 16), {}),
        ("add_image", lambda: torch.rand(16, 16), {}),
        ("add_images", lambda: torch.rand(3, 16, 16), {}),
        ("add_images", lambda: torch.rand(8, 16, 16), {}),
        ("add_images", lambda: torch.rand(2, 8, 3, 16, 16), {}),
    ],
    "tb-images-channels": [
        ("add_images", lambda: torch.rand(8, 16, 16, 3), {}),
        ("add_images", lambda: torch.rand(8, 16, 16, 16), {}),
    ],
    "tb-image-pil": [
        ("add_image", lambda: torch.rand(16, 16, 3), {}),
        ("add_image", lambda: torch.rand(16, 16, 16), {}),
    ],
    "tb-dataformats-twice": [("add_images", lambda: torch.rand(8, 3, 16, 16), {"dataformats": "NCHH"})],
    "tb-dataformats-letter": [("add_images", lambda: torch.rand(8, 3, 16, 16), {"dataformats": "BCHW"})],
    "tb-not-a-tensor": [
        ("add_images", lambda: [torch.rand(3, 16, 16) for _ in range(8)], {}),
        ("add_images", lambda: nn.MaxPool2d(2, return_indices=True)(torch.rand(8, 3, 32, 32)), {}),
        ("add_image", lambda: __import__("PIL.Image").Image.new("RGB", (16, 16)), {}),
    ],
    "tb-empty-batch": [("add_images", lambda: torch.rand(8, 3, 16, 16)[8:], {})],
}


def tensorboard_image_text(row_id: str, tmp: Path) -> str:
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp / "run")) as writer:
        return "\n".join(_message(lambda m=method, x=x, kw=kw: getattr(writer, m)("t", x, 0, **kw))
                         for method, x, kw in ((m, make(), kw) for m, make, kw in TENSORBOARD_IMAGE_MISTAKES[row_id]))


def widget_model_not_found_text() -> str:
    """JupyterLab's widget manager writes this text into the output area (read from its bundle)."""
    import jupyterlab_widgets

    ext = Path(jupyterlab_widgets.__file__).resolve().parent
    candidates = list((ext / "labextension" / "static").glob("*.js"))
    if not candidates:  # installed as shared data (share/jupyter/labextensions)
        candidates = list((Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter-widgets"
                           / "jupyterlab-manager" / "static").glob("*.js"))
    return "\n".join(f.read_text(encoding="utf-8", errors="replace") for f in candidates
                     if "model not found" in f.read_text(encoding="utf-8", errors="replace"))


X5 = torch.rand(1, 1, 5, 5)

def wrong_kernel_text(tmp: Path) -> str:
    """The setup cell's import in a real other environment without torch (tests/conftest.py)."""
    from conftest import python_without

    other = python_without(tmp / "other-env")
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import utils"
    return subprocess.run([str(other), "-c", code], capture_output=True, text=True, cwd=tmp).stderr


REPRODUCERS = {
    "no-dashboards": lambda ctx: no_dashboards_text(ctx["tensorboard"]()),
    "port-in-use": lambda ctx: port_in_use_text(ctx["tensorboard"]()),
    "tensorflow-not-found": lambda ctx: ctx["tensorboard"]().stderr(),
    "tensorboard-not-on-path": lambda ctx: tensorboard_magic_text(
        ctx["tmp"], times=1, binary=False
    ),
    "tensorboard-reusing": lambda ctx: tensorboard_magic_text(ctx["tmp"], times=2, binary=True),
    "pkg-resources": lambda ctx: pkg_resources_text(),
    "images-white": lambda ctx: clipping_text(),
    "pad-half-kernel": lambda ctx: (
        _message(lambda: nn.MaxPool2d(3, padding=2)(X5))
        + _message(lambda: nn.AvgPool2d(3, padding=2)(X5))
    ),
    "pad-half-kernel-dilation": lambda ctx: _message(
        lambda: nn.MaxPool2d(3, padding=2, dilation=2)(X5)
    ),
    "output-too-small": lambda ctx: _message(lambda: nn.MaxPool2d(7)(X5)),
    "kernel-zero": lambda ctx: _message(lambda: nn.MaxPool2d(kernel_size=0, stride=1)(X5)),
    "stride-zero": lambda ctx: (
        _message(lambda: nn.MaxPool2d(2, stride=0)(X5)) + _message(lambda: nn.MaxPool2d(0)(X5))
    ),
    # one row per message: each layer words a wrong number of dimensions its own way (issue 23)
    "input-dims": lambda ctx: (
        _message(lambda: nn.MaxPool2d(2)(torch.rand(4, 4)))
        + _message(lambda: nn.MaxPool2d(2)(torch.rand(1, 1, 1, 4, 4)))
    ),
    "input-dims-avg-2d": lambda ctx: _message(lambda: nn.AvgPool2d(2)(torch.rand(4, 4))),
    "input-dims-empty": lambda ctx: (
        _message(lambda: nn.AvgPool2d(2)(torch.rand(1, 1, 1, 4, 4)))
        + _message(lambda: nn.MaxPool2d(2)(torch.rand(1, 0, 4, 4)))
        + _message(lambda: nn.AvgPool2d(2)(torch.rand(1, 0, 4, 4)))
    ),
    "unpool-float-indices": lambda ctx: _message(_unpool_forgotten_indices),
    "avgpool-uint8": lambda ctx: _message(
        lambda: nn.AvgPool2d(2)(torch.randint(0, 256, (1, 3, 4, 4), dtype=torch.uint8))
    ),
    "dropout-p-range": lambda ctx: (
        _message(lambda: nn.Dropout(p=1.5)) + _message(lambda: F.dropout(X5, p=-0.1))
    ),
    "inplace-leaf": lambda ctx: _message(
        lambda: nn.Dropout(p=0.5, inplace=True)(torch.rand(3, 3, requires_grad=True))
    ),
    "inplace-modified": lambda ctx: _message(_sigmoid_inplace_backward),
    "dropout2d-3d": lambda ctx: _warning(lambda: nn.Dropout2d(p=0.5)(torch.rand(3, 8, 8))),
    "dropout2d-2d": lambda ctx: _warning(lambda: nn.Dropout2d(p=0.5)(torch.rand(8, 8))),
    "dropout-integer": lambda ctx: (
        _message(lambda: nn.Dropout(p=0.5)(torch.randint(0, 256, (1, 3, 4, 4), dtype=torch.uint8)))
        + _message(lambda: nn.Dropout(p=0.5)(torch.randint(0, 256, (1, 3, 4, 4))))
    ),
    "tensorboard-invalid-choice": lambda ctx: unquoted_logdir_text(),
    "images-layout": lambda ctx: _message(lambda: _images_to_grid()(torch.rand(3, 28, 28))),
    "images-dtype": lambda ctx: _message(
        lambda: _images_to_grid()(torch.randint(0, 256, (1, 1, 4, 4)))
    ),
    "no-usable-image": lambda ctx: no_usable_image_text(ctx["tmp"]),
    "cifar-offline": lambda ctx: cifar_offline_text(ctx["tmp"], ctx["monkeypatch"]),
    "cifar-not-found": lambda ctx: cifar_not_found_text(ctx["tmp"]),
    "no-module-utils": lambda ctx: no_module_utils_text(ctx["tmp"]),
    "wrong-kernel": lambda ctx: wrong_kernel_text(ctx["tmp"]),
    "unpool-invalid-index": lambda ctx: unpool_invalid_index_text(),
    "unpool-indices-shape": lambda ctx: unpool_indices_shape_text(),
    "unpool-output-size": lambda ctx: unpool_output_size_text(),
    **{row: (lambda ctx, row=row: tensorboard_image_text(row, ctx["tmp"]))
       for row in TENSORBOARD_IMAGE_MISTAKES},
    "widget-model-not-found": lambda ctx: widget_model_not_found_text(),
}


# -- tests ------------------------------------------------------------------------------------------
def test_the_document_lists_what_the_issue_asks_for():
    ids = [row["id"] for row in ROWS]
    assert len(ids) == len(set(ids)), "anchor ids must be unique"
    for required in (
        "no-dashboards",
        "port-in-use",
        "pkg-resources",
        "pad-half-kernel",
        "output-too-small",
        "inplace-leaf",
        "inplace-modified",
        "dropout-p-range",
        "images-white",
        "cifar-offline",
        "tensorflow-not-found",
        "tensorboard-invalid-choice",
        "images-layout",
        "images-dtype",
        "dropout-integer",
        "no-usable-image",
    ):
        assert required in ids


def test_every_row_has_a_reproducer_and_every_reproducer_a_row():
    ids = {row["id"] for row in ROWS}
    assert ids == set(REPRODUCERS), ids ^ set(REPRODUCERS)


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_row_is_bilingual_with_cause_and_fix(row):
    assert row["key"], f"{row['id']}: the first cell needs the message in backticks"
    assert len(row["cells"]) == 3, f"{row['id']}: expected message | cause | fix"
    for cell in row["cells"][1:]:
        assert CJK.search(cell), f"{row['id']}: cause and fix need 中文: {cell[:60]}"
        assert re.search(r"[A-Za-z]{4,} [a-z]{2,}", cell), f"{row['id']}: and English: {cell[:60]}"


#: Reproducers that start TensorBoard servers or other Python processes: left out of `make test-fast`.
SLOW = {"no-dashboards", "port-in-use", "tensorflow-not-found", "tensorboard-not-on-path",
        "tensorboard-reusing", "pkg-resources", "no-module-utils", "wrong-kernel"}


@pytest.mark.parametrize("row", [pytest.param(r, marks=pytest.mark.slow) if r["id"] in SLOW else r
                                 for r in ROWS], ids=[r["id"] for r in ROWS])
def test_listed_message_is_real(row, request, tmp_path, monkeypatch):
    context = {
        "tensorboard": lambda: request.getfixturevalue("tensorboard"),
        "tmp": tmp_path,
        "monkeypatch": monkeypatch,
    }
    real = REPRODUCERS[row["id"]](context)
    for text in [row["key"], *row["examples"]]:
        assert text in real, f"{row['id']}: {text!r} is not in the real message:\n{real[:1500]}"


def test_the_colab_403_note_is_in_both_languages():
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index('<a id="colab-403"></a>'):text.index("## Symptoms without a message")]
    assert "403" in section and "third-party cookies" in section and "第三方 Cookie" in section


def test_reproducers_fail_on_a_wrong_string():
    """The check can fail: a near-miss of a real message is not found."""
    real = REPRODUCERS["pad-half-kernel"]({})
    assert "pad should be at most half of kernel size" not in real
    assert "pad should be at most half of effective kernel size" in real


#: (layer, input shape) -> the row a student with that error must find. Lesson 03 teaches the dims.
INPUT_DIMS = {
    ("MaxPool2d", (4, 4)): "input-dims",
    ("MaxPool2d", (1, 1, 1, 4, 4)): "input-dims",
    ("AvgPool2d", (4, 4)): "input-dims-avg-2d",
    ("AvgPool2d", (1, 1, 1, 4, 4)): "input-dims-empty",
    ("MaxPool2d", (1, 0, 4, 4)): "input-dims-empty",
    ("AvgPool2d", (1, 0, 4, 4)): "input-dims-empty",
    ("MaxPool2d", (2, 3, 0, 4)): "input-dims-empty",
}


@pytest.mark.parametrize(("layer", "shape"), list(INPUT_DIMS), ids=[f"{k[0]}-{len(k[1])}d" for k in INPUT_DIMS])
def test_each_layers_wrong_dims_message_has_its_own_row(layer, shape):
    """The page once gave MaxPool2d's text for both layers: AvgPool2d on 2-D raises an IndexError and
    on 5-D the 'optional 0 dim batch size' text. Exactly one input-dims row matches each real message,
    it is the expected one, and its cause names the layer (or says 'either')."""
    real = _message(lambda: getattr(nn, layer)(2)(torch.rand(shape)))
    rows = {row["id"]: row for row in ROWS if row["id"].startswith("input-dims")}
    matching = [rid for rid, row in rows.items() if row["key"] in real]
    assert matching == [INPUT_DIMS[(layer, shape)]], (real, matching)
    cause = rows[matching[0]]["cells"][1]
    assert layer in cause or "either" in cause, cause


def test_an_empty_batch_is_not_an_error():
    """The input-dims-empty row says only the batch may be empty: N = 0 pools to N = 0."""
    for layer in (nn.MaxPool2d(2), nn.AvgPool2d(2)):
        assert layer(torch.rand(0, 3, 6, 6)).shape == (0, 3, 3, 3)


# -- "Symptoms without a message": two event files in one run, read back through TensorBoard itself --
def _two_writer_run(logdir: Path) -> None:
    """What re-running a cell without deleting the run folder does: a second SummaryWriter, a second
    event file. The first writer also logs a tag the second one no longer writes."""
    from torch.utils.tensorboard import SummaryWriter

    for rep in (0, 1):
        with SummaryWriter(str(logdir / "run")) as writer:
            for step in range(4):
                writer.add_scalar("s", step + 10 * rep, step)
                writer.add_images("img", torch.full((1, 3, 4, 4), 0.25 + 0.5 * rep), step)
            if rep == 0:
                writer.add_scalar("old_only", 1.0, 0)
        time.sleep(1.1)  # event file names carry the time in seconds: the second file is newer
    assert len(list((logdir / "run").glob("events.out.tfevents.*"))) == 2


def _served(tmp: Path, logdir: Path, *extra: str) -> dict:
    """Start TensorBoard 2.21 on ``logdir`` (free port, 127.0.0.1), wait until it has loaded the run,
    return what its HTTP API (the one the page uses) serves; stop it."""
    import json
    import urllib.parse

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(tmp / f"tb{port}.stderr", "w") as stderr:
        process = subprocess.Popen(
            [*_tensorboard_command(logdir, port), "--reload_interval", "1", *extra],
            stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        try:
            def get(path, **params):
                query = urllib.parse.urlencode(params)
                return json.loads(urllib.request.urlopen(f"{url}{path}?{query}", timeout=5).read())

            deadline, seen = time.monotonic() + 90, None
            while time.monotonic() < deadline:
                assert process.poll() is None, (tmp / f"tb{port}.stderr").read_text()
                try:
                    tags = get("/data/plugin/scalars/tags").get("run", {})
                    images = get("/data/plugin/images/images", run="run", tag="img", sample=0)
                    points = get("/data/plugin/scalars/scalars", run="run", tag="s") if "s" in tags else []
                except OSError:
                    time.sleep(0.5)
                    continue
                now = {"scalar_tags": sorted(tags), "s": [(p[1], p[2]) for p in points],
                       "image_steps": [e["step"] for e in images]}
                if now == seen and now["s"] and now["image_steps"]:
                    return now  # two polls alike: loading has settled
                seen = now
                time.sleep(1.5)
            raise AssertionError(f"TensorBoard did not settle: {seen}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.slow
def test_two_event_files_what_tensorboard_really_shows(tmp_path):
    """The symptoms row and the lessons say: with two event files in a run, TensorBoard 2.21's default
    loader shows each step ONCE, from the newer file, and keeps a tag only the older file had; only the
    legacy loader (`--load_fast=false`) shows scalar points twice. (The course once said "each step
    twice".) Read back through TensorBoard's own loaders, over the HTTP API its page uses."""
    logdir = tmp_path / "logs"
    _two_writer_run(logdir)
    default = _served(tmp_path, logdir)
    assert default["s"] == [(0, 10.0), (1, 11.0), (2, 12.0), (3, 13.0)]  # once each, the newer file
    assert default["image_steps"] == [0, 1, 2, 3]
    assert "old_only" in default["scalar_tags"]  # the stale tag lingers: why the lessons delete the run
    legacy = _served(tmp_path, logdir, "--load_fast=false")
    assert sorted(legacy["s"]) == sorted([(s, float(s)) for s in range(4)] + default["s"])  # doubled
    assert sorted(set(legacy["image_steps"])) == [0, 1, 2, 3]
# -- the fixes of issue 26's rows, applied as written ------------------------------------------------
def _fix_in_doc(fix: str) -> None:
    assert f"`{fix}`" in DOC.read_text(encoding="utf-8"), f"the documented fix changed: {fix}"


@settings(deadline=None, max_examples=150)
@given(h=st.integers(1, 20), w=st.integers(1, 20), k=st.integers(1, 4), s=st.integers(1, 4),
       p=st.integers(0, 2), d=st.integers(1, 2), ceil=st.booleans(), seed=st.integers(0, 99))
def test_unpool_fix_puts_every_maximum_back_for_any_size(h, w, k, s, p, d, ceil, seed):
    """#unpool-invalid-index: `output_size=x.shape[-2:]` with the pool's own kernel, stride, padding
    (with dilation, the window it spans), on sizes pooling loses rows of; expected: the indices
    scattered into a zero plane of x's size (torch.scatter), as MaxPool2d's documentation defines them."""
    _fix_in_doc("nn.MaxUnpool2d(3)(out, idx, output_size=x.shape[-2:])")
    x = torch.rand(2, 3, h, w, generator=torch.Generator().manual_seed(seed))
    pool = nn.MaxPool2d(k, s, p, dilation=d, ceil_mode=ceil, return_indices=True)
    try:
        out, idx = pool(x)
    except RuntimeError:
        assume(False)  # not a valid pooling (output too small, padding too big)
    assume(bool(out.isfinite().all()))  # a window of padding only (dilation): no maximum to put back
    unpool = nn.MaxUnpool2d(d * (k - 1) + 1, s, p)
    y = unpool(out, idx, output_size=x.shape[-2:])
    expected = torch.zeros_like(x).flatten(-2).scatter(-1, idx.flatten(-2), out.flatten(-2)).view_as(x)
    assert torch.equal(y, expected)
    y = F.max_unpool2d(out, idx, d * (k - 1) + 1, s, p, output_size=x.shape[-2:])
    assert torch.equal(y, expected)
    # without output_size: an error of the rows above, or a map that is not x's (the silent case)
    try:
        guessed = unpool(out, idx)
    except (RuntimeError, ValueError) as err:
        assert any(row["key"] in str(err) for row in ROWS if row["id"].startswith("unpool-")), err
    else:
        assert guessed.shape == x.shape and torch.equal(guessed, expected) or guessed.shape != x.shape


def test_unpool_chain_fix_as_written():
    """#unpool-indices-shape and #unpool-output-size: reverse order, each with its own size."""
    x, a, i1, b, i2 = _unpool_chain()
    unpool = nn.MaxUnpool2d(2)
    for fix in ("y = unpool(b, i2, output_size=a.shape[-2:])", "unpool(y, i1, output_size=x.shape[-2:])"):
        _fix_in_doc(fix)
    y = unpool(b, i2, output_size=a.shape[-2:])
    result = unpool(y, i1, output_size=x.shape[-2:])
    # b's one value goes back where it came from in x: i2 points into a, whose i1 points into x
    where = i1.flatten()[i2.flatten()].tolist()
    assert result.shape == x.shape and result.flatten().nonzero().flatten().tolist() == where
    assert result.flatten()[where].tolist() == x.flatten()[where].tolist() == b.flatten().tolist()


#: row -> [(mistake index in TENSORBOARD_IMAGE_MISTAKES[row], the fix as documented, what it must
#: log: (method, the same pictures in the layout the method expects))]
TENSORBOARD_IMAGE_FIXES = {
    "tb-image-format": [
        (0, "writer.add_images(tag, x, step)", lambda x: ("add_images", x)),
        (1, 'writer.add_image(tag, x, step, dataformats="HW")', lambda x: ("add_image", x[None])),
        (2, "writer.add_images(tag, x.unsqueeze(0), step)", lambda x: ("add_image", x)),
        (3, "writer.add_images(tag, x.unsqueeze(1), step)", lambda x: ("add_images", x[:, None])),
        (4, "writer.add_images(tag, x.flatten(0, 1), step)", lambda x: ("add_images", x.reshape(16, 3, 16, 16))),
    ],
    "tb-images-channels": [
        (0, 'writer.add_images(tag, x, step, dataformats="NHWC")', lambda x: ("add_images", x.permute(0, 3, 1, 2))),
        (1, "writer.add_images(tag, x.flatten(0, 1).unsqueeze(1), step)",
         lambda x: ("add_images", x.reshape(128, 1, 16, 16))),
    ],
    "tb-image-pil": [
        (0, 'writer.add_image(tag, x, step, dataformats="HWC")', lambda x: ("add_image", x.permute(2, 0, 1))),
        (1, "writer.add_images(tag, x.unsqueeze(1), step)", lambda x: ("add_images", x[:, None])),
    ],
    "tb-dataformats-twice": [
        (0, 'writer.add_images(tag, x, step, dataformats="NCHW")', lambda x: ("add_images", x)),
    ],
    "tb-dataformats-letter": [
        (0, 'writer.add_images(tag, x, step, dataformats="NCHW")', lambda x: ("add_images", x)),
    ],
    "tb-not-a-tensor": [
        (0, "writer.add_images(tag, torch.stack(x), step)", lambda x: ("add_images", torch.cat([t[None] for t in x]))),
        (1, "writer.add_images(tag, x[0], step)", lambda x: ("add_images", x[0].clone())),
        (2, "writer.add_image(tag, torchvision.transforms.functional.pil_to_tensor(x), step)",
         lambda x: ("add_image", torch.zeros(3, 16, 16, dtype=torch.uint8))),
    ],
    "tb-empty-batch": [(0, "if len(x): writer.add_images(tag, x, step)", None)],
}


@pytest.mark.parametrize("row_id", sorted(TENSORBOARD_IMAGE_FIXES))
def test_tensorboard_image_fixes_as_written(row_id, tmp_path):
    """Each documented fix, run literally on the mistake's tensor, logs the same PNG as TensorBoard
    makes of the same pictures given in the right layout (read back with TensorBoard's reader)."""
    import torchvision
    from torch.utils.tensorboard import SummaryWriter

    from utils.tensorboard_logging import read_run_images

    assert set(TENSORBOARD_IMAGE_FIXES) == set(TENSORBOARD_IMAGE_MISTAKES)
    for n, (index, fix, reference) in enumerate(TENSORBOARD_IMAGE_FIXES[row_id]):
        _fix_in_doc(fix)
        method, make, _ = TENSORBOARD_IMAGE_MISTAKES[row_id][index]
        torch.manual_seed(n)
        x = make()
        run = tmp_path / f"fix{n}"
        with SummaryWriter(str(run)) as writer:
            exec(fix, {"writer": writer, "x": x, "tag": "t", "step": 0, "torch": torch,
                       "torchvision": torchvision})
        logged = read_run_images(run)
        if reference is None:  # nothing to log, and nothing raised
            assert logged == {}
            continue
        with SummaryWriter(str(tmp_path / f"ref{n}")) as writer:
            ref_method, ref = reference(x)
            getattr(writer, ref_method)("t", ref, 0)
        expected = read_run_images(tmp_path / f"ref{n}")
        assert len(logged["t"]) == 1 and logged["t"][0][0] == 0
        assert np.array_equal(logged["t"][0][1], expected["t"][0][1]), (row_id, fix)


def test_lab_keeps_widget_state_setting_is_real():
    """#widget-model-not-found: the course's JupyterLab saves widget state; the setting's id and value
    are valid against the installed widget manager's own schema."""
    import json

    import jsonschema

    overrides = json.loads((ROOT / "jupyter" / "lab" / "settings" / "overrides.json").read_text())
    schemas = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
    for plugin_id, values in overrides.items():
        package, plugin = plugin_id.split(":")
        found = [p / f"{plugin}.json" for p in (schemas / package / "schemas" / package,
                                                  Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas" / package)]
        found = [f for f in found if f.is_file()]
        assert found, f"{plugin_id}: no such settings schema installed"
        jsonschema.validate(values, json.loads(found[0].read_text()))
    assert overrides["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is True
