"""Every lesson's core fits a class (issue 14): ≤ 1,300 words, ≤ 120 code lines, ≤ 15 minutes (00: 8);
at most 15 asserts per lesson and 60 in all. Measured by tools/lesson_stats.py, the numbers the teacher
walkthrough quotes."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import lesson_stats as ls  # noqa: E402

LESSONS = ls.lessons()


def test_measure_counts_what_it_should():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import sys\nSEED = seed_everything(0)"),
        nbformat.v4.new_markdown_cell("## 1 · Why pool / 为什么\nTwo words `x`.\n```python\nnot counted\n```"),
        nbformat.v4.new_code_cell("# a comment\nx = 1\n\nassert x == 1"),
        nbformat.v4.new_markdown_cell("## Deep dive (optional) / 深入（选读）\nmany more words here"),
        nbformat.v4.new_code_cell("assert True\ny = 2"),
    ])
    path = ROOT / "build" / "test_lesson_stats.ipynb"
    path.parent.mkdir(exist_ok=True)
    nbformat.write(nb, path)
    s = ls.stats(path)
    assert (s.words, s.code_lines, s.cells, s.asserts) == (6, 2, 3, 2)  # 1 Why pool Two words `x`.


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_core_fits_a_class(path):
    s = ls.stats(path)
    limit = ls.BUDGET_MINUTES.get(s.name, 15)
    assert s.words <= ls.BUDGET_WORDS and s.code_lines <= ls.BUDGET_CODE_LINES, s
    assert s.minutes <= limit, f"{s.name}: {s.minutes:.1f} min of self-study, budget {limit}"
    assert s.asserts <= ls.BUDGET_ASSERTS, f"{s.name}: {s.asserts} asserts in student cells"


def test_few_asserts_in_all_lessons():
    total = sum(ls.stats(p).asserts for p in LESSONS)
    assert total <= ls.BUDGET_ASSERTS_TOTAL, total


def test_every_lesson_has_a_deep_dive_after_its_core():
    for path in LESSONS[1:]:
        nb = nbformat.read(path, as_version=4)
        assert any(ls.is_deep_dive(c) for c in nb.cells), f"{path.name}: no 'Deep dive' heading"
