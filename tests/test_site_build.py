"""tools/build_site.py's pieces, without building a site: Chinese marked on English pages, widgets
replaced by what they showed, alt text found by the figure's bytes, docs twins, a clear error before make demo."""

from __future__ import annotations

import base64
import hashlib
import re

import nbformat
import pytest
from bs4 import BeautifulSoup
from build_site import alt_texts, mark_chinese, stage, static_outputs, twin_doc
from conftest import ROOT

VIEW = "application/vnd.jupyter.widget-view+json"


def test_chinese_runs_on_english_pages_get_lang():
    soup = BeautifulSoup("<html><body><h2>Summary / 小结</h2><p>pooling (池化, 汇聚) and "
                         "<code>nn.Dropout</code></p><p lang='zh-CN'>已标注</p></body></html>", "html.parser")
    assert mark_chinese(soup) == 2
    spans = [(s.get_text(), s["lang"]) for s in soup.find_all("span")]
    assert spans == [("小结", "zh-CN"), ("池化, 汇聚", "zh-CN")]
    assert soup.h2.get_text() == "Summary / 小结"  # the text itself is unchanged


def _png(color: int) -> str:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (color, 0, 0)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_widgets_become_what_they_showed():
    png = _png(200)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("PairViewer(...)"), nbformat.v4.new_code_cell("interact(show)")]
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={
        VIEW: {"model_id": "a"}, "image/png": png, "text/plain": "Pair viewer ..."})]
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={
        VIEW: {"model_id": "box"}, "text/plain": "interactive(children=(...))"})]
    shown = {"output_type": "display_data", "data": {"image/png": png}, "metadata": {"image/png": {"alt": "windows"}}}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {
        "box": {"state": {"children": ["IPY_MODEL_slider", "IPY_MODEL_out"]}},
        "slider": {"state": {"value": 3}},
        "out": {"state": {"outputs": [shown]}}}}}
    static_outputs(nb)
    assert list(nb.cells[0].outputs[0]["data"]) == ["image/png", "text/plain"]
    assert nb.cells[1].outputs == [shown]  # the interact's default picture, alt text and all
    assert "widgets" not in nb.metadata  # its renderer would come from a CDN
    assert alt_texts(nb) == {hashlib.sha256(base64.b64decode(png)).hexdigest(): "windows"}


def test_docs_twins(tmp_path):
    doc = tmp_path / "guide.md"
    doc.write_text("# Guide")
    assert twin_doc(doc, "en") == doc and twin_doc(doc, "zh-CN") is None
    (tmp_path / "guide.zh-CN.md").write_text("# 指南")
    assert twin_doc(doc, "zh-CN") == tmp_path / "guide.zh-CN.md"
    (tmp_path / "zh-CN").mkdir()
    (tmp_path / "zh-CN" / "guide.md").write_text("# 指南")
    assert twin_doc(doc, "zh-CN") == tmp_path / "zh-CN" / "guide.md"


def test_a_site_before_make_demo_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit, match="make demo"):
        stage("en", tmp_path / "nothing", tmp_path / "src")


def test_make_site_runs_the_tool():
    from conftest import make_recipe

    assert make_recipe("site").endswith("tools/build_site.py")
    workflow = (ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    assert re.search(r"run: \|\n\s+make demo\n\s+make site\n", workflow)  # the fork's Pages: the same two commands
    assert "path: build/site\n" in workflow
