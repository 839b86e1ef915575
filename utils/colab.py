"""Where the course lives online: the ONE place that names its repository (Colab, Binder, badges).

``COURSE_REPOSITORY_URL`` is the git URL of the course. After forking, change it everywhere with

    python tools/set_repository_url.py https://github.com/<you>/<your-fork>

which rewrites this file, the copy in every notebook's setup cell and the Colab/Binder badges in the
READMEs; ``tests/test_colab.py`` fails when any copy disagrees with this constant.

Why copies at all: Colab opens a single notebook, without the rest of the repository, so the setup
cell cannot import anything before it has cloned the course; it must hold the URL itself.
Binder builds from ``requirements.txt`` at the repository root (there is no ``binder/`` folder and
no ``environment.yml``, either of which would take precedence).
"""

from __future__ import annotations

import re
from urllib.parse import quote

#: The course's git repository (HTTPS, GitHub: Colab and Binder open GitHub repositories).
COURSE_REPOSITORY_URL = "https://github.com/pooling-course/pytorch-pooling-dropout-tensorboard.git"
#: The branch the badges open.
COURSE_BRANCH = "main"
#: The notebook the badges open.
START_NOTEBOOK = "notebooks/00_start_here.ipynb"

_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def github_slug(url: str = COURSE_REPOSITORY_URL) -> str:
    """``owner/name`` of a GitHub URL such as ``https://github.com/owner/name.git``."""
    match = _GITHUB.match(url)
    if not match:
        raise ValueError(
            f"{url!r} is not a GitHub repository URL like https://github.com/owner/name(.git); "
            "Colab and Binder badges need one."
        )
    return f"{match.group(1)}/{match.group(2)}"


def colab_url(
    notebook: str = START_NOTEBOOK, url: str = COURSE_REPOSITORY_URL, branch: str = COURSE_BRANCH
) -> str:
    """Open ``notebook`` (a path inside the repository) in Google Colab."""
    return f"https://colab.research.google.com/github/{github_slug(url)}/blob/{branch}/{notebook}"


def binder_url(
    notebook: str = START_NOTEBOOK, url: str = COURSE_REPOSITORY_URL, branch: str = COURSE_BRANCH
) -> str:
    """Build the repository on mybinder.org and open ``notebook`` in JupyterLab."""
    return (
        f"https://mybinder.org/v2/gh/{github_slug(url)}/{branch}?labpath={quote(notebook, safe='')}"
    )


def badges_markdown(url: str = COURSE_REPOSITORY_URL, branch: str = COURSE_BRANCH) -> str:
    """The two README badges (Colab, Binder), on one line."""
    colab = colab_url(url=url, branch=branch)
    binder = binder_url(url=url, branch=branch)
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder})"
    )


#: The standard setup cell every notebook starts with (proposed; the lead applies it). It clones the
#: course only on Colab and only once (re-running the cell finds ``course/`` and skips the clone).
SETUP_CELL_TEMPLATE = """\
import sys
from pathlib import Path

# Colab opens only this notebook, so it fetches the course once. After forking, run
# `python tools/set_repository_url.py <your URL>` (the URL's home is utils/colab.py).
COURSE_REPOSITORY_URL = "{url}"
CANDIDATES = [Path.cwd(), *Path.cwd().parents, Path.cwd() / "course"]
if "google.colab" in sys.modules and not any((p / "utils" / "__init__.py").exists() for p in CANDIDATES):
    import subprocess

    subprocess.run(["git", "clone", "--depth=1", COURSE_REPOSITORY_URL, "course"], check=True)
ROOT = next(p for p in CANDIDATES if (p / "utils" / "__init__.py").exists())
sys.path.insert(0, str(ROOT))
from utils.environment import get_device, logs_dir, seed_everything

SEED = seed_everything(0)
DEVICE = get_device()
LOGS = logs_dir()
print(f"root {{ROOT}}\\ndevice {{DEVICE}}\\nlogs {{LOGS}}")"""


def setup_cell_source(url: str = COURSE_REPOSITORY_URL) -> str:
    """The standard setup cell with ``url`` filled in."""
    return SETUP_CELL_TEMPLATE.format(url=url)
