"""Keep the Chinese edition's code identical to the English edition's.

    python tools/editions.py check        # exit 1 and name the cells where the code drifted
    python tools/editions.py sync         # copy every English code cell into its Chinese notebook
    python tools/editions.py new notebooks/01_max_pooling.ipynb   # start a Chinese copy to translate

The English notebooks in ``notebooks/`` are the one source of code. A Chinese notebook
``notebooks/zh-CN/<same path>`` has the same cells in the same order: markdown cells are translated,
code cells are copied verbatim (so variable names and printed output stay the same). Figure labels and
self-check messages switch language at run time through ``utils.environment.language()``, which reads
the kernel's folder (``zh-CN``), so no code differs between the editions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ZH = NOTEBOOKS / "zh-CN"


def english_notebooks() -> list[Path]:
    """Every English lesson and solution (the source of code)."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(
        (NOTEBOOKS / "solutions").glob("*.ipynb"))


def chinese_twin(english: Path) -> Path:
    return ZH / english.relative_to(NOTEBOOKS)


def code_cells(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def drift(english: Path) -> list[str]:
    """What differs between the code of ``english`` and its Chinese twin (empty when identical)."""
    twin = chinese_twin(english)
    if not twin.exists():
        return [f"{twin.relative_to(ROOT)} is missing (python tools/editions.py new {english.relative_to(ROOT)})"]
    en, zh = (code_cells(nbformat.read(p, as_version=4)) for p in (english, twin))
    if len(en) != len(zh):
        return [f"{twin.relative_to(ROOT)}: {len(zh)} code cells, the English edition has {len(en)}"]
    return [f"{twin.relative_to(ROOT)}: code cell {i + 1} differs from the English edition"
            for i, (a, b) in enumerate(zip(en, zh, strict=True)) if a != b]


def sync(english: Path) -> bool:
    """Copy the English code cells into the Chinese twin, in order; True if anything changed."""
    twin = chinese_twin(english)
    en_nb, zh_nb = (nbformat.read(p, as_version=4) for p in (english, twin))
    en, zh = code_cells(en_nb), [c for c in zh_nb.cells if c.cell_type == "code"]
    if len(en) != len(zh):
        raise SystemExit(f"{twin.relative_to(ROOT)} has {len(zh)} code cells, English {len(en)}: "
                         "add or remove the matching cells by hand, then run sync again.")
    changed = False
    for cell, source in zip(zh, en, strict=True):
        if cell.source != source:
            cell.source, changed = source, True
    if changed:
        nbformat.write(zh_nb, twin)
    return changed


def new(english: Path) -> Path:
    """Start the Chinese twin as a copy of the English notebook (markdown still to translate)."""
    twin = chinese_twin(english)
    if twin.exists():
        raise SystemExit(f"{twin.relative_to(ROOT)} exists already; edit it, or `sync` its code.")
    twin.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(english, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, twin)
    return twin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("command", choices=["check", "sync", "new"])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    chosen = [p.resolve() for p in args.notebooks] or english_notebooks()
    if args.command == "new":
        for path in chosen:
            print(f"wrote {new(path).relative_to(ROOT)}")
        return 0
    if args.command == "sync":
        for path in chosen:
            if sync(path):
                print(f"synced {chinese_twin(path).relative_to(ROOT)}")
        return 0
    problems = [line for path in chosen for line in drift(path)]
    print("\n".join(problems) or f"the code of all {len(chosen)} Chinese notebooks equals the English edition")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
