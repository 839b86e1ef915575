"""Every lesson run in a real JupyterLab in a real browser, the way a student runs it (issue 18).

ONE JupyterLab server is started with the very command `make lab` runs (read from `make -n lab`), on
127.0.0.1, a free port and a random token, with the course's logs in a temporary folder and WITHOUT
COURSE_HEADLESS, so `show_tensorboard` embeds TensorBoard as it does for a student. ONE headless
Chromium (Debian's, driven by the Python playwright package) opens every lesson (notebooks/NN_*.ipynb,
and one lesson of notebooks/zh-CN/ when that edition exists; after the first, through File > Close All
Tabs and File > Open from Path..., as a student would), clicks Kernel > Restart Kernel and Run All
Cells..., waits until every code cell has its execution count, and checks what the student sees:
no error output, no raw LaTeX, no broken image, no "Jupyter news" prompt, no request beyond
127.0.0.1. Lessons 00, 02 and 05 (one per way of logging) then run once more in the same kernel
(Run > Run All Cells): the logs still hold one event file per run with the same images. The shapes lesson's calculator is driven through
its sliders; an embedded TensorBoard must show the IMAGES page with the lesson's run at its last step
and serve every run the lesson wrote. A lesson opened with a kernel from another environment (no
torch) must stop at its setup cell with the course's message, and that message's fix, applied as
written, must make the lesson run. Each lesson prints where its test time went.

The checks are plain functions returning a list of problems; the tests at the bottom run them on
deliberately broken copies (a cell that raises, a calculator that does not update, an embed showing
an error page) to prove they fail when they should. A screenshot of every lesson goes to
build/screenshots/lab/.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import WALK_CARDS, browser_or_skip, free_port, make_recipe

from utils.environment import ROOT, build_dir

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
NEWS_PROMPT = "official Jupyter news"
VIEWPORT = {"width": 1400, "height": 1000}
RUN_TIMEOUT = 300  # seconds for one Run All of one lesson
SCREENSHOTS = build_dir() / "screenshots" / "lab"


#: The Chinese edition runs the same code (tests/docs/test_editions.py); one of its lessons is opened here
#: to see its Chinese markdown, maths and figures render, the others would only repeat the English runs.
ZH_SAMPLE = "02_average_pooling.ipynb"
RERUN_LESSONS = {"00_start_here.ipynb", "02_average_pooling.ipynb", "05_dropout_overfitting.ipynb"}


def lesson_notebooks(notebooks: Path = ROOT / "notebooks") -> list[Path]:
    """The lessons a student opens: NN_*.ipynb, then one lesson of the Chinese edition, if it exists."""
    found = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    return found + sorted((notebooks / "zh-CN").glob(ZH_SAMPLE))


# -- the JupyterLab server: exactly `make lab` ----------------------------------------------------
def lab_command(port: int) -> str:
    """The shell command `make lab` runs, for this port (read from the Makefile, not copied)."""
    command = make_recipe("lab", f"LAB_PORT={port}", "HOST=127.0.0.1")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        command += " --allow-root"
    return command



@dataclass
class Lab:
    """A running `make lab` server; ``stop()`` ends its process group and the TensorBoards its
    kernels started (found by their logdir, which is ours)."""

    url: str
    token: str
    process: subprocess.Popen
    logs: Path
    log_file: Path
    data_dir: Path  # JUPYTER_DATA_DIR: the kernels this server offers besides its own Python 3
    requests: list[str] = field(default_factory=list)

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(
            f"{self.url}/{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for session in self.api("api/sessions"):
            self.api(f"api/sessions/{session['id']}", method="DELETE")

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stop_tensorboards(self.logs)


def stop_tensorboards(logs: Path) -> None:
    """Stop the TensorBoards `%tensorboard` started on ``logs`` (by pid, from TensorBoard's own list)."""
    from tensorboard import manager

    for info in manager.get_all():
        if Path(info.logdir).resolve() == logs.resolve():
            try:
                os.kill(info.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def start_lab(course: Path, logs: Path, log_file: Path, timeout: float = 120,
              user_settings: dict[str, dict] | None = None) -> Lab:
    """`make lab`'s command, run in ``course`` (the repository, or a copy for broken notebooks).

    Only the environment differs from a student's: a random token (JUPYTER_TOKEN), the logs in
    ``logs`` (COURSE_LOGS_DIR), COURSE_HEADLESS unset, and empty user settings, workspaces and
    Jupyter data folder (no kernels but the server's own), so nothing a developer clicked or
    installed in their own Jupyter changes what is tested.
    """
    port, token = free_port(), secrets.token_hex(16)
    state = log_file.parent / f"{log_file.stem}-state"
    env = {k: v for k, v in os.environ.items() if k != "COURSE_HEADLESS"}
    env.update(
        JUPYTER_TOKEN=token,
        COURSE_LOGS_DIR=str(logs),
        COURSE_BUILD_DIR=str(state / "build"),
        JUPYTERLAB_SETTINGS_DIR=str(state / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
        JUPYTER_DATA_DIR=str(state / "jupyter-data"),
        BROWSER="true",  # `jupyter lab` opens a browser; ours is driven by playwright
    )
    for plugin, values in (user_settings or {}).items():  # "@scope/package:plugin" -> settings
        package, plugin_name = plugin.split(":")
        target = state / "user-settings" / package / f"{plugin_name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    with open(log_file, "w") as out:
        process = subprocess.Popen(
            lab_command(port), shell=True, cwd=course, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, process, logs, log_file, state / "jupyter-data")
    deadline = time.monotonic() + timeout
    while True:
        try:
            lab.api("api/status")
            return lab
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                lab.stop()
                raise RuntimeError(
                    f"JupyterLab did not start:\n{log_file.read_text()[-3000:]}") from None
            time.sleep(0.5)


# -- the browser ---------------------------------------------------------------------------------
def new_page(browser, lab: Lab):
    """A page that records every request it (and its frames) makes into ``lab.requests``."""
    page = browser.new_page(viewport=VIEWPORT)
    page.on("request", lambda r: lab.requests.append(r.url))
    page.on("websocket", lambda ws: lab.requests.append(ws.url))
    return page


def open_notebook(page, lab: Lab, path: str, timeout: float = 120) -> list[str]:
    """Open ``path`` (relative to the server's notebook folder) and wait until its kernel is idle.

    The first time, the page loads JupyterLab on that notebook with a fresh layout. Afterwards it does
    what a student does, without reloading JupyterLab: File > Close All Tabs (discarding changes: the
    lessons must never be saved), then File > Open from Path... Returns notes: JupyterLab sometimes
    asks "Select Kernel" (it opened the notebook before it had read the kernel list); a student then
    clicks Select, so do we.
    """
    if page.url.startswith(f"{lab.url}/lab") and page.locator(".lm-MenuBar").count():
        close_all_tabs(page)
        menu(page, "File", "Open from Path")
        dialog = page.locator(".jp-Dialog")
        dialog.locator("input").fill(path)
        dialog.locator(".jp-mod-accept").click()
    else:
        page.goto(f"{lab.url}/lab/tree/{urllib.parse.quote(path)}?reset&token={lab.token}")
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=90_000)
    notes = []
    deadline = time.monotonic() + timeout
    while True:
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and "Select Kernel" in dialog.first.inner_text():
            notes.append("JupyterLab asked 'Select Kernel'; chose "
                         + dialog.first.locator("select").first.evaluate(
                             "(s) => s.options[s.selectedIndex].text"))
            dialog.first.locator(".jp-mod-accept").click()
        sessions = [s for s in lab.api("api/sessions") if s["path"] == path]
        if (sessions and sessions[0]["kernel"]["execution_state"] == "idle"
                and page.evaluate(KERNEL_STATUS) == "idle"):
            return notes
        if time.monotonic() > deadline:
            raise TimeoutError(f"no idle kernel for {path} after {timeout} s; sessions {sessions}")
        page.wait_for_timeout(250)


def close_all_tabs(page, timeout: float = 20) -> None:
    """File > Close All Tabs, answering "Discard" to every "Save your work" question."""
    menu(page, "File", "Close All Tabs")
    deadline = time.monotonic() + timeout
    while page.locator(".jp-NotebookPanel").count():
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and "Save your work" in dialog.first.inner_text():
            dialog.first.locator("button", has_text="Discard").click()
        if time.monotonic() > deadline:
            raise TimeoutError("File > Close All Tabs left a notebook open")
        page.wait_for_timeout(100)


KERNEL_STATUS = """() => {
    const el = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
    return el ? el.getAttribute('data-status') : null;
}"""

#: JavaScript: [prompt text, source text] of every code cell of the notebook on show.
CODE_CELLS = """() => Array.from(document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell')).map((cell) => {
    const prompt = cell.querySelector('.jp-InputArea-prompt');
    const lines = Array.from(cell.querySelectorAll('.cm-line')).map((l) => l.textContent);
    return [prompt ? prompt.textContent.trim() : '', lines.join('\\n')];
})"""


def wait_idle(page, timeout: float) -> None:
    page.wait_for_function(
        f"() => ({KERNEL_STATUS})() === 'idle'", timeout=timeout * 1000, polling=250
    )


def menu(page, top: str, item: str) -> None:
    """Click a JupyterLab menu entry, as a student does."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}")).first.click()


def change_kernel(page, display_name: str) -> None:
    """Kernel > Change Kernel..., pick ``display_name``, Select; wait until that kernel is idle."""
    menu(page, "Kernel", "Change Kernel")
    dialog = page.locator(".jp-Dialog")
    dialog.locator("select").select_option(label=display_name)
    dialog.locator(".jp-mod-accept").click()
    page.wait_for_function(
        f"""() => {{ const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                    return panel && panel.querySelector('.jp-KernelName, .jp-Toolbar-kernelName')
                        && panel.textContent.includes({display_name!r}); }}""",
        timeout=30_000, polling=200)
    wait_idle(page, 60)


def run_all(page, restart: bool, timeout: float = RUN_TIMEOUT) -> float:
    """Kernel > Restart Kernel and Run All Cells... (restart) or Run > Run All Cells; wait until
    every cell ran and the kernel is idle. Returns the seconds, as a student waits them."""
    start = time.monotonic()
    if restart:
        menu(page, "Kernel", "Restart Kernel and Run All Cells")
        page.locator(".jp-Dialog .jp-mod-accept").click()
    else:
        menu(page, "Run", "Run All Cells")
    # Run All marks every queued cell [*] at once; the last code cell stays [*] until it has run.
    page.wait_for_function(
        "() => (" + CODE_CELLS + ")().some(([p]) => p.includes('*'))", timeout=60_000, polling=100
    )
    page.wait_for_function(
        "() => !(" + CODE_CELLS + ")().some(([p]) => p.includes('*'))"
        " && (" + KERNEL_STATUS + ")() === 'idle'",
        timeout=timeout * 1000, polling=250,
    )
    return time.monotonic() - start


# -- checks: each returns a list of problems (empty: fine) ----------------------------------------
def execution_problems(page, code_cells: int) -> list[str]:
    """All ``code_cells`` code cells of the notebook file are on the page, each with an execution
    count, counting up in page order."""
    cells = page.evaluate(CODE_CELLS)
    problems = [] if len(cells) == code_cells else [
        f"{len(cells)} code cells on the page, {code_cells} in the notebook"]
    counts = []
    for i, (prompt, source) in enumerate(cells):
        match = re.fullmatch(r"\[(\d+)\]:", prompt)
        if not match:
            problems.append(f"code cell {i} did not run (prompt {prompt!r}): {source[:60]!r}")
        else:
            counts.append(int(match.group(1)))
    if counts != sorted(counts) or len(set(counts)) != len(counts):
        problems.append(f"execution counts not in page order: {counts}")
    return problems


def code_cell_count(path: Path) -> int:
    import nbformat

    return sum(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells)


ERROR_OUTPUTS = """() => Array.from(document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
    .map((el) => el.textContent)"""
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*\w*(Error|Exception)\b.*:",
                       re.MULTILINE)


def error_outputs(page) -> list[str]:
    """Outputs showing a traceback (an error output, or a traceback printed to stderr)."""
    return [text[-1500:] for text in page.evaluate(ERROR_OUTPUTS) if TRACEBACK.search(text)]


RENDERED_MARKDOWN = """() => Array.from(document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownOutput')).map((el) => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('mjx-container, code, pre').forEach((m) => m.remove());
    return copy.textContent;
})"""
RAW_LATEX = re.compile(r"\$\$|\\(frac|lfloor|rfloor|lceil|rceil|cdot|times|left|right|sum|sqrt|"
                       r"text|mathrm|mathbf|begin|end|le|ge|in)\b|\$[^$\s][^$]*[\\^_{}][^$]*\$")


def raw_latex(page) -> list[str]:
    """Rendered Markdown that still shows LaTeX source (MathJax failed or the math is malformed)."""
    found = []
    for text in page.evaluate(RENDERED_MARKDOWN):
        for match in RAW_LATEX.finditer(text):
            found.append(text[max(0, match.start() - 40): match.end() + 40].replace("\n", " "))
    return found


BROKEN_IMAGES = """() => Array.from(document.querySelectorAll(
        '.jp-NotebookPanel:not(.lm-mod-hidden) img'))
    .filter((img) => !(img.complete && img.naturalWidth > 0))
    .map((img) => (img.getAttribute('src') || '').slice(0, 120))"""


def broken_images(page) -> list[str]:
    return page.evaluate(BROKEN_IMAGES)


def outside_requests(urls: list[str]) -> list[str]:
    """Requests to anywhere but this machine."""
    outside = []
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in {"data", "blob", "about", "chrome-error"}:
            continue
        if parts.hostname not in LOCAL_HOSTS:
            outside.append(url)
    return outside


def news_prompt(page) -> bool:
    """The "Jupyter news" toast is on the page (textContent: innerText would lay out the whole page)."""
    return page.evaluate(f"() => document.body.textContent.includes({NEWS_PROMPT!r})")


NOTEBOOK_HEIGHT = """() => {
    const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
    if (!nb) return [1000, 0];
    nb.scrollTop = 0;
    const cells = nb.querySelectorAll('.jp-Cell');
    if (!cells.length) return [1000, 0];
    // the last cell's bottom, not scrollHeight: JupyterLab pads the end by about a window's height
    // ("scroll past end"), so scrollHeight grows with every resize
    const bottom = cells[cells.length - 1].getBoundingClientRect().bottom;
    return [bottom + 40, nb.querySelectorAll('.jp-CodeCell').length];
}"""


def show_whole_notebook(page, code_cells: int | None = None) -> None:
    """Grow the window to the notebook's full height (JupyterLab scrolls inside its own pane and
    renders only the cells in view), so every cell is laid out, typeset and its images decoded; used
    for the screenshot too. Cells off screen have estimated heights until laid out, so grow until
    the height settles and (when given) all ``code_cells`` are on the page."""
    height, settled = 0, 0
    for _ in range(40):
        wanted, cells = page.evaluate(NOTEBOOK_HEIGHT)
        wanted = int(min(max(wanted, 1000), 32000))
        if wanted > height:
            height, settled = wanted, 0
            page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        elif code_cells is None or cells >= code_cells:
            settled += 1
            if settled == 2:
                break
        page.wait_for_timeout(150)
    page.evaluate("""() => document.querySelectorAll('.jp-WindowedPanel-outer').forEach((e) => { e.scrollTop = 0; })""")


def wait_for(check, page, seconds: float = 20) -> list[str]:
    """Problems ``check(page)`` still finds after up to ``seconds`` (MathJax and images are async)."""
    deadline = time.monotonic() + seconds
    while True:
        problems = check(page)
        if not problems or time.monotonic() > deadline:
            return problems
        page.wait_for_timeout(200)


def page_problems(page, code_cells: int, patience: float = 20,
                  clock: Phases | None = None) -> dict[str, list[str]]:
    """Everything a student would see wrong on the notebook on show, by kind. Each check waits up to
    ``patience`` seconds for async rendering (MathJax, images) to clear it."""
    clock = clock or Phases()
    with clock("grow"):
        show_whole_notebook(page, code_cells)
    found = {}
    with clock("cells"):
        found["cells that did not run"] = wait_for(lambda p: execution_problems(p, code_cells),
                                                   page, patience)
    found["error outputs"] = error_outputs(page)
    with clock("latex"):
        found["raw LaTeX"] = wait_for(raw_latex, page, patience)
    with clock("images"):
        found["broken images"] = wait_for(broken_images, page, patience)
    found["news prompt"] = [NEWS_PROMPT] if news_prompt(page) else []
    return found


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)
    return path


# -- TensorBoard: what the lesson wrote, and what the embedded frame shows ------------------------
def event_file_times(logs: Path) -> dict[str, float]:
    """``{run: newest event file's mtime}`` for every run under ``logs`` (cheap: no file is read)."""
    times: dict[str, float] = {}
    for p in logs.rglob("*tfevents*"):
        if p.is_file():
            run = p.parent.relative_to(logs).as_posix()
            times[run] = max(times.get(run, 0.0), p.stat().st_mtime)
    return times


def written_since(before: dict[str, float], after: dict[str, float]) -> list[str]:
    """Runs created or rewritten between two ``event_file_times``."""
    return sorted(run for run, t in after.items() if before.get(run) != t)


def read_runs(logs: Path, runs: list[str]) -> dict[str, dict]:
    """These runs under ``logs``: their event files and images ({tag: [(step, PNG bytes)]}), read
    with TensorBoard's own EventAccumulator (keeping every image)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    found = {}
    for run in runs:
        run_dir = logs / run
        acc = EventAccumulator(str(run_dir), size_guidance={"images": 0, "scalars": 0})
        acc.Reload()
        found[run] = {
            "event_files": sorted(p.name for p in run_dir.glob("*tfevents*")),
            "images": {t: [(e.step, e.encoded_image_string) for e in acc.Images(t)]
                       for t in acc.Tags()["images"]},
        }
    return found


def rerun_problems(first: dict, second: dict) -> list[str]:
    """After Run All again in the same kernel: one event file per run, the same images."""
    problems = []
    for run, info in second.items():
        if len(info["event_files"]) != 1:
            problems.append(f"{run}: {len(info['event_files'])} event files {info['event_files']}")
        if run in first and info["images"] != first[run]["images"]:
            steps = {t: [s for s, _ in v] for t, v in info["images"].items()}
            problems.append(f"{run}: other images than the first Run All (steps now {steps})")
    return problems


def embedded_frames(page) -> list:
    """Frames embedded in the notebook's outputs (`%tensorboard` draws one per call)."""
    iframes = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output iframe")
    frames = [iframes.nth(i).element_handle().content_frame() for i in range(iframes.count())]
    return [f for f in frames if f is not None]




def embed_problems(frame, last_steps: dict[str, int], timeout: float = 60,
                   runs: list[str] = ()) -> list[str]:
    """The embedded TensorBoard opened on IMAGES and shows every run in ``last_steps`` at that
    step, every image loaded; it serves every one of ``runs`` (a lesson that logs only scalars has
    no image to show, but its runs must be there). Other dashboards or an error page are problems."""
    problems = []
    dashboard = urllib.parse.urlsplit(frame.url).fragment.split("&")[0]
    if dashboard != "images":
        problems.append(f"the embedded TensorBoard opens {dashboard or frame.url!r}, not IMAGES")
        if urllib.parse.urlsplit(frame.url).scheme.startswith("http"):
            frame.goto(frame.url.split("#")[0] + "#images")  # look at IMAGES anyway
    script = """(wanted) => {""" + WALK_CARDS + """
        return Object.entries(wanted).every(([run, step]) => cards.some((c) => {
            const img = c.shadowRoot && c.shadowRoot.querySelector('img');
            const text = c.shadowRoot ? c.shadowRoot.textContent.replace(/\\s+/g, ' ') : '';
            return c.run === run && img && img.complete && img.naturalWidth > 0
                && text.toLowerCase().includes('step ' + step);
        }));
    }"""
    try:
        frame.wait_for_function(script, arg=last_steps, timeout=timeout * 1000, polling=500)
    except Exception:  # noqa: BLE001 (a timeout, or the frame is an error page that went away)
        try:
            shown = frame.evaluate("() => {" + WALK_CARDS + """
                return cards.map((c) => [c.run, c.tag,
                    c.shadowRoot ? c.shadowRoot.textContent.replace(/\\s+/g, ' ').trim() : '']); }""")
            text = frame.evaluate("() => document.body ? document.body.innerText.slice(0, 300) : ''")
        except Exception as err:  # noqa: BLE001
            shown, text = [], str(err)
        problems.append(f"the embed at {frame.url} does not show {last_steps} at the last step; "
                        f"cards [run, tag, text]: {shown}; page text: {text!r}")
    missing = missing_runs(frame, list(runs), timeout=timeout if not problems else 1)
    if missing:
        problems.append(f"the embed at {frame.url} does not serve the runs {missing}")
    return problems


def missing_runs(frame, runs: list[str], timeout: float) -> list[str]:
    """Which of ``runs`` the TensorBoard in ``frame`` does not list (its own ``data/runs``, fetched
    from inside the frame, so through whatever proxy the embed uses), after up to ``timeout`` s."""
    script = """async (wanted) => {
        try {
            const listed = await (await fetch('data/runs')).json();
            return wanted.filter((run) => !listed.includes(run));
        } catch (err) { return wanted; }
    }"""
    deadline = time.monotonic() + timeout
    while True:
        try:
            missing = frame.evaluate(script, runs) if runs else []
        except Exception:  # noqa: BLE001 (an error page, or a frame that went away)
            missing = runs
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.5)


def last_image_steps(runs: dict[str, dict]) -> dict[str, int]:
    return {run: max(s for v in info["images"].values() for s, _ in v)
            for run, info in runs.items() if any(info["images"].values())}


# -- the shape calculator: found by its labels, driven through its sliders -------------------------
CALCULATOR_LABELS = {"kernel": r"kernel", "stride": r"stride", "padding": r"padding",
                     "ceil_mode": r"ceil", "H": r"^(H|height)$", "W": r"^(W|width)$"}


def find_calculator(page):
    """The ipywidgets box that has kernel, stride and padding sliders and a ceil_mode checkbox."""
    boxes = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-interact, "
                         ".jp-NotebookPanel:not(.lm-mod-hidden) .widget-vbox")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        labels = box.locator(".widget-label, .widget-label-basic").all_text_contents()
        if all(any(re.search(CALCULATOR_LABELS[k], t.strip(), re.I) for t in labels)
               for k in ("kernel", "stride", "padding", "ceil_mode")):
            return box
    return None


