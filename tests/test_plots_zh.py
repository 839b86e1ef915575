"""The course's pictures in the Chinese edition: Chinese titles and captions, drawn with the shipped
font (data/fonts/), no "Glyph ... missing" warning, on a machine with no CJK font of its own.

Figures are saved to build/test_plots/zh_*.png to look at."""

from __future__ import annotations

import json
import logging
import re
import string
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from utils import plots  # noqa: E402
from utils.environment import ROOT  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")
LABELS = json.loads((ROOT / "utils" / "labels_zh.json").read_text(encoding="utf-8"))
LABELS.pop("_comment")


def _draw(name, lang, monkeypatch):
    """Figure ``name`` drawn in language ``lang``; returns every text on it (after a full draw)."""
    monkeypatch.setenv("COURSE_LANGUAGE", lang)
    image = torch.rand(3, 16, 16)
    if name == "show_pair":
        fig = plots.show_pair(image, torch.nn.MaxPool2d(2)(image), zoom=2)
    elif name == "show_images":
        fig = plots.show_images({"input": image, "output": image[:, :8, :8]}, size=64)
    elif name == "draw_windows":
        fig, ax = plt.subplots()
        plots.draw_windows(ax, torch.arange(25.0).reshape(5, 5), 3, ceil_mode=True,
                           title="AvgPool2d(3, ceil_mode=True): divisor per window")
    elif name == "draw_windows_1d":
        fig, ax = plt.subplots(figsize=(9, 3))
        plots.draw_windows_1d(ax, 5, kernel_size=2, stride=2, padding=1, ceil_mode=True)
    elif name == "calculator":
        fig = plots.calculator(5, 7, 2, 2, 1, 1, True).figure  # a window dropped along H and W
    else:
        fig, _ = plots.draw_window_view(6, 6, 3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph 27744 ... missing from font(s)"
        fig.savefig(ROOT / "build" / "test_plots" / f"{lang}_{name}.png")
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
    plt.close(fig)
    return texts


FUNCTIONS = ["show_pair", "show_images", "draw_windows", "draw_windows_1d", "calculator",
             "draw_window_view"]


@pytest.fixture(autouse=True)
def _folder():
    (ROOT / "build" / "test_plots").mkdir(parents=True, exist_ok=True)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_chinese_edition_figures_speak_chinese_with_real_glyphs(name, monkeypatch, caplog):
    with caplog.at_level(logging.INFO, logger="matplotlib.font_manager"):
        texts = _draw(name, "zh", monkeypatch)
    assert any(CJK.search(t) for t in texts), texts
    english = {k.split("{")[0].strip() for k in LABELS} - {""}
    left = [t for t in texts if any(t.startswith(e) for e in english)]
    assert not left, f"English captions left in the Chinese figure: {left}"
    assert not [r.message for r in caplog.records if "findfont" in r.message]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_english_edition_figures_stay_english(name, monkeypatch):
    assert not any(CJK.search(t) for t in _draw(name, "en", monkeypatch))


def test_label_fills_the_same_fields_in_both_languages(monkeypatch):
    for english, chinese in LABELS.items():
        fields = {f for _, f, _, _ in string.Formatter().parse(english) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(chinese) if f}, english
        assert re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]", chinese), f"{english!r} -> {chinese!r} is not Chinese"
    values = {"i": 0, "j": 1}
    monkeypatch.setenv("COURSE_LANGUAGE", "zh")
    assert plots.label("window ({i}, {j})", **values) == "窗口 (0, 1)"
    assert plots.label("not in the dictionary") == "not in the dictionary"
    monkeypatch.setenv("COURSE_LANGUAGE", "en")
    assert plots.label("window ({i}, {j})", **values) == "window (0, 1)"


def test_the_font_is_registered_once_and_chinese_falls_back_to_it():
    import importlib

    importlib.reload(plots)  # importing twice must not add the family twice
    assert plt.rcParams["font.family"].count(plots.FONT_FAMILY) == 1
    assert plt.rcParams["font.family"][0] != plots.FONT_FAMILY  # Latin text keeps its usual font


def test_every_figure_text_a_lesson_passes_through_label_has_its_chinese():
    """The lessons' own figures (their code is the same in both editions) speak Chinese in the Chinese
    edition: every literal a notebook passes to ``label(...)`` has an entry in utils/labels_zh.json, with
    the same ``{fields}``."""
    import nbformat

    texts = set()
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                texts |= set(re.findall(r'\blabel\(\s*"([^"\n]+)"', cell.source))
    assert len(texts) >= 10, texts  # 00, 01, 02 and 05 label their figures
    missing = sorted(t for t in texts if t not in LABELS)
    assert not missing, f"add to utils/labels_zh.json: {missing}"
    fields = {t: sorted(f for _, f, _, _ in string.Formatter().parse(t) if f) for t in texts}
    assert all(sorted(f for _, f, _, _ in string.Formatter().parse(LABELS[t]) if f) == fields[t] for t in texts)
    assert all(CJK.search(LABELS[t]) for t in texts)
