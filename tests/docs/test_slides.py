"""tools/build_slides.py: projector decks from the executed lessons, offline, without npm.

The browser test walks every slide of every deck of both editions with reveal.js's own API at 1280×720:
no slide is taller (or wider) than the view, code is at least 18 px, pictures load, nothing shows a
headless artefact, every walkthrough question of a lesson is in its deck's speaker notes, and no request
leaves the deck's folder. The decks are built from `make demo`'s executed notebooks when they are there
and current, else from the test session's own executions (tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import build_slides  # noqa: E402
from build_slides import ARTEFACTS, SlidesError  # noqa: E402

EDITIONS = {"en": ROOT / "notebooks", "zh-CN": ROOT / "notebooks" / "zh-CN"}
VIEW = {"width": 1280, "height": 720}


def lessons(edition: str = "en") -> list[Path]:
    return sorted(EDITIONS[edition].glob("[0-9][0-9]_*.ipynb"))


def _current(executed: Path, source: Path) -> bool:
    return executed.is_file() and executed.stat().st_mtime >= source.stat().st_mtime


@pytest.fixture(scope="module")
def executed_dir(request, tmp_path_factory) -> Path:
    """Executed lessons of both editions: build/notebooks/ when `make demo` wrote them after the last
    change of each lesson, else each lesson executed once in this test session."""
    build = ROOT / "build" / "notebooks"
    wanted = {ed: [(build / build_slides.EDITION_DIRS[ed] / p.name, p) for p in lessons(ed)] for ed in EDITIONS}
    if all(_current(e, s) for pairs in wanted.values() for e, s in pairs):
        return build
    runs = request.getfixturevalue("notebook_runs")
    out = tmp_path_factory.mktemp("executed")
    for ed, pairs in wanted.items():
        for _, source in pairs:
            target = out / build_slides.EDITION_DIRS[ed] / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(runs(source.relative_to(ROOT).as_posix()).nb, target)
    return out


@pytest.fixture(scope="module")
def decks(executed_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    paths = build_slides.build(out=out, executed=executed_dir, quiet=True, require_outputs=True)
    return out, paths


# -- without a browser ---------------------------------------------------------------------------
def test_walkthrough_questions_are_read_per_lesson():
    qs = build_slides.questions()
    by_lesson = {q.lesson for q in qs}
    assert {"00", "01", "02", "03", "04", "05"} <= by_lesson, by_lesson
    assert all(q.question["en"] and q.answer["en"] for q in qs)
    assert any(q.question["zh-CN"] != q.question["en"] for q in qs)  # the Chinese bank is its own


def test_a_headless_artefact_stops_the_build(tmp_path):
    """A slide that would show `<... object at 0x...>` or the headless TensorBoard hint is an error."""
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("viewer")
    code["id"] = "artefact"
    code.outputs = [nbformat.v4.new_output("execute_result", data={
        "text/plain": "<utils.viewer.PairViewer object at 0x7f00>"}, execution_count=1)]
    nb.cells = [code]
    path = tmp_path / "00_x.ipynb"
    nbformat.write(nb, path)
    source = tmp_path / "00_x.md"
    source.write_text("# Title\n\n---\n## A viewer\n\n[output artefact]\n", encoding="utf-8")
    with pytest.raises(SlidesError, match="object at 0x"):
        build_slides.render_deck(source, build_slides.Notebook(path), "en", tmp_path / "out", [], "assets")


def test_a_missing_cell_says_what_to_do(tmp_path):
    nb = nbformat.v4.new_notebook()
    path = tmp_path / "00_x.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(SlidesError, match="no cell with id"):
        build_slides.Notebook(path).code("nope")
    with pytest.raises(SlidesError, match="make demo"):
        build_slides.Notebook(tmp_path / "absent.ipynb")


def test_every_lesson_has_a_slide_source_in_both_editions():
    for ed in EDITIONS:
        for lesson in lessons(ed):
            assert build_slides.slide_source(lesson, ed).is_file(), (ed, lesson.name)


def test_reveal_is_vendored_with_its_licence():
    vendor = ROOT / "tools" / "vendor" / "reveal.js"
    assert "MIT" in (vendor / "LICENSE").read_text(encoding="utf-8")
    for rel in build_slides.VENDOR_FILES:
        assert (vendor / rel).is_file(), rel


@pytest.mark.slow
def test_make_slides_needs_no_npm_and_no_network(executed_dir, tmp_path):
    """The build as `make slides` runs it, with a PATH that holds no npm (nor anything else) and every
    proxy pointing at a closed port."""
    from conftest import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(PATH=str(empty), http_proxy=closed, https_proxy=closed, HTTP_PROXY=closed, HTTPS_PROXY=closed)
    out = tmp_path / "slides"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "build_slides.py"), "--out", str(out),
                           "--executed", str(executed_dir)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for ed in EDITIONS:
        folder = out / build_slides.EDITION_DIRS[ed]
        assert sorted(p.name for p in folder.glob("[0-9][0-9]_*.html")) == [
            p.with_suffix(".html").name for p in lessons(ed)]


# -- in Chromium ---------------------------------------------------------------------------------
WALK = """async () => {
    const out = [];
    const height = Reveal.getConfig().height, width = Reveal.getConfig().width;
    for (const slide of Reveal.getSlides()) {
        const {h, v} = Reveal.getIndices(slide);
        Reveal.slide(h, v);
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        const imgs = [...slide.querySelectorAll('img')];
        await Promise.all(imgs.map((i) => i.decode().catch(() => null)));
        const box = slide.getBoundingClientRect();
        const codes = [...slide.querySelectorAll('pre code')].map((c) => parseFloat(getComputedStyle(c).fontSize));
        out.push({
            index: `${h}/${v || 0}`, height, width,
            scrollHeight: slide.scrollHeight, scrollWidth: slide.scrollWidth,
            codeSizes: codes,
            codeOverflow: [...slide.querySelectorAll('pre code')].some((c) => c.scrollWidth > c.clientWidth + 1),
            images: imgs.map((i) => ({src: i.getAttribute('src'), ok: i.naturalWidth > 0, alt: i.alt,
                                      bottom: i.getBoundingClientRect().bottom - box.top})),
            text: slide.innerText,
            notes: (slide.querySelector('aside.notes') || {}).textContent || '',
        });
    }
    return out;
}"""


@pytest.mark.browser
@pytest.mark.slow
def test_every_slide_fits_the_projector_and_carries_the_walkthrough(decks):
    from conftest import CHROMIUM, allow_only, browser_or_skip

    browser_or_skip()
    from playwright.sync_api import sync_playwright

    out, paths = decks
    qs = build_slides.questions()
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for path in paths:
                lang = "zh-CN" if path.parent.name == "zh-CN" else "en"
                name = f"{lang}/{path.name}"
                page = browser.new_page(viewport=VIEW)
                folder = path.parent.resolve().as_uri()
                shared = out.resolve().as_uri()  # vendor/ and fonts/ are shared by both editions
                blocked = allow_only(page, folder + "/", shared + "/vendor/", shared + "/fonts/", "data:",
                                     "about:")
                page.goto(path.as_uri())
                page.wait_for_function("!!document.querySelector('.reveal.ready')", timeout=20_000)
                slides = page.evaluate(WALK)
                page.close()
                assert slides, name
                if blocked:
                    problems.append(f"{name} asked for {blocked[:3]} outside its folder")
                notes = " ".join(s["notes"] for s in slides)
                for s in slides:
                    where = f"{name} slide {s['index']}"
                    if s["scrollHeight"] > s["height"] + 1:
                        problems.append(f"{where} is {s['scrollHeight']} px tall (view {s['height']})")
                    if s["scrollWidth"] > s["width"] + 1 or s["codeOverflow"]:
                        problems.append(f"{where} is wider than the view")
                    if any(size < 18 for size in s["codeSizes"]):
                        problems.append(f"{where} has code at {min(s['codeSizes'])} px (< 18)")
                    for img in s["images"]:
                        if not img["ok"] or len(img["alt"]) < 3:
                            problems.append(f"{where}: picture {img['src']} did not load or has no alt text")
                        if img["bottom"] > s["height"] + 1:
                            problems.append(f"{where}: picture {img['src']} ends below the view")
                    for bad in ARTEFACTS:
                        if bad in s["text"] or bad in s["notes"]:
                            problems.append(f"{where} shows {bad!r}")
                for q in (q for q in qs if q.lesson == path.name[:2]):
                    asked = " ".join((q.question.get(lang) or q.question["en"]).replace("`", "").split()[:4])
                    if asked not in " ".join(notes.split()):
                        problems.append(f"{name}: the walkthrough's question {asked!r}… is not in the notes")
        finally:
            browser.close()
    assert not problems, "\n".join(problems)


@pytest.mark.browser
@pytest.mark.slow
def test_every_slide_passes_axe(decks):
    """Issue 25: axe-core (WCAG 2.0/2.1 A and AA) on every slide of every deck, both editions, each slide
    checked while it is the one shown (reveal.js hides the others from the accessibility tree)."""
    from a11y import axe_violations, describe_violations
    from conftest import CHROMIUM, browser_or_skip

    browser_or_skip()
    from playwright.sync_api import sync_playwright

    _, paths = decks
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for path in paths:
                page = browser.new_page(viewport=VIEW)
                page.goto(path.as_uri())
                page.wait_for_function("!!document.querySelector('.reveal.ready')", timeout=20_000)
                count = page.evaluate("Reveal.getSlides().length")
                for i in range(count):
                    page.evaluate("""(i) => { const s = Reveal.getSlides()[i];
                                              const {h, v} = Reveal.getIndices(s); Reveal.slide(h, v); }""", i)
                    page.wait_for_timeout(50)
                    found = axe_violations(page)
                    if found:
                        problems.append(f"{path.parent.name}/{path.name} slide {i}:\n{describe_violations(found)}")
                page.close()
        finally:
            browser.close()
    assert not problems, "\n".join(problems[:10])