def _control(box, key: str):
    pattern = re.compile(CALCULATOR_LABELS[key], re.I)
    for selector in (".widget-slider", ".widget-checkbox"):
        controls = box.locator(selector)
        for i in range(controls.count()):
            labels = controls.nth(i).locator(".widget-label, .widget-label-basic")
            if any(pattern.search(t.strip(" \u200b")) for t in labels.all_text_contents()):
                return controls.nth(i)
    raise LookupError(f"no control labelled like {CALCULATOR_LABELS[key]!r}")


def slider_value(box, key: str) -> int:
    return int(_control(box, key).locator(".widget-readout").text_content().strip())


def move_slider(box, key: str, value: int) -> None:
    """Set a slider by typing into its readout (one update; a student can do this too), then wait
    for the kernel. Arrow keys on the handle send one update per step, and fast trains of updates
    sometimes leave the interact output without its drawing (an ipywidgets race, see the report)."""
    control = _control(box, key)
    readout = control.locator(".widget-readout")
    if int(readout.text_content().strip()) == value:
        return
    readout.click()
    readout.press("Control+A")
    readout.type(str(value))
    readout.press("Enter")
    _settle(box)
    now = int(readout.text_content().strip())
    assert now == value, f"slider {key} shows {now}, not {value}"


def _settle(box) -> None:
    page = box.page
    page.wait_for_timeout(200)
    page.wait_for_function(f"() => ({KERNEL_STATUS})() === 'idle'", timeout=60_000, polling=100)


