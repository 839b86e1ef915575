"""Every lesson notebook follows the course skeleton (see the team brief and the issue).

For each notebooks/NN_*.ipynb:
* the first cell is a Markdown title ``# NN · English · 中文``;
* a "What you will learn / 你将学到" cell;
* exactly ONE setup cell, identical to the one in 00_start_here, as the first code cell, marked
  ``skip`` for the slides;
* every ``##`` section heading is bilingual (English and 中文), numbered ones read ``## N · ...``
  with N = 1, 2, 3, ... in order, and starts a slide;
* a ``## Summary / 小结``;
* then (every lesson but 00_start_here, the introduction) ``## Exercises / 练习`` with 3–5 exercises
  numbered **1**, **2**, ...; each has a code cell that leaves a ``None`` placeholder and calls a
  self-check ``check_*`` imported from ``utils``;
* notebooks/solutions/NN_name_solutions.ipynb exists, starts with the same setup cell, and calls
  every self-check the lesson's exercises use.

Lessons are still being written: failures name the notebook and what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
START_HERE = NOTEBOOKS / "00_start_here.ipynb"
#: The introduction has no exercises; every other lesson must.
WITHOUT_EXERCISES = {"00_start_here"}
#: The lessons the course promises (README's table); each must exist once written.
EXPECTED_LESSONS = (
    "00_start_here",
    "01_max_pooling",
    "02_average_pooling",
    "03_output_shapes",
    "04_dropout",
    "05_dropout_overfitting",
    "06_under_the_hood",
)

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
EXERCISE_START = re.compile(r"^\*\*(\d+)(?:\.|\s*·)", re.MULTILINE)
CHECK_CALL = re.compile(r"\b(check_\w+)\(")


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def read(path: Path):
    return nbformat.read(path, as_version=4)


def slide_type(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def is_setup_cell(cell) -> bool:
    return cell.cell_type == "code" and (
        "seed_everything(" in cell.source or "sys.path.insert(" in cell.source
    )


def standard_setup_source() -> str:
    setup = [c for c in read(START_HERE).cells if is_setup_cell(c)]
    assert len(setup) == 1, "00_start_here must hold exactly one setup cell (the standard one)"
    return path_part(setup[0].source)


def path_part(source: str) -> str:
    """The setup cell up to ``sys.path.insert(...)``: the part every lesson copies verbatim (the
    imports after it may differ per lesson)."""
    end = source.find("sys.path.insert(0, str(ROOT))")
    return source[: end + len("sys.path.insert(0, str(ROOT))")].strip() if end >= 0 else source.strip()


def headings(nb, level: int) -> list[tuple[int, str]]:
    """(cell index, heading text) of Markdown headings of exactly ``level`` (outside code fences)."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and re.match(rf"^#{{{level}}}\s", line):
                found.append((index, line[level:].strip()))
    return found


def bilingual(text: str) -> bool:
    """Chinese characters and English: a word, or a PyTorch name in backticks (`stride` / 步幅)."""
    return bool(CJK.search(text)) and bool(LATIN_WORD.search(text))


def exercise_part(nb) -> list:
    """Cells from the ``## Exercises / 练习`` heading to the end."""
    for index, text in headings(nb, 2):
        if text.startswith("Exercises"):
            return nb.cells[index:]
    return []


def exercises(nb) -> list[tuple[int, list]]:
    """(number, code cells until the next exercise) for each **N.** / **N ·** exercise."""
    found: list[tuple[int, list]] = []
    for cell in exercise_part(nb):
        if cell.cell_type == "markdown":
            for number in EXERCISE_START.findall(cell.source):
                found.append((int(number), []))
        elif found:
            found[-1][1].append(cell)
    return found


LESSONS = lessons()
IDS = [p.stem for p in LESSONS]


def test_every_promised_lesson_exists():
    missing = [name for name in EXPECTED_LESSONS if not (NOTEBOOKS / f"{name}.ipynb").exists()]
    assert not missing, f"lessons not written yet: {missing}"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_title_is_bilingual(path):
    nb = read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown", f"{path.name}: the first cell must be the Markdown title"
    title = first.source.splitlines()[0]
    number = path.name[:2]
    assert title.startswith(f"# {number} · "), f"{path.name}: title must read '# {number} · ...'"
    assert bilingual(title), f"{path.name}: title needs English and 中文: {title!r}"
    assert slide_type(first) == "slide", f"{path.name}: the title cell should start a slide"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_what_you_will_learn(path):
    text = "\n".join(c.source for c in read(path).cells[:3] if c.cell_type == "markdown")
    assert "What you will learn" in text and "你将学到" in text, (
        f"{path.name}: one of the first cells must say 'What you will learn / 你将学到'"
    )


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_exactly_one_standard_setup_cell(path):
    nb = read(path)
    setup = [c for c in nb.cells if is_setup_cell(c)]
    assert len(setup) == 1, f"{path.name}: {len(setup)} setup cells, expected exactly one"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code is setup[0], f"{path.name}: the setup cell must be the first code cell"
    assert path_part(setup[0].source) == standard_setup_source(), (
        f"{path.name}: the setup cell differs from 00_start_here's; copy it exactly"
    )
    assert slide_type(setup[0]) == "skip", f"{path.name}: mark the setup cell 'skip' for slides"


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_section_headings_are_bilingual_numbered_slides(path):
    nb = read(path)
    sections = headings(nb, 2)
    assert sections, f"{path.name}: no '## ' section headings"
    not_bilingual = [text for _, text in sections if not bilingual(text)]
    assert not not_bilingual, f"{path.name}: headings without English and 中文: {not_bilingual}"
    numbered = [(i, text) for i, text in sections if re.match(r"^\d+\s*·", text)]
    numbers = [int(re.match(r"^(\d+)", text).group(1)) for _, text in numbered]
    assert numbers == list(range(1, len(numbers) + 1)), (
        f"{path.name}: numbered sections should run 1, 2, 3, ...; found {numbers}"
    )
    assert numbers, f"{path.name}: no numbered sections ('## 1 · English / 中文')"
    not_slides = [
        text
        for i, text in numbered
        if slide_type(nb.cells[i]) != "slide" or not nb.cells[i].source.lstrip().startswith("## ")
    ]
    assert not not_slides, (
        f"{path.name}: each numbered section should open its own cell marked 'slide': {not_slides}"
    )


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_summary(path):
    titles = [text for _, text in headings(read(path), 2)]
    assert any(t.startswith("Summary") and "小结" in t for t in titles), (
        f"{path.name}: needs a '## Summary / 小结' section"
    )


