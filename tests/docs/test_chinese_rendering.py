"""Chinese renders with real glyphs in the HTML exports and the slides, with or without a CJK font on the machine.

Without one, a Chinese heading drawn without the course's font (data/fonts/, tools/build_cjk_font.py)
would be tofu boxes. The pages load the font from a file next to them (``@font-face``, never a network
URL); headless Chromium, with every request that is not file:// blocked, must draw the Chinese heading
with it: the font is loaded, Chromium reports it as the font used for the heading's Chinese glyphs, and
the heading is as wide as N full-width glyphs. Chromium runs under an isolated fontconfig
(``FONTCONFIG_FILE``), so the test does not depend on this machine's fonts: once with only a Latin font
(then the same text in a font that does not exist is tofu, of another width), once with a "system" CJK
font beside it (the course's font must still be the one used). Screenshots go to build/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import allow_only

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "notebooks" / "zh-CN" / "02_average_pooling.ipynb"
SCREENSHOTS = ROOT / "build" / "screenshots"
FAMILY = "Noto Sans SC Course"
CJK = re.compile(r"[\u4e00-\u9fff]")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def html_page(tmp_path_factory):
    """The Chinese lesson 02 exported as `make demo` does (not executed: the prose is what counts)."""
    from run_notebooks import export

    build = tmp_path_factory.mktemp("build")
    return export(nbformat.read(LESSON, as_version=4), "zh-CN/02_average_pooling.ipynb", build)


@pytest.fixture(scope="module")
def slide_deck(tmp_path_factory):
    """The Chinese lesson 02 as a deck in <out>/zh-CN/ (as `make slides` builds it), not executed."""
    import build_slides

    if shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("npm is needed to vendor reveal.js (required under CI)")
        pytest.skip("npm is not installed: cannot vendor reveal.js")
    out = tmp_path_factory.mktemp("slides")
    [deck] = build_slides.build([LESSON], out, execute=False, quiet=True, edition="zh-CN")
    return deck


def test_html_export_loads_the_font_from_its_own_folder(html_page):
    from build_slides import remote_resources

    html = html_page.read_text(encoding="utf-8")
    assert '<html lang="zh"' in html
    assert remote_resources(html) == []
    urls = re.findall(r'url\("([^"]+\.woff2)"\)', html)
    assert urls and all((html_page.parent / u).is_file() for u in urls), urls
    assert (html_page.parent / urls[0]).with_name("OFL.txt").is_file()  # the licence travels along


@pytest.mark.slow
def test_slide_deck_loads_the_font_from_the_shared_folder(slide_deck):
    from build_slides import check_offline, remote_resources

    page = slide_deck.read_text(encoding="utf-8")
    check_offline(page, slide_deck.parent, slide_deck.name)
    assert remote_resources(page) == [] and '<html lang="zh"' in page
    urls = re.findall(r'url\("([^"]+\.woff2)"\)', page)
    assert urls == ["../fonts/NotoSansSC-Course.woff2"]
    assert (slide_deck.parent / urls[0]).is_file()
    index = (slide_deck.parent / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN"' in index and "幻灯片" in index


# -- in Chromium, offline -------------------------------------------------------------------------
_MEASURE = """([family]) => {
    const h = document.querySelector('h1');
    const text = h.firstChild.textContent.trim();
    const chinese = (text.match(/[\u4e00-\u9fff]/g) || []).join('');
    const span = (font) => {
        const s = document.createElement('span');
        s.textContent = chinese;
        s.style.cssText = `font-family: ${font}; font-size: 40px; font-weight: 400; white-space: nowrap`;
        document.body.appendChild(s);
        const w = s.getBoundingClientRect().width;
        s.remove();
        return w;
    };
    return {text, chinese, loaded: document.fonts.check(`16px "${family}"`, text),
            course: span(`"${family}"`), missing: span('"No Such Font Anywhere"')};
}"""


def _fonts_used(page, selector: str) -> dict[str, int]:
    """{font family: glyph count} Chromium used for the text of ``selector`` (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {f["familyName"]: f["glyphCount"] for f in fonts}


SYSTEM_CJK = "Course Test System CJK"


def isolated_fontconfig(folder: Path, system_cjk: bool) -> Path:
    """A fonts.conf that sees only matplotlib's DejaVu Sans (a Latin font every machine with the course has)
    and, when ``system_cjk``, a CJK font standing in for an installed one (the course's glyphs under
    another family name); its cache lives in ``folder`` too."""
    import matplotlib
    from fontTools.ttLib import TTFont

    dirs = [Path(matplotlib.get_data_path()) / "fonts" / "ttf"]
    if system_cjk:
        cjk = folder / "system-cjk"
        cjk.mkdir(parents=True, exist_ok=True)
        font = TTFont(ROOT / "data" / "fonts" / "NotoSansSC-Course.ttf")
        for record in font["name"].names:
            if record.nameID in (1, 3, 4, 16):
                record.string = SYSTEM_CJK
            elif record.nameID == 6:
                record.string = SYSTEM_CJK.replace(" ", "")
        font.save(cjk / "SystemCJK.ttf")
        dirs.append(cjk)
    conf = folder / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    + "".join(f"  <dir>{d}</dir>\n" for d in dirs)
                    + f"  <cachedir>{folder / 'cache'}</cachedir>\n</fontconfig>\n", encoding="utf-8")
    return conf


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("system_cjk", [False, True], ids=["no-system-cjk-font", "system-cjk-font"])
@pytest.mark.parametrize("which", ["html", "slides"])
def test_chinese_heading_renders_with_real_glyphs(which, system_cjk, request, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    path = request.getfixturevalue("html_page" if which == "html" else "slide_deck")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FONTCONFIG_FILE": str(isolated_fontconfig(tmp_path, system_cjk))}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, env=env,
                                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            blocked = allow_only(page, "file:", "data:", "about:")
            page.goto(path.as_uri())
            if which == "slides":
                page.wait_for_function("!!document.querySelector('.reveal.ready')", timeout=20000)
            page.evaluate("document.fonts.ready.then(() => true)")
            m = page.evaluate(_MEASURE, [FAMILY])
            chinese = len(m["chinese"])
            assert chinese >= 2, m
            assert m["loaded"], f"{FAMILY} did not load from the page's folder"
            used = _fonts_used(page, "h1")
            assert used.get(FAMILY, 0) >= chinese, f"the heading {m['text']!r} was drawn with {used}"
            # At 40px the shipped glyphs are full-width, 40px each.
            assert m["course"] == pytest.approx(40 * chinese, rel=0.03), m
            if system_cjk:  # a text in no font at all falls back to the system's CJK font, not to ours
                assert m["missing"] == pytest.approx(40 * chinese, rel=0.03), m
                assert SYSTEM_CJK not in used, used
            else:  # without our font, no glyphs: boxes of another width
                assert abs(m["course"] - m["missing"]) > 4 * chinese, m
            assert blocked == [], f"the page tried the network: {blocked}"
            suffix = "_system_cjk" if system_cjk else ""
            page.screenshot(path=str(SCREENSHOTS / f"zh_{which}_02_average_pooling{suffix}.png"))
            print(which, m, used)
        finally:
            browser.close()
