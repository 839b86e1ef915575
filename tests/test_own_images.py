"""A teacher's own photos, by the documented route: `COURSE_IMAGES=/path/to/folder make demo` runs every
lesson of both editions on them, and the lessons use them (their TensorBoard runs hold the teacher's
images, lesson 01 shows the teacher's first photo).

Two folders: three images of different sizes, kinds and names (one that sorts before the course's
patterns), and a folder with one image. Expected counts come from the folder itself.
"""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import ROOT, make_recipe
from PIL import Image

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

PATTERNS = len(list((ROOT / "data" / "patterns").glob("pattern_*.png")))


def three_images(folder: Path) -> list[str]:
    """A 1600×1200 JPEG, a 300×300 RGBA PNG and a 28×28 grayscale PNG; their names, sorted."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8)).save(folder / "IMG_0001.jpg")
    Image.fromarray(rng.integers(0, 256, (300, 300, 4), dtype=np.uint8), "RGBA").save(folder / "campus building.png")
    Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(folder / "digit.png")
    return ["IMG_0001.jpg", "campus building.png", "digit.png"]


def one_image(folder: Path) -> list[str]:
    folder.mkdir()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(folder / "mine.png")
    return ["mine.png"]


@pytest.mark.parametrize("make", [three_images, one_image], ids=["three images", "one image"])
def test_make_demo_runs_every_lesson_on_a_teachers_folder(tmp_path, make):
    names = make(tmp_path / "my photos")
    env = {**os.environ, "COURSE_IMAGES": str(tmp_path / "my photos"),
           "COURSE_LOGS_DIR": str(tmp_path / "logs"), "COURSE_BUILD_DIR": str(tmp_path / "build")}
    done = subprocess.run(make_recipe("demo"), shell=True, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=3600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # every lesson and worked solution, both editions (make demo runs them all)
    notebooks = [*(ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"), *(ROOT / "notebooks" / "solutions").glob("*.ipynb")]
    assert f"{2 * len(notebooks)} notebooks executed" in done.stdout, done.stdout[-2000:]

    # The runs hold the patterns and the teacher's images: one step per batch of 4 (lesson 01's loop).
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "logs" / "logs_maxpool"), size_guidance={"images": 0})
    acc.Reload()
    steps = math.ceil((PATTERNS + len(names)) / 4)
    assert [e.step for e in acc.Images("input")] == list(range(steps))

    # Lesson 01 shows the teacher's first photo, and says where it is in TensorBoard.
    for edition in ("", "zh-CN/"):
        nb = nbformat.read(tmp_path / "build" / "notebooks" / edition / "01_max_pooling.ipynb", 4)
        cell = next(c for c in nb.cells if 'find_image("photo")' in c.source)
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert printed.startswith(f"{names[0]}: step {PATTERNS // 4}, image {PATTERNS % 4} of its batch")
