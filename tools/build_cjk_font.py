"""Rebuild the course's small Chinese font: Noto Sans SC, cut down to the characters the course uses.

    python tools/build_cjk_font.py            # rebuild data/fonts/ from the npm package
    python tools/build_cjk_font.py --check    # exit 1 if some Chinese character has no glyph

Why: many machines (this CI machine among them) have no CJK font, so browsers and matplotlib draw □ for
every Chinese character. The course therefore ships its own font, small enough to commit:
``data/fonts/NotoSansSC-Course.ttf`` (matplotlib) and ``.woff2`` (slides and HTML exports), licensed
under the SIL Open Font License 1.1 (``data/fonts/OFL.txt``).

How: the source is the npm package ``@fontsource/noto-sans-sc`` (weight 400), which splits the font
into ~100 unicode-range slices. ``npm pack`` fetches it once into ``build/fonts-src/`` (run this tool
online once after the text changes; the result is committed). Each slice holding needed characters is
subset with fontTools, the pieces are merged into one font and renamed "Noto Sans SC Course".
The characters are every CJK character and full-width punctuation mark in notebooks/, docs/, the
READMEs, utils/ and tools/ (messages and figure labels), plus the Chinese glossary.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONT_DIR = ROOT / "data" / "fonts"
FAMILY = "Noto Sans SC Course"
TTF = FONT_DIR / "NotoSansSC-Course.ttf"
WOFF2 = FONT_DIR / "NotoSansSC-Course.woff2"
PACKAGE = "@fontsource/noto-sans-sc@5.3.0"
SOURCES = ("notebooks", "docs", "utils", "tools", "README.zh-CN.md", "README.md")
SUFFIXES = {".ipynb", ".md", ".py", ".j2", ".html", ".txt", ".json"}


#: The code points is_cjk accepts, as a CSS unicode-range.
UNICODE_RANGE = "U+2E80-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF"


def is_cjk(ch: str) -> bool:
    """CJK ideographs, CJK punctuation, full-width forms (what Latin fonts lack)."""
    cp = ord(ch)
    return (0x2E80 <= cp <= 0x9FFF) or (0xF900 <= cp <= 0xFAFF) or (0xFE30 <= cp <= 0xFE4F) \
        or (0xFF00 <= cp <= 0xFFEF)


def course_characters(root: Path = ROOT) -> set[str]:
    """Every CJK character in the course's text files."""
    chars: set[str] = set()
    for name in SOURCES:
        base = root / name
        files = [base] if base.is_file() else [p for p in base.rglob("*") if p.suffix in SUFFIXES]
        for path in files:
            if any(part in {"node_modules", ".ipynb_checkpoints", "__pycache__"} for part in path.parts):
                continue
            chars.update(ch for ch in path.read_text(encoding="utf-8", errors="ignore") if is_cjk(ch))
    return chars


#: The Latin font stacks of JupyterLab's HTML export and of reveal.js's "white" theme. web_font_css
#: puts the course's font FIRST, limited to the Chinese ranges (``unicode-range``), so Latin text looks
#: as before. (After them it would not be reached: Chromium's ``system-ui`` falls back on its own.)
LATIN_SANS = 'system-ui, -apple-system, blinkmacsystemfont, "Segoe UI", helvetica, arial, sans-serif'
LATIN_MONO = 'menlo, consolas, "DejaVu Sans Mono", monospace'
LATIN_SLIDES = '"Source Sans Pro", Helvetica, sans-serif'


