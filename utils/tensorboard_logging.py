"""TensorBoard runs that start clean and images that are logged honestly.

* A *run* is one folder under ``logs_dir()``; ``ImageRun`` empties it first (one event file, always).
* Images are ``N×C×H×W``, ``C`` in {1, 3}, floats in [0, 1] (or uint8). Anything else is an error naming
  the layout we guessed and a ``Fix:`` that works as written (a leading 3 is never taken for colour).
  Each batch is one grid: ``writer.add_image(tag, torchvision.utils.make_grid(x), step)``.
* ``add_images`` multiplies floats by 255 and clips; out-of-range values warn (``out_of_range="warn"``),
  raise (``"error"``), are rescaled over the batch (``"rescale"``) or clipped (``"clip"``).
* The step is the batch index; the same tag at the same step twice is an error.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from utils.environment import ROOT, in_notebook_frontend, language, logs_dir

OUT_OF_RANGE_POLICIES = ("warn", "error", "rescale", "clip")
#: ``--samples_per_plugin images=N``: TensorBoard's default keeps only 10 images per tag.
IMAGE_SAMPLES = 500


class ClippingWarning(UserWarning):
    """Values outside [0, 1] were logged as an image; TensorBoard clips them (above 1 shows white)."""


class ImageRun:
    """One TensorBoard run, started clean, closed on exit: ``with ImageRun("logs_maxpool") as run:
    run.log_pair(step, batch, pool(batch))``. ``name`` may contain ``/``; ``logdir`` defaults to
    ``logs_dir()``; ``nrow``, ``padding``, ``pad_value`` go to ``make_grid``. With ``layer`` (the module
    that makes the outputs) ``log_pair`` also logs what the PAIRS tab needs (``tensorboard_pairs.summary``).
    Every ``log_pair`` logs the scalar ``output/mean``, for TIME SERIES → Settings → "Link by step".
    """

    def __init__(self, name: str, logdir: str | Path | None = None, *, layer=None, nrow: int = 8,
                 padding: int = 2, pad_value: float = 1.0):
        if not name or Path(name).is_absolute() or ".." in Path(name).parts:
            raise ValueError(f"Run name {name!r} must be a relative folder name such as "
                             "'logs_maxpool' (no absolute path, no '..').")
        self.name = name
        self.logdir = Path(logdir) if logdir is not None else logs_dir()
        self.path = self.logdir / name
        self.grid_options = {"nrow": nrow, "padding": padding, "pad_value": pad_value}
        self.layer = layer
        if self.path.is_dir():
            strangers = [p for p in self.path.rglob("*") if p.is_file() and "tfevents" not in p.name]
            if strangers:
                raise FileExistsError(
                    f"Refusing to clear {self.path}: it holds files that are not TensorBoard event "
                    f"files (e.g. {strangers[0].name}). Choose another run name or move those files.")
            shutil.rmtree(self.path)
        self.writer = SummaryWriter(log_dir=str(self.path))
        self.logged: set[tuple[str, int]] = set()
        self.closed = False

    def __enter__(self) -> ImageRun:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the writer (safe to call twice)."""
        if not self.closed:
            self.writer.close()
            self.closed = True

    def _check_step(self, tag: str, step: int) -> None:
        if self.closed:
            raise RuntimeError(f"Run {self.name!r} is closed; open a new ImageRun to log more.")
        if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
            raise ValueError(f"step must be a non-negative int (the batch index), got {step!r}.")
        if (tag, int(step)) in self.logged:
            raise ValueError(
                f"Tag {tag!r} was already logged at step {step} in run {self.name!r}; "
                "TensorBoard would show two images at one step. Use the batch index as the step.")
        self.logged.add((tag, int(step)))

    def log_images(self, tag: str, images: torch.Tensor, step: int, *,
                   out_of_range: str = "warn") -> torch.Tensor:
        """Log a batch as one image grid at ``step``; return the grid (C×H×W, values in [0, 1])."""
        grid = images_to_grid(images, out_of_range=out_of_range, what=f"tag {tag!r}, step {step}",
                              **self.grid_options)
        self._check_step(tag, step)
        self.writer.add_image(tag, grid, int(step))
        return grid

    def log_pair(self, step: int, inputs: torch.Tensor, outputs: torch.Tensor, *,
                 out_of_range: str = "warn") -> None:
        """Log tags ``input``, ``output`` and the scalar ``output/mean`` at ``step`` (and the layer's data)."""
        if self.layer is not None:  # a wrong layer is an error before anything is written
            pairs = pairs_summary()
            pairs.prepare(self.layer, inputs, outputs)
        self.log_images("input", inputs, step, out_of_range=out_of_range)
        self.log_images("output", outputs, step, out_of_range=out_of_range)
        if self.layer is not None:  # the images are ours (make_grid); log_layer adds output/mean
            grid = (self.grid_options["nrow"], self.grid_options["padding"])
            pairs.log_layer(self.writer, self.layer, int(step), inputs, outputs, images=False, grid=grid)
        else:
            self.writer.add_scalar("output/mean", float(outputs.float().mean()), int(step))

    def log_scalar(self, tag: str, value: float, step: int) -> None:
        """Log one scalar (e.g. ``"loss/train"``) at ``step``."""
        self._check_step(tag, step)
        self.writer.add_scalar(tag, float(value), int(step))


