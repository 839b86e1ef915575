"""README.zh-CN.md and docs/: the Chinese README mirrors the English one, the glossary holds the
terms the issue asks for, and every relative link in these files points at something that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_ZH = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
GLOSSARY = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
CLASSROOM_DOCS = [
    "README.zh-CN.md",
    "docs/glossary.md",
    "docs/troubleshooting.md",
    "docs/teacher_walkthrough.md",
]
CJK = re.compile(r"[\u4e00-\u9fff]")


def links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", text)


def anchors(text: str) -> set[str]:
    ids = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r"^#+\s+(.*)$", text, re.M):  # GitHub's heading slugs
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        ids.add(slug)
    return ids


def test_readme_links_the_chinese_readme_and_back():
    assert "](README.zh-CN.md)" in README
    assert "](README.md)" in README_ZH


def test_chinese_readme_mirrors_the_english_one():
    # the two commands, every make target of the commands table, every lesson, the Windows commands
    for command in ("make demo", "make test"):
        assert command in README_ZH
    for target in re.findall(r"^\| `(make \w+)` \|", README, re.M):
        assert f"`{target}`" in README_ZH, target
    for notebook in re.findall(r"\]\((notebooks/\d\d_\w+\.ipynb)\)", README):
        zh = notebook.replace("notebooks/", "notebooks/zh-CN/")  # the Chinese README links the Chinese edition
        assert f"]({zh})" in README_ZH, zh
    windows = re.search(r"### Windows.*?```\n(.*?)```", README, re.S).group(1)
    for line in windows.splitlines():
        command = line.split("#")[0].strip()
        assert command in README_ZH, command
    for must in (
        "TensorBoard",
        "docs/troubleshooting.md",
        "docs/teacher_walkthrough.md",
        "Show actual image size",
        "--samples_per_plugin",
        "127.0.0.1",
    ):
        assert must in README_ZH, must
    assert len(CJK.findall(README_ZH)) > 1000, "a full Chinese README, not a stub"


def test_the_chinese_readme_lists_the_real_modules_and_the_cifar_workload():
    assert "tools/cifar10.py" in README_ZH and "tools/cifar10.py" in README  # the optional original workload
    utils_line = re.search(r"^- `utils/`(.*?)(?=^- )", README_ZH.split("## 项目结构")[1], re.S | re.M).group(1)
    named = set(re.findall(r"`(\w+)/?`", utils_line))
    real = {p.stem for p in (ROOT / "utils").glob("*.py")} | {"checks"}
    assert named and named <= real, f"not in utils/: {named - real}"
    assert len(named) >= len(real) - 1  # __init__ aside, every module is named


def test_each_readme_has_the_badges_of_its_own_edition():
    from set_repository_url import badges_markdown

    assert badges_markdown() in README
    assert badges_markdown(notebook="notebooks/zh-CN/00_start_here.ipynb") in README_ZH


@pytest.mark.parametrize(
    "pair",
    [
        ("池化", "pooling"),
        ("最大池化", "max pooling"),
        ("平均池化", "average pooling"),
        ("均值池化", "average pooling"),
        ("卷积核", "kernel"),
        ("池化窗口", "kernel"),
        ("步幅", "stride"),
        ("填充", "padding"),
        ("空洞", "dilation"),
        ("膨胀", "dilation"),
        ("向上取整", "ceil"),
        ("随机失活", "dropout"),
        ("遗忘层", "dropout"),
        ("过拟合", "overfitting"),
        ("集成", "ensemble"),
        ("张量", "tensor"),
        ("批次", "batch"),
        ("步", "step"),
        ("标签", "tag"),
        ("运行", "run"),
    ],
)
def test_glossary_has_the_term(pair):
    """As the course's term (first column) or as a name students meet elsewhere (also seen)."""
    chinese, english = pair
    rows = [line.split(" | ") for line in GLOSSARY.splitlines() if line.startswith("| ")]
    assert any(
        (chinese in row[0] or chinese in row[3]) and english in row[1].lower() for row in rows
    ), f"glossary lacks {chinese} / {english}"


def test_glossary_rows_are_bilingual():
    for row in (line for line in GLOSSARY.splitlines() if line.startswith("| ")):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        if cells[0].startswith("课程用词") or cells[0] == "---":
            continue
        assert len(cells) == 5, row
        assert CJK.search(cells[0]) and re.search(r"[a-z]", cells[1]), row
        assert CJK.search(cells[4]) and re.search(r"[A-Za-z]{3,} [A-Za-z]", cells[4]), row


@pytest.mark.parametrize("name", ["README.md", *CLASSROOM_DOCS])
def test_relative_links_resolve(name):
    path = ROOT / name
    text = path.read_text(encoding="utf-8")
    broken = []
    for link in links(text):
        if re.match(r"^[a-z]+:", link) or link.startswith("//"):
            continue
        target, _, fragment = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        if not file.exists():
            broken.append(link)
        elif (
            fragment
            and file.suffix == ".md"
            and fragment not in anchors(file.read_text(encoding="utf-8"))
        ):
            broken.append(link)
    # Lessons still being written are reported by test_notebook_structure; here only our docs.
    broken = [b for b in broken if not re.match(r"notebooks/0[4-6]_", b)]
    assert not broken, f"{name}: broken links {broken}"
