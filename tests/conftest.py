"""Shared fixtures. Notebooks are executed once per test session, into a temporary logs folder,
so the notebook tests and the TensorBoard end-to-end tests read the same runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # tests import the tools as modules


def pytest_configure(config):
    """Set up each process that runs tests. The xdist controller (``-n 2``) runs none: it skips
    this and imports neither torch, hypothesis nor nbformat, so the workers start seconds sooner."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    import torch
    from hypothesis import settings

    # Property tests: few examples while developing (`make test-fast`), many in CI (env CI set).
    settings.register_profile("dev", max_examples=25, deadline=None)
    settings.register_profile("ci", max_examples=300, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
    # Tests use tiny tensors: one intra-op thread per process. Two threads per process under `-n 2`
    # on a busy 2-core machine spin against each other (lesson 05's train(): 0.05 s -> 6 s).
    torch.set_num_threads(1)


def all_notebooks() -> list[Path]:
    """Every notebook the course ships: lessons first, then worked solutions."""
    from run_notebooks import lesson_notebooks, solution_notebooks

    return lesson_notebooks() + solution_notebooks()


@pytest.fixture(scope="session")
def notebook_logs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebook_logs")


@pytest.fixture(scope="session")
def notebook_runs(notebook_logs_dir, tmp_path_factory):
    """Each notebook executed at most once per test session, its kernel kept alive for inspection.

    ``notebook_runs("notebooks/01_max_pooling.ipynb")`` (a path relative to the repository, or just
    ``"01_max_pooling"`` for a lesson) returns a ``run_notebooks.ExecutedNotebook``: ``.nb`` is the
    executed notebook, ``.value("expr")`` reads a value the notebook computed, in its own kernel.
    A notebook that failed raises ``NotebookFailed`` in every test that asks for it.
    """
    from run_notebooks import NotebookFailed, run_notebook

    build = tmp_path_factory.mktemp("notebook_build")
    env = {"COURSE_LOGS_DIR": str(notebook_logs_dir), "COURSE_BUILD_DIR": str(build)}
    runs: dict[str, object] = {}

    def get(key: str):
        if "/" not in key:
            key = f"notebooks/{key.removesuffix('.ipynb')}.ipynb"
        if key not in runs:
            try:
                runs[key] = run_notebook(ROOT / key, env=env)
            except NotebookFailed as err:
                runs[key] = err
        result = runs[key]
        if isinstance(result, NotebookFailed):
            raise result
        return result

    yield get
    for result in runs.values():
        if not isinstance(result, NotebookFailed):
            result.close()


@pytest.fixture(scope="session")
def executed_notebooks(notebook_runs):
    """Execute every notebook once; returns {relative path: (notebook, seconds, error or None)}."""
    from run_notebooks import NotebookFailed

    results = {}
    for path in all_notebooks():
        key = path.relative_to(ROOT).as_posix()
        try:
            run = notebook_runs(key)
        except NotebookFailed as err:
            results[key] = (None, 0.0, str(err))
        else:
            results[key] = (run.nb, run.seconds, None)
    return results


def free_port() -> int:
    """A port nothing listens on right now (the system picks it), on 127.0.0.1."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def go_offline(monkeypatch) -> None:
    """Make every HTTP(S) request of this test fail at once, as on a machine without a network.

    All proxies point at a closed local port. ``urllib.request.urlopen`` caches one opener per
    process with the proxies it saw when first built, so the cache is reset for this test only
    (monkeypatch restores it): an opener built here must never reach later tests that talk to
    TensorBoard on 127.0.0.1.
    """
    import urllib.request

    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, closed)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(urllib.request, "_opener", None)


CHROMIUM = "/usr/bin/chromium"  # Debian's package; playwright drives it (never `playwright install`)


def browser_or_skip() -> None:
    """Skip a browser test where Chromium or playwright is missing; in CI (``CI`` set) fail instead."""
    import os
    import shutil

    reasons = []
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        reasons.append(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reasons.append("the Python package playwright is not installed (requirements-dev.txt)")
    if reasons:
        message = "browser test not run: " + "; ".join(reasons)
        if os.environ.get("CI"):
            pytest.fail(message + " -- in CI this test must run (.ci/run installs chromium).")
        pytest.skip(message)


def allow_only(page, *prefixes: str) -> list[str]:
    """Let ``page`` load only URLs starting with one of ``prefixes``; the list of the others it tried
    (aborted, as on a machine without a network) fills in as the page runs."""
    blocked: list[str] = []

    def route(r):
        if r.request.url.startswith(prefixes):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    return blocked


#: JavaScript: every TensorBoard image card (`tf-image-loader`) on the page, through shadow roots.
WALK_CARDS = """
    const cards = [];
    const walk = (root) => root.querySelectorAll('*').forEach((el) => {
        if (el.localName === 'tf-image-loader') cards.push(el);
        if (el.shadowRoot) walk(el.shadowRoot);
    });
    walk(document);
"""


#: What a Python "from another environment" lacks in the wrong-kernel tests: the course's own stack.
WITHOUT_TORCH = ("torch", "torchvision", "torchgen", "functorch")


def python_without(dest: Path, hidden: tuple[str, ...] = WITHOUT_TORCH) -> Path:
    """A real virtual environment at ``dest`` holding every package of this one except ``hidden``
    (symlinked, so it takes a second and no download): Jupyter, ipykernel and numpy are there, torch
    is not, like a student's other Python. Returns its python executable."""
    import re
    import sysconfig
    import venv

    venv.EnvBuilder(with_pip=False, symlinks=True).create(dest)
    site = next((dest / "lib").glob("python3*/site-packages"))
    names = "|".join(map(re.escape, hidden))
    pattern = re.compile(rf"^({names})([-.]|$)", re.I)
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not pattern.match(entry.name) and not (site / entry.name).exists():
            (site / entry.name).symlink_to(entry)
    return dest / "bin" / "python"


def make_recipe(target: str, *variables: str) -> str:
    """The one shell command ``make <target>`` runs (``make -n``, the venv taken as built), joined
    across backslash-newlines: tests run or compare the Makefile's own command, never a copy."""
    import subprocess

    out = subprocess.run(["make", "-s", "-n", "-o", ".venv/.stamp", target, *variables], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    command = out.replace("\\\n", " ").strip()
    assert command.count("\n") == 0, f"`make {target}` should run one command, got:\n{out}"
    return command