def pairs_summary():
    """``tensorboard_pairs.summary`` (PAIRS' writer): installed, or the copy in plugins/tensorboard-pairs."""
    try:
        from tensorboard_pairs import summary
    except ImportError:
        sys.path.append(str(ROOT / "plugins" / "tensorboard-pairs"))
        from tensorboard_pairs import summary
    return summary


# -- what a batch of images must look like ------------------------------------------------------
def _layout_fix(x) -> tuple[str, str] | None:
    """``(guessed layout, fix)`` for input that is not N×C×H×W with C in {1, 3}, else None. The fix is an
    expression in ``x`` (what was passed), ``torch``, ``torchvision`` giving a batch we accept."""
    if isinstance(x, tuple | list) and x and all(isinstance(t, torch.Tensor) for t in x):
        if len(x) == 2 and not x[1].is_floating_point() and x[1].shape == x[0].shape:
            layout, inner, y = "a tuple (output, indices), as return_indices=True gives", "x[0]", x[0]
        elif len({t.shape for t in x}) == 1:
            layout, inner, y = f"a {type(x).__name__} of {len(x)} tensors", "torch.stack(list(x))", torch.stack(list(x))
        else:
            layout, inner, y = f"a {type(x).__name__} of tensors of different shapes", "x[0]", x[0]
        rest = _layout_fix(y)
        return layout, _substitute(rest[1], inner) if rest else inner
    if isinstance(x, np.ndarray):
        rest = _layout_fix(torch.from_numpy(x))
        inner = "torch.from_numpy(x)"
        return (f"a NumPy array of shape {x.shape}" + (f" ({rest[0]})" if rest else ""),
                _substitute(rest[1], inner) if rest else inner)
    if type(x).__module__.startswith("PIL."):
        return ("a PIL image",
                "torchvision.transforms.functional.to_tensor(x.convert('RGB')).unsqueeze(0)")
    if not isinstance(x, torch.Tensor):
        return f"a {type(x).__name__}, not a tensor", "torch.as_tensor(x)"
    shape, dims = tuple(x.shape), x.dim()
    if dims == 2:
        return f"one gray image H×W = {shape}", "x.unsqueeze(0).unsqueeze(0)"
    if dims == 3 and shape[0] in (1, 3):
        kind = "one gray image" if shape[0] == 1 else "one RGB image"
        return (f"ambiguous {shape}: {kind} C×H×W, or {shape[0]} separate gray maps N×H×W "
                "(for maps, log x.unsqueeze(1) instead)", "x.unsqueeze(0)")
    if dims == 3 and shape[-1] in (1, 3):
        return f"one image with channels last, H×W×C = {shape}", "x.permute(2, 0, 1).unsqueeze(0)"
    if dims == 3:
        return f"{shape[0]} gray maps N×H×W = {shape}", "x.unsqueeze(1)"
    if dims == 4 and shape[1] in (1, 3):
        return None
    if dims == 4 and shape[-1] in (1, 3):
        return f"channels last, N×H×W×C = {shape}", "x.permute(0, 3, 1, 2)"
    if dims == 4:
        return (f"N×C×H×W = {shape} with {shape[1]} channels (feature maps?); TensorBoard shows "
                "1 (gray) or 3 (RGB). Each channel as its own gray image", "x.flatten(0, 1).unsqueeze(1)")
    if dims > 4 and shape[-3] in (1, 3):
        return f"{dims} dimensions, {shape}; merge the leading ones", "x.flatten(0, -4)"
    return f"{dims} dimension(s), {shape}, which is not an image batch", "x.reshape(N, C, H, W)"


def _substitute(fix: str, inner: str) -> str:
    """``fix`` applied to ``inner`` instead of ``x``."""
    return re.sub(r"\bx\b", lambda _: inner, fix)


