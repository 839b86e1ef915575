"""Contact sheets: every step of a TensorBoard run on one PNG, for projectors and handouts.

Conventions
-----------
* One PNG per run that has image tags (scalar-only runs get none), named after the run with ``/``
  replaced by ``__`` (``logs_dropout_overfit/p0.5`` -> ``logs_dropout_overfit__p0.5.png``).
* One row per step, one column per tag: ``input`` and ``output`` first, then any other tag in name
  order. Every image is pasted at its true pixel size, exactly as TensorBoard stores it (read back with
  TensorBoard's own ``EventAccumulator`` through ``read_run_images``), so a pooled output grid looks
  as much smaller as it is. Each image has a thin grey frame *outside* it (the grid's own white padding
  stays visible).
* Labels: the run name and how many steps are shown on top; ``step N`` left of each row; each column
  headed by its tag and its size in pixels (width x height, "1042x132 px").
* Runs with more than ``max_steps`` steps show ``max_steps`` of them, evenly spaced, always the first
  and the last; the title says "showing k of n steps".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from utils.tensorboard_logging import read_run_images

PREFERRED_TAGS = ("input", "output")
DEFAULT_MAX_STEPS = 16
BACKGROUND = (255, 255, 255)
FRAME = (160, 160, 160)
TEXT = (20, 20, 20)
MUTED = (110, 110, 110)
MARGIN = 16  # around the sheet and between cells
FONT_SIZE = 16
TITLE_SIZE = 22


@dataclass
class ContactSheet:
    """A drawn sheet and where each image went: ``boxes[(tag, step)] = (x, y, width, height)``."""

    image: Image.Image
    run: str
    steps: list[int]
    total_steps: int
    tags: list[str]
    boxes: dict[tuple[str, int], tuple[int, int, int, int]] = field(default_factory=dict)


def sheet_name(run: str) -> str:
    """File name of a run's sheet: ``/`` in nested run names becomes ``__``."""
    return run.replace("\\", "/").strip("/").replace("/", "__") + ".png"


def pick_steps(steps: list[int], max_steps: int) -> list[int]:
    """At most ``max_steps`` of ``steps`` (sorted, distinct), evenly spaced, first and last kept."""
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}.")
    steps = sorted(set(steps))
    if len(steps) <= max_steps:
        return steps
    if max_steps == 1:
        return [steps[-1]]
    index = np.linspace(0, len(steps) - 1, max_steps).round().astype(int)
    return [steps[i] for i in sorted(set(index.tolist()))]


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)  # scalable, Pillow >= 10.1
    except TypeError:  # pragma: no cover - Pillow 10.0: a small bitmap font
        return ImageFont.load_default()


def _text_size(draw: ImageDraw.ImageDraw, text: str, font) -> tuple[int, int]:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom - top


def _ordered_tags(tags) -> list[str]:
    return [t for t in PREFERRED_TAGS if t in tags] + sorted(
        t for t in tags if t not in PREFERRED_TAGS
    )


