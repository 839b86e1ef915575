"""The shipped Chinese font covers GB 2312 and every Chinese character of the course, renders in
matplotlib, and takes a new character offline (from another font file, no npm, no network)."""

from __future__ import annotations

import sys
import warnings

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import build_cjk_font  # noqa: E402
from build_cjk_font import (  # noqa: E402
    FAMILY,
    TTF,
    WOFF2,
    course_characters,
    missing_glyphs,
    standard_characters,
)


def test_font_covers_the_course_text():
    chars = course_characters()
    assert len(chars) > 100, "the course has Chinese text; none found"
    missing = missing_glyphs(chars)
    assert not missing, f"no glyph for {''.join(sorted(missing))}\n{build_cjk_font.HOW_TO_ADD}"


def test_font_covers_gb2312_so_a_teachers_chinese_needs_no_rebuild():
    hanzi = {ch for ch in standard_characters() if 0x4E00 <= ord(ch) <= 0x9FFF}
    assert len(hanzi) == 6763  # GB 2312's two levels, from Python's own codec
    assert not missing_glyphs(standard_characters())


def test_font_files_are_reasonable_and_licensed():
    assert TTF.stat().st_size < 5_000_000 and WOFF2.stat().st_size < 2_500_000
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


def _font_without(tmp_path, drop: str):
    """A copy of the shipped font (TTF, WOFF2) lacking the characters of ``drop``."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(TTF)
    keep = set(font.getBestCmap()) - {ord(c) for c in drop}
    subsetter = subset.Subsetter(subset.Options(layout_features=["*"]))
    subsetter.populate(unicodes=keep)
    subsetter.subset(font)
    ttf, woff2 = tmp_path / "course.ttf", tmp_path / "course.woff2"
    font.save(ttf)
    return ttf, woff2


def test_a_missing_character_is_added_offline_from_another_font(tmp_path):
    ttf, woff2 = _font_without(tmp_path, "鑫池")
    assert missing_glyphs(set("鑫池化"), ttf) == set("鑫池")
    still = build_cjk_font.add(set("鑫池"), [(tmp_path / "nothing.ttf", 0), (TTF, 0)], tmp_path / "work", ttf, woff2)
    assert still == set()
    assert missing_glyphs(set("鑫池化"), ttf) == set() == missing_glyphs(set("鑫池化"), woff2)
    from fontTools.ttLib import TTFont

    assert str(TTFont(ttf)["name"].getDebugName(1)) == FAMILY


def test_without_any_source_the_message_says_what_to_do(tmp_path, monkeypatch, capsys):
    ttf, woff2 = _font_without(tmp_path, "鑫")
    assert build_cjk_font.add({"鑫"}, [], tmp_path / "work", ttf, woff2) == {"鑫"}
    # the whole command, on a machine with no npm and no font that has the character: no traceback
    monkeypatch.setattr(build_cjk_font, "TTF", ttf)
    monkeypatch.setattr(build_cjk_font, "WOFF2", woff2)
    monkeypatch.setattr(build_cjk_font, "_system_fonts", lambda chars: [])
    monkeypatch.setattr(build_cjk_font.shutil, "which", lambda name: None)
    assert build_cjk_font.main(["--cache", str(tmp_path / "cache")]) == 1
    err = capsys.readouterr().err
    assert "No font found has 鑫" in err and "--source" in err and "fonts-noto-cjk" in err
    assert build_cjk_font.main(["--check"]) == 1
    assert "鑫" in capsys.readouterr().err