def _dtype_fix(x: torch.Tensor) -> str | None:
    """The conversion that keeps an integer picture as intended, or None for float/uint8."""
    if x.is_floating_point() or x.dtype == torch.uint8:
        return None
    if x.dtype == torch.bool:
        return "x.float()"
    if x.dtype == torch.uint16:
        return "x.float() / 65535"
    lo, hi = (int(v) for v in x.aminmax()) if x.numel() else (0, 0)
    if 0 <= lo and hi <= 255:
        return "x.float() / 255"
    if 0 <= lo and hi <= 65535:
        return "x.float() / 65535"
    return "(x.float() - x.min()) / (x.max() - x.min())"


def images_to_grid(images: torch.Tensor, *, nrow: int = 8, padding: int = 2,
                   pad_value: float = 1.0, out_of_range: str = "warn",
                   what: str = "images") -> torch.Tensor:
    """Check a batch (N×C×H×W, C in {1, 3}) and return ``make_grid(images, ...)`` with values in [0, 1]."""
    if out_of_range not in OUT_OF_RANGE_POLICIES:
        raise ValueError(f"out_of_range must be one of {OUT_OF_RANGE_POLICIES}, got {out_of_range!r}.")
    bad_layout = _layout_fix(images)
    if bad_layout:
        layout, fix = bad_layout
        try:  # the fix must also give a dtype we accept: then one Fix: is enough
            conversion = _dtype_fix(eval(fix, {"torch": torch, "torchvision": torchvision, "x": images}))
        except Exception:
            conversion = None
        fix = _substitute(conversion, f"({fix})") if conversion else fix
        raise ValueError(f"{what}: log_images needs a batch N×C×H×W with C = 1 or 3; got {layout}. "
                         f"Fix: log {fix} instead (x is what you passed).")
    x = images.detach().cpu()
    conversion = _dtype_fix(x)
    if conversion:
        raise TypeError(f"{what}: images must be float in [0, 1] (or uint8 in 0..255), got {x.dtype}. "
                        f"Fix: log {conversion} instead (x is what you passed).")
    if 0 in x.shape:
        raise ValueError(f"{what}: nothing to log, shape {tuple(x.shape)} is empty.")
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    lo, hi = (float(v) for v in x.aminmax())
    if np.isnan(lo) or np.isnan(hi):
        raise ValueError(f"{what}: contains NaN, which has no colour; check the computation.")
    if np.isinf(lo) or np.isinf(hi):
        raise ValueError(f"{what}: contains ±inf (e.g. max pooling padding leaked?); check it.")
    if lo < 0 or hi > 1:
        fraction = float(((x < 0) | (x > 1)).float().mean())
        found = f"{fraction:.1%} of values lie outside [0, 1] (min {lo:.3g}, max {hi:.3g})"
        if out_of_range == "error":
            raise ValueError(f"{what}: {found}. Pass out_of_range='rescale' to map them to [0, 1], "
                             "or 'clip' to clip on purpose.")
        if out_of_range == "warn":
            warnings.warn(f"{what}: {found}; TensorBoard clips them (above 1 shows white). Pass "
                          "out_of_range='rescale' to map the batch to [0, 1], or 'clip' if clipping "
                          "is what you want.", ClippingWarning, stacklevel=3)
        if out_of_range == "rescale":  # over the whole batch, so images stay comparable
            x = (x - lo) / (hi - lo) if hi > lo else torch.zeros_like(x)
        else:
            x = x.clamp(0, 1)
    return make_grid(x, nrow=nrow, padding=padding, pad_value=pad_value)


# -- reading runs back (TensorBoard's own reader) -----------------------------------------------
def event_files(run_path: str | Path) -> list[Path]:
    """Event files directly inside one run folder."""
    return sorted(p for p in Path(run_path).glob("*tfevents*") if p.is_file())


def _accumulator(run_path: str | Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_path), size_guidance={"images": 0, "scalars": 0})  # 0 = keep all
    acc.Reload()
    return acc


def read_run_images(run_path: str | Path) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Every image of a run, decoded: ``{tag: [(step, H×W×3 uint8 array), ...]}`` in step order."""
    import io

    from PIL import Image

    def rgb(event) -> np.ndarray:
        with Image.open(io.BytesIO(event.encoded_image_string)) as im:
            return np.asarray(im.convert("RGB"))

    acc = _accumulator(run_path)
    return {tag: sorted(((e.step, rgb(e)) for e in acc.Images(tag)), key=lambda item: item[0])
            for tag in acc.Tags()["images"]}


def read_run(run_path: str | Path) -> dict[str, list[tuple[int, int, int]]]:
    """Image tags of a run: ``{tag: [(step, height, width), ...]}`` in step order."""
    return {tag: [(step, a.shape[0], a.shape[1]) for step, a in items]
            for tag, items in read_run_images(run_path).items()}


def read_scalars(run_path: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Scalar tags of a run: ``{tag: [(step, value), ...]}``."""
    acc = _accumulator(run_path)
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


