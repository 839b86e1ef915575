"""Projector decks for the lessons, from what `make demo` executed (`make slides`).

    python tools/build_slides.py                       # every deck, both languages, into build/slides/
    python tools/build_slides.py --out /tmp/slides --executed build/notebooks

Nothing is executed here and nothing is downloaded: a deck is written for teaching in
``docs/slides/NN_name.md`` (Chinese: ``docs/slides/zh-CN/NN_name.md``) and takes its code, outputs and
figures from the executed notebooks of ``make demo`` (``build/notebooks/``, ``build/notebooks/zh-CN/``),
by cell id, and its TensorBoard pictures from ``notebooks/images/tensorboard/`` (`make screenshots`).
reveal.js is vendored in ``tools/vendor/reveal.js/`` (MIT, see its LICENSE); code is coloured here with
Pygments, so the deck needs no JavaScript but reveal.js and its notes plugin.

Slide source (Markdown; one slide per ``---`` line):

    ## A title                        one idea per slide
    - a short point
    [code 2f8db051]                   the code of that cell (``[code ID 3-9]``: lines 3 to 9 only)
    [output 56775cfd]                 its printed output (``[output ID 1-4]``: the first four lines)
    [figure 9877a759]                 its picture (``[figure ID 2]``: the second picture)
    [shot 01_images]                  a TensorBoard screenshot of notebooks/images/tensorboard/
    [questions 2]                     the walkthrough's questions on this lesson's §2, as speaker notes
    [question Q28]                    one question by its id (any lesson), as speaker notes
    Note: text for the speaker         speaker notes (everything after "Note:")

Every walkthrough question of a lesson ends up in its deck's notes: those no ``[questions N]`` claims go to
the last slide. The build fails (with what to do) when a cell, a picture or an output is missing, or when
an output shows a headless artefact ("object at 0x", "Not in an interactive notebook", a widget repr).
"""

from __future__ import annotations

import argparse
import base64
import html
import re
import shutil
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "tools"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

SOURCES = ROOT / "docs" / "slides"
EXECUTED = ROOT / "build" / "notebooks"
SHOTS = ROOT / "notebooks" / "images" / "tensorboard"
VENDOR = ROOT / "tools" / "vendor" / "reveal.js"
VENDOR_FILES = ("LICENSE", "dist/reveal.js", "dist/reveal.css", "plugin/notes/notes.js")
VENDOR_DIRNAME = "vendor"
FONTS_DIRNAME = "fonts"  # the course's Chinese font, next to vendor/
EDITION_DIRS = {"en": "", "zh-CN": "zh-CN"}
#: Text a deck must never show: what headless execution prints instead of a live view.
ARTEFACTS = ("object at 0x", "Not in an interactive notebook", "interactive(children=",
             "not answered yet")
MAX_OUTPUT_LINES = 10


class SlidesError(RuntimeError):
    """Slides could not be built; the message says why and what to do."""


# -- walkthrough questions ------------------------------------------------------------------------
@dataclass
class Question:
    lesson: str        # "01"
    section: str       # "2" (the lesson's §), "" when the walkthrough names none
    question: dict     # {"en": ..., "zh-CN": ...}
    answer: dict
    qid: str = ""      # "Q28": a slide can claim a question by id with [question Q28]


def questions(path: Path | None = None) -> list[Question]:
    """The teacher walkthrough's questions and answers, by lesson and section, in both languages.

    Read by ``tools/walkthrough.py`` (the one parser of docs/teacher_walkthrough*.md; ``path`` is ignored
    and kept for callers). A question on an exercise has section "" and goes to its deck's last slide.
    """
    import walkthrough

    zh = {q["id"]: q for q in walkthrough.questions("zh-CN")}
    found = []
    for q in walkthrough.questions("en"):
        twin = zh.get(q["id"], q)
        found.append(Question(q["lesson"], str(q["section"]) if q["section"] else "",
                              {"en": q["question"], "zh-CN": twin["question"]},
                              {"en": q["answer"], "zh-CN": twin["answer"]}, q["id"]))
    return found


