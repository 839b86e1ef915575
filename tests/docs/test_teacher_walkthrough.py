"""docs/teacher_walkthrough.md, its Chinese twin and the two worksheets: the 45-minute plan adds up from
its own table, every section and exercise they name exists in that lesson (both editions), every number
in an answer is PyTorch's own, and the worksheets ask every question without answering it.

Nothing here compares the walkthrough's wording with a lesson's: lessons are named by number, section and
exercise, and answers are checked for the values PyTorch computes. The reading-time table is checked
with tolerance (regenerate it with `python tools/lesson_stats.py --write`, as the walkthrough says).
"""

from __future__ import annotations

import re
import sys
from fractions import Fraction
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))
import lesson_stats  # noqa: E402
import walkthrough as wt  # noqa: E402

from utils.checks.max_pooling import SHIFT_GRID, changed_outputs, shifted  # noqa: E402

LANGS = tuple(wt.DOCS)
WORKSHEETS = {"en": ROOT / "docs" / "worksheet.md", "zh-CN": ROOT / "docs" / "worksheet.zh-CN.md"}
FILES = [*wt.DOCS.values(), *WORKSHEETS.values()]
EDITIONS = {"en": ROOT / "notebooks", "zh-CN": ROOT / "notebooks" / "zh-CN"}
GRID = torch.tensor(
    [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]],
    dtype=torch.float32,
).reshape(1, 1, 5, 5)


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def as_text(rows) -> str:
    return str([[int(v) for v in row] for row in rows])


def answers(qid: str) -> dict[str, str]:
    """{"en": answer, "zh-CN": answer} of question ``qid``, whitespace collapsed."""
    found = {}
    for lang in LANGS:
        match = [q for q in wt.questions(lang) if q["id"] == qid]
        assert len(match) == 1, f"{lang}: question {qid} not in the bank"
        found[lang] = re.sub(r"\s+", " ", match[0]["answer"])
    return found


def assert_in_answers(qid: str, *needles: str) -> None:
    for lang, answer in answers(qid).items():
        for needle in needles:
            assert needle in answer, (
                f"{qid} ({lang}): PyTorch says {needle!r}; the answer reads {answer!r}"
            )


# -- the plan: its arithmetic, from its own table ------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_the_plan_fits_45_minutes_with_12_minutes_of_student_work(lang):
    rows = wt.plan(lang)
    assert len(rows) >= 5, rows
    clock = 0.0
    for row in rows:
        assert row["minutes"] == pytest.approx(row["costed"]), (
            f"{row['segment']}: the table says {row['minutes']} min, its actions cost {row['costed']} "
            f"(cells × {wt.MINUTES_PER_CELL} + views × {wt.MINUTES_PER_VIEW} + questions × "
            f"{wt.MINUTES_PER_QUESTION} + students + other)"
        )
        assert (row["start"], row["end"]) == pytest.approx((clock, clock + row["costed"])), row
        clock += row["costed"]
    assert clock <= wt.CLASS_MINUTES, f"the plan takes {clock} min"
    students = sum(row["students"] for row in rows)
    assert students >= wt.STUDENT_MINUTES_AT_LEAST, f"students work with their hands {students} min"


