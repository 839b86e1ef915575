"""Self-checks for the lessons' exercises, one module per lesson (``utils.checks.max_pooling`` ...).

Every expected answer is computed by PyTorch when the check runs, never typed in. Each check prints one
line in the reader's language (``utils.environment.language()``) and returns True, False, or None
when the exercise has not been attempted yet (the answer is still ``...`` or ``None``).
"""

from __future__ import annotations

from utils.environment import language


def report(correct: bool | None, *, en: str = "", zh: str = "") -> bool | None:
    """Print ✓ or ✗ with the hint in the reader's language; return ``correct``.

    ``correct=None`` means "not attempted": prints a reminder instead. ``en``/``zh`` say WHY an
    answer is wrong (or, for a right one, what it shows); keep both.
    """
    zh_reader = language() == "zh"
    if correct is None:
        print("… 还没有作答：把占位符（... 或 None）换成你的答案再运行。" if zh_reader
              else "… not answered yet: replace the placeholder (... or None) with your answer and run again.")
        return None
    mark = "✓ 正确。" if (correct and zh_reader) else "✓ Correct." if correct else (
        "✗ 还不对。" if zh_reader else "✗ Not yet.")
    hint = zh if (zh_reader and zh) else en
    print(f"{mark}{'' if zh_reader else ' '}{hint}".rstrip())  # no space after a Chinese 。
    return correct


def unanswered(answer) -> bool:
    """True for the placeholders an exercise starts with (``...`` or ``None``)."""
    return answer is ... or answer is None


def as_cells(answer) -> set[tuple[int, int]] | None:
    """A set of ``(row, column)`` pairs as ints, or None if ``answer`` is not one (a wrong answer)."""
    try:
        return {(int(r), int(c)) for r, c in answer}
    except (TypeError, ValueError):
        return None