#: Every lesson that has exercises (00 has none).
WITH_EXERCISES = pytest.mark.parametrize(
    "path",
    [p for p in LESSONS if p.stem not in WITHOUT_EXERCISES],
    ids=[s for s in IDS if s not in WITHOUT_EXERCISES],
)


@WITH_EXERCISES
def test_exercises_with_self_checks(path):
    nb = read(path)
    titles = [text for _, text in headings(nb, 2)]
    assert any(t.startswith("Exercises") and "练习" in t for t in titles), (
        f"{path.name}: needs a '## Exercises / 练习' section"
    )
    assert titles.index(next(t for t in titles if t.startswith("Exercises"))) > titles.index(
        next((t for t in titles if t.startswith("Summary")), titles[-1])
    ), f"{path.name}: Exercises come after the Summary"
    found = exercises(nb)
    numbers = [n for n, _ in found]
    assert 3 <= len(found) <= 5, f"{path.name}: {len(found)} exercises, expected 3–5"
    assert numbers == list(range(1, len(found) + 1)), f"{path.name}: exercises numbered {numbers}"
    imports = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for number, cells in found:
        code = "\n".join(c.source for c in cells)
        checks = CHECK_CALL.findall(code)
        assert checks, f"{path.name}: exercise {number} has no check_*() call after it"
        assert re.search(r"=\s*None\b", code), (
            f"{path.name}: exercise {number} needs a placeholder answer (answer = None)"
        )
        for name in checks:
            assert re.search(rf"from utils\.[\w.]+ import[^)]*\b{name}\b", imports, re.DOTALL), (
                f"{path.name}: {name} must be imported from a module in utils/"
            )


@WITH_EXERCISES
def test_solutions_notebook(path):
    solution = SOLUTIONS / f"{path.stem}_solutions.ipynb"
    assert solution.exists(), f"missing worked solutions: {solution.relative_to(ROOT)}"
    lesson_checks = {
        name
        for _, cells in exercises(read(path))
        for c in cells
        for name in CHECK_CALL.findall(c.source)
    }
    nb = read(solution)
    setup = [c for c in nb.cells if is_setup_cell(c)]
    assert len(setup) == 1 and path_part(setup[0].source) == standard_setup_source(), (
        f"{solution.name}: needs the standard setup cell (copy it from 00_start_here)"
    )
    title = nb.cells[0].source.splitlines()[0] if nb.cells else ""
    assert title.startswith(f"# {path.name[:2]} · ") and bilingual(title), (
        f"{solution.name}: title must read '# {path.name[:2]} · English · 中文'"
    )
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    unused = sorted(name for name in lesson_checks if f"{name}(" not in code)
    assert not unused, f"{solution.name}: solutions never call {unused}"


def test_every_solutions_notebook_belongs_to_a_lesson():
    stems = {p.stem for p in LESSONS}
    strays = [
        p.name for p in SOLUTIONS.glob("*.ipynb") if p.stem.removesuffix("_solutions") not in stems
    ]
    assert not strays, f"solutions without a lesson: {strays}"


# -- the helpers above can fail ---------------------------------------------------------------------
def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_helpers_detect_problems():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    assert bilingual("1 · Max pooling / 最大池化") and not bilingual("1 · Max pooling")
    assert bilingual("`stride` / 步幅") and not bilingual("`ceil_mode`") and not bilingual("步幅")
    nb = _nb(
        md("## Summary / 小结"),
        md("## Exercises / 练习\n**1.** a"),
        code("a = None\ncheck_a(a)"),
        md("**2 · Two / 二.** b"),
        code("b = None\ncheck_b(b)"),
        md("```\n## not a heading\n```"),
    )
    assert [n for n, _ in exercises(nb)] == [1, 2]
    assert [t for _, t in headings(nb, 2)] == ["Summary / 小结", "Exercises / 练习"]
    assert is_setup_cell(code("sys.path.insert(0, str(ROOT))")) and not is_setup_cell(code("x = 1"))


@pytest.mark.parametrize("path", LESSONS, ids=IDS)
def test_numbered_subsection_headings_are_bilingual(path):
    """``### 2.1 · ...`` sub-sections are headings too: English and 中文."""
    numbered = [text for _, text in headings(read(path), 3) if re.match(r"^\d+\.\d+", text)]
    not_bilingual = [text for text in numbered if not bilingual(text)]
    assert not not_bilingual, f"{path.name}: sub-headings without English and 中文: {not_bilingual}"