# -- opening TensorBoard ------------------------------------------------------------------------
def tensorboard_args(logdir: str | Path | None = None, port: int | None = None) -> list[str]:
    """Arguments for ``tensorboard``: 127.0.0.1 only; no port means TensorBoard picks a free one."""
    args = ["--logdir", str(Path(logdir) if logdir is not None else logs_dir()),
            "--host", "127.0.0.1", "--samples_per_plugin", f"images={IMAGE_SAMPLES}"]
    return args + (["--port", str(port)] if port is not None else [])


def command_line(args: list[str], windows: bool = os.name == "nt") -> str:
    """One command line, quoted for the shell it will be pasted into (any folder name survives)."""
    return subprocess.list2cmdline(args) if windows else shlex.join(args)


def hub_proxy_url() -> str | None:
    """On a hub without the course's entry: ``TENSORBOARD_PROXY_URL`` through ``<prefix>proxy/%PORT%/``."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")  # JupyterHub sets it in servers and kernels
    return prefix.rstrip("/") + "/proxy/%PORT%/" if prefix else None


def hub_tensorboard_url() -> str | None:
    """On a hub with the course's entry (plugins/course-tensorboard-proxy): ``<prefix>tensorboard/``,
    the student's own TensorBoard, on a Unix socket only they can open. Else None."""
    from importlib.metadata import entry_points
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    entry = any(e.name == "tensorboard" for e in entry_points(group="jupyter_serverproxy_servers"))
    return prefix.rstrip("/") + "/tensorboard/" if prefix and entry else None


def show_tensorboard(logdir: str | Path | None = None, port: int | None = None) -> str:
    """Embed TensorBoard in Jupyter and print beside it how to open it without the embed (VS Code
    does not run TensorBoard's page); headless, print only that. Returns the command, quoted as
    ``%tensorboard`` splits it (``shlex``). On a hub with the course's entry: ``hub_tensorboard_url()``."""
    def say(en: str, zh: str) -> None:
        print(zh if language() == "zh" else en)

    args = tensorboard_args(logdir, port)
    command = command_line(["tensorboard", *args])
    hub = hub_tensorboard_url() if port is None else None
    if not in_notebook_frontend():
        say("Not in an interactive notebook, so TensorBoard is not embedded. To browse, run:",
            "当前不在交互式笔记本中，所以没有嵌入TensorBoard。要浏览，请运行：")
    elif hub:
        from IPython.display import IFrame, display

        display(IFrame(hub + "#images", width="100%", height=800))
        return say(f"If TensorBoard does not appear above, open {hub}#images after this hub's address in a new "
                   "browser tab, or \"TensorBoard — course logs\" in the Launcher.",
                   f"如果上面没有出现TensorBoard，请在新的浏览器标签页中打开本hub地址后加 {hub}#images，"
                   "或在启动器（Launcher）中打开 “TensorBoard — course logs”。") or command
    else:  # the page opens on IMAGES; on a hub through <prefix>proxy/<port>/, not the browser's localhost
        os.environ.setdefault("TENSORBOARD_PROXY_URL", (hub_proxy_url() or "http://127.0.0.1:%PORT%/") + "#images")
        from IPython import get_ipython
        from tensorboard import manager

        if (beside := Path(sys.executable).with_name("tensorboard")).exists():  # not PATH's
            os.environ.setdefault("TENSORBOARD_BINARY", str(beside))
        get_ipython().run_line_magic("load_ext", "tensorboard")
        get_ipython().run_line_magic("tensorboard", shlex.join(args))
        key = manager.cache_key(working_directory=os.getcwd(), arguments=args, configure_kwargs={})
        ports = [i.port for i in sorted(manager.get_all(), key=lambda i: i.start_time) if i.cache_key == key]
        url = os.environ["TENSORBOARD_PROXY_URL"].replace("%PORT%", str(ports[-1])) if ports else ""
        say(f"If TensorBoard does not appear above (VS Code and some editors do not run its page), "
            f"{f'open {url} in your browser, or ' if url else ''}run in a terminal:",
            f"如果上面没有出现TensorBoard（VS Code等编辑器不会运行它的页面），请{f'在浏览器中打开 {url}，或' if url else ''}"
            "在终端中运行：")
    print("  " + command)
    return command
