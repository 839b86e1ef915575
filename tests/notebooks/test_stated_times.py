"""Every lesson states how long it takes, in both editions, as measured with a first-time reader.

The times (issue 23) come from a timed first reading of the executed lessons (reviews/student_en.md:
read, run, look at every figure, answer every exercise), rounded up to 5 minutes; they replaced
"About 15 minutes", a third of what a novice needed. Format, one line in each lesson's opening cell:
``**Time / 时间:** about 40 min (core 25, exercises 15)`` and in Chinese ``**时间**：约40分钟（核心内容25分钟，练习15分钟）``.
This test reads no wording beyond those numbers: each edition states the same total; the total is
core + exercises; and no core is stated shorter than the reading-speed floor of tools/lesson_stats.py
(130 words and 24 code lines a minute, no time to think), so a stated time cannot fall below what the
text itself takes to read.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import lesson_stats as ls  # noqa: E402

EN = re.compile(r"about (\d+) min \(core (\d+), (?:exercises (\d+)|no exercises)\)")
ZH = re.compile(r"约(\d+)分钟（核心内容(\d+)分钟，(?:练习(\d+)分钟|没有练习)")
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def stated(path: Path, pattern: re.Pattern) -> tuple[int, int, int]:
    first = nbformat.read(path, as_version=4).cells[0].source
    match = pattern.search(first)
    assert match, f"{path.relative_to(ROOT)}: its first cell states no time in the course's format"
    total, core, exercises = (int(g or 0) for g in match.groups())
    return total, core, exercises


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_each_lesson_states_a_measured_time(path):
    total, core, exercises = stated(path, EN)
    assert total == core + exercises, (total, core, exercises)
    zh_total, zh_core, zh_exercises = stated(ROOT / "notebooks" / "zh-CN" / path.name, ZH)
    assert (zh_total, zh_core, zh_exercises) == (total, core, exercises), "the editions disagree"
    floor = ls.stats(path).minutes  # the text alone, read at speed, exercises included
    assert total >= floor, f"{path.stem}: states {total} min, reading alone takes {floor:.0f}"


def test_the_format_is_recognised_and_can_fail():
    assert EN.search("**Time / 时间:** about 40 min (core 25, exercises 15); the deep dive adds 10").groups() == (
        "40", "25", "15")
    assert EN.search("About 15 minutes; the deep dive at the end is optional.") is None
    assert ZH.search("**时间**：约20分钟（核心内容20分钟，没有练习）").groups() == ("20", "20", None)
