"""The Chinese edition: one Chinese notebook per English lesson and solution, the same code, Chinese prose."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from editions import chinese_twin, drift, english_notebooks  # noqa: E402

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


def test_no_chinese_notebook_without_an_english_one():
    twins = {chinese_twin(p) for p in ENGLISH}
    extra = sorted(p for p in (ROOT / "notebooks" / "zh-CN").rglob("*.ipynb")
                   if p not in twins and ".ipynb_checkpoints" not in p.parts)
    assert not extra, f"Chinese notebooks with no English source: {extra}"
