"""The course website (make site, tools/build_site.py): every page of both editions passes axe-core's
WCAG 2.0/2.1 A and AA rules, no internal link or image is broken, nothing loads from outside the site,
every page says its language (and marks the Chinese on English pages), titles come from the lessons,
figures have alt text in the page's language, search works from file://.

The site is built once per session from the notebooks this session executed (the English ones come
from the notebook tests; the Chinese edition runs here). ``COURSE_TEST_SITE=build/site`` tests a site
built already (make demo && make site) instead."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from a11y import axe_violations, describe_violations
from conftest import CHROMIUM, ROOT, allow_only, browser_or_skip

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@pytest.fixture(scope="session")
def site(request, tmp_path_factory) -> Path:
    if os.environ.get("COURSE_TEST_SITE"):
        return Path(os.environ["COURSE_TEST_SITE"]).resolve()
    from build_site import build
    from run_notebooks import execute_notebook, lesson_notebooks, solution_notebooks

    executed = request.getfixturevalue("executed_notebooks")
    work = tmp_path_factory.mktemp("site")
    for key, (nb, _, error) in executed.items():
        assert error is None, error
        path = work / "notebooks" / Path(key).relative_to("notebooks")
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    env = {"COURSE_LOGS_DIR": str(work / "logs"), "COURSE_BUILD_DIR": str(work / "build")}
    for path in lesson_notebooks("zh-CN") + solution_notebooks("zh-CN"):
        nb, _ = execute_notebook(path, env=env)
        target = work / "notebooks" / path.relative_to(ROOT / "notebooks")
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
    build(work / "notebooks", work / "site", work / "site-src")
    return work / "site"


def pages(site: Path, edition: str) -> list[Path]:
    top = site / "zh-CN" if edition == "zh-CN" else site
    return sorted(p for p in top.rglob("*.html") if not (set(p.relative_to(top).parts[:1]) & {"_static", "_mathjax", "zh-CN", "_sources"}))


def soup_of(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def lesson_pages(site: Path, edition: str) -> list[Path]:
    return [p for p in pages(site, edition) if re.match(r"\d\d_", p.name)]


@pytest.mark.parametrize("edition", ["en", "zh-CN"])
def test_every_lesson_solution_and_doc_has_a_page(site, edition):
    folder = ROOT / "notebooks" / ("zh-CN" if edition == "zh-CN" else "")
    top = site / "zh-CN" if edition == "zh-CN" else site
    wanted = [p.relative_to(folder).with_suffix(".html") for p in
              sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted((folder / "solutions").glob("*.ipynb"))]
    wanted += [Path("docs") / f"{p.stem}.html" for p in (ROOT / "docs").glob("*.md") if not p.stem.endswith(".zh-CN")]
    assert [str(p) for p in wanted if not (top / p).is_file()] == []
    index = soup_of(top / "index.html")
    linked = {a["href"] for a in index.select("table a")}
    lessons = [p for p in wanted if p.parent == Path(".")]
    assert {p.as_posix() for p in lessons} <= linked, linked  # the lesson table lists every lesson


@pytest.mark.parametrize("edition", ["en", "zh-CN"])
def test_titles_come_from_the_lessons(site, edition):
    titles = {}
    for page in lesson_pages(site, edition):
        heading = soup_of(page).find("h1").get_text(" ", strip=True).rstrip("#").strip()
        title = soup_of(page).title.get_text(strip=True)
        assert title.startswith(heading[:20]), (page.name, title, heading)
        titles[page] = title
    assert len(set(titles.values())) == len(titles) >= 7


@pytest.mark.parametrize("edition", ["en", "zh-CN"])
def test_lessons_link_to_the_previous_and_next_lesson(site, edition):
    lessons = [p for p in lesson_pages(site, edition) if p.parent.name != "solutions"]
    for before, page, after in zip(lessons, lessons[1:], lessons[2:], strict=False):
        soup = soup_of(page)
        assert soup.select_one("a.left-prev")["href"] == before.name
        assert soup.select_one("a.right-next")["href"] == after.name


def test_links_and_images_resolve_inside_the_site(site):
    """The crawl: every local href/src of every page (both editions) exists, anchors included."""
    broken = []
    ids: dict[Path, set[str]] = {}
    for page in pages(site, "en") + pages(site, "zh-CN"):
        soup = soup_of(page)
        for tag, attr in (("a", "href"), ("img", "src"), ("script", "src"), ("link", "href")):
            for el in soup.find_all(tag, attrs={attr: True}):
                url = el[attr]
                if url.startswith(("data:", "mailto:", "javascript:")) or "://" in url:
                    continue
                path, _, anchor = url.partition("#")
                target = (page.parent / path.split("?")[0]).resolve() if path else page
                if not target.is_file() and not (target / "index.html").is_file():
                    broken.append(f"{page.relative_to(site)}: {tag} {url}")
                elif anchor and target.suffix == ".html":
                    if target not in ids:
                        ids[target] = {e["id"] for e in soup_of(target).find_all(id=True)}
                    if anchor not in ids[target]:
                        broken.append(f"{page.relative_to(site)}: #{anchor} missing in {url}")
    assert broken == [], "\n".join(broken[:30])


def test_nothing_is_fetched_from_outside_the_site(site):
    remote = []
    for page in pages(site, "en") + pages(site, "zh-CN"):
        soup = soup_of(page)
        for tag, attr in (("img", "src"), ("script", "src"), ("link", "href"), ("iframe", "src")):
            for el in soup.find_all(tag, attrs={attr: True}):
                if "://" in el[attr] or el[attr].startswith("//"):
                    remote.append(f"{page.name}: {el}")
    assert remote == []


@pytest.mark.parametrize("edition", ["en", "zh-CN"])
def test_every_page_says_its_language(site, edition):
    unmarked = []
    for page in pages(site, edition):
        soup = soup_of(page)
        assert soup.html.get("lang") == edition, (page, soup.html.get("lang"))
        if edition == "en":  # Chinese text on an English page sits inside lang="zh-…"
            for text in soup.body.find_all(string=CJK):
                if text.parent.name not in ("script", "style") and not text.find_parent(attrs={"lang": re.compile("^zh")}):
                    unmarked.append(f"{page.name}: {text.strip()[:40]}")
    assert unmarked == [], unmarked[:20]


@pytest.mark.parametrize("edition", ["en", "zh-CN"])
def test_each_page_links_to_its_twin_in_the_other_language(site, edition):
    for page in pages(site, edition):
        switch = soup_of(page).select_one("a.course-langswitch")
        assert switch is not None, page
        twin = (page.parent / switch["href"]).resolve()
        assert twin.is_file(), (page, switch["href"])
        back = soup_of(twin).select_one("a.course-langswitch")
        assert (twin.parent / back["href"]).resolve() == page.resolve()


@pytest.mark.parametrize("edition", ["en", "zh-CN"])
def test_figures_have_alt_text_in_the_page_language(site, edition):
    bad, count = [], 0
    for page in lesson_pages(site, edition):
        for img in soup_of(page).select("main img"):
            alt = img.get("alt", "")
            if img.find_parent("figure") and img.find_parent("figure").find("figcaption") and alt == "":
                continue  # the caption below says it (the pair viewer's picture)
            count += 1
            if len(alt) < 20 or "No description" in alt or alt.endswith(".png") or \
                    (edition == "zh-CN") != bool(CJK.search(alt)):
                bad.append(f"{page.name}: {img.get('src', '')[:40]} alt={alt[:60]!r}")
    assert count >= 10
    assert bad == [], "\n".join(bad)


def test_widgets_show_a_picture_not_a_repr(site):
    for page in lesson_pages(site, "en") + lesson_pages(site, "zh-CN"):
        html = page.read_text(encoding="utf-8")
        assert "object at 0x" not in html and "interactive(children" not in html, page.name


@pytest.fixture(scope="module")
def browser():
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.mark.browser
@pytest.mark.parametrize("edition", ["en", "zh-CN"])
def test_every_page_passes_axe_wcag21_aa(site, browser, edition):
    page = browser.new_page()
    blocked = allow_only(page, "file://", "data:")
    failures = {}
    for path in pages(site, edition):
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        found = axe_violations(page)
        if found:
            failures[str(path.relative_to(site))] = describe_violations(found)
    page.close()
    assert failures == {}, "\n".join(f"{k}:\n{v}" for k, v in failures.items())
    assert blocked == []  # opened from file://, nothing from elsewhere


@pytest.mark.browser
@pytest.mark.parametrize(("edition", "query"), [("en", "dilation"), ("zh-CN", "池化")])
def test_search_works_offline_from_file(site, browser, edition, query):
    top = site / "zh-CN" if edition == "zh-CN" else site
    page = browser.new_page()
    blocked = allow_only(page, "file://", "data:")
    page.goto((top / "search.html").as_uri() + f"?q={query}")
    page.wait_for_selector("#search-results li a", timeout=20000)
    hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.getAttribute('href'))")
    page.close()
    assert any(re.search(r"\d\d_", h) for h in hits), hits
    assert blocked == []


@pytest.mark.browser
def test_mathjax_renders_offline(site, browser):
    page = browser.new_page()
    blocked = allow_only(page, "file://", "data:")
    page.goto((site / "03_output_shapes.html").as_uri())
    page.wait_for_selector(".MathJax, mjx-container", timeout=20000)
    page.close()
    assert blocked == []
