"""A teacher adapts the course in a clone of it, the way CONTRIBUTING.md says, and nothing unrelated breaks.

In a temporary ``git clone`` of this repository: a sentence in characters the course has never used (鑫)
in lesson 01 and its Chinese twin; a new exercise 5 with its self-check, following CONTRIBUTING.md's one
path (the check in utils/checks/, its unit test, the English lesson and solutions, ``tools/editions.py
sync`` for the Chinese twins, then translating the cells it marks). Then the fast suite (``make
test-fast``'s selection) passes inside the clone, with this Python, and the four edited notebooks execute.
(Swapping the images is tested beside the images loader.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NEW_CHARACTER = "鑫"
CHECK = '''

TINY_MAP = torch.tensor([[[[1.0, 7.0], [3.0, 5.0]]]])


def check_tiny_pool(answer) -> bool | None:
    """Exercise 5: the one number MaxPool2d(2) makes of TINY_MAP."""
    if unanswered(answer):
        return report(None)
    right = nn.MaxPool2d(2)(TINY_MAP).item()
    return report(float(answer) == right, en=f"One window covers the whole map; its maximum is {right:g}.",
                  zh=f"一个窗口盖住整张特征图，最大值是{right:g}。")
'''
UNIT_TEST = '''"""check_tiny_pool: the right answer passes, a wrong one fails."""
from utils.checks.max_pooling import check_tiny_pool


def test_tiny_pool():
    assert check_tiny_pool(7) is True and check_tiny_pool(4) is False and check_tiny_pool(None) is None
'''


def git(*args, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def edit_first_paragraph(path: Path, sentence: str) -> None:
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells[1:] if c.cell_type == "markdown")
    cell.source += "\n\n" + sentence
    nbformat.write(nb, path)


def add_exercise(path: Path, markdown: str, code: str) -> None:
    """Insert the exercise after the last one (before the optional deep dives)."""
    nb = nbformat.read(path, as_version=4)
    dives = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
             and c.source.lstrip().startswith("## ") and "Deep dive" in c.source.splitlines()[0]]
    at = dives[0] if dives else len(nb.cells)
    nb.cells[at:at] = [nbformat.v4.new_markdown_cell(markdown), nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)


def translate_marked_cells(path: Path, chinese: str) -> int:
    """Do what a translator does with the cells ``editions.py sync`` marked."""
    from editions import TRANSLATE_MARK

    nb = nbformat.read(path, as_version=4)
    marked = [c for c in nb.cells if c.cell_type == "markdown" and TRANSLATE_MARK in c.source]
    for cell in marked:
        cell.source = chinese
    nbformat.write(nb, path)
    return len(marked)


@pytest.mark.slow
def test_a_sentence_and_an_exercise_added_in_both_editions(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from build_cjk_font import course_characters

    assert NEW_CHARACTER not in course_characters(), "pick a character the course does not use yet"
    clone = tmp_path / "course"
    git("clone", "--quiet", ROOT.as_uri(), str(clone), cwd=tmp_path)
    nbs = clone / "notebooks"
    env = {**os.environ, "COURSE_HEADLESS": "1", "COURSE_LOGS_DIR": str(tmp_path / "logs"),
           "COURSE_BUILD_DIR": str(tmp_path / "build"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("COURSE_LANGUAGE", None)

    # 1. One sentence, both editions, with a character the course has never used.
    edit_first_paragraph(nbs / "01_max_pooling.ipynb", f"Max pooling keeps the brightest, the most {NEW_CHARACTER} "
                         "(xīn, 'prosperous'), pixel of each window.")
    edit_first_paragraph(nbs / "zh-CN" / "01_max_pooling.ipynb", f"最大池化在每个窗口里留下最亮、最“{NEW_CHARACTER}”的那个像素。")

    # 2. A new exercise, by CONTRIBUTING.md's path: check + its test, English lesson and solutions, sync, translate.
    with (clone / "utils" / "checks" / "max_pooling.py").open("a", encoding="utf-8") as f:
        f.write(CHECK)
    (clone / "tests" / "test_checks_tiny_pool.py").write_text(UNIT_TEST, encoding="utf-8")
    add_exercise(nbs / "01_max_pooling.ipynb", "**5.** What does `nn.MaxPool2d(2)` make of the 2×2 map "
                 "`[[1, 7], [3, 5]]`?", "from utils.checks.max_pooling import check_tiny_pool\n\n"
                 "tiny = None  # one number\ncheck_tiny_pool(tiny)")
    solutions = nbs / "solutions" / "01_max_pooling_solutions.ipynb"
    add_exercise(solutions, "**5 · A 2×2 map.** One window covers it: the maximum, 7.",
                 "from utils.checks.max_pooling import check_tiny_pool\n\ncheck_tiny_pool(7.0)")
    synced = run([sys.executable, "tools/editions.py", "sync"], clone, env, 120)
    assert synced.returncode == 0 and "inserted code cell" in synced.stdout, synced.stdout + synced.stderr
    assert translate_marked_cells(nbs / "zh-CN" / "01_max_pooling.ipynb",
                                  "**5.** `nn.MaxPool2d(2)` 把2×2的特征图 `[[1, 7], [3, 5]]` 变成什么？") == 1
    assert translate_marked_cells(nbs / "zh-CN" / "solutions" / "01_max_pooling_solutions.ipynb",
                                  "**5 · 2×2的特征图。** 一个窗口就盖住了它：最大值7。") == 1
    check = run([sys.executable, "tools/editions.py", "check"], clone, env, 120)
    assert check.returncode == 0, check.stdout

    # 3. The fast suite passes in the clone, and the edited notebooks execute (both editions).
    fast = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "-m",
                "not notebooks and not browser and not slow"], clone, env, 1500)
    assert fast.returncode == 0, fast.stdout[-4000:] + fast.stderr[-2000:]
    assert " passed" in fast.stdout
    edited = [nbs / "01_max_pooling.ipynb", nbs / "zh-CN" / "01_max_pooling.ipynb", solutions,
              nbs / "zh-CN" / "solutions" / "01_max_pooling_solutions.ipynb"]
    executed = run([sys.executable, "tools/run_notebooks.py", *map(str, edited)], clone, env, 1500)
    assert executed.returncode == 0, executed.stdout[-3000:] + executed.stderr[-3000:]
    zh = nbformat.read(nbs / "zh-CN" / "01_max_pooling.ipynb", as_version=4)
    assert NEW_CHARACTER in "".join(c.source for c in zh.cells)
