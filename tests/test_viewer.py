"""utils.viewer.PairViewer: the "pairs" dashboard's viewer as a notebook widget.

Headless: what the widget sends to the page (the layer, the pictures as TensorBoard would show them,
the float32 values) and its errors. Browser: JupyterLab on 127.0.0.1 (random port, token) runs a
notebook that shows the widget; hovering an output pixel shows what PyTorch computed there.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from conftest import allow_only
from PIL import Image
from torch import nn

from utils.environment import ROOT
from utils.viewer import PairViewer, pair_data

CHROMIUM = "/usr/bin/chromium"


def _values(entry: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(entry["data"]), "<f4").reshape(entry["shape"])


def _png(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


def test_widget_sends_layer_pictures_and_values():
    torch.manual_seed(0)
    pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
    batches = [torch.rand(10, 3, 9, 7), torch.rand(3, 1, 9, 7)]
    data = PairViewer(batches, [pool(b) for b in batches], pool).data
    assert data["layer"]["kernel_size"] == [3, 3] and data["layer"]["ceil_mode"] is True
    assert data["grid"] == {"ncols": 8, "padding": 0}
    for step, x in zip(data["steps"], batches, strict=True):
        y = pool(x)
        assert step["shapes"] == {"input": list(x.shape), "output": list(y.shape)}
        assert np.array_equal(_values(step["input"]), x.numpy())
        assert np.array_equal(_values(step["output"]), y.numpy())
        picture = _png(step["input_png"])  # tiled 8 per row, as add_images does
        rows, cols = -(-x.shape[0] // 8), min(x.shape[0], 8)
        assert picture.shape == (rows * x.shape[2], cols * x.shape[3], 3)
        last = x.shape[0] - 1  # the last image sits in row rows-1, column last % 8
        top, left = (last // 8) * x.shape[2], (last % 8) * x.shape[3]
        tile = picture[top:top + x.shape[2], left:left + x.shape[3]]
        expected = (x[last] * 255).to(torch.uint8).expand(3, -1, -1).permute(1, 2, 0).numpy()
        assert np.array_equal(tile, expected)


def test_widget_keeps_dropout_values_above_one():
    torch.manual_seed(1)
    drop = nn.Dropout(0.5)
    x = torch.rand(2, 3, 8, 8)
    y = drop(x)
    data = pair_data(x, y, drop)
    assert data["layer"] == {"type": "Dropout", "repr": repr(drop), "kind": "dropout", "p": 0.5,
                             "training": True}
    assert _values(data["steps"][0]["output"]).max() == pytest.approx(float(y.max()))
    assert float(y.max()) > 1
    assert _png(data["steps"][0]["output_png"]).max() == 255  # the picture clips; the values don't


def test_widget_errors_say_what_to_pass():
    x = torch.rand(1, 3, 10, 10)
    with pytest.raises(ValueError, match="pass the layer that made these outputs"):
        PairViewer(x, nn.MaxPool2d(3)(x), nn.MaxPool2d(2))
    with pytest.raises(ValueError, match="as many outputs as inputs"):
        PairViewer([x, x], [x], nn.Dropout())
    with pytest.raises(ValueError, match="C in"):
        PairViewer(torch.rand(1, 4, 5, 5), torch.rand(1, 4, 5, 5), nn.Dropout())


def test_widget_code_is_the_dashboards_and_offline():
    shared = (ROOT / "plugins/tensorboard-pairs/tensorboard_pairs/static/viewer.js").read_text()
    assert PairViewer._esm.startswith(shared)
    assert not re.search(r"https?://", PairViewer._esm)


# --- JupyterLab in a real browser ------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.browser
def test_widget_in_jupyterlab(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    code = f"""import sys
sys.path.insert(0, {str(ROOT)!r})
import torch
from torch import nn
from utils.viewer import PairViewer
torch.manual_seed(0)
x = torch.rand(2, 3, 12, 12)
pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
PairViewer(x, pool(x), pool)"""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "nb").mkdir()
    nbformat.write(notebook, tmp_path / "nb" / "v.ipynb")
    torch.manual_seed(0)
    x = torch.rand(2, 3, 12, 12)
    y = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)(x)

    port, token = _free_port(), secrets.token_hex(16)
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    lab = subprocess.Popen(
        [str(bin_dir / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path / 'nb'}", "--allow-root",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    errors = []
    try:
        with playwright.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 1000})

            remote = allow_only(page, f"http://127.0.0.1:{port}/", "data:", "blob:")
            page.on("pageerror", lambda e: errors.append(str(e)))
            for _ in range(100):
                try:
                    page.goto(f"http://127.0.0.1:{port}/lab/tree/v.ipynb?token={token}")
                    break
                except playwright.Error:
                    time.sleep(0.5)
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=\"idle\"]')", timeout=90_000)
            run_all = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
            page.evaluate(run_all)
            for _ in range(180):  # JupyterLab may still ask which kernel, though the notebook names it
                if page.locator(".pv canvas.pv-output").count():
                    break
                select = page.locator(".jp-Dialog button", has_text="Select")
                if select.count() and select.first.is_visible():
                    select.first.click()
                    page.wait_for_timeout(2000)
                    page.evaluate(run_all)
                page.wait_for_timeout(500)
            page.wait_for_selector(".pv canvas.pv-output", timeout=30_000)
            page.wait_for_selector(".pv[data-drawn-step]", timeout=30_000)
            zoom = int(page.locator("select.pv-zoom").input_value())
            box = page.locator("canvas.pv-output").bounding_box()
            i, j = y.shape[2] - 1, y.shape[3] - 1  # the pixel ceil_mode adds
            page.mouse.move(box["x"] + j * zoom + zoom / 2, box["y"] + i * zoom + zoom / 2)
            page.wait_for_selector(f'.pv-info[data-row="{i}"][data-col="{j}"][data-output]')
            shown = page.evaluate("() => ({...document.querySelector('.pv-info').dataset})")
            assert float(shown["output"]) == pytest.approx(float(y[0, 0, i, j]), abs=0)
            cells = json.loads(shown["cells"])
            assert {kind for *_, kind in cells} == {"real", "pad", "over"}  # 12 = 2·6: one cell overhangs
            # keyboard (the dashboard's code): the output takes focus; arrows move, Enter pins, and
            # JupyterLab's own shortcuts (arrows between cells, Enter to edit) stay out of the way
            canvas = page.locator(".pv canvas.pv-output")
            assert canvas.get_attribute("tabindex") == "0"
            canvas.focus()
            for key in ["Home", "PageUp", "ArrowRight", "ArrowDown", "ArrowDown", "Enter"]:
                page.keyboard.press(key)
            page.wait_for_selector('.pv-info[data-row="2"][data-col="1"][data-pinned="true"][data-output]')
            shown = page.evaluate("() => ({...document.querySelector('.pv-info').dataset})")
            assert float(shown["output"]) == pytest.approx(float(y[0, 0, 2, 1]), abs=0)
            real = {(r, q) for r, q, kind in json.loads(shown["cells"]) if kind == "real"}
            pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
            plane = x[:1, :1]

            def moves_output(r, q):  # PyTorch's window: the input cells that change output (2, 1)
                changed = plane.clone()
                changed[0, 0, r, q] = 1000.0
                return pool(changed)[0, 0, 2, 1] != pool(plane)[0, 0, 2, 1]

            assert real == {(r, q) for r in range(12) for q in range(12) if moves_output(r, q)}
            assert page.locator(".pv-info").get_attribute("aria-live") == "polite"
            assert page.evaluate("() => document.activeElement.classList.contains('pv-output')")
            assert not page.locator(".jp-Notebook.jp-mod-editMode").count()  # Enter did not edit a cell
            shots = ROOT / "build" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "pairs_widget_jupyterlab.png"))
            browser.close()
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
    assert not errors, errors
    assert not remote, remote
