"""Execute notebooks headless, each in a fresh kernel of *this* Python (the course's .venv).

    python tools/run_notebooks.py --demo            # every lesson, build/ + logs/ + summary
    python tools/run_notebooks.py notebooks/01_max_pooling.ipynb

Executed copies go to build/notebooks/, HTML exports to build/html/. A failing notebook stops the run
and prints the failing cell and the error. The tests import ``execute_notebook`` from here.
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

KERNEL_NAME = "course-python"
DEFAULT_CELL_TIMEOUT = 300  # seconds per cell


class NotebookFailed(RuntimeError):
    """A notebook raised: the message names the notebook, the cell and the error."""


def lesson_notebooks() -> list[Path]:
    """The lessons, in order: notebooks/NN_*.ipynb (solutions live apart)."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def solution_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))


def _kernel_dir() -> Path:
    """A kernel spec that runs this very interpreter, found first through JUPYTER_PATH."""
    base = Path(tempfile.gettempdir()) / f"course-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
    spec_dir = base / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (course .venv)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return base


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
    kernel_base = _kernel_dir()
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(kernel_base)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    )
    kernel_env = {**os.environ, "COURSE_HEADLESS": "1",
                  "PYDEVD_DISABLE_FILE_VALIDATION": "1", **(env or {})}
    from jupyter_client.manager import KernelManager

    if os.name == "posix":
        km = KernelManager(kernel_name=KERNEL_NAME, transport="ipc",
                           ip=str(Path(tempfile.mkdtemp(prefix="course-kernel-")) / "kernel"))
    else:
        km = KernelManager(kernel_name=KERNEL_NAME)
    client = NotebookClient(nb, km=km, timeout=timeout, kernel_name=KERNEL_NAME,
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


def export(nb: nbformat.NotebookNode, name: str, build: Path) -> None:
    """Write the executed notebook and its HTML export under ``build``."""
    from nbconvert import HTMLExporter

    (build / "notebooks").mkdir(parents=True, exist_ok=True)
    (build / "html").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, build / "notebooks" / name)
    html, _ = HTMLExporter().from_notebook_node(nb)
    (build / "html" / (Path(name).stem + ".html")).write_text(html, encoding="utf-8")


def print_summary(logdir: Path, build: Path) -> None:
    from utils.tensorboard_logging import summarize_logs, tensorboard_args

    rows = summarize_logs(logdir)
    total = sum(p.stat().st_size for p in logdir.rglob("*") if p.is_file()) if logdir.exists() else 0
    print(f"\nTensorBoard runs under {logdir}:")
    for row in rows:
        tags = ", ".join(row["image_tags"] + row["scalar_tags"])
        warn = "" if row["event_files"] == 1 else f"  (!) {row['event_files']} event files"
        print(f"  {row['run']:<34} {row['steps']:>4} steps  {row['bytes'] / 1e6:6.2f} MB  [{tags}]{warn}")
    print(f"  total {total / 1e6:.2f} MB in {len(rows)} runs")
    try:
        from utils.contact_sheet import write_contact_sheets
    except ImportError:
        pass
    else:
        sheets = write_contact_sheets(logdir, build / "contact_sheets")
        if sheets:
            print(f"\nContact sheets (for projectors and handouts): {build / 'contact_sheets'}")
    print(f"\nExecuted notebooks: {build / 'notebooks'}   HTML: {build / 'html'}")
    print("\nTo browse the images, run:\n  make tensorboard")
    print("or directly:\n  .venv/bin/tensorboard " + " ".join(tensorboard_args(logdir)))
    print("then open http://127.0.0.1:6006/#images")


def main(argv: list[str] | None = None) -> int:
    from utils.environment import build_dir, logs_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: lessons)")
    parser.add_argument("--demo", action="store_true", help="run every lesson and print a summary")
    parser.add_argument("--timeout", type=int, default=DEFAULT_CELL_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)

    notebooks = args.notebooks or lesson_notebooks()
    if not notebooks:
        print("No notebooks found in notebooks/.", file=sys.stderr)
        return 1
    build = build_dir()
    total_start = time.perf_counter()
    for path in notebooks:
        print(f"running {path.name} ...", end=" ", flush=True)
        try:
            nb, seconds = execute_notebook(path, timeout=args.timeout)
        except NotebookFailed as err:
            print("FAILED\n")
            print(err, file=sys.stderr)
            return 1
        export(nb, path.name, build)
        print(f"ok  {seconds:6.1f} s")
    print(f"{len(notebooks)} notebooks executed in {time.perf_counter() - total_start:.1f} s")
    if args.demo or not args.notebooks:
        print_summary(logs_dir(), build)
    return 0


if __name__ == "__main__":
    sys.exit(main())