# -- executed notebooks ---------------------------------------------------------------------------
class Notebook:
    """An executed notebook's cells by id: source, printed text, pictures."""

    def __init__(self, path: Path, *, require_outputs: bool = True):
        import nbformat

        if not path.is_file():
            raise SlidesError(f"{path} does not exist: run `make demo` first (it executes the lessons "
                              "into build/notebooks/), then `make slides`.")
        self.path = path
        self.nb = nbformat.read(path, as_version=4)
        self.cells = {c.get("id"): c for c in self.nb.cells}
        self.require_outputs = require_outputs

    def cell(self, cid: str):
        if cid not in self.cells:
            raise SlidesError(f"{self.path.name} has no cell with id {cid!r}: a slide source names it "
                              "(see docs/slides/); the notebook may have changed.")
        return self.cells[cid]

    def code(self, cid: str) -> str:
        return self.cell(cid).source

    def text(self, cid: str) -> str:
        outputs = self.cell(cid).get("outputs", [])
        parts = [o.get("text", "") for o in outputs if o.get("output_type") == "stream"]
        parts += [o["data"]["text/plain"] for o in outputs
                  if o.get("output_type") == "execute_result" and "text/plain" in o.get("data", {})]
        text = "".join("".join(p) if isinstance(p, list) else p for p in parts)
        if not text and self.require_outputs:
            raise SlidesError(f"{self.path.name} cell {cid} printed nothing: was it executed? Run `make demo`.")
        return text

    def png(self, cid: str, n: int = 1) -> bytes | None:
        images = [o["data"]["image/png"] for o in self.cell(cid).get("outputs", [])
                  if "image/png" in o.get("data", {})]
        if len(images) < n:
            if self.require_outputs:
                raise SlidesError(f"{self.path.name} cell {cid} has {len(images)} picture(s), the slides want "
                                  f"number {n}: run `make demo` (it executes the lessons), then `make slides`.")
            return None
        data = images[n - 1]
        return base64.b64decode("".join(data) if isinstance(data, list) else data)

    def alt(self, cid: str, n: int = 1) -> str:
        outputs = [o for o in self.cell(cid).get("outputs", []) if "image/png" in o.get("data", {})]
        if len(outputs) >= n:
            alt = outputs[n - 1].get("metadata", {}).get("alt") or outputs[n - 1].get("data", {}).get("text/plain")
            if alt and "Figure size" not in str(alt) and "<Figure" not in str(alt):
                return str(alt)
        return ""


# -- rendering ------------------------------------------------------------------------------------
def _lines(text: str, spec: str | None) -> str:
    rows = text.rstrip("\n").splitlines()
    if spec:
        a, _, b = spec.partition("-")
        rows = rows[int(a) - 1:int(b or a)]
    return "\n".join(rows)


def highlight(code: str) -> str:
    from pygments import highlight as _hl
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return _hl(code, PythonLexer(), HtmlFormatter(nowrap=True))


def markdown(text: str) -> str:
    import mistune

    return mistune.html(text)


@dataclass
class Deck:
    name: str            # "01_max_pooling"
    title: str
    slides: list[str]    # <section> HTML
    notes_count: int
    slide_count: int


def _pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".reveal pre code")


