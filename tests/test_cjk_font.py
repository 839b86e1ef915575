"""The shipped Chinese font covers every Chinese character of the course and renders in matplotlib."""

from __future__ import annotations

import sys
import warnings

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from build_cjk_font import FAMILY, TTF, WOFF2, course_characters, missing_glyphs  # noqa: E402


def test_font_covers_the_course_text():
    chars = course_characters()
    assert len(chars) > 100, "the course has Chinese text; none found"
    missing = missing_glyphs(chars)
    assert not missing, f"run `python tools/build_cjk_font.py`: no glyph for {''.join(sorted(missing))}"


def test_font_files_are_small_and_licensed():
    assert TTF.stat().st_size < 2_000_000 and WOFF2.stat().st_size < 1_000_000
    assert "SIL Open Font License" in (TTF.parent / "OFL.txt").read_text(encoding="utf-8")


def test_matplotlib_draws_chinese_with_the_course_font(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(TTF))
    text = "".join(sorted(course_characters()))[:40]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        with plt.rc_context({"font.family": ["DejaVu Sans", FAMILY]}):
            fig, ax = plt.subplots()
            ax.set_title(text)
            fig.savefig(tmp_path / "zh.png")
            plt.close(fig)
