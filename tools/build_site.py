"""The course website, from the notebooks `make demo` executed: build/site/ (中文: build/site/zh-CN/).

    python tools/build_site.py            # after make demo (or tools/run_notebooks.py --demo)
    python tools/build_site.py --notebooks DIR --out DIR

Sphinx + myst-nb (nothing is executed again) + sphinx-book-theme, one build per edition. The site
works offline, from ``file://`` and from any static host: the theme's files, MathJax (from the
jupyter-server-mathjax package) and the course's Chinese font are copied in; the search is Sphinx's
own (a local index). Both editions are built at once (two processes).

Steps: stage each edition's sources in build/site-src/<edition>/ (the executed lessons and solutions,
docs/*.md, a generated index with the lesson table), build, then post-process every page: links
between notebooks point to pages, and on English pages Chinese text is marked ``lang="zh-CN"``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
EDITIONS = ("en", "zh-CN")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Chinese characters and punctuation (CJK, fullwidth forms): what needs lang="zh-CN" on English pages.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
                 r"(?:[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef0-9\s、，。·（）()×÷%/.:,-]*"
                 r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef])?")

WORDS = {
    "en": {
        "title": "PyTorch pooling and dropout, seen in TensorBoard",
        "intro": "A short, tested course: max pooling, average pooling and dropout in PyTorch, every "
                 "result checked against PyTorch itself. These pages show the lessons as `make demo` ran "
                 "them; to run them yourself, see the README. 中文版：[课程首页](zh-CN/index.md)",
        "lessons": "Lessons", "lesson": "Lesson", "solutions": "Worked solutions", "more": "More",
        "none": "–", "about": "Accessibility",
    },
    "zh-CN": {
        "title": "PyTorch 池化与 Dropout，在 TensorBoard 中看见",
        "intro": "一门简短、经过测试的课程：PyTorch 中的最大池化、平均池化和 Dropout（暂退法），每个结果都与 "
                 "PyTorch 本身的计算结果核对过。这些页面展示 `make demo` 运行后的课程；要自己运行，请看 README。",
        "lessons": "课程", "lesson": "课", "solutions": "参考答案", "more": "更多",
        "none": "–", "about": "无障碍",
    },
}


def twin_doc(doc: Path, edition: str) -> Path | None:
    """docs/X.md in ``edition``: itself for English; docs/zh-CN/X.md or docs/X.zh-CN.md for Chinese."""
    if edition == "en":
        return doc
    for twin in (doc.parent / "zh-CN" / doc.name, doc.with_name(f"{doc.stem}.zh-CN.md")):
        if twin.exists():
            return twin
    return None


def english_docs(docs: Path) -> list[Path]:
    """Every page of docs/ (new files appear by themselves), without the Chinese twins."""
    return sorted(p for p in docs.glob("*.md") if not p.stem.endswith(".zh-CN"))


def site_links(text: str, edition: str, where: str) -> str:
    """Links that work in the repository, made to work on the site. ``where`` is "lesson" or "doc".

    * A lesson's TensorBoard pictures (notebooks/images/, ``../images/`` from a Chinese lesson) are
      copied next to the pages: ``images/...``.
    * README.md / README.zh-CN.md are not pages of the site: the repository's copy on the web.
    * docs/X.zh-CN.md is the Chinese site's docs/X page: from an English page, the other edition's; on
      a Chinese page, X.md (the English original, which has a twin) is the English site's page.
    """
    from utils.environment import COURSE_BRANCH, COURSE_REPOSITORY_URL

    if where == "lesson":
        text = text.replace("](../images/", "](images/")
    web = COURSE_REPOSITORY_URL.removesuffix(".git") + f"/blob/{COURSE_BRANCH}/"
    text = re.sub(r"\]\((?:\.\./)+(README(?:\.zh-CN)?\.md)\)", lambda m: f"]({web}{m.group(1)})", text)
    if where == "doc":
        docs = ROOT / "docs"

        def doc_link(m):
            label, stem, chinese, anchor = m.group(1), m.group(2), bool(m.group(3)), m.group(4) or ""
            if edition == "en":
                other = f"../zh-CN/docs/{stem}.html{anchor}" if chinese else None
            else:
                twin = (docs / f"{stem}.zh-CN.md").exists() or (docs / "zh-CN" / f"{stem}.md").exists()
                if chinese:
                    return f"[{label}]({stem}.md{anchor})"
                other = f"../../docs/{stem}.html{anchor}" if twin else None
            # the other edition's page is not in this Sphinx project: a plain HTML link
            return f'<a href="{other}">{label}</a>' if other else m.group(0)

        text = re.sub(r"\[([^\]]*)\]\(([\w-]+?)(\.zh-CN)?\.md(#[\w-]*)?\)", doc_link, text)
    return text


def title_of(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "?"


def static_outputs(nb) -> None:
    """Replace each widget's view by what it shows without a live kernel: a widget that offers a
    picture (``PairViewer``'s image/png and caption) keeps those; an ``interact`` shows the outputs
    its function produced for the default values (they are in the saved widget state)."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})

    def captured(model_id, seen=()):
        model = models.get(model_id, {})
        outputs = list(model.get("state", {}).get("outputs", []))
        for child in model.get("state", {}).get("children", []):
            child_id = child.removeprefix("IPY_MODEL_")
            if child_id not in seen:
                outputs += captured(child_id, (*seen, model_id))
        return outputs

    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW not in data:
                new.append(out)
                continue
            rest = {k: v for k, v in data.items() if k not in (WIDGET_VIEW, "text/plain")}
            if rest:
                out = copy.deepcopy(out)
                out["data"] = {k: v for k, v in out["data"].items() if k != WIDGET_VIEW}
                new.append(out)
            else:
                new += copy.deepcopy(captured(data[WIDGET_VIEW]["model_id"]))
        cell.outputs = new
    nb.metadata.pop("widgets", None)  # its renderer would load from a CDN


def alt_texts(nb) -> dict[str, str]:
    """{sha256 of a PNG: its alt text} for every figure that has one: in its output's metadata (set
    where it was drawn, utils/plots.py), else in its cell's metadata ``alt`` (a figure drawn with plain
    matplotlib in the lesson, described in the lesson's language)."""
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            png, alt = out.get("data", {}).get("image/png"), out.get("metadata", {}).get("image/png", {})
            alt = alt.get("alt") if isinstance(alt, dict) else None
            if png and (alt or cell.metadata.get("alt")):
                found[hashlib.sha256(base64.b64decode(png)).hexdigest()] = alt or cell.metadata["alt"]
    return found


def stage(edition: str, executed: Path, src: Path) -> dict:
    """Write one edition's Sphinx sources into ``src``; return what the index lists."""
    import nbformat

    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    words = WORDS[edition]
    folder = ROOT / "notebooks" / ("zh-CN" if edition == "zh-CN" else "")
    prefix = "zh-CN/" if edition == "zh-CN" else ""
    alt, lessons, solutions = {}, [], {}
    committed = sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted((folder / "solutions").glob("*.ipynb"))
    for path in committed:
        name = path.relative_to(folder).as_posix()
        ran = executed / (prefix + name)
        if not ran.exists() and path.parent == folder:
            raise SystemExit(f"{prefix + name} has not been executed: run `make demo` first "
                             f"(it writes {executed}).")
        nb = nbformat.read(ran if ran.exists() else path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = site_links(cell.source, edition, "lesson")
        static_outputs(nb)
        alt.update(alt_texts(nb))
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, src / name)
        if path.parent == folder:
            lessons.append((name, title_of(nb)))
        else:
            solutions[name.split("/")[1][:2]] = (name, title_of(nb))
    if (ROOT / "notebooks" / "images").is_dir():  # the lessons' TensorBoard pictures
        shutil.copytree(ROOT / "notebooks" / "images", src / "images")
    (src / "alt_text.json").write_text(json.dumps(alt, ensure_ascii=False), encoding="utf-8")
    docs, english = [], []
    for doc in english_docs(ROOT / "docs"):
        twin = twin_doc(doc, edition)
        (src / "docs").mkdir(exist_ok=True)
        text = (twin or doc).read_text(encoding="utf-8")
        (src / "docs" / doc.name).write_text(site_links(text, edition, "doc"), encoding="utf-8")
        if twin is None:
            english.append(f"docs/{doc.stem}")
        docs.append(f"docs/{doc.stem}")
    rows = [f"| {words['lesson']} | {words['solutions']} |", "| --- | --- |"]
    for name, title in lessons:
        sol = solutions.get(name[:2])
        rows.append(f"| [{title}]({name}) | " + (f"[{sol[1]}]({sol[0]})" if sol else words["none"]) + " |")
    toc = "\n".join(n.removesuffix(".ipynb") for n, _ in lessons)
    sols = "\n".join(s[0].removesuffix(".ipynb") for s in solutions.values())
    index = (f"# {words['title']}\n\n{words['intro'] if edition == 'en' else words['intro']}\n\n"
             f"## {words['lessons']}\n\n" + "\n".join(rows) + "\n\n"
             f"```{{toctree}}\n:hidden:\n:caption: {words['lessons']}\n\n{toc}\n```\n\n"
             f"```{{toctree}}\n:hidden:\n:caption: {words['solutions']}\n\n{sols}\n```\n\n"
             f"```{{toctree}}\n:caption: {words['more']}\n\n" + "\n".join(docs) + "\n```\n")
    (src / "index.md").write_text(index, encoding="utf-8")
    return {"pages": len(committed) + len(docs) + 1, "english_docs": english}


def sphinx(edition: str, src: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "COURSE_SITE_EDITION": edition, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    return subprocess.Popen([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E",
                             "-c", str(ROOT / "site"), str(src), str(out)], env=env)


def mark_chinese(soup) -> int:
    """Wrap each run of Chinese in English prose in ``<span lang="zh-CN">``; return how many."""
    from bs4 import NavigableString

    count = 0
    for text in list(soup.body.find_all(string=CJK)):
        if not isinstance(text, NavigableString) or text.parent.name in ("script", "style", "title"):
            continue
        if text.find_parent(attrs={"lang": re.compile("^zh")}):
            continue
        parts, last, s = [], 0, str(text)
        for m in CJK.finditer(s):
            parts += [s[last:m.start()], m.group()]
            last = m.end()
        parts.append(s[last:])
        new = []
        for i, part in enumerate(parts):
            if i % 2:
                span = soup.new_tag("span", lang="zh-CN")
                span.string = part
                new.append(span)
                count += 1
            elif part:
                new.append(NavigableString(part))
        text.replace_with(*new)
    return count


def post_process(site: Path, edition: str, english_docs: list[str]) -> None:
    """Links to notebooks point to their pages; Chinese on English pages gets lang; a Chinese page
    whose doc has no translation yet says its text is English."""
    from bs4 import BeautifulSoup

    top = site if edition == "en" else site / "zh-CN"
    for page in top.rglob("*.html"):
        rel = page.relative_to(top).as_posix()
        if edition == "en" and rel.startswith(("zh-CN/", "_")):
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for a in soup.find_all("a", href=True):
            href = a["href"]
            if re.match(r"#[^#]*\.(ipynb|md)$", href):  # myst's way of keeping a link to the other edition
                href = href[1:]
            if "://" not in href and re.search(r"\.(ipynb|md)(#|$)", href):
                a["href"] = re.sub(r"\.(ipynb|md)(?=#|$)", ".html", href)
        if edition == "en":
            mark_chinese(soup)
        else:  # a doc not translated yet: its page and the links naming it say they are English
            if rel.removesuffix(".html") in english_docs:
                (soup.find("main") or soup.body)["lang"] = "en"
            for a in soup.find_all("a", href=True):
                target = (page.parent / a["href"].split("#")[0]).resolve()
                if "://" not in a["href"] and target.is_relative_to(top) and \
                        target.relative_to(top).as_posix().removesuffix(".html") in english_docs:
                    a["lang"] = "en"
        page.write_text(str(soup), encoding="utf-8")


def install_assets(site: Path) -> None:
    """MathJax (one copy for both editions) and the Chinese font, inside the site."""
    import jupyter_server_mathjax

    from tools.build_cjk_font import install_web_font

    mathjax = site / "_mathjax"
    if not (mathjax / "MathJax.js").exists():
        shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", mathjax, dirs_exist_ok=True)
    for edition in (site, site / "zh-CN"):
        install_web_font(edition / "_static" / "fonts")


def build(executed: Path, out: Path, work: Path) -> dict:
    start = time.perf_counter()
    shutil.rmtree(out, ignore_errors=True)
    info = {e: stage(e, executed, work / e) for e in EDITIONS}
    runs = {e: sphinx(e, work / e, out if e == "en" else out / "zh-CN") for e in EDITIONS}
    failed = [e for e, run in runs.items() if run.wait() != 0]
    if failed:
        raise SystemExit(f"Sphinx failed for {', '.join(failed)} (see above).")
    install_assets(out)
    # Sphinx 9.0's Chinese search names a ChineseStemmer it never defines (Latin words use the English
    # one): without this the Chinese edition's search stops with "ChineseStemmer is not defined".
    data = out / "zh-CN" / "_static" / "language_data.js"
    text = data.read_text(encoding="utf-8")
    if "ChineseStemmer =" not in text and "var ChineseStemmer" not in text:
        data.write_text(text.replace("window.Stemmer = ChineseStemmer;", "window.Stemmer = EnglishStemmer;"),
                        encoding="utf-8")
    for e in EDITIONS:
        post_process(out, e, info[e]["english_docs"])
    pages = sum(1 for _ in out.rglob("*.html") if "_static" not in _.parts and "_mathjax" not in _.parts)
    return {"pages": pages, "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> int:
    from utils.environment import build_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--notebooks", type=Path, help="executed notebooks (default: build/notebooks)")
    parser.add_argument("--out", type=Path, help="the site (default: build/site)")
    args = parser.parse_args(argv)
    executed = args.notebooks or build_dir() / "notebooks"
    out = args.out or build_dir() / "site"
    result = build(executed, out, out.parent / "site-src")
    print(f"{result['pages']} pages in {result['seconds']:.0f} s: {out / 'index.html'}"
          f"  中文: {out / 'zh-CN' / 'index.html'}  (open in a browser; works offline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
