"""Shared fixtures. Notebooks are executed once per test session, into a temporary logs folder,
so the notebook tests and the TensorBoard end-to-end tests read the same runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "tools"))  # append: tools/tensorboard.py must not shadow tensorboard

from run_notebooks import (  # noqa: E402
    NotebookFailed,
    execute_notebook,
    lesson_notebooks,
    solution_notebooks,
)


def all_notebooks() -> list[Path]:
    """Every notebook the course ships: lessons first, then worked solutions."""
    return lesson_notebooks() + solution_notebooks()


@pytest.fixture(scope="session")
def notebook_logs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebook_logs")


@pytest.fixture(scope="session")
def executed_notebooks(notebook_logs_dir, tmp_path_factory):
    """Execute every notebook once, in a fresh kernel each; returns {relative path: result}.

    A result is ``(notebook, seconds, None)`` or ``(None, 0.0, error message)``.
    """
    build = tmp_path_factory.mktemp("notebook_build")
    env = {"COURSE_LOGS_DIR": str(notebook_logs_dir), "COURSE_BUILD_DIR": str(build)}
    results = {}
    for path in all_notebooks():
        key = path.relative_to(ROOT).as_posix()
        try:
            nb, seconds = execute_notebook(path, env=env)
        except NotebookFailed as err:
            results[key] = (None, 0.0, str(err))
        else:
            results[key] = (nb, seconds, None)
    return results


def go_offline(monkeypatch) -> None:
    """Make every HTTP(S) request of this test fail at once, as on a machine without a network.

    All proxies point at a closed local port. ``urllib.request.urlopen`` caches one opener per
    process with the proxies it saw when first built, so the cache is reset for this test only
    (monkeypatch restores it): an opener built here must never reach later tests that talk to
    TensorBoard on 127.0.0.1.
    """
    import urllib.request

    from utils.tensorboard_server import ephemeral_port

    closed = f"http://127.0.0.1:{ephemeral_port()}"  # nothing listens there
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, closed)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(urllib.request, "_opener", None)
