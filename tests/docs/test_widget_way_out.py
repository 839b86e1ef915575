"""Issue 26: wherever a lesson shows a widget made with ``interact``, the text right above it says what to run
when no sliders appear (VS Code, a static page): a call of the same function that works as written.

The call is read from that text and run here: ``nn.MaxPool2d`` accepts it and the formula agrees."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted(
    (ROOT / "notebooks" / "zh-CN").glob("[0-9][0-9]_*.ipynb"))


def widget_cells(path: Path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        m = cell.cell_type == "code" and re.search(r"interact\((\w+)", cell.source)
        if m:
            yield m.group(1), nb.cells[i - 1].source


def test_the_lessons_have_widgets():
    assert any(True for path in LESSONS for _ in widget_cells(path))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_the_text_above_each_widget_gives_a_call_that_works(path, capsys):
    from utils.plots import calculator

    for function, text in widget_cells(path):
        calls = re.findall(rf"`({function}\([^`]*\))`", text)
        assert calls, f"{path.name}: the text above interact({function}, ...) gives no `{function}(...)` to run"
        call = ast.parse(calls[0], mode="eval").body
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        result = calculator(kwargs.pop("H"), kwargs.pop("W"), draw=False, **kwargs)
        assert isinstance(result.pytorch_shape, tuple), (calls[0], result.pytorch_error)  # PyTorch ran it
        assert tuple(result.formula_shape) == result.pytorch_shape, calls[0]