def render_deck(source: Path, nb: Notebook, lang: str, out_dir: Path, qs: list[Question],
                shots_url: str) -> Deck:
    """One deck: the slide source's slides as reveal.js <section>s; pictures written next to the deck."""
    text = source.read_text(encoding="utf-8")
    chunks = [c.strip() for c in re.split(r"^---\s*$", text, flags=re.M) if c.strip()]
    assets = out_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    name = source.stem
    lesson = name[:2]
    by_id = {q.qid: q for q in qs if q.qid}
    # a question a slide claims by id ([question Q28]) is shown there, in whichever deck that is
    named = set(re.findall(r"^\[question\s+(Q\d+)\]", "\n".join(
        p.read_text(encoding="utf-8") for p in source.parent.glob("*.md")), flags=re.M))
    mine = [q for q in qs if q.lesson == lesson and q.qid not in named]
    claimed: set[int] = set()
    sections: list[str] = []
    notes_count = 0
    title = ""
    pending_notes: list[list[str]] = []
    for chunk in chunks:
        body, _, note = chunk.partition("\nNote:")
        if chunk.startswith("Note:"):
            body, note = "", chunk[len("Note:"):]
        parts: list[str] = []
        notes: list[str] = [markdown(note.strip())] if note.strip() else []
        md: list[str] = []

        def flush_md(md=md, parts=parts):
            if md:
                parts.append(markdown("\n".join(md)))
                md.clear()

        for line in body.splitlines():
            m = re.match(r"^\[(code|output|figure|shot|questions|question)\s+([^\]\s]+)(?:\s+([^\]]+))?\]\s*$", line.strip())
            if not m:
                md.append(line)
                if not title and line.startswith("# "):
                    title = line[2:].strip()
                continue
            flush_md()
            kind, arg, extra = m.group(1), m.group(2), (m.group(3) or "").strip() or None
            if kind == "code":
                parts.append(f'<pre class="code"><code>{highlight(_lines(nb.code(arg), extra))}</code></pre>')
            elif kind == "output":
                out = _lines(nb.text(arg), extra or f"1-{MAX_OUTPUT_LINES}")
                out = re.sub(r"/\S*/logs/", "logs/", out)  # the machine's folders mean nothing to a class
                parts.append(f'<pre class="output"><code>{html.escape(out)}</code></pre>')
            elif kind == "figure":
                n = int(extra or 1)
                data = nb.png(arg, n)
                if data is None:
                    parts.append('<p class="missing">(figure: run <code>make demo</code>, then '
                                 '<code>make slides</code>)</p>')
                    continue
                file = assets / f"{name}_{arg}_{n}.png"
                file.write_bytes(data)
                alt = nb.alt(arg, n) or _figure_alt(md_text=body, lang=lang)
                parts.append(f'<img class="figure" src="assets/{file.name}" alt="{html.escape(alt)}"'
                             f'{{SIZE:{file.name}}}>')
            elif kind == "shot":
                src = SHOTS / f"{arg}.{lang}.png"
                if not src.is_file():
                    raise SlidesError(f"{src} is missing: run `make screenshots` (after `make demo`).")
                shutil.copyfile(src, assets / src.name)
                alt = _shot_alt(arg, lang)
                parts.append(f'<img class="shot" src="assets/{src.name}" alt="{html.escape(alt)}">')
            elif kind == "question":
                if arg not in by_id:
                    raise SlidesError(f"{source.name}: [question {arg}] names no question of "
                                      "docs/teacher_walkthrough.md (its headings: ### Q01 · ...).")
                notes.append(_qa_html(by_id[arg], lang))
            elif kind == "questions":
                for i, q in enumerate(mine):
                    if q.section == arg and i not in claimed:
                        claimed.add(i)
                        notes.append(_qa_html(q, lang))
        flush_md()
        pending_notes.append(notes)
        sections.append(_size_figures("\n".join(parts), assets))
    # questions no slide claimed go to the last slide: every one of them reaches the speaker
    rest = [_qa_html(q, lang) for i, q in enumerate(mine) if i not in claimed]
    if rest and pending_notes:
        pending_notes[-1].extend(rest)
    html_sections = []
    for body, notes in zip(sections, pending_notes, strict=True):
        aside = f'\n<aside class="notes">{"".join(notes)}</aside>' if notes else ""
        notes_count += bool(notes)
        html_sections.append(f"<section>\n{body}{aside}\n</section>")
    for section in html_sections:
        for bad in ARTEFACTS:
            if bad in section:
                raise SlidesError(f"{source} would show {bad!r}: pick another cell or other lines.")
    return Deck(name, title or name, html_sections, notes_count, len(html_sections))


FIGURE_BOX = (1184, 560)  # what a slide offers a picture below its title (1280×720 less margins)
TEXT_BLOCK = 80           # height taken by each other block on the slide (a line of text, a code block)
MAX_ZOOM = 1.6            # matplotlib figures are ~100 dpi: enlarge them for the back row, not more


def _size_figures(section: str, assets: Path) -> str:
    """Give each figure a width that fills what its slide leaves free, enlarging small ones."""
    from PIL import Image

    blocks = len(re.findall(r"<(?:p|ul|ol|pre)\b", section)) - len(re.findall(r"<p[^>]*>\s*<img", section))
    height = FIGURE_BOX[1] - TEXT_BLOCK * max(blocks, 0)
    figures = re.findall(r"\{SIZE:([^}]+)\}", section)
    for name in figures:
        with Image.open(assets / name) as img:
            w, h = img.size
        zoom = min(FIGURE_BOX[0] / w, height / max(1, len(figures)) / h, MAX_ZOOM)
        section = section.replace(f"{{SIZE:{name}}}", f' style="width: {round(w * zoom)}px"')
    return section


