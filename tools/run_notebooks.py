"""Execute notebooks headless, each in a fresh kernel of *this* Python (the course's .venv).

    python tools/run_notebooks.py --demo            # every lesson and solution of both editions
    python tools/run_notebooks.py --edition zh-CN   # the Chinese lessons only
    python tools/run_notebooks.py notebooks/01_max_pooling.ipynb

Executed copies go to build/notebooks/ (the Chinese edition's to build/notebooks/zh-CN/; its code is
the English one, so it rewrites the same TensorBoard runs); `make site` (tools/build_site.py) makes the
website from them. A failing notebook stops the run and prints the failing cell and the error. The tests
import ``execute_notebook`` from here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402

DEFAULT_CELL_TIMEOUT = 300  # seconds per cell


class NotebookFailed(RuntimeError):
    """A notebook raised: the message names the notebook, the cell and the error."""


#: Editions: the folder of each language's lessons (the Chinese edition copies the code cells).
EDITIONS = {"en": ROOT / "notebooks", "zh-CN": ROOT / "notebooks" / "zh-CN"}


def lesson_notebooks(edition: str = "en") -> list[Path]:
    """The lessons of one edition, in order: NN_*.ipynb in its folder (solutions live apart)."""
    return sorted(EDITIONS[edition].glob("[0-9][0-9]_*.ipynb"))


def solution_notebooks(edition: str = "en") -> list[Path]:
    return sorted((EDITIONS[edition] / "solutions").glob("*.ipynb"))


class ExecutedNotebook:
    """A notebook run top to bottom whose kernel is still alive, so tests can read its values.

    ``value(expr)`` evaluates ``expr`` in the notebook's namespace and returns it as plain Python
    (tensors and arrays become nested lists, tuples lists, ``torch.Size`` a list); ``run(code)``
    executes more code there. ``close()`` (or leaving the ``with`` block) shuts the kernel down.
    """

    def __init__(self, nb, seconds: float, client, km):
        self.nb, self.seconds, self._client, self._km = nb, seconds, client, km
        self._prepared = False

    def run(self, code: str, timeout: int = DEFAULT_CELL_TIMEOUT) -> None:
        """Execute ``code`` in the notebook's kernel; raise ``NotebookFailed`` if it raises."""
        reply = self._client.kc.execute_interactive(code, timeout=timeout, output_hook=lambda m: None)
        if reply["content"]["status"] != "ok":
            c = reply["content"]
            raise NotebookFailed(f"{code!r} raised {c.get('ename')}: {c.get('evalue')}")

    def value(self, expr: str):
        """``expr`` evaluated in the notebook's namespace, as JSON-able Python."""
        if not self._prepared:
            self.run(_JSONABLE)
            self._prepared = True
        fd, out = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        try:
            self.run(f"__course_dump__(({expr}), {out!r})")
            return json.loads(Path(out).read_text(encoding="utf-8"))
        finally:
            os.unlink(out)

    def close(self) -> None:
        _shutdown(self._km)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_JSONABLE = """
def __course_dump__(value, path):
    import json, math
    def plain(v):
        if hasattr(v, "tolist"):
            return plain(v.tolist())
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        return repr(v)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(plain(value), f)
"""


def _shutdown(km) -> None:
    if km is not None and km.has_kernel:  # we own it: shut it down and remove its sockets
        km.shutdown_kernel(now=True)
        km.cleanup_resources()
        if km.transport == "ipc":
            shutil.rmtree(Path(km.ip).parent, ignore_errors=True)


