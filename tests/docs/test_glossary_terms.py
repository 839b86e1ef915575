"""One term per concept in the Chinese edition: the prose of notebooks/zh-CN/ (and the Chinese lines of the
English lessons, the Chinese of the READMEs, the walkthrough and the troubleshooting page) never uses the names the
course chose against (docs/glossary.md, column "也常见 · also seen"), except when quoting the original
lesson or naming another book's term (“原教程称‘均值池化’”, “《动手学深度学习》称‘汇聚层’”)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
ZH = sorted((ROOT / "notebooks" / "zh-CN").rglob("*.ipynb"))
#: The English lessons and solutions: their short Chinese lines use the same words.
EN = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) + sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
GLOSSARY = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")

#: Never in the course's prose: other names for the original lesson, and terms with a chosen twin.
NEVER = ["种子课程", "原始课程", "原始教程", "批次", "提前停止", "就地", "测试模式", "膨胀",
         "瘦网络", "更瘦的网络", "视野"]  # thinned network: 子网络; receptive field: 感受野
#: Only inside quotation marks right after the source is named (原教程称“步长”, d2l 称“汇聚层”).
QUOTED_ONLY = ["均值池化", "步长", "汇聚", "随机失活", "丢弃法", "遗忘层"]
#: “原教程称”, “《动手学深度学习》称”, “也叫” ... then an opening quotation mark, then the term.
_QUOTE = re.compile(r"(原教程|》|也|又|常)[^。；\n]{0,8}(称|叫|叫作|译作|译为|说)[^。；\n]{0,6}“[^”]{0,8}$")


def offending_terms(text: str) -> list[str]:
    """The not-chosen terms in ``text`` (Chinese prose), each with a little context."""
    hits = []
    for term in NEVER + QUOTED_ONLY + ["单元"]:
        for m in re.finditer(re.escape(term), text):
            if term == "单元" and text.startswith(("格", "测试"), m.end()):
                continue  # 单元格 (a notebook cell) is the chosen word; 单元测试 is a unit test
            if term in QUOTED_ONLY and _QUOTE.search(text[max(0, m.start() - 30):m.start()]):
                continue
            hits.append(f"{term}: …{text[max(0, m.start() - 15):m.end() + 10]}…")
    return hits


@pytest.mark.parametrize(
    "text, bad",
    [
        ("平均池化（原教程称“均值池化”）保留窗口的平均值", False),
        ("池化层（pooling layer，《动手学深度学习》称“汇聚层”）", False),
        ("Dropout（暂退法，原教程称“遗忘层”）", False),
        ("原教程里的步长为2", True),
        ("均值池化保留窗口的平均值", True),
        ("运行这个单元，看看输出", True),
        ("运行这个单元格，看看输出", False),
        ("一个批次有8张图片", True),
        ("种子课程里的例子", True),
        ("这时要用提前停止", True),
        ("随机失活会把元素置零", True),
        ("与 PyTorch 对照的单元测试", False),
        ("每一步训练一个更瘦的网络", True),
        ("扩大后续层的视野", True),
        ("扩大后续层的感受野", False),
    ],
)
def test_the_check_can_fail(text, bad):
    assert bool(offending_terms(text)) is bad, offending_terms(text)


@pytest.mark.parametrize("path", ZH + EN, ids=[p.relative_to(ROOT / "notebooks").as_posix() for p in ZH + EN])
def test_chinese_prose_uses_the_glossary_terms(path):
    nb = nbformat.read(path, as_version=4)
    hits = [f"cell {i}: {hit}" for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
            for hit in offending_terms(re.sub(r"`[^`\n]+`", " ", cell.source))]
    assert not hits, "use docs/glossary.md's term:\n" + "\n".join(hits)


#: The Chinese prose outside the notebooks (the glossary itself lists the other names on purpose).
DOCS = [ROOT / "README.zh-CN.md", ROOT / "README.md", ROOT / "docs" / "teacher_walkthrough.md",
        ROOT / "docs" / "troubleshooting.md"]


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_the_chinese_in_the_docs_uses_the_glossary_terms(path):
    text = re.sub(r"`[^`\n]+`", " ", path.read_text(encoding="utf-8"))
    hits = offending_terms(text)
    assert not hits, f"{path.name}: use docs/glossary.md's term:\n" + "\n".join(hits)


def test_the_glossary_chooses_these_terms_and_lists_the_others_as_also_seen():
    rows = [[c.strip() for c in line.strip("|").split(" | ")]
            for line in GLOSSARY.splitlines() if line.startswith("| ")]
    chosen = {"池化": "汇聚", "平均池化": "均值池化", "步幅": "步长", "Dropout（暂退法": "遗忘层",
              "原地操作": "就地", "早停": "提前停止", "批量": "批次", "训练模式": "测试模式",
              "空洞": "膨胀"}
    for term, other in chosen.items():
        row = next((r for r in rows if r[0].startswith(term)), None)
        assert row, f"the glossary has no row for the course's term {term}"
        assert other in row[3] and other not in row[0], row
    assert ZH, "no Chinese notebooks found"