def contact_sheet(
    run_path: str | Path, run: str | None = None, max_steps: int = DEFAULT_MAX_STEPS
) -> ContactSheet | None:
    """Draw the sheet of one run folder; ``None`` if the run has no images."""
    run_path = Path(run_path)
    run = run or run_path.name
    images = read_run_images(run_path)
    if not images:
        return None
    tags = _ordered_tags(images)
    by_tag = {tag: dict(items) for tag, items in images.items()}
    all_steps = sorted({step for items in by_tag.values() for step in items})
    steps = pick_steps(all_steps, max_steps)

    font, title_font = _font(FONT_SIZE), _font(TITLE_SIZE)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    col_widths = [max(a.shape[1] for a in by_tag[t].values()) + 2 for t in tags]
    row_heights = [
        max((by_tag[t][s].shape[0] + 2 for t in tags if s in by_tag[t]), default=0) for s in steps
    ]
    headers = []
    for tag in tags:
        sizes = sorted({(a.shape[1], a.shape[0]) for a in by_tag[tag].values()})
        size_text = ", ".join(f"{w}x{h} px" for w, h in sizes[:2]) + (
            " …" if len(sizes) > 2 else ""
        )
        headers.append((tag, size_text))
    col_widths = [
        max(w, _text_size(probe, f"{t}  ({s})", font)[0])
        for w, (t, s) in zip(col_widths, headers, strict=True)
    ]
    label_w = max(_text_size(probe, f"step {s}", font)[0] for s in steps)
    line_h = _text_size(probe, "Step 0 (gjpqy)", font)[1] + 6
    shown = (
        f"all {len(all_steps)} steps"
        if len(steps) == len(all_steps)
        else f"showing {len(steps)} of {len(all_steps)} steps"
    )
    title = f"run: {run}"
    subtitle = f"{shown}, one row per step; images at true pixel size (as TensorBoard stores them)"
    title_h = _text_size(probe, title, title_font)[1] + 10
    header_h = line_h + 4
    width = MARGIN + label_w + MARGIN + sum(col_widths) + MARGIN * len(col_widths)
    width = max(width, MARGIN * 2 + _text_size(probe, subtitle, font)[0])
    height = MARGIN + title_h + line_h + MARGIN + header_h
    height += sum(max(h, line_h) for h in row_heights) + MARGIN * len(steps)

    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    y = MARGIN
    draw.text((MARGIN, y), title, font=title_font, fill=TEXT)
    y += title_h
    draw.text((MARGIN, y), subtitle, font=font, fill=MUTED)
    y += line_h + MARGIN
    x0 = MARGIN + label_w + MARGIN
    x = x0
    for (tag, size_text), col_w in zip(headers, col_widths, strict=True):
        draw.text((x, y), tag, font=font, fill=TEXT)
        tag_w = _text_size(draw, tag + "  ", font)[0]
        draw.text((x + tag_w, y), f"({size_text})", font=font, fill=MUTED)
        x += col_w + MARGIN
    y += header_h

    result = ContactSheet(sheet, run, steps, len(all_steps), tags)
    for step, row_h in zip(steps, row_heights, strict=True):
        draw.text((MARGIN, y + 1), f"step {step}", font=font, fill=TEXT)
        x = x0
        for tag, col_w in zip(tags, col_widths, strict=True):
            array = by_tag[tag].get(step)
            if array is None:
                draw.text((x + 1, y + 1), "(not logged)", font=font, fill=MUTED)
            else:
                h, w = array.shape[:2]
                draw.rectangle((x, y, x + w + 1, y + h + 1), outline=FRAME)
                sheet.paste(Image.fromarray(np.ascontiguousarray(array)), (x + 1, y + 1))
                result.boxes[(tag, step)] = (x + 1, y + 1, w, h)
            x += col_w + MARGIN
        y += max(row_h, line_h) + MARGIN
    return result


def _run_folders(logdir: Path) -> list[Path]:
    return sorted({p.parent for p in logdir.rglob("*tfevents*") if p.is_file()})


def write_contact_sheets(
    logdir: str | Path, out_dir: str | Path, max_steps: int = DEFAULT_MAX_STEPS
) -> list[Path]:
    """Write one contact sheet PNG per run with images under ``logdir`` into ``out_dir``.

    Returns the written paths in run-name order (empty if there are no image runs).
    """
    logdir, out_dir = Path(logdir), Path(out_dir)
    if not logdir.is_dir():
        return []
    written = []
    for run_path in _run_folders(logdir):
        run = run_path.relative_to(logdir).as_posix() if run_path != logdir else logdir.name
        drawn = contact_sheet(run_path, run, max_steps=max_steps)
        if drawn is None:
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / sheet_name(run)
        drawn.image.save(path, optimize=True)
        written.append(path)
    return written
