"""How long each lesson takes to read, measured from the notebooks (not guessed).

    python tools/lesson_stats.py            # the reading-time table of docs/teacher_walkthrough.md
    python tools/lesson_stats.py --write    # rewrite that table in the walkthrough (both languages)

The walkthrough keeps the table between the lines ``<!-- lesson_stats:begin -->`` and
``<!-- lesson_stats:end -->``; tests accept small drift, so a lesson edit never forces a rewrite.

A lesson's CORE is every cell before its "Deep dive (optional)" heading. Measured on the core:
* prose words: tokens of the Markdown cells holding a Latin letter or digit (fenced code left out;
  the Chinese of bilingual headings is not counted, an English reader skips it);
* code lines: non-blank, non-comment lines of the code cells, the standard setup cell left out (the
  same in every lesson);
* self-study minutes = words / 130 + code lines / 24 (reading speeds for technical prose and for code
  read line by line): a floor, no time to think; each lesson states its measured time, never below it.
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
BUDGET_ASSERTS, BUDGET_ASSERTS_TOTAL = 15, 60  # asserts in a lesson's student cells, and in all


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
        prose = (
            self.cjk / CJK_PER_MINUTE if self.cjk > self.words else self.words / WORDS_PER_MINUTE
        )
        return prose + self.code_lines / CODE_LINES_PER_MINUTE


def is_deep_dive(cell) -> bool:
    first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
    return (
        cell.cell_type == "markdown"
        and first.startswith("## ")
        and ("Deep dive" in first or "深入" in first)
    )


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
    prose = "\n".join(
        re.sub(r"```.*?```", " ", c.source, flags=re.S) for c in core if c.cell_type == "markdown"
    )
    words = sum(1 for token in prose.split() if re.search(r"[A-Za-z0-9]", token))
    cjk = sum(1 for ch in prose if "\u4e00" <= ch <= "\u9fff")
    code = [c for c in core if c.cell_type == "code"]
    setup = code[0] if code and "seed_everything(" in code[0].source else None
    code_lines = sum(
        1
        for c in code
        if c is not setup
        for line in c.source.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    asserts = sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for line in c.source.splitlines()
        if re.match(r"\s*assert\b", line)
    )
    return LessonStats(path.stem, words, cjk, code_lines, len(core), asserts)


def lessons(edition: str = "") -> list[Path]:
    return sorted((ROOT / "notebooks" / edition).glob("[0-9][0-9]_*.ipynb"))


#: The walkthrough files that hold the table, and their column headings.
WALKTHROUGHS = {
    "en": ROOT / "docs" / "teacher_walkthrough.md",
    "zh-CN": ROOT / "docs" / "teacher_walkthrough.zh-CN.md",
}
HEADERS = {
    "en": "| lesson | reading minutes (English) | reading minutes (中文) |",
    "zh-CN": "| 课 | 阅读时间（分钟，英文版） | 阅读时间（分钟，中文版） |",
}
BEGIN, END = "<!-- lesson_stats:begin -->", "<!-- lesson_stats:end -->"


def reading_minutes() -> dict[str, tuple[float, float | None]]:
    """{lesson: (minutes of the English core, minutes of the Chinese core or None)}."""
    minutes = {}
    for path in lessons():
        zh_path = ROOT / "notebooks" / "zh-CN" / path.name
        minutes[path.stem] = (
            stats(path).minutes,
            stats(zh_path).minutes if zh_path.exists() else None,
        )
    return minutes


def table(lang: str = "en") -> str:
    """The reading-time table as Markdown, with ``lang``'s headings."""
    rows = [HEADERS[lang], "| --- | --- | --- |"]
    for name, (en, zh) in reading_minutes().items():
        rows.append(f"| {name} | {en:.0f} | {'–' if zh is None else f'{zh:.0f}'} |")
    return "\n".join(rows)


def write(paths: dict[str, Path] = WALKTHROUGHS) -> list[Path]:
    """Replace the table between BEGIN and END in each walkthrough; return the files changed."""
    changed = []
    for lang, path in paths.items():
        text = path.read_text(encoding="utf-8")
        if BEGIN not in text or END not in text:
            raise SystemExit(
                f"{path}: no {BEGIN} … {END} block to rewrite; put those two lines where "
                "the table belongs and run again."
            )
        head, rest = text.split(BEGIN, 1)
        new = f"{head}{BEGIN}\n{table(lang)}\n{END}{rest.split(END, 1)[1]}"
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        done = write()
        print(
            "rewrote " + ", ".join(str(p.relative_to(ROOT)) for p in done)
            if done
            else "already up to date"
        )
    elif sys.argv[1:]:
        raise SystemExit("usage: python tools/lesson_stats.py [--write]")
    else:
        print(table())
