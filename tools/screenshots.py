"""Screenshots of the TensorBoard views the lessons send students to (`make screenshots`).

    python tools/screenshots.py                 # every view, both languages, into notebooks/images/tensorboard/
    python tools/screenshots.py --only 01_images --out /tmp/shots

It starts TensorBoard in this process (``tensorboard.program``, 127.0.0.1, a free port, the course's
``--samples_per_plugin``) on the lessons' own runs in ``logs/`` (run ``make demo`` first), opens each
view in headless Chromium (Python playwright, ``/usr/bin/chromium`` unless ``$COURSE_CHROMIUM``), does
what the lesson tells the student to do (filter the runs, tick "Show actual image size", hover an output
pixel in PAIRS, set Smoothing to 0, ...), takes a 1280×720 screenshot, and marks the controls with
numbered boxes and a short label: English in ``NAME.en.png``, Chinese in ``NAME.zh-CN.png`` (drawn with
the course's own font, ``data/fonts/``). Files are palette PNGs, well under 150 KB.

``SHOTS`` lists every view: which lesson embeds it, the page, the run, and the marks. The lessons embed
them (``![alt](../notebooks/images/tensorboard/NAME.en.png)``); tests/docs/test_screenshots.py checks that every
lesson that writes a run does, in both editions, and that the files exist.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "notebooks" / "images" / "tensorboard"
LANGS = ("en", "zh-CN")
VIEWPORT = {"width": 1280, "height": 720}
CJK_FONT = ROOT / "data" / "fonts" / "NotoSansSC-Course.ttf"
MARK = (200, 0, 90)        # box and badge colour: magenta-red, 6.3:1 against white
LABEL_BG = (20, 20, 20)    # label text: white on near-black
MAX_BYTES = 150_000


@dataclass
class Mark:
    """A control to point at: a Playwright selector (pierces TensorBoard's shadow DOM) and a label."""

    selector: str
    en: str
    zh: str
    frame: bool = False    # inside the PAIRS plugin's iframe
    pad: int = 4


@dataclass
class Shot:
    name: str              # file stem, e.g. "01_images"
    lesson: str            # "01": the lesson notebook whose cells embed it
    page: str              # "images", "pairs", "scalars", "hparams"
    run: str               # run (PAIRS, HParams) or run regex (IMAGES, SCALARS)
    alt_en: str
    alt_zh: str
    tag: str = ""          # tag filter (IMAGES, SCALARS)
    step: int | None = None  # IMAGES: move every card's slider to this step (default: the last)
    zoom: str | None = None  # PAIRS: the zoom to pick ("2": a batch grid and the readout fit 1280×720)
    marks: list[Mark] = field(default_factory=list)


RUN_FILTER = "tf-runs-selector paper-input input"
ACTUAL_SIZE = "paper-checkbox:has-text('Show actual image size')"
SLIDER = "tf-image-loader paper-slider"
TAG_FILTER = "tf-tag-filterer input"


def _images(name, lesson, regex, tag, alt_en, alt_zh, step=None, step_en="drag: step", step_zh="拖动：选择步"):
    return Shot(name, lesson, "images", regex, alt_en, alt_zh, tag=tag, step=step, marks=[
        Mark(RUN_FILTER, f"type {regex}", f"输入 {regex}"),
        Mark(ACTUAL_SIZE, "tick: actual size", "勾选：实际大小"),
        Mark(SLIDER, step_en, step_zh),
    ])


SHOTS = [
    _images("00_images", "00", "^logs_start_here$", "^sample_images$",
            "TensorBoard's IMAGES tab showing run logs_start_here: 1, the runs filter; 2, Show actual image "
            "size ticked; 3, the step slider above the 8 sample images.",
            "TensorBoard 的 IMAGES 页，运行 logs_start_here：1 是运行过滤框；2 是已勾选的 Show actual image "
            "size；3 是图片上方的步数滑块。"),
    _images("01_images", "01", "^logs_maxpool$", "",
            "TensorBoard's IMAGES tab filtered to run logs_maxpool at actual size: the input card shows four "
            "128-pixel images, the output card the same four at 42 pixels; 1, the runs filter; 2, Show actual "
            "image size; 3, the step slider.",
            "TensorBoard 的 IMAGES 页，只显示运行 logs_maxpool（实际大小）：输入卡片是四张 128 像素的图片，输出卡片"
            "是同样四张、42 像素；1 是运行过滤框；2 是 Show actual image size；3 是步数滑块。"),
    Shot("01_pairs", "01", "pairs", "logs_maxpool",
         "TensorBoard's PAIRS tab on run logs_maxpool, as lesson 01's own loop wrote it (the layer logged with "
         "add_text): the mouse on an output pixel, its 3 by 3 window outlined on the input and the table "
         "with the nine values and their maximum; 1, the step slider shared by input and output; 2, hover "
         "an output pixel.",
         "TensorBoard 的 PAIRS 页，运行 logs_maxpool（第 01 课自己的循环写出，层用 add_text 记录）：鼠标悬停在一个"
         "输出像素上，输入上框出它的 3×3 窗口，表格列出九个值和最大值；1 是输入和输出共用的步数滑块；2 是悬停在"
         "输出像素上。",
         step=6,
         marks=[Mark("input[type=range]", "one slider for both", "输入和输出共用滑块", frame=True),
                Mark("canvas.pv-output", "hover an output pixel", "悬停在输出像素上", frame=True)]),
    _images("02_images", "02", "^logs_(max|avg)pool$", "^output$",
            "TensorBoard's IMAGES tab with runs logs_maxpool and logs_avgpool, tag output, at actual size: "
            "the same windows give a white checkerboard under max pooling and a grey one under average "
            "pooling; 1, the runs filter; 2, Show actual image size; 3, a step slider (each card has one).",
            "TensorBoard 的 IMAGES 页，运行 logs_maxpool 与 logs_avgpool，标签 output，实际大小：同样的窗口，"
            "最大池化把棋盘格变白，平均池化变灰；1 是运行过滤框；2 是 Show actual image size；3 是步数滑块"
            "（每张卡片一个）。", step=0),
    Shot("02_pairs", "02", "pairs", "logs_avgpool",
         "TensorBoard's PAIRS tab on run logs_avgpool with the mouse on an output pixel: its 3 by 3 window is "
         "outlined on the input and the table lists the nine values, their sum and the divisor.",
         "TensorBoard 的 PAIRS 页，运行 logs_avgpool，鼠标悬停在一个输出像素上：输入上框出它的 3×3 窗口，"
         "表格列出窗口中的值、它们的和与除数。",
         marks=[Mark("canvas.pv-output", "hover an output pixel", "悬停在输出像素上", frame=True),
                Mark("canvas.pv-input", "input: its window outlined", "输入：框出它的窗口", frame=True)]),
    _images("04_images", "04", "^logs_dropout$", "",
            "TensorBoard's IMAGES tab filtered to run logs_dropout at actual size: the output card is a "
            "speckle of black (dropped) and over-bright (kept, times 2, clipped) pixels; 1, the runs filter; "
            "2, Show actual image size; 3, the step slider.",
            "TensorBoard 的 IMAGES 页，只显示运行 logs_dropout（实际大小）：输出是黑色（丢弃）和过亮（保留、乘 2、"
            "被裁剪）像素组成的斑点；1 是运行过滤框；2 是 Show actual image size；3 是步数滑块。"),
    Shot("04_pairs", "04", "pairs", "logs_dropout",
         "TensorBoard's PAIRS tab on run logs_dropout with the mouse on a pixel: the panel says whether it "
         "was dropped or kept and gives its true value.",
         "TensorBoard 的 PAIRS 页，运行 logs_dropout，鼠标悬停在一个像素上：面板显示它被丢弃还是保留，以及它的真实值。",
         zoom="2",
         marks=[Mark("canvas.pv-output", "hover a pixel", "悬停在像素上", frame=True)]),
    Shot("05_scalars", "05", "scalars", "logs_dropout_overfit",
         "TensorBoard's SCALARS tab: the loss chart with the train, validation and dropout-on runs of "
         "p0 and p0.5 together; 1, Smoothing set to 0; 2, the runs filter.",
         "TensorBoard 的 SCALARS 页：loss 图同时显示 p0 与 p0.5 的训练、验证和 dropout_on 运行；1 是调到 0 的 "
         "Smoothing；2 是运行过滤框。",
         tag="^loss$",
         marks=[Mark("tf-smoothing-input", "Smoothing: 0", "Smoothing 调到 0"),
                Mark(RUN_FILTER, "type logs_dropout_overfit", "输入 logs_dropout_overfit")]),
    Shot("05_hparams", "05", "hparams", "logs_dropout_sweep",
         "TensorBoard's HPARAMS tab, table view: one row per dropout p (0, 0.2, 0.5, 0.8) with its best "
         "and final validation loss and final training loss.",
         "TensorBoard 的 HPARAMS 页（表格视图）：每个 dropout p（0、0.2、0.5、0.8）一行，列出最低与最终验证损失"
         "和最终训练损失。",
         marks=[Mark("paper-tab:has-text('TABLE VIEW')", "table view", "表格视图"),
                Mark("paper-tab:has-text('PARALLEL COORDINATES VIEW')", "compare runs", "比较运行")]),
]


# -- drawing the marks ---------------------------------------------------------------------------
def _is_cjk(ch: str) -> bool:
    return ch >= "\u2e80" and unicodedata.category(ch) not in ("Zs",) and not ch.isascii()


def _fonts(size: int):
    from matplotlib import get_data_path
    from PIL import ImageFont

    latin = ImageFont.truetype(str(Path(get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"), size)
    return latin, ImageFont.truetype(str(CJK_FONT), size)


def missing_glyphs(text: str) -> set[str]:
    """Chinese characters of ``text`` the course font cannot draw (add them: tools/build_cjk_font.py)."""
    from fontTools.ttLib import TTFont

    cmap = TTFont(str(CJK_FONT)).getBestCmap()
    return {ch for ch in text if _is_cjk(ch) and ord(ch) not in cmap}


def _runs(text: str):
    """Split text into (is_cjk, chunk) pieces, so each is drawn with a font that has its glyphs."""
    pieces: list[tuple[bool, str]] = []
    for ch in text:
        cjk = _is_cjk(ch)
        if pieces and pieces[-1][0] == cjk:
            pieces[-1] = (cjk, pieces[-1][1] + ch)
        else:
            pieces.append((cjk, ch))
    return pieces


def _text_width(draw, text, fonts) -> int:
    return sum(int(draw.textlength(chunk, font=fonts[cjk])) for cjk, chunk in _runs(text))


def _draw_text(draw, xy, text, fonts, fill) -> None:
    x, y = xy
    for cjk, chunk in _runs(text):
        draw.text((x, y + (-2 if cjk else 0)), chunk, font=fonts[cjk], fill=fill)
        x += int(draw.textlength(chunk, font=fonts[cjk]))


def annotate(png: Path, boxes: list[tuple[tuple[float, float, float, float], str]], out: Path) -> None:
    """Draw numbered boxes and labels on the screenshot ``png``; write an optimised palette PNG."""
    from PIL import Image, ImageDraw

    img = Image.open(png).convert("RGB")
    draw = ImageDraw.Draw(img)
    fonts = _fonts(17)
    badge_fonts = _fonts(16)
    W, H = img.size
    marked = [(int(x), int(y), int(x + w), int(y + h)) for (x, y, w, h), _ in boxes]
    placed: list[tuple[int, int, int, int]] = []
    for number, ((x, y, w, h), label) in enumerate(boxes, start=1):
        x0, y0, x1, y1 = int(x), int(y), int(x + w), int(y + h)
        for k in range(3):
            draw.rectangle((x0 - k, y0 - k, x1 + k, y1 + k), outline=MARK)
        text = f"{number} · {label}"
        tw, th = _text_width(draw, text, fonts) + 16, 28
        # the label goes below the box, else above, else inside at its top; never off the image
        candidates = [(x0, y1 + 6), (x1 + 10, y0), (x0, y0 - th - 6), (x1 + 10, y1 + 6), (x0 + 4, y0 + 4)]
        others = placed + [b for b in marked if b != (x0, y0, x1, y1)]
        for lx, ly in candidates:
            lx = max(2, min(lx, W - tw - 2))
            rect = (lx, ly, lx + tw, ly + th)
            if ly >= 0 and ly + th <= H and not any(
                    rect[0] < r[2] and r[0] < rect[2] and rect[1] < r[3] and r[1] < rect[3] for r in others):
                break
        placed.append(rect)
        draw.rectangle(rect, fill=LABEL_BG, outline=MARK, width=2)
        _draw_text(draw, (lx + 8, ly + 4), text, fonts, (255, 255, 255))
        # the number also sits on the box's corner, so the box and its label pair up at a glance
        bx, by = max(0, x0 - 14), max(0, y0 - 14)
        draw.ellipse((bx, by, bx + 26, by + 26), fill=MARK)
        _draw_text(draw, (bx + 8, by + 3), str(number), badge_fonts, (255, 255, 255))
    out.parent.mkdir(parents=True, exist_ok=True)
    for colours in (128, 64, 32):
        img.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, optimize=True)
        if out.stat().st_size <= MAX_BYTES:
            break


# -- TensorBoard and the browser -----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tensorboard(logdir: Path) -> str:
    """TensorBoard (with the installed plugins, PAIRS among them) on 127.0.0.1 inside this process; returns its URL.

    It runs on a daemon thread and stops when this script exits: nothing is left running."""
    from tensorboard import program

    # as tools/serve_tensorboard.py, with every image of every step (utils/ is not imported: it needs torch)
    try:  # shown under the runs list: "logs", as a student who cloned the course sees it, not our folders
        shown = os.path.relpath(logdir)
    except ValueError:  # another drive (Windows)
        shown = str(logdir)
    args = ["--logdir", shown if not shown.startswith("..") else str(logdir), "--host", "127.0.0.1", "--port", str(free_port()),
            "--samples_per_plugin", "images=1000"]
    board = program.TensorBoard()  # its default plugins plus installed ones (PAIRS)
    board.configure(argv=["tensorboard", *args])
    return board.launch()


def _box(locator):
    locator.first.wait_for(state="visible", timeout=15_000)
    b = locator.first.bounding_box()
    return (b["x"], b["y"], b["width"], b["height"])


def capture(page, base_url: str, shot: Shot):
    """Open the view of ``shot`` the way the lesson tells a student to; return the marks' boxes."""
    frame = None
    if shot.page == "images":
        page.goto(f"{base_url}#images", wait_until="networkidle")
        page.wait_for_selector("tf-image-loader img", timeout=30_000)
        page.locator(RUN_FILTER).first.fill(shot.run)
        if shot.tag:
            page.locator(TAG_FILTER).first.fill(shot.tag)
        page.locator(ACTUAL_SIZE).first.click()
        time.sleep(1.5)
        if not page.locator("tf-image-loader img").first.is_visible():
            page.get_by_text(shot.tag.strip("^$"), exact=True).first.click()  # a folded tag pane
        page.wait_for_selector("tf-image-loader img", timeout=30_000)
        first_pane = page.locator("tf-category-paginated-view").first
        if shot.step is not None:  # the cards of the first pane (the tag filter's, or the first tag's)
            sliders = first_pane.locator(SLIDER)
            for i in range(sliders.count()):
                sliders.nth(i).focus()
                page.keyboard.press("Home")
                for _ in range(shot.step):
                    page.keyboard.press("ArrowRight")
        first_pane.evaluate("el => el.scrollIntoView({block: 'start'})")
        time.sleep(1.0)
    elif shot.page == "pairs":
        page.goto(f"{base_url}#pairs", wait_until="networkidle")
        frame_el = page.locator("iframe").first
        frame_el.wait_for(state="attached", timeout=30_000)
        frame = page.frame_locator("iframe").first
        frame.locator("select.pv-run").select_option(shot.run)
        frame.locator(f"body[data-run='{shot.run}']").wait_for(state="attached", timeout=30_000)
        zoom = frame.locator("label:has-text('zoom') select")
        if shot.zoom and zoom.count():
            chosen = [o for o in zoom.locator("option").all_text_contents() if o.strip().lstrip("×x") == shot.zoom]
            if chosen:
                zoom.select_option(label=chosen[0])
        if shot.step is not None:  # the number box beside the step slider
            box = frame.locator("input[type=number]").first
            box.fill(str(shot.step))
            box.press("Enter")
        time.sleep(1.0)
        out = frame.locator("canvas.pv-output")
        if out.count():
            b = out.first.bounding_box()
            if b:
                page.mouse.move(b["x"] + b["width"] * 0.55, b["y"] + b["height"] * 0.45)
                time.sleep(0.8)
    elif shot.page == "scalars":
        page.goto(f"{base_url}#scalars", wait_until="networkidle")
        page.locator(RUN_FILTER).first.fill(shot.run)
        page.locator(TAG_FILTER).first.fill(shot.tag)
        smoothing = page.locator("tf-smoothing-input input[type=number], tf-smoothing-input paper-input input")
        smoothing.first.fill("0")
        smoothing.first.press("Enter")
        page.wait_for_selector("tf-scalar-card, vz-line-chart2", timeout=30_000)
        time.sleep(2.0)
    elif shot.page == "hparams":
        page.goto(f"{base_url}#hparams", wait_until="networkidle")
        page.wait_for_selector("tf-hparams-table-view, vaadin-grid", timeout=30_000)
        time.sleep(2.0)
    else:
        raise ValueError(f"unknown page {shot.page!r}")
    boxes = []
    for mark in shot.marks:  # Playwright's boxes are in the page's viewport, frames included
        if mark.frame:
            box = _box(frame.locator(mark.selector))
        else:
            box = _box(page.locator(mark.selector))
        p = mark.pad
        boxes.append(((box[0] - p, box[1] - p, box[2] + 2 * p, box[3] + 2 * p), mark))
    return boxes


def chromium_path() -> str:
    return os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")


def make(shots: list[Shot], out: Path = OUT, logdir: Path | None = None, *, quiet: bool = False) -> list[Path]:
    from playwright.sync_api import sync_playwright

    logdir = Path(logdir or os.environ.get("COURSE_LOGS_DIR") or ROOT / "logs")
    needed = {s.run.strip("^$") for s in shots if s.page in ("pairs", "hparams")}
    absent = [r for r in sorted(needed) if not (logdir / r).is_dir()]
    if absent:
        raise SystemExit(f"no run {', '.join(absent)} in {logdir}: run `make demo` first "
                         "(it executes the lessons, which write the runs).")
    for shot in shots:
        for mark in shot.marks:
            if missing_glyphs(mark.zh):
                raise SystemExit(f"the course font has no glyph for {''.join(sorted(missing_glyphs(mark.zh)))}"
                                 f" ({shot.name}): run `python tools/build_cjk_font.py`")
    url = start_tensorboard(logdir)
    written: list[Path] = []
    import tempfile

    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=chromium_path(),
                                    args=["--no-sandbox", "--disable-gpu"])
        try:
            for shot in shots:
                t0 = time.monotonic()
                page = browser.new_page(viewport=VIEWPORT)
                boxes = capture(page, url, shot)
                raw = Path(tmp) / f"{shot.name}.png"
                page.screenshot(path=str(raw))
                page.close()
                for lang in LANGS:
                    target = out / f"{shot.name}.{lang}.png"
                    annotate(raw, [(box, mark.en if lang == "en" else mark.zh) for box, mark in boxes],
                             target)
                    written.append(target)
                if not quiet:
                    print(f"{shot.name}: {time.monotonic() - t0:.1f} s, "
                          + ", ".join(f"{(out / f'{shot.name}.{lang}.png').stat().st_size // 1000} KB"
                                      for lang in LANGS))
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, help="names of views (default: all)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--logdir", type=Path, default=None, help="runs (default: logs/)")
    args = parser.parse_args(argv)
    shots = [s for s in SHOTS if args.only is None or s.name in args.only]
    if args.only and len(shots) != len(args.only):
        known = ", ".join(s.name for s in SHOTS)
        raise SystemExit(f"unknown view in {args.only}; known: {known}")
    make(shots, args.out, args.logdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
