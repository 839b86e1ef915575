"""The headless runner behind `make demo` and the notebook tests."""

import sys

import nbformat
import pytest
from conftest import ROOT
from run_notebooks import NotebookFailed, execute_notebook, lesson_notebooks, main


def _write(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_lessons_are_numbered_and_sorted():
    names = [p.name for p in lesson_notebooks()]
    assert names == sorted(names) and names[0].startswith("00_")
    assert all(p.parent == ROOT / "notebooks" for p in lesson_notebooks())


@pytest.mark.slow  # starts a kernel
def test_runs_in_this_interpreter_headless_in_the_notebook_folder(tmp_path):
    path = _write(tmp_path / "ok.ipynb",
                  "import sys, os; from pathlib import Path",
                  "print(sys.executable); print(os.environ['COURSE_HEADLESS']); print(Path.cwd())")
    nb, seconds = execute_notebook(path, env={"EXTRA": "1"})
    out = nb.cells[1].outputs[0].text.split()
    assert out == [sys.executable, "1", str(tmp_path)]
    assert seconds > 0


@pytest.mark.slow  # starts a kernel
def test_failure_names_the_cell_and_the_error(tmp_path):
    path = _write(tmp_path / "bad.ipynb", "x = 1", "assert x == 2, 'x should be two'", "print('never')")
    with pytest.raises(NotebookFailed) as info:
        execute_notebook(path)
    message = str(info.value)
    assert "bad.ipynb failed in cell 1" in message
    assert "assert x == 2" in message and "x should be two" in message


@pytest.mark.slow  # starts a kernel
def test_main_stops_at_the_first_failure(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_BUILD_DIR", str(tmp_path / "build"))
    monkeypatch.setenv("COURSE_LOGS_DIR", str(tmp_path / "logs"))
    bad = _write(tmp_path / "a_bad.ipynb", "1/0")
    good = _write(tmp_path / "b_good.ipynb", "print('hi')")
    assert main([str(bad), str(good)]) == 1
    captured = capsys.readouterr()
    assert "FAILED" in captured.out and "ZeroDivisionError" in captured.err
    assert "b_good" not in captured.out
    assert main([str(good)]) == 0
    assert (tmp_path / "build" / "notebooks" / "b_good.ipynb").exists()
    assert not (tmp_path / "build" / "html").exists()  # the website (make site) replaced the HTML export


def test_editions_each_have_their_folder():
    from run_notebooks import EDITIONS, solution_notebooks

    assert EDITIONS["zh-CN"] == ROOT / "notebooks" / "zh-CN"
    for edition, folder in EDITIONS.items():
        assert all(p.parent == folder for p in lesson_notebooks(edition))
        assert all(p.parent == folder / "solutions" for p in solution_notebooks(edition))


@pytest.mark.slow  # copies MathJax, runs nbconvert
def test_html_export_is_self_contained_offline(tmp_path):
    """No script, style sheet, font or image from outside the page's folder; MathJax is local."""
    from build_slides import local_resources, remote_resources
    from run_notebooks import export

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T\n\n$$H_{out} = \\left\\lfloor \\frac{H}{s} \\right\\rfloor$$"),
                nbformat.v4.new_code_cell("1 + 1")]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    for name in ("lesson.ipynb", "zh-CN/lesson.ipynb"):
        page = export(nb, name, tmp_path)
        html = page.read_text(encoding="utf-8")
        assert remote_resources(html) == [], remote_resources(html)
        scripts = local_resources(html, page.parent)
        assert any(p.name == "MathJax.js" for p in scripts), scripts
        assert all(p.is_file() for p in scripts), [p for p in scripts if not p.is_file()]