#: The sentence under the table that sums it up: total, total with questions at 1 min, slack, student work.
TOTALS = {
    "en": r"\*\*Total: ([\d.]+) minutes\*\*.*?\(([\d.]+) at 1 min\): ([\d.]+) minutes? of slack"
    r".*?\*\*Students' own work: ([\d.]+) minutes\*\*",
    "zh-CN": r"\*\*合计 ([\d.]+) 分钟\*\*.*?按 1 分钟计为 ([\d.]+) 分钟.*?还留有 ([\d.]+) 分钟"
    r".*?\*\*学生动手 ([\d.]+) 分钟\*\*",
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_totals_under_the_table_are_its_sums(lang):
    rows = wt.plan(lang)
    total = sum(r["costed"] for r in rows)
    low = total - sum(r["questions"] for r in rows) * (
        wt.MINUTES_PER_QUESTION - wt.MINUTES_PER_QUESTION_LOW
    )
    students = sum(r["students"] for r in rows)
    said = re.search(TOTALS[lang], text(wt.DOCS[lang]), re.S)
    assert said, "the sentence that sums up the table is missing"
    assert [float(v) for v in said.groups()] == [total, low, wt.CLASS_MINUTES - total, students]


@pytest.mark.parametrize("lang", LANGS)
def test_each_segment_asks_as_many_questions_as_its_row_counts(lang):
    rows = {row["segment"]: row for row in wt.plan(lang)}
    core = [q for q in wt.questions(lang) if q["core"]]
    for q in core:
        assert q["segment"] in rows, f"{q['id']} is asked in {q['segment']}, which the plan lacks"
    for segment, row in rows.items():
        asked = [q["id"] for q in core if q["segment"] == segment]
        assert len(asked) == row["questions"], (
            f"{segment}: the table counts {row['questions']}, the bank marks {asked}"
        )
    body = text(wt.DOCS[lang]).split("\n## ")
    per_segment = {
        m.group(1): m.group(2)
        for part in body
        for m in re.finditer(r"^### (S\d+) ·(.*?)(?=^### |\Z)", part, re.M | re.S)
    }
    for segment in rows:
        assert segment in per_segment, f"no '### {segment} · …' section describes segment {segment}"
        named = set(re.findall(r"\bQ\d+\b", per_segment[segment]))
        assert named == {q["id"] for q in core if q["segment"] == segment}, (segment, named)


def test_both_languages_share_the_plan_and_the_bank():
    def numbers(lang):
        return [{k: v for k, v in row.items() if k != "lessons"} for row in wt.plan(lang)]

    def shape(lang):
        return [
            {k: q[k] for k in ("id", "lesson", "section", "exercise", "segment")}
            for q in wt.questions(lang)
        ]

    assert numbers("en") == numbers("zh-CN")
    assert shape("en") == shape("zh-CN")
    assert len(shape("en")) >= 28 and all(
        q["question"] and q["answer"] for q in wt.questions("zh-CN")
    )


# -- what the documents name exists --------------------------------------------------------------------
def lesson_structure(path: Path) -> tuple[set[int], dict[int, list]]:
    """The numbered sections ("## 2 · …") of a lesson, and its exercises: {n: the cells of exercise n}."""
    sections, exercises = set(), {}
    in_exercises, current = False, None
    for cell in nbformat.read(path, as_version=4).cells:
        source = cell.source.lstrip()
        if cell.cell_type == "markdown" and source.startswith("## "):
            heading = re.match(r"## (\d+) · ", source)
            if heading:
                sections.add(int(heading.group(1)))
            in_exercises = bool(re.match(r"## (Exercises|练习)", source))
            if not in_exercises:
                current = None
        if in_exercises:
            starts = (
                [int(n) for n in re.findall(r"^\*\*(\d+)\b", cell.source, re.M)]
                if cell.cell_type == "markdown"
                else []
            )
            if starts:
                current = starts[-1]
                for n in starts:
                    exercises.setdefault(n, [])
            if current is not None:
                exercises[current].append(cell)
    return sections, exercises


def lesson_path(edition: str, lesson: str) -> Path:
    found = sorted(EDITIONS[edition].glob(f"{lesson}_*.ipynb"))
    assert len(found) == 1, f"lesson {lesson}: {found} in {EDITIONS[edition]}"
    return found[0]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_section_and_exercise_named_exists_in_both_editions(path):
    refs = wt.references(text(path))
    assert len(refs) >= 10, refs
    for edition in EDITIONS:
        structures = {}
        for lesson, kind, number in set(refs):
            if lesson not in structures:
                structures[lesson] = lesson_structure(lesson_path(edition, lesson))
            sections, exercises = structures[lesson]
            where = sections if kind == "section" else exercises
            assert number in where, (
                f"{path.name} names {lesson} {kind} {number}; the {edition} lesson has "
                f"{kind}s {sorted(where)}"
            )


def test_the_in_class_exercises_have_a_self_check():
    exercises = [q for q in wt.questions("en") if q["core"] and q["exercise"] is not None]
    assert exercises, "the plan has no exercise in class"
    for q in exercises:
        for edition in EDITIONS:
            cells = lesson_structure(lesson_path(edition, q["lesson"]))[1][q["exercise"]]
            assert any(
                c.cell_type == "code" and re.search(r"\bcheck_\w+\(", c.source) for c in cells
            ), f"{edition} {q['where']} has no self-check (a check_*() call)"


def test_every_run_named_is_written_by_a_lesson():
    code = "\n".join(
        c.source
        for path in sorted(EDITIONS["en"].glob("[0-9][0-9]_*.ipynb"))
        for c in nbformat.read(path, as_version=4).cells
        if c.cell_type == "code"
    )
    for path in FILES:
        for run in set(re.findall(r"\blogs_[a-z0-9_]*[a-z0-9]", text(path))):
            assert f'"{run}' in code or f"'{run}" in code, (
                f"{path.name} names the run {run}; no lesson writes it"
            )


def test_tools_and_make_targets_named_exist():
    targets = set(re.findall(r"^([\w-]+):", text(ROOT / "Makefile"), re.M))
    for path in FILES:
        for tool in re.findall(r"\btools[/\\](\w+\.py)", text(path)):
            assert (ROOT / "tools" / tool).exists(), f"{path.name}: tools/{tool}"
        for target in re.findall(r"`make (\w[\w-]*)", text(path)):
            assert target in targets, f"{path.name}: make {target}"


def anchors(markdown: str) -> set[str]:
    """GitHub's heading slugs, and explicit <a id="..."> anchors."""
    return set(re.findall(r'<a id="([^"]+)"', markdown)) | {
        re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
        for h in re.findall(r"^#+\s+(.*)$", markdown, re.M)
    }


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_links_resolve(path):
    for link in re.findall(r"\]\(([^)\s]+)\)", text(path)):
        if link.startswith(("http://", "https://")):
            continue
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        assert file.exists(), f"{path.name}: {link}"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(text(file)), f"{path.name}: {link}: no such heading"


# -- the reading-time table: generated, checked with tolerance ---------------------------------------
def reading_table(lang: str) -> dict[str, tuple[float, float]]:
    block = text(wt.DOCS[lang]).split(lesson_stats.BEGIN)[1].split(lesson_stats.END)[0]
    return {
        m[0]: (float(m[1]), float(m[2]))
        for m in re.findall(r"^\| (\d\d_\w+) \| (\d+) \| (\d+) \|", block, re.M)
    }


@pytest.mark.parametrize("lang", LANGS)
def test_reading_times_are_close_to_what_lesson_stats_measures(lang):
    table, measured = reading_table(lang), lesson_stats.reading_minutes()
    assert set(table) == set(measured), (
        "a lesson was added or renamed: run python tools/lesson_stats.py --write"
    )
    for lesson, pair in measured.items():
        for written, now in zip(table[lesson], pair, strict=True):
            assert abs(written - now) <= max(2, 0.25 * now), (
                f"{lesson}: the walkthrough says {written:g} min, the lesson now reads in {now:.1f}: "
                "run python tools/lesson_stats.py --write"
            )


def test_lesson_stats_write_rewrites_only_the_table(tmp_path):
    doc = tmp_path / "walkthrough.md"
    doc.write_text(
        f"before\n{lesson_stats.BEGIN}\n| stale | 99 | 99 |\n{lesson_stats.END}\nafter\n",
        encoding="utf-8",
    )
    assert lesson_stats.write({"zh-CN": doc}) == [doc]
    assert (
        text(doc)
        == f"before\n{lesson_stats.BEGIN}\n{lesson_stats.table('zh-CN')}\n{lesson_stats.END}\nafter\n"
    )
    assert lesson_stats.write({"zh-CN": doc}) == []
    doc.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="lesson_stats:begin"):
        lesson_stats.write({"en": doc})


