"""utils/environment.py (the URL) and tools/set_repository_url.py: Colab, Binder and the badges agree on one URL.

The Colab branch of the setup cell is executed for real: in an empty folder, with a stand-in
``google.colab`` module and the repository URL replaced by this local repository (so ``git clone``
works offline), twice (re-running a cell is what students do).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
import set_repository_url as colab  # the Colab/Binder URL builders
import set_repository_url as tool

from utils import environment

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def setup_cell(path: Path) -> str:
    cells = tool._setup_cells(nbformat.read(path, as_version=4))
    assert len(cells) == 1, f"{path.name}: expected one setup cell, found {len(cells)}"
    return cells[0].source


# -- URLs -----------------------------------------------------------------------------------------
def test_slug_and_links():
    assert colab.github_slug("https://github.com/a-b/c.d.git") == "a-b/c.d"
    assert colab.github_slug("https://github.com/a/b") == "a/b"
    for bad in ("git@github.com:a/b.git", "https://gitlab.com/a/b", "https://github.com/a"):
        with pytest.raises(ValueError, match="GitHub repository URL"):
            colab.github_slug(bad)
    url = "https://github.com/me/course.git"
    assert colab.colab_url("notebooks/01_x.ipynb", url, "dev") == (
        "https://colab.research.google.com/github/me/course/blob/dev/notebooks/01_x.ipynb"
    )
    assert colab.binder_url("notebooks/01_x.ipynb", url, "dev") == (
        "https://mybinder.org/v2/gh/me/course/dev?labpath=notebooks%2F01_x.ipynb"
    )


def test_readme_badges_use_the_constant():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert colab.colab_url() in readme and colab.binder_url() in readme
    assert colab.badges_markdown() in readme
    assert tool.disagreements(ROOT) == [], tool.disagreements(ROOT)


def test_the_chinese_readme_opens_the_chinese_lesson():
    """README.zh-CN's Colab and Binder badges and its nbgitpuller example open notebooks/zh-CN/, never the
    English lesson."""
    from nbgitpuller_link import nbgitpuller_link

    readme = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    lesson = "notebooks/zh-CN/00_start_here.ipynb"
    assert colab.colab_url(lesson) in readme and colab.binder_url(lesson) in readme
    assert colab.colab_url() not in readme and colab.binder_url() not in readme
    assert nbgitpuller_link("https://hub.example.edu", notebook=lesson) in readme
    assert "zh-CN" in nbgitpuller_link("https://hub.example.edu", notebook=lesson)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_setup_cell_clones_the_constant_url(path):
    source = setup_cell(path)
    assert "google.colab" in source, f"{path.name}: the setup cell has no Colab branch"
    assert environment.COURSE_REPOSITORY_URL in source, (
        f"{path.name}: the setup cell must clone {environment.COURSE_REPOSITORY_URL} (utils/environment.py)"
    )


def edition(path: Path) -> str:
    return "zh-CN" if "zh-CN" in path.relative_to(ROOT).parts else "en"


def test_setup_cells_are_the_proposed_one():
    """Every notebook uses set_repository_url.setup_cell_source(): one URL constant, no second clone, and
    its edition's LANGUAGE line first."""
    differ = [
        p.relative_to(ROOT).as_posix()
        for p in NOTEBOOKS
        if setup_cell(p).strip() != colab.setup_cell_source(language=edition(p)).strip()
    ]
    assert not differ, (
        f"{len(differ)} of {len(NOTEBOOKS)} notebooks have another setup cell than "
        f"set_repository_url.setup_cell_source(): {differ}"
    )


# -- the Colab branch, executed ---------------------------------------------------------------------
COLAB_HARNESS = textwrap.dedent("""
    import sys, types
    sys.modules["google"] = types.ModuleType("google")
    sys.modules["google.colab"] = types.ModuleType("google.colab")
    source = open(sys.argv[1], encoding="utf-8").read()
    for run in (1, 2):  # students re-run cells
        namespace = {}
        exec(compile(source, "setup_cell", "exec"), namespace)
        import utils.environment
        assert namespace["ROOT"].name == "course", namespace["ROOT"]
        assert str(namespace["ROOT"]) == sys.path[0]
        assert str(namespace["LOGS"]).startswith(str(namespace["ROOT"]))
    print("colab ok")
""")


