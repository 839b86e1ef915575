"""Keep the Chinese edition's code identical to the English edition's.

    python tools/editions.py check        # exit 1 and name the cells where the code drifted
    python tools/editions.py sync         # bring every English code change into its Chinese notebook
    python tools/editions.py new notebooks/07_new_lesson.ipynb   # start a Chinese copy to translate

The English notebooks in ``notebooks/`` are the one source of code. A Chinese notebook
``notebooks/zh-CN/<same path>`` has the same cells, in the same order, with the same cell ids: markdown
cells are translated, code cells are copied verbatim (so variable names and printed output stay the
same). The one line of code that differs is the setup cell's first line, ``LANGUAGE = "en"`` or
``LANGUAGE = "zh-CN"``: ``utils.environment.language()`` reads it, so self-checks and figure labels speak
the notebook's language wherever it runs (Colab too).

``sync`` copies changed code cells, inserts code cells added to the English notebook at the same place
in the Chinese one (after the cell that precedes them in English) and removes deleted ones. New English
markdown cells are inserted too, marked ``<!-- 待翻译 · translate -->``: translate them (the test
``tests/docs/test_editions.py`` fails while a mark is left).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ZH = NOTEBOOKS / "zh-CN"
#: The setup cell's first line in each edition (tools/set_repository_url.py writes the setup cell).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from set_repository_url import LANGUAGE_LINES  # noqa: E402

TRANSLATE_MARK = "<!-- 待翻译 · translate -->"


def english_notebooks() -> list[Path]:
    """Every English lesson and solution (the source of code)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(
        (NOTEBOOKS / "solutions").glob("*.ipynb"))


def chinese_twin(english: Path) -> Path:
    return ZH / english.relative_to(NOTEBOOKS)


def to_chinese(source: str) -> str:
    """An English code cell as the Chinese edition has it (the language line swapped)."""
    return source.replace(LANGUAGE_LINES["en"], LANGUAGE_LINES["zh-CN"], 1)


def code_cells(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def drift(english: Path) -> list[str]:
    """What differs between the code of ``english`` and its Chinese twin (empty when identical)."""
    twin = chinese_twin(english)
    if not twin.exists():
        return [f"{twin.relative_to(ROOT)} is missing (python tools/editions.py new {english.relative_to(ROOT)})"]
    en, zh = (code_cells(nbformat.read(p, as_version=4)) for p in (english, twin))
    problems = []
    for path, cells, line in ((english, en, LANGUAGE_LINES["en"]), (twin, zh, LANGUAGE_LINES["zh-CN"])):
        if not cells or cells[0].splitlines()[:1] != [line]:
            problems.append(f"{path.relative_to(ROOT)}: the setup cell's first line must be {line!r}")
    if len(en) != len(zh):
        return problems + [f"{twin.relative_to(ROOT)}: {len(zh)} code cells, the English edition has {len(en)}"]
    return problems + [f"{twin.relative_to(ROOT)}: code cell {i + 1} differs from the English edition"
                       for i, (a, b) in enumerate(zip(en, zh, strict=True)) if to_chinese(a) != b]


def _pairs(en_cells: list, zh_cells: list) -> dict[int, int]:
    """{English cell index: Chinese cell index} for the same cell: same id; code cells whose ids differ
    are paired in order (a few older twins have their own ids)."""
    zh_by_id = {c.get("id"): j for j, c in enumerate(zh_cells)}
    pairs = {i: zh_by_id[c.get("id")] for i, c in enumerate(en_cells) if c.get("id") in zh_by_id
             and zh_cells[zh_by_id[c.get("id")]].cell_type == c.cell_type}
    en_ids = {c.get("id") for c in en_cells}
    left_en = [i for i, c in enumerate(en_cells) if c.cell_type == "code" and i not in pairs]
    left_zh = [j for j, c in enumerate(zh_cells) if c.cell_type == "code" and j not in pairs.values()
               and c.get("id") not in en_ids]
    if len(left_en) == len(left_zh):  # same count: the same cells under other ids
        pairs.update(zip(left_en, left_zh, strict=True))
    return pairs


def sync(english: Path) -> list[str]:
    """Bring the English code into the Chinese twin; return what changed (empty: nothing)."""
    twin = chinese_twin(english)
    en_nb, zh_nb = (nbformat.read(p, as_version=4) for p in (english, twin))
    partner = {i: zh_nb.cells[j] for i, j in _pairs(en_nb.cells, zh_nb.cells).items()}
    kept, notes, cells = {id(c) for c in partner.values()}, [], []
    for cell in zh_nb.cells:  # a Chinese code cell whose English cell is gone goes too
        if cell.cell_type == "code" and id(cell) not in kept:
            notes.append(f"removed code cell {cell.get('id')} (deleted in English; check the markdown around it)")
        else:
            cells.append(cell)
    last = -1  # where the previous English cell sits in the Chinese notebook
    for i, cell in enumerate(en_nb.cells):
        if i in partner:
            last = next(k for k, c in enumerate(cells) if c is partner[i])
            if cell.cell_type == "code" and cells[last].source != to_chinese(cell.source):
                cells[last].source = to_chinese(cell.source)
                notes.append(f"updated code cell {cell.get('id')}")
            continue
        new = copy.deepcopy(cell)
        if cell.cell_type == "code":
            new.source, new.outputs, new.execution_count = to_chinese(cell.source), [], None
            notes.append(f"inserted code cell {cell.get('id')} after cell {last + 1}: translate the markdown "
                         "around it")
        else:
            new.source = f"{TRANSLATE_MARK}\n{cell.source}"
            notes.append(f"inserted English markdown cell {cell.get('id')} after cell {last + 1}: translate it "
                         f"(and remove the line {TRANSLATE_MARK})")
        cells.insert(last + 1, new)
        last += 1
    if notes:
        zh_nb.cells = cells
        nbformat.write(zh_nb, twin)
    return notes


def new(english: Path) -> Path:
    """Start the Chinese twin as a copy of the English notebook (markdown marked for translation)."""
    twin = chinese_twin(english)
    if twin.exists():
        raise SystemExit(f"{twin.relative_to(ROOT)} exists already; edit it, or `sync` its code.")
    twin.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(english, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source, cell.outputs, cell.execution_count = to_chinese(cell.source), [], None
        elif cell.cell_type == "markdown":
            cell.source = f"{TRANSLATE_MARK}\n{cell.source}"
    nbformat.write(nb, twin)
    return twin


def untranslated(twin: Path) -> list[str]:
    """The cells of a Chinese notebook still marked for translation."""
    nb = nbformat.read(twin, as_version=4)
    return [f"{twin.relative_to(ROOT)}: cell {i + 1} ({c.get('id')}) is still to translate"
            for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and TRANSLATE_MARK in c.source]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("command", choices=["check", "sync", "new"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    chosen = [p.resolve() for p in args.notebooks] or english_notebooks()
    if args.command == "new":
        for path in chosen:
            print(f"wrote {new(path).relative_to(ROOT)}: translate its markdown cells (marked {TRANSLATE_MARK})")
        return 0
    if args.command == "sync":
        for path in chosen:
            for note in sync(path):
                print(f"{chinese_twin(path).relative_to(ROOT)}: {note}")
        return 0
    problems = [line for path in chosen for line in drift(path)]
    print("\n".join(problems) or f"the code of all {len(chosen)} Chinese notebooks equals the English edition")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
