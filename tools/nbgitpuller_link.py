"""Print the nbgitpuller link that gives every student the course on a JupyterHub.

    python tools/nbgitpuller_link.py https://hub.example.edu
    python tools/nbgitpuller_link.py https://hub.example.edu --repo https://github.com/you/fork.git \
        --branch main --notebook notebooks/00_start_here.ipynb

A student clicks the link once: the hub logs them in, starts their server, clones the course into
``~/<targetpath>`` (nbgitpuller) and opens the first notebook. Clicking it again after the teacher pushes
an update merges the update without losing the student's edits (nbgitpuller's contract, tested in
tests/tools/test_nbgitpuller_link.py). The link format is nbgitpuller's own (``/hub/user-redirect/git-pull``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from set_repository_url import START_NOTEBOOK  # noqa: E402  (tools/ is this script's folder)

from utils.environment import COURSE_BRANCH, COURSE_REPOSITORY_URL  # noqa: E402

#: Where the course lands in each student's home folder (nbgitpuller's ``targetpath``).
DEFAULT_TARGET = "pytorch-pooling-dropout-tensorboard"


def target_for(repo: str) -> str:
    """The folder name nbgitpuller should clone into: the repository's name without ``.git``."""
    name = repo.rstrip("/").split("/")[-1]
    return name[:-4] if name.endswith(".git") else name


def nbgitpuller_link(hub: str, repo: str = COURSE_REPOSITORY_URL, branch: str = COURSE_BRANCH,
                     notebook: str = START_NOTEBOOK, targetpath: str | None = None,
                     app: str = "lab") -> str:
    """``<hub>/hub/user-redirect/git-pull?repo=...&branch=...&targetpath=...&urlpath=...``.

    ``app`` is ``"lab"`` (JupyterLab) or ``"tree"`` (the classic notebook interface). ``targetpath``
    defaults to the repository's name, so the link never depends on nbgitpuller's default (which keeps
    a trailing ``.git``).
    """
    parts = urlsplit(hub)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"hub must be a URL like https://hub.example.edu, got {hub!r}.")
    if app not in ("lab", "tree"):
        raise ValueError(f"app must be 'lab' or 'tree', got {app!r}.")
    target = targetpath or target_for(repo)
    urlpath = f"{'lab/tree' if app == 'lab' else 'tree'}/{target}/{notebook.lstrip('/')}"
    query = urlencode({"repo": repo, "branch": branch, "targetpath": target, "urlpath": urlpath})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("hub", help="the hub's URL, e.g. https://hub.example.edu")
    parser.add_argument("--repo", default=COURSE_REPOSITORY_URL, help="git URL of the course")
    parser.add_argument("--branch", default=COURSE_BRANCH)
    parser.add_argument("--notebook", default=START_NOTEBOOK, help="notebook the link opens")
    parser.add_argument("--targetpath", default=None, help="folder in each home (default: repo name)")
    parser.add_argument("--app", default="lab", choices=("lab", "tree"))
    args = parser.parse_args(argv)
    try:
        print(nbgitpuller_link(args.hub, args.repo, args.branch, args.notebook, args.targetpath, args.app))
    except ValueError as err:
        parser.error(str(err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
