"""Sphinx settings of the course website (``make site``; tools/build_site.py stages the sources).

One build per edition: ``COURSE_SITE_EDITION`` is ``en`` (the site's root) or ``zh-CN`` (its
``zh-CN/`` folder), so the theme's own words, the search and ``<html lang>`` follow the edition.
The notebooks were executed by ``make demo`` (``nb_execution_mode = "off"``: nothing runs twice).
Nothing is fetched at build or read time: the theme's assets, MathJax and the Chinese font are
copied into the site.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

EDITION = os.environ.get("COURSE_SITE_EDITION", "en")
ZH = EDITION == "zh-CN"
HERE = Path(__file__).resolve().parent

project = "PyTorch 池化与 Dropout" if ZH else "PyTorch pooling and dropout"
author = "the course's authors"
language = "zh_CN" if ZH else "en"  # <html lang="zh-CN">
extensions = ["myst_nb"]
templates_path = [str(HERE / "_templates")]
html_static_path = [str(HERE / "_static")]
html_css_files = ["course.css"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = project
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "pygments_light_style": "a11y-high-contrast-light",  # AA contrast (accessible-pygments)
    "pygments_dark_style": "a11y-high-contrast-dark",
}
html_context = {"default_mode": "light"}
#: The theme's sidebar, with the switch to the other edition under the title.
html_sidebars = {"**": ["navbar-logo.html", "langswitch.html", "search-button-field.html", "sbt-sidebar-nav.html"]}
# MathJax 2 from the venv (jupyter-server-mathjax), one copy at the site's root: _mathjax/.
mathjax_path = ("../../_mathjax/" if ZH else "../_mathjax/") + "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                               "processClass": "tex2jax_process|mathjax_process|math|output_area"},  # myst-nb's
                   # the package ships the STIX-Web fonts only
                   "HTML-CSS": {"availableFonts": ["STIX-Web"], "preferredFont": "STIX-Web",
                                "webFont": "STIX-Web", "imageFont": None}}

nb_execution_mode = "off"
nb_ipywidgets_js = {}  # the widgets' renderer would come from a CDN: the site shows their pictures
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.xref_missing", "myst.header"]

#: {PNG file's sha256: its alt text}: tools/build_site.py reads it from each figure's output
#: metadata ({"image/png": {"alt": ...}}, set by utils/plots.py) into this file.
ALT: dict[str, str] = {}


def _alt_text(app, doctree, docname):
    """myst-nb keeps only width/height of an output's metadata: give each figure its alt text."""
    from docutils import nodes

    for image in doctree.findall(nodes.image):
        alt = ALT.get(Path(image["uri"]).stem)
        if alt and not image.get("alt"):
            image["alt"] = alt


def _twin(app, pagename, templatename, context, doctree):
    """The same page in the other edition (site/zh-CN/<page> ↔ site/<page>), for langswitch.html."""
    depth = pagename.count("/")
    up = "../" * depth
    context["twin_url"] = (up + "../" if ZH else up + "zh-CN/") + pagename + ".html"
    context["twin_label"], context["twin_lang"] = ("English", "en") if ZH else ("中文", "zh-CN")


def setup(app):
    staged = Path(app.srcdir) / "alt_text.json"
    ALT.update(json.loads(staged.read_text("utf-8")) if staged.exists() else {})
    app.connect("doctree-resolved", _alt_text)
    app.connect("html-page-context", _twin)


def _search_terms() -> str:
    """A jieba user dictionary of the glossary's course terms (its first column), so the Chinese search
    indexes 最大池化 or 感受野 whole: split into 最大/池化 they never matched a query for the term."""
    import re
    import tempfile

    terms = set()
    for line in (HERE.parent / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines()[2:]:
        if line.startswith("| ") and not line.startswith("| ---"):
            terms.update(re.findall(r"[\u4e00-\u9fff]{2,}", line.split("|")[1]))
    path = Path(tempfile.gettempdir()) / "course-search-terms-zh.txt"
    path.write_text("".join(f"{t} 100000\n" for t in sorted(terms)), encoding="utf-8")
    return str(path)


if ZH:
    html_search_options = {"dict": _search_terms()}
