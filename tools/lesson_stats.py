"""How long each lesson takes to read, measured from the notebooks (not guessed).

    python tools/lesson_stats.py            # a Markdown table, as in docs/teacher_walkthrough.md

A lesson's CORE is every cell before its "Deep dive (optional)" heading. Measured on the core:
* prose words: tokens of the Markdown cells holding a Latin letter or digit (fenced code left out;
  the Chinese of bilingual headings is not counted, an English reader skips it);
* code lines: non-blank, non-comment lines of the code cells, the standard setup cell left out (the
  same in every lesson);
* self-study minutes = words / 130 + code lines / 24 (reading speeds for technical prose and for code
  read line by line), so the issue's budget of 1,300 words and 120 lines is 15 minutes.
A Markdown cell that only shows a picture (a TensorBoard screenshot, ``![alt](file.png)``) is looked at,
not read: it is not counted (its alt text is for screen readers).
For the Chinese edition (``notebooks/zh-CN/``) prose is counted in CJK characters read at 300 per minute.
``assert`` lines are counted in the whole notebook (the course allows at most 15 per lesson, 60 in all).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
WORDS_PER_MINUTE, CODE_LINES_PER_MINUTE, CJK_PER_MINUTE = 130, 24, 300
BUDGET_WORDS, BUDGET_CODE_LINES, BUDGET_ASSERTS, BUDGET_ASSERTS_TOTAL = 1300, 120, 15, 60
BUDGET_MINUTES = {"00_start_here": 8}  # every other lesson: 15


@dataclass
class LessonStats:
    name: str
    words: int
    cjk: int
    code_lines: int
    cells: int
    asserts: int

    @property
    def minutes(self) -> float:
        prose = self.cjk / CJK_PER_MINUTE if self.cjk > self.words else self.words / WORDS_PER_MINUTE
        return prose + self.code_lines / CODE_LINES_PER_MINUTE


def is_deep_dive(cell) -> bool:
    first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
    return cell.cell_type == "markdown" and first.startswith("## ") and (
        "Deep dive" in first or "深入" in first)


def is_picture(cell) -> bool:
    return cell.cell_type == "markdown" and re.fullmatch(r"\s*!\[[^\]]*\]\([^)\s]+\)\s*", cell.source) is not None


def core_cells(nb) -> list:
    cells = []
    for cell in nb.cells:
        if is_deep_dive(cell):
            break
        if not is_picture(cell):
            cells.append(cell)
    return cells


def stats(path: Path) -> LessonStats:
    nb = nbformat.read(path, as_version=4)
    core = core_cells(nb)
    prose = "\n".join(re.sub(r"```.*?```", " ", c.source, flags=re.S)
                      for c in core if c.cell_type == "markdown")
    words = sum(1 for token in prose.split() if re.search(r"[A-Za-z0-9]", token))
    cjk = sum(1 for ch in prose if "\u4e00" <= ch <= "\u9fff")
    code = [c for c in core if c.cell_type == "code"]
    setup = code[0] if code and "seed_everything(" in code[0].source else None
    code_lines = sum(1 for c in code if c is not setup for line in c.source.splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))
    asserts = sum(1 for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines()
                  if re.match(r"\s*assert\b", line))
    return LessonStats(path.stem, words, cjk, code_lines, len(core), asserts)


def lessons(edition: str = "") -> list[Path]:
    return sorted((ROOT / "notebooks" / edition).glob("[0-9][0-9]_*.ipynb"))


def table() -> str:
    rows = ["| lesson | core cells | prose (words · 汉字) | code lines | self-study minutes (en · 中文) |",
            "| --- | --- | --- | --- | --- |"]
    for path in lessons():
        en = stats(path)
        zh_path = ROOT / "notebooks" / "zh-CN" / path.name
        zh = stats(zh_path) if zh_path.exists() else None
        rows.append(f"| {en.name} | {en.cells} | {en.words} · {zh.cjk if zh else '–'} | {en.code_lines} | "
                    f"{en.minutes:.0f} · {f'{zh.minutes:.0f}' if zh else '–'} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
    sys.exit(0)
