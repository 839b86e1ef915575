"""The course's Chinese font: Noto Sans SC cut down to GB 2312 plus every character the course uses.

    python tools/build_cjk_font.py --check    # exit 1 and name the characters the shipped font lacks
    python tools/build_cjk_font.py            # add those characters (offline when this machine has them)
    python tools/build_cjk_font.py --source path/to/font.otf   # ... taken from that font file
    python tools/build_cjk_font.py --full     # rebuild everything from the npm package (online, once)

Why: many machines (this CI machine among them) have no CJK font, so browsers and matplotlib draw □ for
every Chinese character. The course therefore ships its own font, committed with its licence (SIL Open
Font License 1.1, ``data/fonts/OFL.txt``): ``data/fonts/NotoSansSC-Course.ttf`` (matplotlib) and
``.woff2`` (slides and HTML exports). It holds the 6,763 hanzi of GB 2312 and its Chinese punctuation (enumerated
by Python's own ``gb2312`` codec) and every CJK character in notebooks/, docs/, the READMEs, utils/ and
tools/, so a teacher's Chinese almost never needs a rebuild: about 2.3 MB (TTF) and 1.0 MB (WOFF2).

Adding a rarer character works offline: the tool copies the missing glyphs into the shipped font from
the first source that has them: ``--source FILE``; the npm package if fetched before
(``build/fonts-src/``); any font installed on this machine (found through fontconfig's ``fc-list``, or
matplotlib's font search where there is no fontconfig); and last, online, ``npm pack`` of
``@fontsource/noto-sans-sc``. ``--full`` rebuilds the whole font from that npm package.
"""

from __future__ import annotations

import argparse
import codecs
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


def missing_glyphs(chars: set[str], font_path: Path | None = None) -> set[str]:
    """Characters of ``chars`` the font (the shipped one unless ``font_path``) has no glyph for."""
    from fontTools.ttLib import TTFont

    cmap = TTFont(font_path or TTF).getBestCmap()
    return {ch for ch in chars if ord(ch) not in cmap}


def standard_characters() -> set[str]:
    """GB 2312's 6,763 hanzi and its CJK punctuation and full-width forms (what :func:`is_cjk` accepts;
    its Greek, Cyrillic and other symbols are left to Latin fonts), enumerated by Python's ``gb2312`` codec."""
    decode = codecs.getdecoder("gb2312")
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                ch = decode(bytes((hi, lo)))[0]
                if is_cjk(ch):
                    out.add(ch)
            except UnicodeDecodeError:
                pass
    return out


def _source_package(cache: Path, fetch: bool = True) -> Path | None:
    """The fontsource package in ``cache`` (fetched with npm when ``fetch`` and npm exist), else None."""
    folder = cache / "package"
    if not (folder / "400.css").exists():
        if not fetch or shutil.which("npm") is None:
            return None
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=cache)
        tarballs = list(cache.glob("fontsource-noto-sans-sc-*.tgz"))
        if done.returncode or not tarballs:
            return None
        with tarfile.open(tarballs[0]) as tar:
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


def _package_fonts(package: Path) -> list[tuple[Path, int]]:
    return [(package / "files" / file, 0) for file, _ in _ranges((package / "400.css").read_text(encoding="utf-8"))]


