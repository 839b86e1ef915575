"""The Chinese edition: one Chinese notebook per English lesson and solution, the same code (but the setup
cell's ``LANGUAGE`` line), Chinese prose; ``tools/editions.py sync`` carries added and removed cells over."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import editions  # noqa: E402
from editions import TRANSLATE_MARK, chinese_twin, drift, english_notebooks, untranslated  # noqa: E402

ENGLISH = english_notebooks()
IDS = [p.relative_to(ROOT / "notebooks").as_posix() for p in ENGLISH]

_NOT_PROSE = [
    re.compile(r"```.*?```", re.S),          # fenced code
    re.compile(r"\$\$.*?\$\$", re.S),        # display maths
    re.compile(r"\$[^$\n]+\$"),              # inline maths
    re.compile(r"`[^`\n]+`"),                # code spans
    re.compile(r"<[^>]+>"),                  # HTML tags
    re.compile(r"\]\([^)]*\)"),              # link targets
    re.compile(r"https?://\S+"),
]


def cjk_share(markdown: str) -> tuple[int, int]:
    """(CJK characters, all letters) of the prose: maths, code spans, HTML and URLs left out."""
    for pattern in _NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    cjk = sum(1 for ch in markdown if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")
    latin = sum(1 for ch in markdown if ch.isascii() and ch.isalpha())
    return cjk, cjk + latin


def test_share_counts_what_it_should():
    assert cjk_share("最大池化 `nn.MaxPool2d(3)` $\\lfloor x \\rfloor$") == (4, 4)
    assert cjk_share("max pooling 最大") == (2, 12)


@pytest.mark.parametrize("english", ENGLISH, ids=IDS)
def test_chinese_twin_has_the_same_code(english):
    assert not drift(english), "\n".join(drift(english)) + "\nFix: python tools/editions.py sync"


@pytest.mark.parametrize("english", ENGLISH, ids=IDS)
def test_chinese_twin_is_written_in_chinese(english):
    twin = chinese_twin(english)
    assert twin.exists(), f"missing {twin.relative_to(ROOT)}"
    nb = nbformat.read(twin, as_version=4)
    cjk, letters = cjk_share("\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))
    assert letters and cjk / letters >= 0.60, (
        f"{twin.relative_to(ROOT)}: CJK characters are {cjk / max(letters, 1):.0%} of the prose's letters "
        "(at least 60% expected; formulas and code spans are not counted)")


@pytest.mark.parametrize("english", ENGLISH, ids=IDS)
def test_chinese_twin_has_nothing_left_to_translate(english):
    left = untranslated(chinese_twin(english))
    assert not left, "\n".join(left) + f"\nTranslate these cells and delete their first line {TRANSLATE_MARK}"


def test_no_chinese_notebook_without_an_english_one():
    twins = {chinese_twin(p) for p in ENGLISH}
    extra = sorted(p for p in (ROOT / "notebooks" / "zh-CN").rglob("*.ipynb")
                   if p not in twins and ".ipynb_checkpoints" not in p.parts)
    assert not extra, f"Chinese notebooks with no English source: {extra}"


# -- tools/editions.py on a scratch pair of notebooks ---------------------------------------------
def _pair(tmp_path, monkeypatch):
    """notebooks/01_x.ipynb and its twin notebooks/zh-CN/01_x.ipynb in ``tmp_path``, editions.py pointed there."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    root = tmp_path
    monkeypatch.setattr(editions, "ROOT", root)
    monkeypatch.setattr(editions, "NOTEBOOKS", root / "notebooks")
    monkeypatch.setattr(editions, "ZH", root / "notebooks" / "zh-CN")
    en_setup = editions.LANGUAGE_LINES["en"] + "\nimport sys"
    cells = [md("# 01 · Title"), code(en_setup), md("## 1 · Idea"), code("x = 1"), md("## Exercises"),
             code("answer = None\ncheck_a(answer)")]
    english = root / "notebooks" / "01_x.ipynb"
    english.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), english)
    assert editions.new(english) == chinese_twin_at(root, english)
    twin = nbformat.read(chinese_twin_at(root, english), as_version=4)
    for cell in twin.cells:  # "translate" it
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(TRANSLATE_MARK + "\n", "") + " 中文"
    nbformat.write(twin, chinese_twin_at(root, english))
    return english, chinese_twin_at(root, english)


def chinese_twin_at(root, english):
    return root / "notebooks" / "zh-CN" / english.name


def test_new_twin_differs_only_in_the_language_line(tmp_path, monkeypatch):
    english, twin = _pair(tmp_path, monkeypatch)
    assert editions.drift(english) == []
    zh_setup = nbformat.read(twin, as_version=4).cells[1].source
    assert zh_setup.splitlines()[0] == editions.LANGUAGE_LINES["zh-CN"]
    nb = nbformat.read(twin, as_version=4)  # any other difference is drift
    nb.cells[3].source = "x = 2"
    nbformat.write(nb, twin)
    assert editions.drift(english) == ["notebooks/zh-CN/01_x.ipynb: code cell 2 differs from the English edition"]
    nb.cells[3].source, nb.cells[1].source = "x = 1", zh_setup.replace("zh-CN", "en", 1)
    nbformat.write(nb, twin)
    assert any("first line must be" in line for line in editions.drift(english))


def test_sync_inserts_an_added_exercise_where_english_has_it(tmp_path, monkeypatch):
    english, twin = _pair(tmp_path, monkeypatch)
    nb = nbformat.read(english, as_version=4)
    nb.cells[3].source = "x = 10"
    nb.cells += [nbformat.v4.new_markdown_cell("**2.** A new exercise"),
                 nbformat.v4.new_code_cell("answer2 = None\ncheck_b(answer2)")]
    nb.cells.insert(4, nbformat.v4.new_code_cell("y = x + 1"))
    nbformat.write(nb, english)
    assert len(editions.drift(english)) == 1  # 3 code cells against 5
    notes = editions.sync(english)
    assert sum("inserted code cell" in n for n in notes) == 2 and any("translate" in n for n in notes)
    assert editions.drift(english) == []
    zh = nbformat.read(twin, as_version=4)
    assert [c.cell_type for c in zh.cells] == [c.cell_type for c in nb.cells]
    assert [c.get("id") for c in zh.cells] == [c.get("id") for c in nb.cells]
    assert zh.cells[2].source == "## 1 · Idea 中文" and zh.cells[4].source == "y = x + 1"
    assert len(editions.untranslated(twin)) == 1 and "A new exercise" in zh.cells[7].source
    assert editions.sync(english) == []  # nothing left to do
    del nb.cells[4]  # a cell deleted in English goes from the twin
    nbformat.write(nb, english)
    assert any("removed" in n for n in editions.sync(english)) and editions.drift(english) == []
