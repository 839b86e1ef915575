"""The Chinese edition, executed: its figures are drawn with the shipped Chinese font (no
"Glyph ... missing" warning, no findfont complaint in any output) and the course's picture
functions caption them in Chinese. The kernel runs in notebooks/zh-CN/, as a student's does."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks

LESSONS = ["notebooks/zh-CN/01_max_pooling.ipynb", "notebooks/zh-CN/02_average_pooling.ipynb"]


def _stderr_and_warnings(nb) -> list[str]:
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts.append(out.get("text", ""))
            elif out.get("output_type") == "error":
                texts.append("\n".join(out.get("traceback", [])))
    return texts


@pytest.mark.parametrize("lesson", LESSONS)
def test_chinese_lesson_figures_have_no_missing_glyph(notebook_runs, lesson):
    run = notebook_runs(lesson)
    figures = sum("image/png" in out.get("data", {})
                  for cell in run.nb.cells for out in cell.get("outputs", []))
    assert figures >= 2, f"{lesson} drew {figures} figures"
    for text in _stderr_and_warnings(run.nb):
        assert "missing from font" not in text and "findfont" not in text, text
    assert run.value("__import__('utils.environment').environment.language()") == "zh"
    # The captions the lesson's code passes (English literals, identical in both editions) come out
    # Chinese; the font is the shipped one, listed after Latin's.
    assert run.value("__import__('utils.plots').plots.label('input')") == "输入"
    family = run.value("__import__('matplotlib').rcParams['font.family']")
    assert family[-1] == "Noto Sans SC Course", family
