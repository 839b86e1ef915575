"""Every notebook runs top to bottom in a fresh kernel, and is committed clean."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, all_notebooks

NOTEBOOKS = all_notebooks()
IDS = [p.relative_to(ROOT).as_posix() for p in NOTEBOOKS]


def test_there_are_lessons():
    assert any(p.parent.name == "notebooks" for p in NOTEBOOKS), "no lesson notebooks found"


@pytest.mark.notebooks
@pytest.mark.parametrize("key", IDS)
def test_notebook_executes(executed_notebooks, key):
    nb, seconds, error = executed_notebooks[key]
    assert error is None, error
    code_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert code_cells, f"{key} has no code"
    not_run = [i for i, c in enumerate(code_cells) if c.get("execution_count") is None]
    assert not not_run, f"{key}: code cells {not_run} did not run"
    print(f"{key}: {seconds:.1f} s")


@pytest.mark.notebooks
def test_every_notebook_was_executed(executed_notebooks):
    # The build fails on a notebook that silently did not run (the pytorch/tutorials rule).
    on_disk = sorted(p.relative_to(ROOT).as_posix() for p in all_notebooks())
    assert sorted(executed_notebooks) == on_disk
    ran = [k for k, (nb, _, err) in executed_notebooks.items() if err is None]
    assert len(ran) == len(on_disk), f"executed {len(ran)} of {len(on_disk)} notebooks"


#: Every notebook on disk, the Chinese edition too (it is not executed here: its code is the English
#: code, tests/docs/test_editions.py).
COMMITTED = sorted((ROOT / "notebooks").rglob("*.ipynb"))
COMMITTED = [p for p in COMMITTED if ".ipynb_checkpoints" not in p.parts]


@pytest.mark.parametrize("path", COMMITTED, ids=[p.relative_to(ROOT).as_posix() for p in COMMITTED])
def test_committed_clean(path):
    raw = json.loads(path.read_text(encoding="utf-8"))
    nb = nbformat.reads(json.dumps(raw), as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; strip them"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.parent.name == "notebooks"],
                         ids=[k for k, p in zip(IDS, NOTEBOOKS, strict=True)
                              if p.parent.name == "notebooks"])
def test_lesson_is_seeded_and_uses_the_standard_setup(path):
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    setup = code[0]
    assert "sys.path.insert(0, str(ROOT))" in setup and "seed_everything(" in setup, (
        f"{path.name}: the first code cell must be the standard setup cell (see 00_start_here)"
    )
    body = "\n".join(code)
    assert ".cuda()" not in body, f"{path.name}: use utils.environment.get_device(), not .cuda()"
    for needle in ("urlretrieve", "download=True", "requests.get"):
        assert needle not in body, f"{path.name}: nothing may be downloaded at run time ({needle})"


def test_ruff_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