# -- the worksheets ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_the_worksheet_asks_every_question_and_answers_none(lang):
    sheet = text(WORKSHEETS[lang])
    asked = re.findall(r"\*\*(Q\d+)\b", sheet)
    bank = wt.questions(lang)
    assert sorted(asked) == sorted(q["id"] for q in bank), "each question of the bank once"
    in_class = [q["id"] for q in bank if q["core"]]
    first_homework = min(asked.index(q["id"]) for q in bank if not q["core"])
    assert all(asked.index(qid) < first_homework for qid in in_class), (
        "the in-class questions come first"
    )
    assert not re.search(r"\*\*(A:|答：)\*\*", sheet)
    ceil = nn.MaxPool2d(3, ceil_mode=True)(GRID)[0, 0]
    exit_shape = tuple(nn.MaxPool2d(2, stride=2)(torch.ones(1, 3, 8, 8)).shape)
    for answer in (
        as_text(ceil.tolist()),
        as_text(nn.MaxPool2d(3)(GRID)[0, 0].tolist()),
        str(exit_shape),
        str(sorted(changed_outputs(nn.MaxPool2d(2, stride=1))))[1:-1],
        "1.6",
        "42",
    ):
        assert answer not in sheet, f"the worksheet gives away {answer}"


def code_blocks(markdown: str) -> list[list[list[float]]]:
    return [
        [[float(v) for v in line.split()] for line in block.strip().splitlines()]
        for block in re.findall(r"```\n([0-9 \n]+)```", markdown)
    ]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_grids_on_paper_are_the_ones_pytorch_pools(path):
    blocks = code_blocks(re.sub(r" +→ +", "   ", text(path)))
    assert GRID[0, 0].tolist() in blocks, "the 5×5 grid"
    if path in WORKSHEETS.values():
        pair = (
            torch.tensor(SHIFT_GRID, dtype=torch.float32).tolist(),
            shifted(SHIFT_GRID)[0, 0].tolist(),
        )
        assert [a + b for a, b in zip(*pair, strict=True)] in blocks, (
            "01 Exercise 1's map and its shift"
        )


