"""tools/build_slides.py: decks that need no network.

Builds the deck of notebooks/00_start_here.ipynb (plus a small notebook with formulas) into a
temporary folder with the real npm packages, then checks (a) that no script, style sheet, image or
import in the page or in the style sheets it loads points at the network, and (b) in headless
Chromium with every non-file request blocked, that reveal.js starts and MathJax typesets formulas.

Needs npm (the first run downloads the pinned packages; later runs use npm's cache). Without npm the
tests skip with a reason, except under CI (env ``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import build_slides
import nbformat
import pytest
from build_slides import (
    RELATIVE_URLS,
    VENDOR_DIRNAME,
    VENDOR_PACKAGES,
    SlidesError,
    check_offline,
    css_remote_resources,
    remote_resources,
)
from conftest import allow_only

pytestmark = pytest.mark.slow  # executes lessons, vendors reveal.js with npm

ROOT = Path(__file__).resolve().parents[2]
START_HERE = ROOT / "notebooks" / "00_start_here.ipynb"
IN_CI = bool(os.environ.get("CI"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if IN_CI:
            pytest.fail(f"{reason} (required under CI)")
        pytest.skip(reason)


FORMULA_MARKDOWN = (
    "# Formula check · 公式\n\n"
    "$$o = \\left\\lfloor \\frac{n + 2p - d(k-1) - 1}{s} \\right\\rfloor + 1$$\n\n"
    "inline: kept values are scaled by $\\frac{1}{1-p}$."
)


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    """Decks for 00_start_here and a formula notebook, built once with the real vendored packages."""
    _need(shutil.which("npm") is not None, "npm is not installed: cannot vendor reveal.js")
    out = tmp_path_factory.mktemp("slides")
    formula = out.parent / "formula_check.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            FORMULA_MARKDOWN, metadata={"slideshow": {"slide_type": "slide"}}
        ),
        nbformat.v4.new_code_cell("x = 1", metadata={"slideshow": {"slide_type": "skip"}}),
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nbformat.write(nb, formula)
    paths = build_slides.build([START_HERE, formula], out, execute=False, quiet=True)
    return out, {p.name: p for p in paths}


# -- the offline check itself can fail ----------------------------------------------------------
@pytest.mark.parametrize(
    "page",
    [
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/require.js/2.1.10/require.min.js"></script>',
        '<link rel="stylesheet" href="//unpkg.com/reveal.js@4.0.2/dist/reveal.css">',
        "<script type=\"module\">import mermaid from 'https://cdn.example/mermaid.mjs';</script>",
        "<script>var s = 'https://unpkg.com/' + '@jupyter-widgets/html-manager';</script>",
        '<style>@import url("https://fonts.googleapis.com/css?family=Lato");</style>',
        '<div style="background: url(https://example.com/a.png)"></div>',
        '<img src="http://example.com/a.png">',
    ],
)
def test_remote_resources_are_found(page):
    assert remote_resources(page), page


@pytest.mark.parametrize(
    "page",
    [
        '<a href="https://pytorch.org">a link the reader may click</a>',
        '<script src="vendor/node_modules/requirejs/require.js"></script>',
        "<script>// see https://github.com/hakimel/reveal.js#configuration\nvar x = 1;</script>",
        "<style>/* https://meyerweb.com/eric/tools/color-blend */ body { color: red }</style>",
        '<img src="data:image/png;base64,iVBORw0KGgo=">',
        '<script type="application/vnd.jupyter.widget-state+json">{"u": "https://x.org"}</script>',
    ],
)
def test_links_comments_and_data_are_not_resources(page):
    assert remote_resources(page) == []


def test_canary_nbconvert_defaults_are_not_offline(tmp_path):
    """The reason this tool exists: a stock deck would load its scripts from CDNs."""
    from nbconvert import SlidesExporter

    page, _ = SlidesExporter().from_notebook_node(nbformat.read(START_HERE, as_version=4))
    remote = remote_resources(page)
    assert any("reveal.js" in r for r in remote) and any("require" in r for r in remote)
    with pytest.raises(SlidesError, match="network"):
        check_offline(page, tmp_path, "stock.slides.html")


def test_urls_are_relative():
    for trait, url in RELATIVE_URLS.items():
        assert not url.startswith(("/", "http:", "https:", "file:")), (trait, url)
        assert url.startswith(VENDOR_DIRNAME + "/"), (trait, url)


def test_missing_npm_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SlidesError, match="Install Node.js"):
        build_slides.ensure_vendor(tmp_path / "vendor")


# -- real decks -----------------------------------------------------------------------------------
def test_vendored_packages_are_the_pinned_versions(decks):
    out, _ = decks
    for name, version in VENDOR_PACKAGES.items():
        assert build_slides.installed_version(out / VENDOR_DIRNAME, name) == version
    assert build_slides.missing_packages(out / VENDOR_DIRNAME) == []


def test_start_here_deck_has_no_remote_resource(decks):
    out, paths = decks
    page = paths["00_start_here.slides.html"].read_text(encoding="utf-8")
    assert remote_resources(page) == []
    check_offline(page, out, "00_start_here.slides.html")  # also every local file exists
    for url in RELATIVE_URLS.values():
        assert url.split("?")[0] in page


def test_theme_css_check_follows_imports(decks):
    """reveal.js's 'simple' theme imports Google Fonts; 'white' (ours) loads its own font files."""
    out, _ = decks
    themes = out / VENDOR_DIRNAME / "node_modules" / "reveal.js" / "dist" / "theme"
    assert any("fonts.googleapis.com" in r for r in css_remote_resources(themes / "simple.css"))
    assert css_remote_resources(themes / "white.css") == []