def run_as_colab(cell_source: str, tmp_path: Path, python: str = sys.executable) -> subprocess.CompletedProcess:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    work = tmp_path / "content"
    work.mkdir()
    cell = tmp_path / "cell.py"
    cell.write_text(
        cell_source.replace(environment.COURSE_REPOSITORY_URL, ROOT.as_uri()), encoding="utf-8"
    )
    harness = tmp_path / "harness.py"
    harness.write_text(COLAB_HARNESS, encoding="utf-8")
    return subprocess.run(
        [python, "-I", str(harness), str(cell)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow  # git clone in a subprocess
def test_proposed_setup_cell_works_on_colab_twice(tmp_path):
    result = run_as_colab(colab.setup_cell_source(), tmp_path)
    assert result.returncode == 0 and "colab ok" in result.stdout, result.stderr[-2000:]
    assert (tmp_path / "content" / "course" / "utils" / "environment.py").exists()


@pytest.mark.slow  # git clone in a subprocess
def test_start_here_setup_cell_works_on_colab_twice(tmp_path):
    result = run_as_colab(setup_cell(ROOT / "notebooks" / "00_start_here.ipynb"), tmp_path)
    assert result.returncode == 0 and "colab ok" in result.stdout, result.stderr[-2000:]


@pytest.mark.slow  # git clone in a subprocess
def test_on_colab_without_anywidget_the_setup_cell_warns_and_runs_on(tmp_path):
    """Colab has no anywidget (the pair viewer): the setup cell still works, and a warning gives the
    one line to run there (no make, no terminal) and Colab's restart menu."""
    from conftest import python_without

    python = python_without(tmp_path / "colab-env", hidden=("anywidget",))
    result = run_as_colab(setup_cell(ROOT / "notebooks" / "01_max_pooling.ipynb"), tmp_path,
                          python=str(python))
    assert result.returncode == 0 and "colab ok" in result.stdout, result.stderr[-2000:]
    assert "KernelWarning: Some cells of the course will fail in this kernel" in result.stderr
    assert '%pip install "anywidget>=0.9"' in result.stderr, result.stderr[-2000:]
    assert "Runtime > Restart session" in result.stderr and "make kernel" not in result.stderr


@pytest.mark.slow  # a kernel and a git clone
@pytest.mark.parametrize("lesson", ["notebooks/zh-CN/01_max_pooling.ipynb", "notebooks/01_max_pooling.ipynb"])
def test_a_notebook_opened_as_colab_opens_it_speaks_its_own_language(lesson, tmp_path, monkeypatch):
    """Colab opens one notebook in /content, a folder that says nothing about the edition: the setup cell
    clones the course there, and the self-checks and figure labels must still speak the notebook's
    language (its LANGUAGE line), in a real kernel."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from run_notebooks import run_notebook

    code = nbformat.v4.new_code_cell
    content = tmp_path / "content"
    content.mkdir()
    setup = setup_cell(ROOT / lesson).replace(environment.COURSE_REPOSITORY_URL, ROOT.as_uri())
    probe = ("from utils.checks.max_pooling import check_same_size_layer\nfrom utils.plots import label\n"
             "print('label:', label('input'))\ncheck_same_size_layer('not a layer')")
    nb = nbformat.v4.new_notebook(cells=[
        code("import sys, types\nsys.modules['google'] = types.ModuleType('google')\n"
             "sys.modules['google.colab'] = types.ModuleType('google.colab')  # a stand-in Colab"),
        code(setup), code(probe)])
    nbformat.write(nb, content / "lesson.ipynb")
    with run_notebook(content / "lesson.ipynb", env={"COURSE_LOGS_DIR": str(tmp_path / "logs")}) as run:
        printed = "".join(o.get("text", "") for o in run.nb.cells[2].outputs)
        assert run.value("str(ROOT)") == str(content / "course")  # cloned next to the notebook, as on Colab
    # what the same two lines print in this process, in the notebook's language
    import contextlib
    import io

    from utils.checks.max_pooling import check_same_size_layer
    from utils.plots import label

    monkeypatch.setenv(environment.LANGUAGE_ENV_VAR, "zh" if "zh-CN" in lesson else "en")
    expected = io.StringIO()
    with contextlib.redirect_stdout(expected):
        print("label:", label("input"))
        check_same_size_layer("not a layer")
    assert printed == expected.getvalue()
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in printed)
    assert chinese == ("zh-CN" in lesson), printed


# -- set_repository_url ---------------------------------------------------------------------------
def test_set_repository_url_rewrites_every_copy(tmp_path):
    copy = tmp_path / "repo"
    (copy / "utils").mkdir(parents=True)
    shutil.copy(ROOT / "utils" / "environment.py", copy / "utils" / "environment.py")
    shutil.copytree(ROOT / "notebooks", copy / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for name in ("README.md", "README.zh-CN.md"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, copy / name)
    new = "https://github.com/someone/fork-of-course.git"
    changed = tool.set_repository(new, "dev", root=copy)
    assert copy / "utils" / "environment.py" in changed and copy / "README.md" in changed
    module = (copy / "utils" / "environment.py").read_text(encoding="utf-8")
    assert f'COURSE_REPOSITORY_URL = "{new}"' in module and 'COURSE_BRANCH = "dev"' in module
    for path in copy.rglob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert environment.COURSE_REPOSITORY_URL not in text, path
        assert new in text or "google.colab" not in text, path
    readme = (copy / "README.md").read_text(encoding="utf-8")
    assert colab.colab_url(url=new, branch="dev") in readme
    assert colab.binder_url(url=new, branch="dev") in readme
    assert colab.github_slug() not in readme
    with pytest.raises(ValueError, match="GitHub"):
        tool.set_repository("https://example.com/x.git", root=copy)


# -- Binder -----------------------------------------------------------------------------------------
def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~;\[ ]", line)[0].lower().replace("_", "-"))
    return names


def _closure(names: set[str]) -> set[str]:
    """The distributions ``names`` install, with their dependencies (from installed metadata)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for req in requires:
            if "extra ==" in req:
                continue
            todo.append(re.split(r"[<>=!~;\[ (]", req)[0].lower().replace("_", "-"))
    return seen


def test_binder_builds_from_root_requirements():
    """repo2docker uses binder/ or environment.yml first; neither exists, so requirements.txt."""
    assert (ROOT / "requirements.txt").exists()
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    assert not (ROOT / "environment.yml").exists()


def test_requirements_cover_every_notebook_import():
    """Everything a notebook imports is installed by `pip install -r requirements.txt`."""
    installed = _closure(_requirement_names(ROOT / "requirements.txt"))
    distributions = metadata.packages_distributions()
    local = {p.stem for p in (ROOT / "utils").glob("*.py")} | {"utils"}
    missing = {}
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for module in re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", cell.source, re.M):
                if module in sys.stdlib_module_names or module in local or module == "google":
                    continue
                dists = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
                if not dists & installed:
                    missing.setdefault(module, []).append(path.name)
    assert not missing, f"not installed by requirements.txt: {missing}"