# -- tools/walkthrough.py on small inputs -------------------------------------------------------------
SAMPLE = """\
| S1 | 0–3 | 01 §2 | 2 | 1 | 0 | 0.5 | – | 3 |

### Q01 · 01 §2 · core S1

**Q:** What is
a step?

**A:** The batch index.

### Q02 · 04 练习 3 · 题库

**问：** 问题？

**答：** 答案。
"""


def test_questions_parses_both_languages_markup():
    first, second = wt.questions(text=SAMPLE)
    assert first == {
        "id": "Q01",
        "lesson": "01",
        "section": 2,
        "exercise": None,
        "segment": "S1",
        "core": True,
        "where": "01 §2",
        "question": "What is a step?",
        "answer": "The batch index.",
    }
    assert (second["where"], second["core"], second["segment"], second["answer"]) == (
        "04 Exercise 3",
        False,
        None,
        "答案。",
    )
    row = wt.plan(text=SAMPLE)[0]
    assert (row["segment"], row["start"], row["end"], row["students"], row["costed"]) == (
        "S1",
        0,
        3,
        0.5,
        3.0,
    )
    assert wt.references(SAMPLE) == [
        ("01", "section", 2),
        ("01", "section", 2),
        ("04", "exercise", 3),
    ]


@pytest.mark.parametrize(
    "bad, says",
    [
        ("### Q1 · lesson one · core\n", "'### Q04 · 01 §2 · core S3'"),
        ("### Q01 · 01 §2 · bank\n\n**Q:** only a question\n", "no **A:** paragraph"),
        (
            "### Q01 · 01 §2 · bank\n**Q:** a\n\n**A:** b\n### Q01 · 01 §3 · bank\n**Q:** a\n\n**A:** b\n",
            "used twice",
        ),
    ],
)
def test_a_broken_bank_says_what_to_write(bad, says):
    with pytest.raises(wt.WalkthroughError, match=re.escape(says)):
        wt.questions(text=bad)


