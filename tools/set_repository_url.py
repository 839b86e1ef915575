"""Point Colab, Binder and the README badges at your fork: one command after forking.

    python tools/set_repository_url.py https://github.com/<you>/<your-fork>
    python tools/set_repository_url.py https://github.com/<you>/<your-fork> --branch master

Rewrites every copy of the repository URL: ``COURSE_REPOSITORY_URL`` (and ``COURSE_BRANCH``) in
utils/environment.py, the URL in each notebook's setup cell (notebooks/ and notebooks/solutions/), and the
``owner/name`` and branch in the Colab/Binder links of README.md, README.zh-CN.md and docs/*.md.
Prints what it changed; ``--check`` only reports files that disagree with utils/environment.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from utils import environment  # noqa: E402

URL_MODULE = Path("utils") / "environment.py"
#: The notebook the badges open.
START_NOTEBOOK = "notebooks/00_start_here.ipynb"

_GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def github_slug(url: str = environment.COURSE_REPOSITORY_URL) -> str:
    """``owner/name`` of a GitHub URL such as ``https://github.com/owner/name.git``."""
    match = _GITHUB.match(url)
    if not match:
        raise ValueError(
            f"{url!r} is not a GitHub repository URL like https://github.com/owner/name(.git); "
            "Colab and Binder badges need one."
        )
    return f"{match.group(1)}/{match.group(2)}"


def colab_url(
    notebook: str = START_NOTEBOOK, url: str = environment.COURSE_REPOSITORY_URL, branch: str = environment.COURSE_BRANCH
) -> str:
    """Open ``notebook`` (a path inside the repository) in Google Colab."""
    return f"https://colab.research.google.com/github/{github_slug(url)}/blob/{branch}/{notebook}"


def binder_url(
    notebook: str = START_NOTEBOOK, url: str = environment.COURSE_REPOSITORY_URL, branch: str = environment.COURSE_BRANCH
) -> str:
    """Build the repository on mybinder.org and open ``notebook`` in JupyterLab."""
    return (
        f"https://mybinder.org/v2/gh/{github_slug(url)}/{branch}?labpath={quote(notebook, safe='')}"
    )


def badges_markdown(url: str = environment.COURSE_REPOSITORY_URL, branch: str = environment.COURSE_BRANCH,
                    notebook: str = START_NOTEBOOK) -> str:
    """The two README badges (Colab, Binder) opening ``notebook``, on one line."""
    colab = colab_url(notebook, url=url, branch=branch)
    binder = binder_url(notebook, url=url, branch=branch)
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder})"
    )


