"""TensorBoard is shown where it is taught: every lesson that writes a run embeds a screenshot of the view
the student should open, in both editions, and the files exist (tools/screenshots.py makes them)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import screenshots  # noqa: E402

EDITIONS = {"en": ROOT / "notebooks", "zh-CN": ROOT / "notebooks" / "zh-CN"}
#: Code that writes a TensorBoard run: the plain writer, the course's helper, add_hparams.
WRITES_A_RUN = re.compile(r"\bSummaryWriter\(|\bImageRun\(|\.add_hparams\(")
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def lessons(edition: str) -> list[Path]:
    return sorted(EDITIONS[edition].glob("[0-9][0-9]_*.ipynb"))


def writes_a_run(nb) -> bool:
    return any(c.cell_type == "code" and WRITES_A_RUN.search(c.source) for c in nb.cells)


def screenshot_refs(nb, folder: Path) -> list[tuple[str, Path]]:
    """(alt text, resolved file) of every TensorBoard screenshot a notebook's markdown embeds."""
    refs = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for alt, target in IMAGE.findall(cell.source):
            if "images/tensorboard/" in target:
                refs.append((alt, (folder / target).resolve()))
    return refs


def test_some_lessons_write_runs():
    """The detector finds the lessons it must (00, 01, 02, 04 and 05 write runs), so the test below can fail."""
    writing = [p.name[:2] for p in lessons("en") if writes_a_run(nbformat.read(p, as_version=4))]
    assert {"00", "01", "02", "04", "05"} <= set(writing), writing


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_every_lesson_that_writes_a_run_shows_its_tensorboard_view(edition):
    problems = []
    for path in lessons(edition):
        nb = nbformat.read(path, as_version=4)
        if not writes_a_run(nb):
            continue
        refs = screenshot_refs(nb, path.parent)
        if not refs:
            problems.append(f"{path.relative_to(ROOT)} writes a TensorBoard run but shows no screenshot of it: "
                            f"add a markdown cell ![alt](images/tensorboard/NAME.{edition}.png) (zh-CN: ../images/...) where it "
                            "tells the student to open TensorBoard (`make screenshots` makes the files)")
        for alt, file in refs:
            if not file.is_file():
                problems.append(f"{path.relative_to(ROOT)}: {file} does not exist (run `make screenshots`)")
            if not file.name.endswith(f".{edition}.png"):
                problems.append(f"{path.relative_to(ROOT)}: {file.name} is not the {edition} edition's picture")
            if len(alt.split()) < 5 and len(alt) < 20:
                problems.append(f"{path.relative_to(ROOT)}: {file.name} needs real alt text, has {alt!r}")
            if edition == "zh-CN" and not re.search(r"[\u4e00-\u9fff]", alt):
                problems.append(f"{path.relative_to(ROOT)}: alt text of {file.name} is not in Chinese")
    assert not problems, "\n".join(problems)


def test_every_view_of_the_tool_is_embedded_by_its_lesson():
    """Each screenshot the tool makes is shown in its lesson, in both editions."""
    for edition in EDITIONS:
        shown = set()
        for path in lessons(edition):
            shown |= {f.name for _, f in screenshot_refs(nbformat.read(path, as_version=4), path.parent)}
        missing = [f"{s.name}.{edition}.png" for s in screenshots.SHOTS if f"{s.name}.{edition}.png" not in shown]
        assert not missing, f"{edition}: not embedded in any lesson: {missing}"


def test_committed_screenshots_are_small_palette_pngs():
    from PIL import Image

    files = sorted(screenshots.OUT.glob("*.png"))
    assert len(files) == len(screenshots.SHOTS) * len(screenshots.LANGS)
    for file in files:
        assert file.stat().st_size <= screenshots.MAX_BYTES, f"{file.name}: {file.stat().st_size} bytes"
        with Image.open(file) as img:
            assert img.size == (screenshots.VIEWPORT["width"], screenshots.VIEWPORT["height"])
            assert img.mode == "P", f"{file.name} is not a palette PNG"


def test_chinese_labels_are_drawable_with_the_course_font():
    for shot in screenshots.SHOTS:
        for mark in shot.marks:
            assert not screenshots.missing_glyphs(mark.zh), (shot.name, mark.zh)
        assert shot.alt_zh and shot.alt_en


def test_annotate_draws_the_marks_where_the_controls_are(tmp_path):
    """The box is drawn around the given rectangle (its pixels turn the mark colour), the rest is left alone."""
    from PIL import Image

    raw = tmp_path / "raw.png"
    Image.new("RGB", (400, 300), (255, 255, 255)).save(raw)
    out = tmp_path / "marked.png"
    screenshots.annotate(raw, [((100, 100, 50, 20), "勾选 tick")], out)
    img = Image.open(out).convert("RGB")
    assert img.getpixel((100, 110)) == screenshots.MARK            # left edge of the box
    assert img.getpixel((125, 110)) == (255, 255, 255)             # inside the box: untouched
    assert img.getpixel((390, 10)) == (255, 255, 255)              # far away: untouched
    label = [img.getpixel((x, y)) for x in range(100, 200) for y in range(126, 152)]
    assert screenshots.LABEL_BG in label                           # the label sits below the box