def test_a_short_plan_row_says_which_columns():
    with pytest.raises(wt.WalkthroughError, match="9 columns expected"):
        wt.plan(text="| S1 | 0–3 | 01 §2 | 2 |\n")


# -- every answer is PyTorch's own ---------------------------------------------------------------------
def test_shift_by_one_pixel():
    pooled = {}
    for column in (2, 3, 4):
        line = torch.zeros(1, 1, 4, 6)
        line[..., column] = 1.0
        pooled[column] = nn.MaxPool2d(2)(line)
    assert torch.equal(pooled[2], pooled[3]) and not torch.equal(pooled[3], pooled[4])
    assert_in_answers("Q03", "3 → 4")


def test_max_pooling_answers():
    assert_in_answers("Q04", as_text(nn.MaxPool2d(3, ceil_mode=True)(GRID)[0, 0].tolist()))
    assert_in_answers("Q05", as_text(nn.MaxPool2d(3)(GRID)[0, 0].tolist()))
    assert nn.MaxPool2d(3).stride == 3
    for answer in answers("Q06").values():
        assert answer.startswith("3")
    _, indices = nn.MaxPool2d(3, ceil_mode=True, return_indices=True)(GRID)
    assert GRID.flatten()[15].item() == 5 and divmod(15, 5) == (3, 0)
    assert_in_answers("Q07", as_text(indices[0, 0].tolist()), "15", "3", "0")


def test_network_shape_actual_size_and_cifar_steps():
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )
    assert_in_answers("Q08", str(tuple(net(torch.zeros(4, 3, 128, 128)).shape)))
    side = nn.MaxPool2d(3)(torch.zeros(1, 3, 128, 128)).shape[-1]
    assert_in_answers("Q09", "128×128", f"{side}×{side}")
    batches = [len(b) for b in DataLoader(list(range(10_000)), batch_size=64)]
    assert_in_answers("Q10", str(len(batches)), f"{len(batches) - 1} × 64 + {batches[-1]}")


def test_average_pooling_answers():
    for answer in answers("Q11").values():
        claimed = re.search(r"`(\[\[10/9[^`]*)`", answer).group(1)
        values = [
            [float(Fraction(v.strip())) for v in row.split(",")]
            for row in re.findall(r"\[([^\[\]]+)\]", claimed)
        ]
        assert torch.allclose(nn.AvgPool2d(3, ceil_mode=True)(GRID)[0, 0], torch.tensor(values))
    out = nn.AvgPool2d(3, ceil_mode=True)(GRID)[0, 0]
    divisors = (nn.AvgPool2d(3, ceil_mode=True, divisor_override=1)(GRID)[0, 0] / out).round().int()
    assert divisors.flatten().tolist() == [9, 6, 6, 4]
    for answer in answers("Q11").values():
        after = set(re.findall(r"\d+", answer.split("`")[-1]))  # the words after the tensor
        assert {"9", "6", "4"} <= after, answer
    ones = torch.ones(1, 1, 4, 4)
    assert nn.AvgPool2d(3, stride=1, padding=1)(ones)[0, 0, 0, 0].item() == pytest.approx(4 / 9)
    assert (
        nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)(ones)[0, 0, 0, 0].item()
        == 1.0
    )
    assert_in_answers("Q12", "4/9", "5", "`count_include_pad=False`")