def _qa_html(q: Question, lang: str) -> str:
    """A question and its answer for the speaker. The walkthrough's Chinese halves are short and lean on
    the English (the numbers, the code), so a Chinese deck's notes carry both."""
    def md(text: str) -> str:
        return markdown(text).strip().removeprefix("<p>").removesuffix("</p>")

    if lang == "zh-CN" and q.question["zh-CN"] != q.question["en"]:
        return (f'<p class="qa"><strong>问：</strong>{md(q.question["zh-CN"])}'
                f' <span lang="en">({md(q.question["en"])})</span><br>'
                f'<strong>答：</strong>{md(q.answer["zh-CN"])}'
                f' <span lang="en">({md(q.answer["en"])})</span></p>')
    return (f'<p class="qa"><strong>Q:</strong> {md(q.question["en"])}<br>'
            f'<strong>A:</strong> {md(q.answer["en"])}</p>')


def _shot_alt(name: str, lang: str) -> str:
    sys.path.insert(0, str(ROOT / "tools"))
    from screenshots import SHOTS as ALL

    for shot in ALL:
        if shot.name == name:
            return shot.alt_zh if lang == "zh-CN" else shot.alt_en
    return name


def _figure_alt(md_text: str, lang: str) -> str:
    """A figure without its own alt text is described by its slide's title."""
    for line in md_text.splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return "图" if lang == "zh-CN" else "figure"


PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{up}{vendor}/reveal.js/dist/reveal.css">
<style>
{font_css}
{pygments}
.reveal {{ font-family: var(--r-main-font); font-size: 30px; color: #1a1a1a; }}
.reveal .slides section {{ text-align: left; height: 720px; box-sizing: border-box; padding: 28px 48px; }}
.reveal h1 {{ font-size: 56px; margin: 120px 0 24px; line-height: 1.15; }}
.reveal h2 {{ font-size: 40px; margin: 0 0 16px; line-height: 1.2; color: #0b3d91; }}
.reveal p, .reveal li {{ line-height: 1.35; margin: 6px 0; }}
.reveal ul, .reveal ol {{ margin: 0 0 8px 1.1em; padding: 0; }}
.reveal pre {{ margin: 10px 0; box-shadow: none; width: 100%; }}
.reveal pre code {{ display: block; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 22px; line-height: 1.35; padding: 10px 14px; max-height: none; overflow: hidden; white-space: pre-wrap;
  background: #f6f8fa; border-left: 5px solid #0b3d91; }}
.reveal pre.output code {{ background: #fff; border-left-color: #767676; color: #1a1a1a; }}
.reveal code {{ font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; }}
.reveal img.figure {{ display: block; margin: 8px auto; max-width: 100%; max-height: 540px; object-fit: contain; }}
.reveal img.shot {{ display: block; margin: 4px auto; max-width: 100%; max-height: 560px; object-fit: contain;
  border: 1px solid #999; }}
.reveal .missing {{ color: #a00; }}
.reveal .small {{ font-size: 24px; }}
.reveal a {{ color: #0b3d91; }}
.reveal .slide-number {{ font-size: 16px; background: #333; }}
</style>
</head>
<body>
<div class="reveal"><div class="slides">
{slides}
</div></div>
<script src="{up}{vendor}/reveal.js/dist/reveal.js"></script>
<script src="{up}{vendor}/reveal.js/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({{ width: 1280, height: 720, margin: 0, center: false, hash: true, slideNumber: "c/t",
  transition: "none", plugins: [ RevealNotes ] }});
</script>
</body>
</html>
"""


def write_deck(deck: Deck, out_dir: Path, lang: str) -> Path:
    from tools.build_cjk_font import web_font_css

    up = "../" if EDITION_DIRS[lang] else ""
    page = PAGE.format(lang="zh" if lang == "zh-CN" else lang, title=html.escape(deck.title), up=up, vendor=VENDOR_DIRNAME,
                       font_css=web_font_css(up + FONTS_DIRNAME), pygments=_pygments_css(),
                       slides="\n".join(deck.slides))
    path = out_dir / f"{deck.name}.html"
    path.write_text(page, encoding="utf-8")
    check_offline(page, out_dir, path.name)
    return path


# -- offline check (also used by the HTML export's tests) -----------------------------------------
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_QUOTED_REMOTE = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)""", re.IGNORECASE)
_CSS_REMOTE = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])((?:https?:)?//[^"')\s]+)""", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RESOURCE_ATTRS = ("src", "href", "data", "poster", "srcset", "background")
_DATA_SCRIPT_TYPES = ("application/json", "application/vnd.jupyter.widget-state+json")


class _ResourceFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.remote: list[str] = []
        self._in: str | None = None
        self._script_type = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag != "a":  # a link the reader may click is not a resource the page needs
            for name in _RESOURCE_ATTRS:
                value = attrs.get(name) or ""
                if _REMOTE.match(value):
                    self.remote.append(f"<{tag} {name}={value}>")
            if _CSS_REMOTE.search(attrs.get("style") or ""):
                self.remote.extend(f"<{tag} style> {u}" for u in _CSS_REMOTE.findall(attrs["style"]))
        if tag in ("script", "style"):
            self._in = tag
            self._script_type = (attrs.get("type") or "").lower()

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.remote.extend(f"<style> {u}" for u in _CSS_REMOTE.findall(_CSS_COMMENT.sub("", data)))
        elif self._in == "script" and self._script_type not in _DATA_SCRIPT_TYPES:
            self.remote.extend(f"<script> {u}" for u in _QUOTED_REMOTE.findall(data))


def remote_resources(page: str) -> list[str]:
    """Every network resource an HTML page would load: script/style/img/frame URLs and URLs in
    script string literals or CSS ``url()``/``@import``. Hyperlinks (``<a href>``) are not counted."""
    finder = _ResourceFinder()
    finder.feed(page)
    finder.close()
    return finder.remote


def local_resources(page: str, deck_dir: Path) -> list[Path]:
    """Relative script, style-sheet and image files a page loads, resolved against ``deck_dir``."""
    files = []
    for match in re.finditer(r"""<(?:script|link|img)\b[^>]*?(?:src|href)=["']([^"']+)["']""", page):
        url = html.unescape(match.group(1)).split("?")[0].split("#")[0]
        if url and not _REMOTE.match(url) and ":" not in url:
            files.append(deck_dir / url)
    return files


def css_remote_resources(css_file: Path, _seen: set[Path] | None = None) -> list[str]:
    """Network URLs a local style sheet loads through ``url()``/``@import``, following local ``@import``s."""
    seen = _seen if _seen is not None else set()
    css_file = css_file.resolve()
    if css_file in seen or not css_file.is_file():
        return []
    seen.add(css_file)
    text = _CSS_COMMENT.sub("", css_file.read_text(encoding="utf-8", errors="replace"))
    remote = [f"{css_file.name}: {u}" for u in _CSS_REMOTE.findall(text)]
    for rel in re.findall(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""", text):
        if not _REMOTE.match(rel):
            remote += css_remote_resources(css_file.parent / rel.split("?")[0], seen)
    return remote


def check_offline(page: str, deck_dir: Path, name: str) -> None:
    """Raise ``SlidesError`` if a deck needs the network or misses a file it loads."""
    remote = remote_resources(page)
    files = local_resources(page, deck_dir)
    for css in (f for f in files if f.suffix == ".css"):
        remote += css_remote_resources(css)
    if remote:
        raise SlidesError(f"{name} would load from the network: " + "; ".join(remote[:5]))
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise SlidesError(f"{name} references files that are missing: {missing[:5]}")


# -- vendored files, index, build -----------------------------------------------------------------
def copy_vendor(out: Path) -> None:
    missing = [f for f in VENDOR_FILES if not (VENDOR / f).is_file()]
    if missing:
        raise SlidesError(f"tools/vendor/reveal.js lacks {missing}: restore it from git (it is committed; "
                          "no npm is needed).")
    for rel in VENDOR_FILES:
        target = out / VENDOR_DIRNAME / "reveal.js" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(VENDOR / rel, target)


def copy_fonts(out: Path) -> None:
    fonts = out / FONTS_DIRNAME
    fonts.mkdir(parents=True, exist_ok=True)
    for name in ("NotoSansSC-Course.woff2", "OFL.txt"):
        shutil.copyfile(ROOT / "data" / "fonts" / name, fonts / name)


def write_index(out: Path, decks: list[tuple[str, str, int]], edition: str = "en",
                other: str | None = None) -> Path:
    """``index.html`` of one edition: a link per deck (relative: works from file://)."""
    from tools.build_cjk_font import web_font_css

    up = "../" if EDITION_DIRS.get(edition) else ""
    if edition == "zh-CN":
        lang, title, heading = "zh-CN", "幻灯片", "PyTorch池化与Dropout：幻灯片"
        intro = ("方向键翻页，<kbd>Esc</kbd>显示全部幻灯片，<kbd>s</kbd>打开演讲者备注（含教师指南的问题与答案）。"
                 "无需联网。")
        link = f'<p><a href="{other}">English edition</a></p>' if other else ""
        count = "张"
    else:
        lang, title, heading = "en", "Slides", "PyTorch pooling and dropout — slides"
        intro = ("Arrow keys move between slides, <kbd>Esc</kbd> shows the overview, <kbd>s</kbd> opens the "
                 "speaker notes (the walkthrough's questions and answers). Works offline.")
        link = f'<p><a href="{other}">中文版幻灯片</a></p>' if other else ""
        count = "slides"
    items = "\n".join(f'<li><a href="{html.escape(file)}">{html.escape(t)}</a> ({n} {count})</li>'
                      for file, t, n in decks)
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>{web_font_css(up + FONTS_DIRNAME)}
body{{font-family:var(--jp-content-font-family);max-width:44em;margin:3em auto;line-height:1.6;font-size:20px}}
</style></head>
<body><h1>{heading}</h1>
<p>{intro}</p>{link}
<ol>
{items}
</ol></body></html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def slide_source(lesson: Path, edition: str) -> Path:
    folder = SOURCES / EDITION_DIRS[edition] if EDITION_DIRS[edition] else SOURCES
    return folder / f"{lesson.stem}.md"


def build(lessons: list[Path] | None = None, out: Path | None = None, *, executed: Path | None = None,
          edition: str | None = None, quiet: bool = False, execute: bool = False,
          require_outputs: bool | None = None) -> list[Path]:
    """Decks for ``lessons`` (default: every lesson with a slide source, both editions) into ``out``.

    ``executed``: the folder of executed notebooks (default build/notebooks/; the Chinese ones in its
    zh-CN/). A lesson whose executed copy is missing is an error, unless ``require_outputs`` is False
    (then its committed notebook is used and each missing picture says so on its slide).
    """
    if execute:
        raise SlidesError("build_slides no longer executes notebooks: run `make demo`, then `make slides`.")
    out = Path(out or ROOT / "build" / "slides")
    executed = Path(executed or EXECUTED)
    if require_outputs is None:
        require_outputs = lessons is None
    editions = [edition] if edition else list(EDITION_DIRS)
    if lessons is None:
        lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    qs = questions()
    copy_vendor(out)
    copy_fonts(out)
    written: list[Path] = []
    for ed in editions:
        deck_dir = out / EDITION_DIRS[ed] if EDITION_DIRS[ed] else out
        deck_dir.mkdir(parents=True, exist_ok=True)
        index_entries = []
        for lesson in lessons:
            source = slide_source(lesson, ed)
            if not source.is_file():
                raise SlidesError(f"no slide source {source} for {lesson.name}: write one (see this tool's help)")
            nb_path = (executed / EDITION_DIRS[ed] if EDITION_DIRS[ed] else executed) / lesson.name
            if not nb_path.is_file() and not require_outputs:
                nb_path = (ROOT / "notebooks" / EDITION_DIRS[ed] if EDITION_DIRS[ed] else ROOT / "notebooks") \
                    / lesson.name
            nb = Notebook(nb_path, require_outputs=require_outputs)
            deck = render_deck(source, nb, ed, deck_dir, qs, "assets")
            path = write_deck(deck, deck_dir, ed)
            written.append(path)
            index_entries.append((path.name, deck.title, deck.slide_count))
            if not quiet:
                print(f"{ed:5} {path.relative_to(out)}: {deck.slide_count} slides, "
                      f"{deck.notes_count} with speaker notes")
        other = None
        if len(editions) > 1:
            other = "zh-CN/index.html" if ed == "en" else "../index.html"
        write_index(deck_dir, index_entries, ed, other)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    parser.add_argument("--executed", type=Path, default=EXECUTED,
                        help="folder of executed notebooks (default build/notebooks, from `make demo`)")
    parser.add_argument("--edition", choices=sorted(EDITION_DIRS), default=None)
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    try:
        paths = build(out=args.out, executed=args.executed, edition=args.edition, require_outputs=True)
    except SlidesError as err:
        print(f"make slides: {err}", file=sys.stderr)
        return 1
    print(f"{len(paths)} decks in {args.out} ({time.monotonic() - t0:.1f} s); open {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
