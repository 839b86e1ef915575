"""Read the teacher's walkthrough (docs/teacher_walkthrough.md and its Chinese twin) as data.

    python tools/walkthrough.py                 # the plan's arithmetic and the question bank, in brief
    python tools/walkthrough.py --json zh-CN    # the Chinese question bank as JSON (for slides, handouts)

Other tools import it (the slides put the questions and answers in their speaker notes):

    from walkthrough import questions, plan
    questions("en")     # [{"id": "Q04", "lesson": "01", "section": 2, "exercise": None,
                        #   "where": "01 §2", "core": True, "segment": "S3",
                        #   "question": "...", "answer": "..."}, ...]
    plan("zh-CN")       # [{"segment": "S3", "cells": 3, "views": 0, "questions": 2, ...}, ...]

The structure both files keep (described again at the top of each file):

* The plan is a Markdown table whose rows start with a segment id, ``| S3 | 4–11.5 | ...``; its columns,
  in order: segment, clock, lessons, cells run and shown, TensorBoard views, questions, students' own
  work (minutes), other (minutes), minutes.
* Each question of the bank is a level-3 heading, a ``Q:`` paragraph and an ``A:`` paragraph::

      ### Q04 · 01 §2 · core S3          (Chinese file: ### Q04 · 01 §2 · 课上 S3)
      **Q:** ...                         (Chinese file: **问：** ...)
      **A:** ...                         (Chinese file: **答：** ...)

  The heading's parts: the id; the lesson and where in it (``§2`` a numbered section, ``Exercise 1`` /
  ``练习 1`` an exercise); ``core S3`` / ``课上 S3`` when segment S3 of the 45-minute plan asks it, else
  ``bank`` / ``题库``. A paragraph may wrap over several lines and ends at a blank line.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = {
    "en": ROOT / "docs" / "teacher_walkthrough.md",
    "zh-CN": ROOT / "docs" / "teacher_walkthrough.zh-CN.md",
}

#: Minutes per action, as the plan's table costs them (questions at the upper end of 1–1.5).
MINUTES_PER_CELL, MINUTES_PER_VIEW, MINUTES_PER_QUESTION = 0.5, 1.5, 1.5
MINUTES_PER_QUESTION_LOW = 1.0
CLASS_MINUTES, STUDENT_MINUTES_AT_LEAST = 45, 12

HEADING = re.compile(
    r"^### (?P<id>Q\d+) · (?P<lesson>\d\d) (?:§(?P<section>\d+)|(?:Exercise|练习) (?P<exercise>\d+))"
    r" · (?:(?:core|课上) (?P<segment>S\d+)|bank|题库)\s*$"
)
PARAGRAPH = {
    "question": re.compile(r"^\*\*(?:Q:|问：)\*\*\s*"),
    "answer": re.compile(r"^\*\*(?:A:|答：)\*\*\s*"),
}
PLAN_ROW = re.compile(r"^\|\s*(S\d+)\s*\|(.*)\|\s*$")
#: Where a walkthrough points into a lesson: "01 §5", "01 Exercise 1", "01 练习 1".
REFERENCE = re.compile(r"\b(\d\d) (?:§(\d+)|(?:Exercise|练习) ?(\d+))")


class WalkthroughError(ValueError):
    """The walkthrough does not keep the structure above; the message says where and what to write."""


def _text(lang: str, text: str | None) -> tuple[str, str]:
    if text is not None:
        return text, "<text>"
    if lang not in DOCS:
        raise WalkthroughError(f"language {lang!r}: use one of {sorted(DOCS)}")
    return DOCS[lang].read_text(encoding="utf-8"), DOCS[lang].name


def questions(lang: str = "en", text: str | None = None) -> list[dict]:
    """The question bank of the walkthrough in ``lang`` ("en" or "zh-CN"), in the file's order.

    Each question is a dict: ``id``, ``lesson`` ("01"), ``section`` (int or None), ``exercise`` (int or
    None), ``where`` ("01 §2", "01 Exercise 1"), ``core`` (bool), ``segment`` ("S3" or None),
    ``question``, ``answer`` (Markdown, lines joined with spaces). ``text`` parses a string instead.
    """
    text, name = _text(lang, text)
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines, 1):
        if not line.startswith("### Q"):
            continue
        heading = HEADING.match(line)
        if not heading:
            raise WalkthroughError(
                f"{name}:{number}: {line!r} is not a question heading; write e.g. "
                "'### Q04 · 01 §2 · core S3' or '### Q10 · 01 Exercise 4 · bank'"
            )
        item = {
            "id": heading["id"],
            "lesson": heading["lesson"],
            "section": int(heading["section"]) if heading["section"] else None,
            "exercise": int(heading["exercise"]) if heading["exercise"] else None,
            "segment": heading["segment"],
            "core": heading["segment"] is not None,
        }
        item["where"] = (
            f"{item['lesson']} §{item['section']}"
            if item["section"] is not None
            else f"{item['lesson']} Exercise {item['exercise']}"
        )
        body = _paragraphs(lines[number:])
        for key, start in PARAGRAPH.items():
            paragraph = next((p for p in body if start.match(p)), None)
            if paragraph is None:
                raise WalkthroughError(
                    f"{name}:{number}: {item['id']} has no "
                    f"{'**Q:**' if key == 'question' else '**A:**'} paragraph "
                    f"(Chinese: {'**问：**' if key == 'question' else '**答：**'})"
                )
            item[key] = start.sub("", paragraph).strip()
        found.append(item)
    ids = [q["id"] for q in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise WalkthroughError(f"{name}: question ids used twice: {duplicates}")
    return found


def _paragraphs(lines: list[str]) -> list[str]:
    """The paragraphs after a heading, up to the next heading."""
    paragraphs, current = [], []
    for line in lines:
        if line.startswith("#"):
            break
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _number(cell: str, where: str) -> float:
    match = re.search(r"-?\d+(?:\.\d+)?", cell.replace("–", "-"))
    if not match:
        raise WalkthroughError(f"{where}: {cell.strip()!r} holds no number")
    return float(match.group(0))


def plan(lang: str = "en", text: str | None = None) -> list[dict]:
    """The rows of the 45-minute plan's table: ``segment``, ``start``, ``end`` (the clock column),
    ``lessons`` (the text of that column), ``cells``, ``views``, ``questions``, ``students``, ``other``,
    ``minutes`` (as written), and ``costed``: the minutes the action costs give."""
    text, name = _text(lang, text)
    rows = []
    for line in text.splitlines():
        match = PLAN_ROW.match(line)
        if not match:
            continue
        cells = [c.strip() for c in match.group(2).split("|")]
        where = f"{name}, plan row {match.group(1)}"
        if len(cells) != 8:
            raise WalkthroughError(
                f"{where}: 9 columns expected (segment, clock, lessons, cells, views, "
                f"questions, students, other, minutes), found {len(cells) + 1}"
            )
        clock = re.fullmatch(r"(\d+(?:\.\d+)?)\s*[–-]\s*(\d+(?:\.\d+)?)", cells[0])
        if not clock:
            raise WalkthroughError(f"{where}: the clock {cells[0]!r} should read like 4–11.5")
        row = {
            "segment": match.group(1),
            "start": float(clock[1]),
            "end": float(clock[2]),
            "lessons": cells[1],
        }
        for key, cell in zip(
            ("cells", "views", "questions", "students", "other", "minutes"), cells[2:], strict=True
        ):
            row[key] = _number(cell, where) if cell not in ("", "–", "-") else 0.0
        row["costed"] = (
            row["cells"] * MINUTES_PER_CELL
            + row["views"] * MINUTES_PER_VIEW
            + row["questions"] * MINUTES_PER_QUESTION
            + row["students"]
            + row["other"]
        )
        rows.append(row)
    return rows


def references(text: str) -> list[tuple[str, str, int]]:
    """Every place ``text`` points into a lesson: ``(lesson, "section" | "exercise", number)``."""
    return [
        (lesson, "section" if section else "exercise", int(section or exercise))
        for lesson, section, exercise in REFERENCE.findall(text)
    ]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--json"]:
        print(
            json.dumps(questions(argv[1] if len(argv) > 1 else "en"), ensure_ascii=False, indent=1)
        )
        return 0
    for lang in DOCS:
        rows, bank = plan(lang), questions(lang)
        total = sum(r["costed"] for r in rows)
        low = total - sum(r["questions"] for r in rows) * (
            MINUTES_PER_QUESTION - MINUTES_PER_QUESTION_LOW
        )
        print(
            f"{lang}: {len(rows)} segments, {low:g}–{total:g} min (class {CLASS_MINUTES}), "
            f"students' own work {sum(r['students'] for r in rows):g} min; "
            f"{len(bank)} questions, {sum(q['core'] for q in bank)} asked in class"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