def test_deck_follows_slide_metadata(decks):
    """Cells marked skip (the setup cell) are left out; every section heading is a slide."""
    _, paths = decks
    page = paths["00_start_here.slides.html"].read_text(encoding="utf-8")
    nb = nbformat.read(START_HERE, as_version=4)
    for cell in nb.cells:
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        probe = first_line.lstrip("# ").split(" / ")[0].split("`")[0][:20]
        if kind == "skip" and cell.cell_type == "code":
            assert "seed_everything(0)" not in page
        elif kind == "slide" and cell.cell_type == "markdown" and probe:
            assert probe in page, probe
    assert page.count("<section") >= sum(
        c.metadata.get("slideshow", {}).get("slide_type") == "slide" for c in nb.cells
    )


def test_saved_widget_state_does_not_pull_the_renderer(decks):
    _, paths = decks
    page = paths["formula_check.slides.html"].read_text(encoding="utf-8")
    assert "unpkg" not in page and remote_resources(page) == []


def test_index_links_every_deck(decks):
    out, paths = decks
    index = (out / "index.html").read_text(encoding="utf-8")
    for name in paths:
        assert f'href="{name}"' in index


# -- in a browser, offline ------------------------------------------------------------------------
@pytest.mark.browser
def test_decks_render_offline_in_chromium(decks):
    """Every request that is not file:// is blocked; reveal.js must start and MathJax typeset."""
    _need(CHROMIUM is not None, "chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    out, paths = decks
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            for name in ("formula_check.slides.html", "00_start_here.slides.html"):
                page = browser.new_page()
                errors = []
                page.on("pageerror", lambda err, errors=errors: errors.append(str(err)))

                blocked = allow_only(page, "file:", "data:", "about:")
                page.goto(paths[name].as_uri())
                page.wait_for_function("!!document.querySelector('.reveal.ready')", timeout=20000)
                page.wait_for_function(
                    "window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0",
                    timeout=20000,
                )
                assert blocked == [], f"{name} tried the network: {blocked}"
                assert errors == [], f"{name}: JavaScript errors {errors}"
                if name.startswith("formula"):
                    typeset = page.evaluate("document.querySelectorAll('.MathJax_CHTML').length")
                    failed = page.evaluate("document.querySelectorAll('.MathJax_Error').length")
                    assert typeset >= 2 and failed == 0, (typeset, failed)
                    assert "\\frac" not in page.inner_text(".reveal .slides")
                page.close()
        finally:
            browser.close()


def test_command_line_builds_into_out(tmp_path, decks):
    """`python tools/build_slides.py NB --out DIR --no-execute` exits 0 and writes the deck."""
    out, _ = decks
    target = tmp_path / "deck"
    target.mkdir()
    (target / VENDOR_DIRNAME).symlink_to(out / VENDOR_DIRNAME, target_is_directory=True)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "build_slides.py"),
            str(START_HERE),
            "--out",
            str(target),
            "--no-execute",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (target / "00_start_here.slides.html").is_file()
    assert "installing" not in result.stdout  # the vendored packages were reused


def test_every_lesson_converts_offline(decks):
    """One deck per lesson (as committed, without executing), each passing the offline check."""
    from run_notebooks import lesson_notebooks

    out, _ = decks
    lessons = lesson_notebooks()
    paths = build_slides.build(lessons, out, execute=False, quiet=True)
    assert [p.name for p in paths] == [f"{n.stem}.slides.html" for n in lessons]
    for path in paths:
        page = path.read_text(encoding="utf-8")
        assert remote_resources(page) == [], path.name
        assert "seed_everything(0)" not in page, f"{path.name}: the setup cell should be 'skip'"


def test_chinese_edition_decks_share_vendor_and_fonts(decks):
    """`make slides` per edition: the Chinese decks go to zh-CN/, load ../vendor and ../fonts."""
    from run_notebooks import lesson_notebooks

    out, _ = decks
    lessons = lesson_notebooks("zh-CN")
    paths = build_slides.build(lessons, out, execute=False, quiet=True, edition="zh-CN",
                               other="../index.html")
    assert [p.relative_to(out).as_posix() for p in paths] == [
        f"zh-CN/{n.stem}.slides.html" for n in lessons]
    for path in paths:
        page = path.read_text(encoding="utf-8")
        assert remote_resources(page) == [], path.name
        check_offline(page, path.parent, path.name)
        assert "../vendor/node_modules/reveal.js/dist/reveal.js" in page
        assert 'url("../fonts/NotoSansSC-Course.woff2")' in page
    assert (out / "fonts" / "NotoSansSC-Course.woff2").is_file()
    index = (out / "zh-CN" / "index.html").read_text(encoding="utf-8")
    assert 'href="../index.html"' in index and all(f'href="{p.name}"' in index for p in paths)
