"""Build one offline reveal.js slide deck per lesson notebook into build/slides/.

    python tools/build_slides.py                      # every lesson, executed, into build/slides/
                                                      # (the Chinese edition into build/slides/zh-CN/)
    python tools/build_slides.py notebooks/01_max_pooling.ipynb --no-execute
    python tools/build_slides.py --out /tmp/slides

How it works
------------
* Each lesson is executed headless in a fresh kernel (so slides show code *and* its picture), with
  TensorBoard runs written to a temporary folder (``logs/`` is left alone). ``--no-execute`` converts
  the committed notebook as it is (code only, no outputs).
* ``nbconvert``'s ``SlidesExporter`` turns it into ``NN_name.slides.html``, one slide per cell marked
  ``slide``, a vertical sub-slide per ``subslide``, nothing for ``skip`` (the setup cell).
* reveal.js, require.js, jQuery and MathJax 2 come from npm packages at pinned versions, installed once
  into ``build/slides/vendor/`` (``npm install --prefix``, reused from npm's cache when offline) and
  referenced by RELATIVE paths. The deck folder therefore works from ``file://`` with no network: copy
  ``build/slides/`` to a USB stick and open ``index.html``. nbconvert's defaults would load all four from
  CDNs and render blank slides offline.
* Chinese is drawn with the course's own font (``data/fonts/``, see tools/build_cjk_font.py), copied to
  ``build/slides/fonts/`` and loaded by an ``@font-face``: no □ on a machine without a CJK font. The
  Chinese edition's decks (``notebooks/zh-CN/``) go to ``build/slides/zh-CN/`` and share vendor/ and fonts/.
* After writing each deck, every resource it references is checked: a script, style sheet, image, frame
  or module import with an ``http(s)://`` or ``//`` URL is an error (plain ``<a href>`` links are fine).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: npm packages the decks load, pinned. reveal.js 4.x matches the layout nbconvert's reveal template
#: expects (dist/reveal.js, dist/theme/, plugin/notes/); MathJax 2.7 because the template calls the
#: MathJax 2 API (MathJax.Hub).
VENDOR_PACKAGES = {
    "reveal.js": "4.6.1",
    "requirejs": "2.3.8",
    "jquery": "3.7.1",
    "mathjax": "2.7.9",
}
VENDOR_DIRNAME = "vendor"
FONTS_DIRNAME = "fonts"  # the course's Chinese font, next to vendor/
EDITION_DIRS = {"en": "", "zh-CN": "zh-CN"}  # where each edition's decks go, inside build/slides/
TEMPLATE_FILE = ROOT / "tools" / "slides_template" / "course_slides.html.j2"

#: Relative URLs, from a deck in build/slides/ to the vendored files.
_MODULES = f"{VENDOR_DIRNAME}/node_modules"
RELATIVE_URLS = {
    "reveal_url_prefix": f"{_MODULES}/reveal.js",
    "require_js_url": f"{_MODULES}/requirejs/require.js",
    "jquery_url": f"{_MODULES}/jquery/dist/jquery.min.js",
    "mathjax_url": f"{_MODULES}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
}
#: Files that must exist in the vendor folder for the decks to work.
VENDOR_FILES = (
    "reveal.js/dist/reveal.js",
    "reveal.js/dist/reveal.css",
    "reveal.js/dist/theme/white.css",
    "reveal.js/plugin/notes/notes.js",
    "requirejs/require.js",
    "jquery/dist/jquery.min.js",
    "mathjax/MathJax.js",
    "mathjax/config/TeX-AMS_CHTML-full.js",
)


class SlidesError(RuntimeError):
    """Slides could not be built; the message says why and what to do."""


# -- vendored JavaScript ------------------------------------------------------------------------
def installed_version(vendor: Path, package: str) -> str | None:
    """Version of ``package`` in ``vendor/node_modules``, or None if it is not there."""
    manifest = vendor / "node_modules" / package / "package.json"
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError):
        return None


def missing_packages(vendor: Path) -> list[str]:
    """``name@version`` specs that are absent or at another version than pinned."""
    missing = [
        f"{name}@{version}"
        for name, version in VENDOR_PACKAGES.items()
        if installed_version(vendor, name) != version
    ]
    if not missing:
        for rel in VENDOR_FILES:
            if not (vendor / "node_modules" / rel).is_file():
                name = rel.split("/")[0]
                missing.append(f"{name}@{VENDOR_PACKAGES[name]}")
    return sorted(set(missing))


def ensure_vendor(vendor: Path, *, npm: str | None = None, quiet: bool = False) -> Path:
    """Install the pinned packages into ``vendor/node_modules`` if any is missing; return ``vendor``.

    Uses ``npm install --prefix vendor --prefer-offline``: after the first install npm's own cache
    serves the packages, so ``make clean && make slides`` works offline too.
    """
    missing = missing_packages(vendor)
    if not missing:
        return vendor
    npm = npm or shutil.which("npm")
    if not npm:
        raise SlidesError(
            "npm is needed once to fetch reveal.js, require.js, jQuery and MathJax for offline slides "
            f"(missing: {', '.join(missing)}). Install Node.js with npm (https://nodejs.org, or "
            "`sudo apt-get install npm`), then run `make slides` again."
        )
    vendor.mkdir(parents=True, exist_ok=True)
    command = [
        npm,
        "install",
        "--prefix",
        str(vendor),
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        "--loglevel=error",
        *missing,
    ]
    if not quiet:
        print("installing " + " ".join(missing) + f" into {vendor} ...", flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SlidesError(
            f"`{' '.join(command)}` failed (exit {result.returncode}):\n{result.stderr.strip()}\n"
            "The first `make slides` needs the npm registry (later runs use npm's cache). Check the "
            "network or a proxy (npm config get registry), then run `make slides` again."
        )
    # Copies of files MathJax never loads (26 MB); the decks use the packed files only.
    shutil.rmtree(vendor / "node_modules" / "mathjax" / "unpacked", ignore_errors=True)
    still = missing_packages(vendor)
    if still:
        raise SlidesError(
            f"npm reported success but {', '.join(still)} is still missing in {vendor}."
        )
    return vendor


# -- conversion -----------------------------------------------------------------------------------
def notebook_title(nb) -> str:
    """The first Markdown heading of a notebook (its ``# NN · English · 中文`` title)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def slides_exporter(up: str = "", language: str = "en"):
    """An nbconvert ``SlidesExporter`` that loads everything from ``vendor/`` by relative paths
    (``up``: ``"../"`` for a deck one folder below vendor/, as the Chinese edition's are)."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    for trait, url in RELATIVE_URLS.items():
        setattr(config.SlidesExporter, trait, up + url)
    config.SlidesExporter.language_code = language
    # "white" loads its font from reveal.js's own folder; "simple" (nbconvert's default) and most
    # other themes @import Google Fonts.
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_scroll = (
        True  # a tall code+figure slide scrolls instead of clipping
    )
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.exclude_input_prompt = True
    config.SlidesExporter.exclude_output_prompt = True
    return SlidesExporter(config=config, template_file=str(TEMPLATE_FILE))


def notebook_to_slides(nb, name: str, up: str = "", language: str = "en") -> str:
    """HTML of one deck. ``name`` is used for the page title when the notebook has no heading;
    ``up`` leads from the deck's folder to the one holding vendor/ and fonts/."""
    import copy

    import nbformat

    from tools.build_cjk_font import web_font_css

    nb = nbformat.from_dict(copy.deepcopy(dict(nb)))
    # Saved widget state would pull the widget renderer from unpkg.com; outputs keep a text fallback.
    nb.metadata.pop("widgets", None)
    nb.metadata["title"] = notebook_title(nb) or name
    resources = {"course_font_css": web_font_css(up + FONTS_DIRNAME)}
    body, _ = slides_exporter(up, language).from_notebook_node(nb, resources=resources)
    return body


# -- offline check --------------------------------------------------------------------------------
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_QUOTED_REMOTE = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)""", re.IGNORECASE)
_CSS_REMOTE = re.compile(
    r"""(?:url\(\s*["']?|@import\s+["'])((?:https?:)?//[^"')\s]+)""", re.IGNORECASE
)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_RESOURCE_ATTRS = ("src", "href", "data", "poster", "srcset", "background")
_DATA_SCRIPT_TYPES = (
    "application/json",
    "application/vnd.jupyter.widget-state+json",
    "application/vnd.jupyter.widget-view+json",
    "text/x-mathjax-config",
)


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
                self.remote.extend(
                    f"<{tag} style> {u}" for u in _CSS_REMOTE.findall(attrs["style"])
                )
        if tag in ("script", "style"):
            self._in = tag
            self._script_type = (attrs.get("type") or "").lower()

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "style":
            self.remote.extend(
                f"<style> {u}" for u in _CSS_REMOTE.findall(_CSS_COMMENT.sub("", data))
            )
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
    """Relative script and style-sheet files a page loads, resolved against ``deck_dir``."""
    files = []
    for match in re.finditer(r"""<(?:script|link)\b[^>]*?(?:src|href)=["']([^"']+)["']""", page):
        url = html.unescape(match.group(1)).split("?")[0].split("#")[0]
        if url and not _REMOTE.match(url) and ":" not in url:
            files.append(deck_dir / url)
    return files


def css_remote_resources(css_file: Path, _seen: set[Path] | None = None) -> list[str]:
    """Network URLs a local style sheet loads through ``url()``/``@import``, following local
    ``@import``s (a reveal.js theme may pull Google Fonts this way)."""
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
    """Raise ``SlidesError`` if a deck needs the network or misses a vendored file."""
    remote = remote_resources(page)
    files = local_resources(page, deck_dir)
    for css in (f for f in files if f.suffix == ".css"):
        remote += css_remote_resources(css)
    if remote:
        raise SlidesError(f"{name} would load from the network: " + "; ".join(remote[:5]))
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise SlidesError(f"{name} references files that are missing: {missing[:5]}")


# -- index page -----------------------------------------------------------------------------------
def write_index(out: Path, decks: list[tuple[str, str]], edition: str = "en",
                other: str | None = None) -> Path:
    """``out/index.html``: one link per deck (relative, so it works from file:// too), in the
    edition's language; ``other``: the relative URL of the other edition's index, if built."""
    from tools.build_cjk_font import web_font_css

    items = "\n".join(
        f'<li><a href="{html.escape(file)}">{html.escape(title)}</a></li>' for file, title in decks
    )
    up = "../" if EDITION_DIRS.get(edition) else ""
    if edition == "zh-CN":
        lang, title, heading = "zh-CN", "幻灯片", "PyTorch池化与Dropout：幻灯片"
        intro = ("方向键翻页（向下键看子页），<kbd>Esc</kbd>显示全部幻灯片，<kbd>s</kbd>打开演讲者备注。"
                 "无需联网。")
        link = f'<p><a href="{other}">English edition</a></p>' if other else ""
    else:
        lang, title, heading = "en", "Slides", "PyTorch pooling and dropout — slides"
        intro = ("Arrow keys move between slides (down for sub-slides), <kbd>Esc</kbd> shows the "
                 "overview, <kbd>s</kbd> opens speaker notes. Works offline.")
        link = f'<p><a href="{other}">中文版幻灯片</a></p>' if other else ""
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>{web_font_css(up + FONTS_DIRNAME)}
body{{font-family:var(--jp-content-font-family);max-width:44em;margin:3em auto;line-height:1.6}}
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


# -- main -----------------------------------------------------------------------------------------
def load_notebook(path: Path, *, execute: bool, timeout: int, logs: Path):
    """The notebook to convert: executed in a fresh kernel (runs go to ``logs``) or as committed."""
    import nbformat

    if not execute:
        return nbformat.read(path, as_version=4)
    from tools.run_notebooks import execute_notebook

    nb, _ = execute_notebook(path, timeout=timeout, env={"COURSE_LOGS_DIR": str(logs)})
    return nb


def build(
    notebooks: list[Path],
    out: Path,
    *,
    execute: bool = True,
    timeout: int = 300,
    quiet: bool = False,
    edition: str = "en",
    other: str | None = None,
) -> list[Path]:
    """Build one deck per notebook into ``out`` (``edition="zh-CN"``: into ``out/zh-CN/``, sharing
    ``out/vendor`` and ``out/fonts``); return the deck paths. Raises ``SlidesError``.
    ``other``: link of the other edition's index (relative to this edition's index)."""
    from tools.build_cjk_font import install_web_font

    out.mkdir(parents=True, exist_ok=True)
    ensure_vendor(out / VENDOR_DIRNAME, quiet=quiet)
    install_web_font(out / FONTS_DIRNAME)
    folder, up = out / EDITION_DIRS[edition], "../" if EDITION_DIRS[edition] else ""
    folder.mkdir(parents=True, exist_ok=True)
    decks, failed, entries = [], [], []
    with tempfile.TemporaryDirectory(prefix="course-slides-logs-") as logs:
        for path in notebooks:
            path = Path(path)
            if not quiet:
                print(f"slides {path.name} ...", end=" ", flush=True)
            status = "ok"
            try:
                nb = load_notebook(path, execute=execute, timeout=timeout, logs=Path(logs))
            except Exception as err:  # a broken lesson still gets a deck, without outputs
                failed.append(f"{path.name}: {str(err).splitlines()[0]}")
                status = "built WITHOUT outputs (execution failed)"
                nb = _read(path)
            page = notebook_to_slides(nb, path.stem, up, "zh" if up else "en")  # ISO 639-1
            deck = folder / f"{path.stem}.slides.html"
            check_offline(page, folder, deck.name)
            deck.write_text(page, encoding="utf-8")
            decks.append(deck)
            entries.append((deck.name, notebook_title(nb) or path.stem))
            if not quiet:
                print(status, flush=True)
    write_index(folder, entries, edition, other)
    if failed:
        raise SlidesError(
            "decks built, but these notebooks failed to execute (their decks show "
            "code without outputs):\n  " + "\n  ".join(failed)
        )
    return decks


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def main(argv: list[str] | None = None) -> int:
    from tools.run_notebooks import lesson_notebooks

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: every lesson)")
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default build/slides)"
    )
    parser.add_argument("--no-execute", action="store_true", help="convert without running")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell when executing")
    args = parser.parse_args(argv)

    if args.notebooks:  # each to its edition's folder: notebooks/zh-CN/ ones to zh-CN/
        zh = [p for p in args.notebooks if "zh-CN" in p.resolve().parts]
        editions = {"en": [p for p in args.notebooks if p not in zh], "zh-CN": zh}
    else:
        editions = {edition: lesson_notebooks(edition) for edition in EDITION_DIRS}
    editions = {edition: paths for edition, paths in editions.items() if paths}
    if not editions:
        print("No notebooks found in notebooks/.", file=sys.stderr)
        return 1
    both = len(editions) == 2
    if args.out is None:
        from utils.environment import build_dir  # imports torch: only when it is needed

        args.out = build_dir() / "slides"
    out = args.out.resolve()
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    decks = []
    try:
        for edition, notebooks in editions.items():
            other = ("zh-CN/index.html" if edition == "en" else "../index.html") if both else None
            decks += build(notebooks, out, execute=not args.no_execute, timeout=args.timeout,
                           edition=edition, other=other)
    except SlidesError as err:
        print(f"\nmake slides: {err}", file=sys.stderr)
        return 1
    print(f"{len(decks)} decks in {out}; open {out / 'index.html'} (works offline, also from "
          f"file://); 中文版: {out / 'zh-CN' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