#: The standard setup cell every notebook starts with (proposed; the lead applies it). It clones the
#: course only on Colab and only once (re-running the cell finds ``course/`` and skips the clone).
SETUP_CELL_TEMPLATE = """\
{language_line}
import sys
from pathlib import Path

# Colab opens only this notebook, so it fetches the course once. After forking, run
# `python tools/set_repository_url.py <your URL>` (the URL's home is utils/environment.py).
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


#: The setup cell's first line, the one line of code where the two editions differ: the language of
#: the self-checks and figure labels (``utils.environment.language()`` reads it).
LANGUAGE_LINES = {
    "en": 'LANGUAGE = "en"  # this edition\'s language: self-checks and figure text (Chinese edition: "zh-CN")',
    "zh-CN": 'LANGUAGE = "zh-CN"  # 本版本的语言：自检提示和图中文字都用中文（英文版为 "en"）',
}


def setup_cell_source(url: str = environment.COURSE_REPOSITORY_URL, language: str = "en") -> str:
    """The standard setup cell with ``url`` filled in, for the edition ``language`` ("en", "zh-CN")."""
    return SETUP_CELL_TEMPLATE.format(url=url, language_line=LANGUAGE_LINES[language])

MARKDOWN_FILES = ("README.md", "README.zh-CN.md", "docs/*.md")


def _setup_cells(nb):
    return [
        c
        for c in nb.cells
        if c.cell_type == "code"
        and ("seed_everything(" in c.source or "sys.path.insert(" in c.source)
    ]


def rewrite_text(text: str, old_url: str, new_url: str, old_branch: str, new_branch: str) -> str:
    """Replace the repository (full URL, and ``owner/name`` inside Colab/Binder links) and branch."""
    old_slug, new_slug = github_slug(old_url), github_slug(new_url)
    text = text.replace(old_url, new_url)
    text = text.replace(
        f"colab.research.google.com/github/{old_slug}/blob/{old_branch}/",
        f"colab.research.google.com/github/{new_slug}/blob/{new_branch}/",
    )
    text = text.replace(
        f"mybinder.org/v2/gh/{old_slug}/{old_branch}?",
        f"mybinder.org/v2/gh/{new_slug}/{new_branch}?",
    )
    return text


def set_repository(
    new_url: str,
    new_branch: str | None = None,
    *,
    root: Path = ROOT,
    old_url: str | None = None,
    old_branch: str | None = None,
) -> list[Path]:
    """Rewrite every copy under ``root``; return the files that changed."""
    import nbformat

    github_slug(new_url)  # raises a clear error for a non-GitHub URL
    module = root / URL_MODULE
    source = module.read_text(encoding="utf-8")
    old_url = old_url or re.search(r'^COURSE_REPOSITORY_URL = "([^"]+)"', source, re.M).group(1)
    old_branch = old_branch or re.search(r'^COURSE_BRANCH = "([^"]+)"', source, re.M).group(1)
    new_branch = new_branch or old_branch
    changed = []

    updated = re.sub(
        r'^COURSE_REPOSITORY_URL = "[^"]+"',
        f'COURSE_REPOSITORY_URL = "{new_url}"',
        source,
        flags=re.M,
    )
    updated = re.sub(
        r'^COURSE_BRANCH = "[^"]+"', f'COURSE_BRANCH = "{new_branch}"', updated, flags=re.M
    )
    if updated != source:
        module.write_text(updated, encoding="utf-8")
        changed.append(module)

    for path in sorted(p for p in (root / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts):
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = nbformat.read(path, as_version=4)
        touched = False
        for cell in _setup_cells(nb):
            new_source = cell.source.replace(old_url, new_url)
            if new_source != cell.source:
                cell.source, touched = new_source, True
        if touched:
            nbformat.write(nb, path)
            changed.append(path)

    for pattern in MARKDOWN_FILES:
        for path in sorted(root.glob(pattern)):
            text = path.read_text(encoding="utf-8")
            new_text = rewrite_text(text, old_url, new_url, old_branch, new_branch)
            if new_text != text:
                path.write_text(new_text, encoding="utf-8")
                changed.append(path)
    return changed


def disagreements(root: Path = ROOT) -> list[str]:
    """Files whose copy of the URL differs from utils/environment.py (empty when all agree)."""
    import nbformat

    problems = []
    for path in sorted(p for p in (root / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts):
        if ".ipynb_checkpoints" in path.parts:
            continue
        for cell in _setup_cells(nbformat.read(path, as_version=4)):
            if "google.colab" in cell.source and environment.COURSE_REPOSITORY_URL not in cell.source:
                problems.append(f"{path.relative_to(root)}: setup cell clones another URL")
    slug = github_slug()
    for pattern in MARKDOWN_FILES:
        for path in sorted(root.glob(pattern)):
            text = path.read_text(encoding="utf-8")
            for link in re.findall(
                r"(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh)/"
                r"([^/\s)]+/[^/\s)]+)/",
                text,
            ):
                if link != slug:
                    problems.append(f"{path.relative_to(root)}: badge points at {link}, not {slug}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("url", nargs="?", help="https://github.com/<owner>/<name>(.git)")
    parser.add_argument("--branch", help=f"branch the badges open (now {environment.COURSE_BRANCH})")
    parser.add_argument("--check", action="store_true", help="only report disagreeing copies")
    args = parser.parse_args(argv)
    if args.check or not args.url:
        problems = disagreements()
        print(
            "\n".join(problems)
            if problems
            else f"every copy points at {environment.COURSE_REPOSITORY_URL} ({environment.COURSE_BRANCH})"
        )
        return 1 if problems else 0
    url = args.url if args.url.endswith(".git") else args.url.rstrip("/") + ".git"
    try:
        changed = set_repository(url, args.branch)
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    for path in changed:
        print(f"updated {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"{len(changed)} files now point at {url}. Commit them, push, then try the badges.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