def set_checkbox(box, key: str, value: bool) -> None:
    checkbox = _control(box, key).locator("input[type=checkbox]")
    if checkbox.is_checked() != value:
        checkbox.click()
        _settle(box)


def calculator_output(box) -> tuple[str, list[str]]:
    """The text and the image sources the calculator shows below its controls."""
    out = box.locator(".widget-output").last
    return out.text_content(), out.locator("img").evaluate_all("(imgs) => imgs.map((i) => i.src)")


def expected_calculator(height: int, width: int, kernel: int, stride: int, padding: int,
                        ceil_mode: bool) -> tuple[tuple[int, ...] | None, str]:
    """What PyTorch returns for these settings, and the course's message when it refuses."""
    import torch

    from utils.shapes import pool2d_output_shape

    try:
        shape = tuple(torch.nn.MaxPool2d(kernel, stride, padding, ceil_mode=ceil_mode)(
            torch.zeros(1, 1, height, width)).shape)
    except RuntimeError:
        shape = None
    message = ""
    try:
        pool2d_output_shape((1, 1, height, width), kernel_size=kernel, stride=stride,
                            padding=padding, ceil_mode=ceil_mode)
    except ValueError as err:
        message = str(err)
    return shape, message


def calculator_problems(page, settings: list[dict], timeout: float = 30,
                        shots: Path = SCREENSHOTS) -> list[str]:
    """Move the calculator to each setting; after each, the shown formula and shape must be
    PyTorch's for that setting and the drawing must change, or, for a setting PyTorch refuses,
    the course's message shows instead of a traceback and no stale drawing remains."""
    box = find_calculator(page)
    if box is None:
        return ["no calculator (kernel/stride/padding sliders and a ceil_mode checkbox) found"]
    box.scroll_into_view_if_needed()
    problems = []
    _, images = calculator_output(box)
    for setting in settings:
        move_slider(box, "kernel", setting["kernel"])  # first: padding is limited by the kernel
        move_slider(box, "stride", setting["stride"])
        move_slider(box, "padding", setting["padding"])
        set_checkbox(box, "ceil_mode", setting["ceil_mode"])
        height, width = slider_value(box, "H"), slider_value(box, "W")
        shape, message = expected_calculator(height, width, **setting)
        where = f"H={height} W={width} {setting}"
        if shape is not None:
            wanted = [str(shape)] + [f"{name}={setting[key]}" for key, name in
                                     (("kernel", "kernel_size"), ("stride", "stride"),
                                      ("padding", "padding"), ("ceil_mode", "ceil_mode"))]
        else:
            wanted = [message.split(".")[0]]
        deadline = time.monotonic() + timeout
        while True:
            text, now = calculator_output(box)
            missing = [w for w in wanted if w not in text]
            drawn = (now and now != images) if shape is not None else not now
            if not missing and drawn and "Traceback" not in text:
                break
            if time.monotonic() > deadline:
                shots.mkdir(parents=True, exist_ok=True)
                box.screenshot(path=str(shots / f"calculator_failed_{len(problems)}.png"))
                problems.append(f"{where}: the calculator shows {text[-600:]!r} with {len(now)} "
                                f"image(s) (changed: {now != images}); missing {missing}")
                break
            page.wait_for_timeout(300)
        images = now
    return problems


