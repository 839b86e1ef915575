"""The nbgitpuller link, and nbgitpuller's contract: a re-pull merges the teacher's update and keeps the
student's edits. Runs nbgitpuller's own ``GitPuller`` on local git repositories (no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from nbgitpuller_link import main, nbgitpuller_link, target_for  # noqa: E402

GitPuller = pytest.importorskip("nbgitpuller.pull").GitPuller


def test_link_carries_what_nbgitpuller_reads():
    link = nbgitpuller_link("https://hub.example.edu/", "https://github.com/a/course.git", "dev",
                            "notebooks/00_start_here.ipynb")
    parts = urlsplit(link)
    assert parts.netloc == "hub.example.edu" and parts.path == "/hub/user-redirect/git-pull"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {"repo": "https://github.com/a/course.git", "branch": "dev", "targetpath": "course",
                     "urlpath": "lab/tree/course/notebooks/00_start_here.ipynb"}
    classic = parse_qs(urlsplit(nbgitpuller_link("http://h", app="tree")).query)["urlpath"][0]
    assert classic.startswith("tree/pytorch-pooling-dropout-tensorboard/notebooks/")


@pytest.mark.parametrize("repo, target", [("https://github.com/a/b.git", "b"), ("file:///x/y/", "y"),
                                          ("https://gitlab.com/a/b", "b")])
def test_target_is_the_repository_name(repo, target):
    assert target_for(repo) == target


def test_bad_hub_url_says_what_to_pass(capsys):
    with pytest.raises(ValueError, match="https://hub.example.edu"):
        nbgitpuller_link("hub.example.edu")
    with pytest.raises(SystemExit):
        main(["hub.example.edu"])
    assert "https://hub.example.edu" in capsys.readouterr().err


def git(*args, cwd):
    return subprocess.run(["git", "-c", "user.email=t@example.org", "-c", "user.name=T", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout


def notebook(sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def pull(repo: Path, into: Path) -> list[str]:
    return list(GitPuller(repo.as_uri(), str(into), branch="main").pull())


@pytest.mark.slow  # git clones and merges
def test_repull_merges_teacher_update_and_keeps_student_edits(tmp_path):
    teacher = tmp_path / "teacher"
    (teacher / "notebooks").mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=teacher)
    cells = [f"# cell {i}\nx{i} = {i}" for i in range(8)]
    nbformat.write(notebook(cells), teacher / "notebooks" / "01.ipynb")
    (teacher / "README.md").write_text("v1\n")
    git("add", ".", cwd=teacher)
    git("commit", "-q", "-m", "v1", cwd=teacher)

    student = tmp_path / "home" / "course"
    pull(teacher, student)  # first click: a clone
    assert (student / "notebooks" / "01.ipynb").exists()

    # The student answers in the first cell and adds a file of their own.
    nb = nbformat.read(student / "notebooks" / "01.ipynb", 4)
    nb.cells[0].source = "# my answer\nx0 = 42"
    nbformat.write(nb, student / "notebooks" / "01.ipynb")
    (student / "notebooks" / "my_notes.md").write_text("mine\n")
    (student / "README.md").unlink()  # deleted by mistake: the next click brings it back

    # The teacher fixes the last cell of the same notebook and another file.
    tnb = nbformat.read(teacher / "notebooks" / "01.ipynb", 4)
    tnb.cells[-1].source = "# cell 7, fixed\nx7 = 700"
    nbformat.write(tnb, teacher / "notebooks" / "01.ipynb")
    (teacher / "README.md").write_text("v2\n")
    (teacher / "notebooks" / "02.ipynb").write_text(nbformat.writes(notebook(["y = 1"])))
    git("add", ".", cwd=teacher)
    git("commit", "-q", "-m", "v2", cwd=teacher)

    pull(teacher, student)  # second click: a merge
    merged = nbformat.read(student / "notebooks" / "01.ipynb", 4)
    nbformat.validate(merged)
    assert merged.cells[0].source == "# my answer\nx0 = 42"          # student's edit kept
    assert merged.cells[-1].source == "# cell 7, fixed\nx7 = 700"     # teacher's fix arrived
    assert [c.source for c in merged.cells[1:-1]] == cells[1:-1]
    assert (student / "README.md").read_text() == "v2\n"  # restored, and updated
    assert (student / "notebooks" / "02.ipynb").exists()
    assert (student / "notebooks" / "my_notes.md").read_text() == "mine\n"


@pytest.mark.slow  # git clones and merges
def test_same_cell_conflict_keeps_the_students_version(tmp_path):
    """Both change the same line: nbgitpuller merges with -Xours, so the student's text wins."""
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    git("init", "-q", "-b", "main", cwd=teacher)
    nbformat.write(notebook(["a = 1", "b = 2"]), teacher / "n.ipynb")
    git("add", ".", cwd=teacher)
    git("commit", "-q", "-m", "v1", cwd=teacher)
    student = tmp_path / "s"
    pull(teacher, student)
    nb = nbformat.read(student / "n.ipynb", 4)
    nb.cells[0].source = "a = 'student'"
    nbformat.write(nb, student / "n.ipynb")
    tnb = nbformat.read(teacher / "n.ipynb", 4)
    tnb.cells[0].source = "a = 'teacher'"
    nbformat.write(tnb, teacher / "n.ipynb")
    git("commit", "-q", "-am", "v2", cwd=teacher)
    pull(teacher, student)
    assert nbformat.read(student / "n.ipynb", 4).cells[0].source == "a = 'student'"