def test_checkerboard_and_thin_strokes():
    rows, cols = torch.meshgrid(torch.arange(12), torch.arange(12), indexing="ij")
    checkerboard = ((rows + cols) % 2).float()[None, None]  # a 1-pixel checkerboard
    assert nn.MaxPool2d(3)(checkerboard).unique().tolist() == [1.0]
    assert torch.allclose(nn.AvgPool2d(3)(checkerboard).unique(), torch.tensor([4 / 9, 5 / 9]))
    assert_in_answers("Q13", "1.0", "4/9", "5/9")
    text_image = torch.ones(1, 1, 6, 6)
    text_image[..., 2] = 0.0  # a 1-pixel dark stroke on white
    assert (
        nn.MaxPool2d(2)(text_image).min().item() == 1.0
        and nn.AvgPool2d(2)(text_image).min().item() == 0.5
    )
    assert_in_answers("Q14", "0.5")


def test_output_shape_answers():
    assert_in_answers("Q15", str(tuple(nn.MaxPool2d(2)(torch.zeros(64, 3, 32, 32)).shape)))
    out = nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True)(torch.zeros(1, 1, 5, 5))
    plain_ceil = -(-(5 + 2 - 2) // 2) + 1
    assert (out.shape[-1], plain_ceil) == (3, 4)
    for answer in answers("Q16").values():
        assert answer.startswith("3") and "4" in answer
    with pytest.raises(RuntimeError) as err:
        nn.MaxPool2d(3, padding=2)(torch.zeros(1, 1, 5, 5))
    for answer in answers("Q17").values():
        assert re.search(r'["“]([^"”]+)["”]', answer).group(1) in str(err.value)


def test_dropout_answers():
    torch.manual_seed(0)
    out = nn.Dropout(0.5)(torch.full((1, 1, 64, 64), 0.8))
    assert sorted(round(v, 4) for v in torch.unique(out).tolist()) == [0.0, 1.6]
    assert abs(out.mean().item() - 0.8) < 0.05
    assert_in_answers("Q19", "0", "1.6", "0.8", "2")
    assert_in_answers("Q20", "1.6 > 1", "0.5")
    assert torch.equal(
        nn.Dropout(1.0)(torch.ones(5)), torch.zeros(5)
    )  # p: the chance to drop (Q18)
    with torch.no_grad():
        assert not torch.equal(
            nn.Dropout(0.5)(torch.ones(100)), torch.ones(100)
        )  # no_grad: still drops
    x = torch.rand(3, 3)
    assert torch.equal(nn.Sequential(nn.Dropout(0.5)).eval()(x), x)
    assert not torch.equal(F.dropout(torch.ones(100), 0.5), torch.ones(100))
    assert_in_answers("Q21", "`no_grad()`", "`eval()`", "`F.dropout(x, 0.5)`")


def test_the_original_in_place_demo():
    data = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], dtype=torch.float64).unsqueeze(0)
    torch.manual_seed(231)
    out = nn.Dropout(p=0.5, inplace=True)(data)
    assert out is data
    with pytest.raises(RuntimeError) as err:
        nn.Dropout(0.5, inplace=True)(torch.rand(3, 3, requires_grad=True))
    assert_in_answers("Q22", "`torch.manual_seed(231)`", as_text(out[0].tolist()), str(err.value))


def test_training_loss_answer_agrees_with_lesson_05():
    """05 measures training loss with dropout off (model.eval()) and logs the dropout-on loss as a run."""
    nb = nbformat.read(lesson_path("en", "05"), as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "model.eval()" in code and '"dropout_on"' in code
    assert_in_answers("Q25", "`model.eval()`", "`p0.5/dropout_on`")


def test_exit_question_and_the_exercise_in_class():
    torch.manual_seed(0)
    out = nn.Dropout(0.5)(nn.MaxPool2d(2, stride=2)(torch.ones(1, 3, 8, 8)))
    assert set(out.unique().tolist()) <= {0.0, 2.0}
    assert_in_answers("Q28", str(tuple(out.shape)), "0", "2")
    for pool, outputs in ((nn.MaxPool2d(2), 4), (nn.MaxPool2d(2, stride=1), 9)):
        changed = changed_outputs(pool)
        written = "{" + ", ".join(str(rc) for rc in sorted(changed)) + "}"
        assert_in_answers("Q29", written, f"{len(changed)}", f"{outputs}")