CALCULATOR_SETTINGS = [
    {"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel": 2, "stride": 1, "padding": 0, "ceil_mode": False},
    {"kernel": 4, "stride": 3, "padding": 2, "ceil_mode": True},
    {"kernel": 2, "stride": 2, "padding": 2, "ceil_mode": False},  # padding > kernel // 2: refused
]


# -- one server, one browser, every lesson ---------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


#: The lessons are the repository's own files: the test runs them but must never save them.
NEVER_SAVE = {"@jupyterlab/docmanager-extension:plugin": {"autosave": False}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` on the course, its logs in a temporary folder; always stopped."""
    tmp = tmp_path_factory.mktemp("lab")
    before = {p: p.read_bytes() for p in (ROOT / "notebooks").rglob("*.ipynb")}
    server = start_lab(ROOT, tmp / "logs", tmp / "jupyterlab.log", user_settings=NEVER_SAVE)
    yield server
    server.stop()
    changed = [p.name for p, data in before.items() if not p.exists() or p.read_bytes() != data]
    assert not changed, f"the browser test changed lesson files: {changed}"


@pytest.fixture(scope="module")
def page(browser, lab):
    return new_page(browser, lab)


def headless_reference(request, path: Path) -> str:
    """The lesson's headless time, when this session executes the notebooks anyway (make test)."""
    wanted = {"notebook_runs", "executed_notebooks"}
    if not any(wanted & set(getattr(item, "fixturenames", ())) for item in request.session.items
               if item.module is not request.module):
        return "n/a"
    try:
        run = request.getfixturevalue("notebook_runs")(path.relative_to(ROOT).as_posix())
    except Exception as err:  # noqa: BLE001 (that failure is reported by the notebook tests)
        return f"failed ({type(err).__name__})"
    return f"{run.seconds:.1f} s"


LESSONS = lesson_notebooks()


@pytest.mark.parametrize("path", LESSONS, ids=[p.relative_to(ROOT / "notebooks").as_posix()
                                                for p in LESSONS])
def test_lesson_in_jupyterlab(path, lab, page, request, capsys):
    relative = path.relative_to(ROOT / "notebooks").as_posix()
    name = relative.removesuffix(".ipynb").replace("/", "_")
    lab.requests.clear()
    problems: dict[str, list[str]] = {}
    clock = Phases()
    before = event_file_times(lab.logs)
    try:
        with clock("open"):
            notes = open_notebook(page, lab, relative)
        with clock("Run All"):
            seconds = run_all(page, restart=True)
        with clock("page checks"):
            problems.update(page_problems(page, code_cell_count(path), clock=clock))
        with clock("screenshot"):
            shot = screenshot(page, name)
        with clock("read runs"):
            first = read_runs(lab.logs, written_since(before, event_file_times(lab.logs)))
        with clock("embed"):
            frames = embedded_frames(page)
            problems["TensorBoard embed"] = [
                p for f in frames for p in embed_problems(f, last_image_steps(first), runs=sorted(first))]
            if frames:
                page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output iframe") \
                    .last.scroll_into_view_if_needed()
                page.wait_for_timeout(500)
                page.screenshot(path=str(SCREENSHOTS / f"{name}_tensorboard.png"))
        if find_calculator(page) is not None or "interact(" in path.read_text(encoding="utf-8"):
            with clock("calculator"):
                problems["calculator"] = calculator_problems(page, CALCULATOR_SETTINGS)
                if find_calculator(page) is not None:
                    find_calculator(page).screenshot(path=str(SCREENSHOTS / f"{name}_calculator.png"))
        # Run All again in the same kernel, once per way of logging: plain SummaryWriter (00),
        # ImageRun with a layer (02), scalars and hparams (05).
        if first and relative in RERUN_LESSONS:
            with clock("Run All again"):
                run_all(page, restart=False)
                show_whole_notebook(page, code_cell_count(path))
                problems["Run All twice"] = (execution_problems(page, code_cell_count(path))
                                             + error_outputs(page))
                page.set_viewport_size(VIEWPORT)
                again = read_runs(lab.logs, written_since(before, event_file_times(lab.logs)))
                problems["Run All twice"] += rerun_problems(first, again)
        problems["requests beyond 127.0.0.1"] = outside_requests(lab.requests)
    finally:
        try:
            lab.shut_down_kernels()
        except OSError:
            pass
    headless = headless_reference(request, path)
    with capsys.disabled():
        print(f"\n  {relative}: browser {seconds:.1f} s (Restart Kernel and Run All), headless "
              f"{headless}; runs {sorted(first)}; {len(frames)} embed(s); screenshot {shot}"
              f"\n    test time by phase: {clock}" + "".join(f"\n    note: {n}" for n in notes))
    found = {kind: found for kind, found in problems.items() if found}
    assert not found, f"{relative} in JupyterLab:\n" + json.dumps(found, indent=1, ensure_ascii=False)


class Phases:
    """Seconds spent per phase of a test, printed with it (where the browser test's time goes)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str):
        start = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0) + time.monotonic() - start

    def __str__(self):
        return ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())


# -- a lesson opened with another kernel ------------------------------------------------------------
OTHER_KERNEL = "Python 3 (another environment)"


def test_a_lesson_opened_with_another_kernel_says_so(lab, page, tmp_path_factory):
    """A student picks a kernel from another Python environment (Jupyter is there, torch is not):
    the setup cell stops with the course's message naming what is missing, nothing else runs, and
    fix 1 of the message, applied as written (`make kernel`, then Change Kernel), runs the lesson."""
    from conftest import python_without

    from utils.environment import COURSE_KERNEL, kernel_requirements

    other = python_without(tmp_path_factory.mktemp("other-env") / "venv")
    spec_dir = lab.data_dir / "kernels" / "other-env"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [str(other), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": OTHER_KERNEL, "language": "python"}))
    path = LESSONS[0]
    relative = path.relative_to(ROOT / "notebooks").as_posix()
    cells = code_cell_count(path)
    try:
        if page.url.startswith(lab.url):
            page.reload()  # JupyterLab reads the kernel list when it loads, as after installing one
        open_notebook(page, lab, relative)
        change_kernel(page, OTHER_KERNEL)
        run_all(page, restart=False)
        show_whole_notebook(page, cells)
        errors = error_outputs(page)
        not_run = execution_problems(page, cells)
        screenshot(page, "wrong_kernel")
        assert len(errors) == 1, errors
        message = errors[0]
        assert "KernelError: This notebook's kernel cannot run the course" in message
        assert f"torch>={kernel_requirements()['torch']} (not installed)" in message
        assert "No module named" not in message, message
        assert len(not_run) == cells - 1 and "code cell 0 " not in " ".join(not_run), not_run

        # fix 1, as written: the command in a terminal, then Kernel > Change Kernel...
        command = re.search(r"in a terminal run  (.+)", message).group(1).strip()
        subprocess.run(command, shell=True, check=True, capture_output=True,
                       env=dict(os.environ, JUPYTER_DATA_DIR=str(lab.data_dir)))
        page.reload()
        open_notebook(page, lab, relative)
        change_kernel(page, COURSE_KERNEL)
        run_all(page, restart=False)
        show_whole_notebook(page, cells)
        assert error_outputs(page) == [] and execution_problems(page, cells) == []
    finally:
        page.set_viewport_size(VIEWPORT)
        lab.shut_down_kernels()


# -- the checks catch what they should: deliberately broken copies --------------------------------
def setup_cell() -> str:
    """The course's setup cell, as the first lesson has it (finds utils/, seeds)."""
    import nbformat

    cells = nbformat.read(LESSONS[0], as_version=4).cells
    return next(c.source for c in cells if c.cell_type == "code")


BROKEN_CALCULATOR = """import ipywidgets as widgets
import matplotlib.pyplot as plt
from utils.plots import calculator


def show(H=5, W=7, kernel_size=2, stride=2, padding=1, dilation=1, ceil_mode=True):
    result = calculator(5, 7, 2, 2, 1, 1, True)  # broken on purpose: ignores the sliders
    print(result.explanation)
    print("\\nnn.MaxPool2d returns:", result.pytorch_shape or result.pytorch_error)
    plt.show()


widgets.interact(show, H=(1, 16), W=(1, 16), kernel_size=(1, 6), stride=(1, 6), padding=(0, 3),
                 dilation=(1, 3), ceil_mode=True);"""

BROKEN_EMBED = """from IPython.display import HTML

# what %tensorboard embeds, pointing at a port where nothing listens: the browser's error page
HTML('<iframe width="100%" height="400" frameborder="0" src="http://127.0.0.1:{port}/#images"></iframe>')"""


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    nb.cells = [make[kind](source) for kind, source in cells]
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def broken_lab(tmp_path_factory):
    """`make lab` on a copy of the course whose notebooks/ holds broken lessons; user settings
    ask for Jupyter news again (what the course's override turns off)."""
    tmp = tmp_path_factory.mktemp("broken_lab")
    course = tmp / "course"
    (course / "notebooks").mkdir(parents=True)
    for name in (".venv", "utils", "data", "jupyter"):
        (course / name).symlink_to(ROOT / name)
    notebooks = course / "notebooks"
    write_notebook(notebooks / "01_raises.ipynb", [
        ("code", setup_cell()),
        ("markdown", "The formula, typed without dollars: \\frac{n + 2p - k}{s} + 1\n\n"
                     "![a figure that is not there](figures/missing.png)"),
        ("code", "1 / 0"),
        ("code", "print('never reached')"),
    ])
    write_notebook(notebooks / "02_stuck_calculator.ipynb",
                   [("code", setup_cell()), ("code", BROKEN_CALCULATOR)])
    write_notebook(notebooks / "03_error_embed.ipynb",
                   [("code", BROKEN_EMBED.format(port=free_port()))])
    server = start_lab(course, tmp / "logs", tmp / "jupyterlab.log", user_settings={
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "none"}, **NEVER_SAVE})
    server.notebooks = notebooks
    yield server
    server.stop()


@pytest.fixture(scope="module")
def broken_page(browser, broken_lab):
    return new_page(browser, broken_lab)


def test_checks_catch_a_lesson_that_raises(broken_lab, broken_page):
    page, path = broken_page, broken_lab.notebooks / "01_raises.ipynb"
    open_notebook(page, broken_lab, path.name)
    run_all(page, restart=True)
    found = page_problems(page, code_cell_count(path), patience=1)  # broken for good: don't wait
    assert any("ZeroDivisionError" in e for e in found["error outputs"]), found
    assert any("did not run" in p for p in found["cells that did not run"]), found
    assert any("frac" in t for t in found["raw LaTeX"]), found
    assert any("missing.png" in src for src in found["broken images"]), found
    broken_lab.shut_down_kernels()


def test_checks_catch_the_news_prompt(broken_lab, broken_page):
    """Without the course's override (here a user setting asks again), the prompt shows."""
    page = broken_page
    if not news_prompt(page):
        open_notebook(page, broken_lab, "01_raises.ipynb")
        page.wait_for_function(f"() => document.body.innerText.includes({NEWS_PROMPT!r})",
                               timeout=30_000)
    assert news_prompt(page)
    broken_lab.shut_down_kernels()


def test_checks_catch_a_calculator_that_does_not_update(broken_lab, broken_page, tmp_path):
    page = broken_page
    open_notebook(page, broken_lab, "02_stuck_calculator.ipynb")
    run_all(page, restart=True)
    problems = calculator_problems(page, CALCULATOR_SETTINGS[:1], timeout=4, shots=tmp_path)
    broken_lab.shut_down_kernels()
    assert problems and all("missing" in p for p in problems), problems


def test_checks_catch_an_embed_showing_an_error_page(broken_lab, broken_page):
    page = broken_page
    open_notebook(page, broken_lab, "03_error_embed.ipynb")
    run_all(page, restart=True)
    frames = embedded_frames(page)
    assert len(frames) == 1, [f.url for f in page.frames]
    problems = embed_problems(frames[0], {"logs_maxpool": 7}, timeout=4, runs=["logs_maxpool"])
    broken_lab.shut_down_kernels()
    assert any("does not show" in p for p in problems), problems
    assert "does not serve the runs ['logs_maxpool']" in problems[-1], problems


def test_outside_requests():
    assert outside_requests(["http://127.0.0.1:1/lab", "ws://localhost:2/api", "data:image/png,x",
                             "http://[::1]:3/"]) == []
    assert outside_requests(["https://jupyter.org/assets/feed.xml"]) == [
        "https://jupyter.org/assets/feed.xml"]