def install_web_font(folder: Path) -> Path:
    """Copy the WOFF2 and its licence into ``folder`` (e.g. build/html/fonts/); return the WOFF2."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in (WOFF2, FONT_DIR / "OFL.txt"):
        shutil.copy2(source, folder / source.name)
    return folder / WOFF2.name


def web_font_css(fonts_url: str) -> str:
    """CSS drawing Chinese with the shipped font on any machine, CJK font or not: an ``@font-face``
    for the WOFF2 in ``fonts_url`` (the folder of :func:`install_web_font`, relative to the page,
    never a network URL), put first in the font stacks of JupyterLab's pages and reveal.js's theme
    (also set on ``.reveal``: the theme's style sheet comes after ours and redefines ``:root``)."""
    ours = f'"{FAMILY}"'
    sans, mono, slides = (f"{ours}, {stack}" for stack in (LATIN_SANS, LATIN_MONO, LATIN_SLIDES))
    return (
        f'@font-face {{ font-family: {ours}; src: url("{fonts_url}/{WOFF2.name}") format("woff2");'
        f" unicode-range: {UNICODE_RANGE}; font-display: block; }}\n"
        f":root, .reveal {{ --jp-content-font-family: {sans}; --jp-ui-font-family: {sans};\n"
        f"  --jp-code-font-family: {mono}; --r-main-font: {slides}; --r-heading-font: {slides}; }}\n"
    )


def missing_glyphs(chars: set[str], font_path: Path = TTF) -> set[str]:
    """Characters of ``chars`` the shipped font has no glyph for."""
    from fontTools.ttLib import TTFont

    cmap = TTFont(font_path).getBestCmap()
    return {ch for ch in chars if ord(ch) not in cmap}


def _source_package(cache: Path) -> Path:
    folder = cache / "package"
    if not (folder / "400.css").exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=cache, check=True)
        with tarfile.open(next(cache.glob("fontsource-noto-sans-sc-*.tgz"))) as tar:
            tar.extractall(cache, filter="data")
    return folder


def _ranges(css: str) -> list[tuple[str, set[int]]]:
    """(woff2 file, code points) of every @font-face slice in fontsource's 400.css."""
    out = []
    for file, spec in re.findall(r"url\(\./files/([^)]+\.woff2)\)[^}]*?unicode-range: ([^;]+);", css, re.S):
        cps: set[int] = set()
        for part in spec.split(","):
            lo, _, hi = part.strip().removeprefix("U+").partition("-")
            cps.update(range(int(lo, 16), int(hi or lo, 16) + 1))
        out.append((file, cps))
    return out


def build(chars: set[str], cache: Path) -> None:
    from fontTools import subset
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    package = _source_package(cache)
    need = {ord(c) for c in chars}
    pieces = []
    for file, cps in _ranges((package / "400.css").read_text(encoding="utf-8")):
        wanted = need & cps
        if not wanted:
            continue
        font = TTFont(package / "files" / file)
        options = subset.Options()
        options.layout_features = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=wanted)
        subsetter.subset(font)
        font.flavor = None
        piece = cache / f"piece-{len(pieces)}.ttf"
        font.save(piece)
        pieces.append(str(piece))
    merged = Merger().merge(pieces)
    for record in merged["name"].names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID in (2, 17):
            record.string = "Regular"
        elif record.nameID in (3, 4):
            record.string = FAMILY
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "") + "-Regular"
    FONT_DIR.mkdir(parents=True, exist_ok=True)
    merged.save(TTF)
    merged.flavor = "woff2"
    merged.save(WOFF2)
    licence = package / "LICENSE"
    if licence.exists():
        (FONT_DIR / "OFL.txt").write_text(licence.read_text(encoding="utf-8"), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check the shipped font covers the text")
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "fonts-src")
    args = parser.parse_args(argv)
    chars = course_characters()
    if args.check:
        missing = missing_glyphs(chars)
        if missing:
            print(f"{len(missing)} characters have no glyph in {TTF.name}: {''.join(sorted(missing))}\n"
                  "Fix: python tools/build_cjk_font.py", file=sys.stderr)
            return 1
        print(f"{TTF.name} covers all {len(chars)} Chinese characters of the course.")
        return 0
    build(chars, args.cache)
    print(f"{len(chars)} characters -> {TTF.relative_to(ROOT)} ({TTF.stat().st_size / 1e3:.0f} kB), "
          f"{WOFF2.relative_to(ROOT)} ({WOFF2.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