def run_notebook(path: str | Path, *, timeout: int = DEFAULT_CELL_TIMEOUT,
                 env: dict[str, str] | None = None) -> ExecutedNotebook:
    """Run a notebook top to bottom in a fresh kernel and keep the kernel for inspection.

    The kernel runs in the notebook's folder with this interpreter, ``COURSE_HEADLESS=1`` plus
    ``env``, and talks to us over local sockets (IPC) on POSIX, never TCP. Raises ``NotebookFailed``
    naming the cell on any error (the kernel is then shut down). Use as a context manager.
    """
    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    kernel_env = {**os.environ, "COURSE_HEADLESS": "1",
                  "PYDEVD_DISABLE_FILE_VALIDATION": "1", **(env or {})}
    from jupyter_client.manager import KernelManager

    # ipykernel's own "python3" spec runs `python`, which jupyter_client replaces by this interpreter.
    if os.name == "posix":
        km = KernelManager(transport="ipc",
                           ip=str(Path(tempfile.mkdtemp(prefix="course-kernel-")) / "kernel"))
    else:
        km = KernelManager()
    client = NotebookClient(nb, km=km, timeout=timeout,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute(env=kernel_env)
    except CellExecutionError as err:
        _shutdown(km)
        index = next((i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"
                      and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"cell {index}" if index is not None else "a cell"
        source = nb.cells[index].source if index is not None else ""
        raise NotebookFailed(
            f"{path.name} failed in {where}:\n--- cell source ---\n{source}\n--- error ---\n{err}"
        ) from None
    except BaseException:
        _shutdown(km)
        raise
    return ExecutedNotebook(nb, time.perf_counter() - start, client, km)


def execute_notebook(path: str | Path, *, timeout: int = DEFAULT_CELL_TIMEOUT,
                     env: dict[str, str] | None = None) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook top to bottom in a fresh kernel; return (executed notebook, seconds)."""
    with run_notebook(path, timeout=timeout, env=env) as run:
        return run.nb, run.seconds


#: nbconvert's "lab" page without the two scripts it loads from a CDN whatever the notebook holds
#: (require.js, only for widgets; mermaid, only for diagrams): the lessons use neither.
OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def export(nb: nbformat.NotebookNode, name: str, build: Path, html: bool = True) -> Path:
    """Write the executed notebook and a self-contained HTML export under ``build``; return the HTML.

    ``html=False``: only the executed notebook (``make demo``: the website, ``make site``, is built
    from it; tools/build_site.py).

    The page loads nothing from the network: images are embedded, and MathJax comes from
    ``build/html/mathjax/`` (copied from the jupyter-server-mathjax package), not from a CDN.
    Chinese is drawn with the course's font, copied to ``build/html/fonts/`` (an ``@font-face``),
    so it renders on a machine without a CJK font; Chinese pages (``zh-CN/...``) say ``lang="zh"``.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    from tools.build_cjk_font import install_web_font, web_font_css

    (build / "notebooks" / name).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, build / "notebooks" / name)
    if not html:
        return build / "notebooks" / name
    page = build / "html" / Path(name).with_suffix(".html")
    page.parent.mkdir(parents=True, exist_ok=True)
    mathjax = build / "html" / "mathjax"
    if not (mathjax / "MathJax.js").exists():
        import jupyter_server_mathjax

        shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", mathjax,
                        dirs_exist_ok=True)
    nb = nbformat.from_dict(nb)
    nb.metadata.pop("widgets", None)  # saved widget state would load its renderer from unpkg.com
    install_web_font(build / "html" / "fonts")
    relative = os.path.relpath(mathjax, page.parent).replace(os.sep, "/")
    zh = name.startswith("zh-CN/")
    exporter = HTMLExporter(embed_images=True, mathjax_url=f"{relative}/MathJax.js?config="
                            "TeX-AMS-MML_HTMLorMML-full,Safe",
                            extra_loaders=[DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})],
                            template_file="offline.html.j2", language_code="zh" if zh else "en")
    html, _ = exporter.from_notebook_node(nb)
    fonts = os.path.relpath(build / "html" / "fonts", page.parent).replace(os.sep, "/")
    html = html.replace("</head>", f"<style>\n{web_font_css(fonts)}</style>\n</head>", 1)
    page.write_text(html, encoding="utf-8")
    return page


def print_summary(logdir: Path, build: Path) -> None:
    from utils.tensorboard_logging import command_line, event_files, tensorboard_args

    runs = sorted({p.parent for p in logdir.rglob("*tfevents*")}) if logdir.exists() else []
    print(f"\nTensorBoard runs under {logdir}:")
    for run in runs:
        files = event_files(run)
        warn = "" if len(files) == 1 else f"  (!) {len(files)} event files"
        size = sum(p.stat().st_size for p in files) / 1e6
        print(f"  {run.relative_to(logdir).as_posix():<34} {size:6.2f} MB{warn}")
    try:
        from contact_sheets import write_contact_sheets
    except ImportError:
        pass
    else:
        if write_contact_sheets(logdir, build / "contact_sheets"):
            print(f"\nContact sheets (for projectors and handouts): {build / 'contact_sheets'}")
    print(f"\nExecuted notebooks: {build / 'notebooks'}\nThe course website (offline, both editions): make site"
          f"  ->  {build / 'site' / 'index.html'}  中文版: {build / 'site' / 'zh-CN' / 'index.html'}")
    tensorboard = Path(sys.executable).with_name("tensorboard")
    print("\nTo browse the images, run:\n  make tensorboard\nor directly:\n  "
          + command_line([str(tensorboard), *tensorboard_args(logdir)]))
    print("then open the address it prints, adding #images (e.g. http://127.0.0.1:6006/#images)")


def _relative_name(path: Path) -> str:
    """``01_x.ipynb``, ``solutions/01_x_solutions.ipynb`` or ``zh-CN/01_x.ipynb``: its place in notebooks/."""
    try:
        return Path(path).resolve().relative_to(ROOT / "notebooks").as_posix()
    except ValueError:
        return Path(path).name


def main(argv: list[str] | None = None) -> int:
    from utils.environment import build_dir, logs_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: lessons)")
    parser.add_argument("--demo", action="store_true", help="run every lesson and print a summary")
    parser.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, help="seconds per cell")
    parser.add_argument("--edition", choices=["all", *EDITIONS], default="all",
                        help="lessons of which edition, when no notebook is named (default: all)")
    args = parser.parse_args(argv)

    editions = list(EDITIONS) if args.edition == "all" else [args.edition]
    notebooks = args.notebooks or [p for e in editions for p in lesson_notebooks(e)]
    if args.demo and not args.notebooks:  # the website (make site) shows the worked solutions run too
        notebooks += [p for e in editions for p in solution_notebooks(e)]
    if not notebooks:
        print("No notebooks found in notebooks/.", file=sys.stderr)
        return 1
    build = build_dir()
    total_start = time.perf_counter()
    for path in notebooks:
        name = _relative_name(path)
        print(f"running {name} ...", end=" ", flush=True)
        try:  # the Chinese edition (same code) rewrites the same runs, as a second `make demo` does
            nb, seconds = execute_notebook(path, timeout=args.timeout)
        except NotebookFailed as err:
            print("FAILED\n")
            print(err, file=sys.stderr)
            return 1
        export(nb, name, build, html=False)
        print(f"ok  {seconds:6.1f} s")
    print(f"{len(notebooks)} notebooks executed in {time.perf_counter() - total_start:.1f} s")
    if args.demo or not args.notebooks:
        print_summary(logs_dir(), build)
    return 0


if __name__ == "__main__":
    sys.exit(main())