def _system_fonts(chars: set[str]) -> list[tuple[Path, int]]:
    """Font files (and face index) on this machine holding some of ``chars``; Noto/Source Han first."""
    found: list[tuple[Path, int, str]] = []
    if shutil.which("fc-list"):
        for ch in sorted(chars):
            out = subprocess.run(["fc-list", "--format", "%{file}\t%{index}\t%{family}\n", f":charset={ord(ch):x}"],
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                file, index, family = (line.split("\t") + ["", "", ""])[:3]
                found.append((Path(file), int(index or 0), family))
    else:  # macOS, Windows: matplotlib knows where the system keeps its fonts
        from matplotlib import font_manager

        found = [(Path(f), 0, Path(f).stem) for f in font_manager.findSystemFonts()]
    found.sort(key=lambda f: not any(n in f[2] for n in ("Noto Sans CJK SC", "Source Han Sans", "Noto Sans SC")))
    return list(dict.fromkeys((f, i) for f, i, _ in found if f.suffix.lower() in {".ttf", ".otf", ".ttc", ".otc"}))


def _to_quadratic(font) -> None:
    """Turn a CFF (PostScript-outline) font into TrueType outlines, so it merges with the course's font."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order, glyphset = font.getGlyphOrder(), font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphset)
        glyphset[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, glyphs
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion, maxp.numGlyphs = 0x00010000, len(order)
    for field in ("maxZones",):
        setattr(maxp, field, 1)
    for field in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements",
                  "maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours", "maxComponentDepth"):
        setattr(maxp, field, 0)
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 2.0
    font["post"].extraNames, font["post"].mapping = [], {}
    font.sfntVersion = "\x00\x01\x00\x00"


def _piece(path: Path, index: int, cps: set[int], out: Path, upem: int = 1000) -> set[int]:
    """Subset the font at ``path`` to the code points of ``cps`` it has, as TrueType at ``upem`` units,
    saved to ``out``; return those code points (empty: nothing saved)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    try:
        font = TTFont(path, fontNumber=index)
        have = cps & set(font.getBestCmap())
    except Exception:  # noqa: BLE001 - an unreadable font is simply not a source
        return set()
    if not have:
        return set()
    options = subset.Options()
    options.layout_features = ["*"]
    options.drop_tables += ["VORG", "DSIG", "vhea", "vmtx", "BASE", "meta"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=have)
    subsetter.subset(font)
    if "CFF " in font:
        _to_quadratic(font)
    if font["head"].unitsPerEm != upem:
        scale_upem(font, upem)
    font.flavor = None
    font.save(out)
    return have


def _save(pieces: list[Path], ttf: Path = TTF, woff2: Path = WOFF2) -> None:
    """Merge the pieces into the course's font, named "Noto Sans SC Course", as TTF and WOFF2."""
    from fontTools.merge import Merger

    merged = Merger().merge([str(p) for p in pieces])
    for record in merged["name"].names:
        if record.nameID in (1, 16, 3, 4):
            record.string = FAMILY
        elif record.nameID in (2, 17):
            record.string = "Regular"
        elif record.nameID == 6:
            record.string = FAMILY.replace(" ", "") + "-Regular"
    ttf.parent.mkdir(parents=True, exist_ok=True)
    merged.save(ttf)
    merged.flavor = "woff2"
    merged.save(woff2)


def build(chars: set[str], cache: Path) -> None:
    """Rebuild the whole font from the npm package (fetched into ``cache`` once; needs npm online)."""
    package = _source_package(cache)
    if package is None:
        raise SystemExit(f"--full needs the npm package {PACKAGE}: install Node.js (npm) and run this "
                         "online once; to add characters offline, run without --full.")
    need = {ord(c) for c in chars}
    pieces = []
    for path, _ in _package_fonts(package):
        piece = cache / f"piece-{len(pieces)}.ttf"
        if _piece(path, 0, need, piece):
            pieces.append(piece)
    _save(pieces)
    licence = package / "LICENSE"
    if licence.exists():
        (FONT_DIR / "OFL.txt").write_text(licence.read_text(encoding="utf-8"), encoding="utf-8")


def add(missing: set[str], sources: list[tuple[Path, int]], work: Path, ttf: Path = TTF,
        woff2: Path = WOFF2) -> set[str]:
    """Copy the glyphs of ``missing`` from ``sources`` (the first that has each) into the font ``ttf``
    (and its ``woff2``); return the characters no source had."""
    work.mkdir(parents=True, exist_ok=True)
    need, pieces = {ord(c) for c in missing}, [ttf]
    for path, index in sources:
        if not need:
            break
        piece = work / f"extra-{len(pieces)}.ttf"
        got = _piece(path, index, need, piece)
        if got:
            pieces.append(piece)
            need -= got
    if len(pieces) > 1:
        _save(pieces, ttf, woff2)
    return {chr(cp) for cp in need}


HOW_TO_ADD = f"""Fix: python tools/build_cjk_font.py
It copies the missing glyphs into data/fonts/ from a font that has them, offline: a font on this machine
(Debian/Ubuntu: sudo apt-get install fonts-noto-cjk; macOS and Windows ship one), or a font file you
name with --source path/to/font.otf (.ttf, .otf, .ttc). Online, with Node.js installed, it can also
fetch the npm package {PACKAGE} once. Then commit data/fonts/."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check the shipped font covers the text")
    parser.add_argument("--full", action="store_true", help="rebuild the whole font from the npm package")
    parser.add_argument("--source", type=Path, action="append", default=[],
                        help="a font file to take missing glyphs from (repeatable)")
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "fonts-src")
    args = parser.parse_args(argv)
    chars = course_characters()
    if args.full:
        build(chars | standard_characters(), args.cache)
        print(f"GB 2312 + {len(chars)} course characters -> {TTF.relative_to(ROOT)} "
              f"({TTF.stat().st_size / 1e6:.1f} MB), {WOFF2.relative_to(ROOT)} ({WOFF2.stat().st_size / 1e6:.1f} MB)")
    missing = missing_glyphs(chars | standard_characters())
    if not missing:
        print(f"{TTF.name} covers all {len(chars)} Chinese characters of the course (and GB 2312): nothing to do.")
        return 0
    listed = "".join(sorted(missing))
    if args.check:
        print(f"{len(missing)} characters have no glyph in {TTF.name}: {listed}\n{HOW_TO_ADD}",
              file=sys.stderr)
        return 1
    for source in args.source:
        if not source.is_file():
            raise SystemExit(f"--source {source}: no such font file")
    sources = [(p, 0) for p in args.source]
    package = _source_package(args.cache, fetch=False)
    sources += _package_fonts(package) if package else []
    sources += _system_fonts(missing)
    still = add(missing, sources, args.cache / "extra", TTF, WOFF2)
    if still and (package := _source_package(args.cache)) is not None:  # online, npm: fetch it once
        still = add(still, _package_fonts(package), args.cache / "extra", TTF, WOFF2)
    added = "".join(sorted(missing - still))
    if added:
        print(f"added {added} to {TTF.name} ({TTF.stat().st_size / 1e6:.1f} MB) and "
              f"{WOFF2.name}; commit data/fonts/.")
    if still:
        print(f"No font found has {''.join(sorted(still))}.\n{HOW_TO_ADD}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
