"""Every lesson's core stays light on checks: at most 15 asserts per lesson and 60 in all, and every lesson
has a deep dive after its core. Measured by tools/lesson_stats.py.

How long a core may be is the lesson's own business: each lesson states its measured time, and
tests/notebooks/test_stated_times.py holds that no core is stated shorter than its text takes to read.
(Issue 14's fixed caps, 1,300 words and 120 code lines, left every lesson within a few words of failing:
a teacher's one added sentence broke them; issue 22.)"""

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
def test_few_asserts_in_a_lesson(path):
    s = ls.stats(path)
    assert s.asserts <= ls.BUDGET_ASSERTS, f"{s.name}: {s.asserts} asserts in student cells"


def test_few_asserts_in_all_lessons():
    total = sum(ls.stats(p).asserts for p in LESSONS)
    assert total <= ls.BUDGET_ASSERTS_TOTAL, total


def test_every_lesson_has_a_deep_dive_after_its_core():
    for path in LESSONS[1:]:
        nb = nbformat.read(path, as_version=4)
        assert any(ls.is_deep_dive(c) for c in nb.cells), f"{path.name}: no 'Deep dive' heading"
