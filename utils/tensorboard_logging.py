"""TensorBoard runs that start clean and images that are logged honestly.

Conventions
-----------
* A *run* is one folder under ``logs_dir()`` (e.g. ``logs/logs_maxpool``). TensorBoard shows every
  event file in a run folder, so writing a run twice would show every step twice. ``ImageRun`` therefore
  deletes the run folder before writing: after any number of re-runs there is exactly one event file.
* Images are ``N×C×H×W`` with ``C`` in {1, 3}. They are laid out as one grid per step with torchvision's
  ``make_grid`` layout (built in NumPy, same pixels) and written as ``SummaryWriter.add_image``
  would write them. TensorBoard multiplies floats by 255 and
  clips: a value above 1 shows white, below 0 black. We never let that happen silently: out-of-range
  values warn with the fraction that would clip (``out_of_range="warn"``), raise (``"error"``), are
  rescaled to [0, 1] over the whole batch (``"rescale"``) or clipped on purpose (``"clip"``).
* The step is the batch index: 0, 1, 2, ... Logging the same tag at the same step twice is an error.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from utils.environment import in_notebook_frontend, logs_dir

OUT_OF_RANGE_POLICIES = ("warn", "error", "rescale", "clip")
#: The smallest ``--samples_per_plugin images=N`` we suggest; TensorBoard's default keeps only 10.
MIN_IMAGE_SAMPLES = 500


class ClippingWarning(UserWarning):
    """Values outside [0, 1] were logged as an image; TensorBoard clips them (above 1 shows white)."""


def _is_event_file(path: Path) -> bool:
    return path.is_file() and "tfevents" in path.name


class ImageRun:
    """One TensorBoard run, started clean, closed on exit.

    >>> with ImageRun("logs_maxpool") as run:          # doctest: +SKIP
    ...     for step, batch in enumerate(loader):
    ...         run.log_pair(step, batch, pool(batch))

    ``name`` may contain ``/`` for nested runs (``"logs_dropout_overfit/p0.5"``).
    ``logdir`` defaults to ``logs_dir()``. ``nrow``, ``padding`` and ``pad_value`` mean what they
    mean for torchvision's ``make_grid``.
    """

    def __init__(self, name: str, logdir: str | Path | None = None, *, nrow: int = 8,
                 padding: int = 2, pad_value: float = 1.0):
        parts = Path(name).parts
        if not name or Path(name).is_absolute() or ".." in parts:
            raise ValueError(
                f"Run name {name!r} must be a relative folder name such as 'logs_maxpool' "
                "(no absolute path, no '..')."
            )
        self.logdir = Path(logdir) if logdir is not None else logs_dir()
        self.name = name
        self.path = self.logdir / name
        self.nrow, self.padding, self.pad_value = nrow, padding, pad_value
        self._clear_run_folder()
        self.writer = SummaryWriter(log_dir=str(self.path))
        self._logged: set[tuple[str, int]] = set()
        self.closed = False

    def _clear_run_folder(self) -> None:
        if not self.path.exists():
            return
        if not self.path.is_dir():
            raise FileExistsError(f"{self.path} exists and is not a folder; move it away.")
        strangers = [p for p in self.path.rglob("*") if p.is_file() and not _is_event_file(p)]
        if strangers:
            raise FileExistsError(
                f"Refusing to clear {self.path}: it holds files that are not TensorBoard event files "
                f"(e.g. {strangers[0].name}). Choose another run name or move those files."
            )
        shutil.rmtree(self.path)

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> ImageRun:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the writer (safe to call twice)."""
        if not self.closed:
            self.writer.flush()
            self.writer.close()
            self.closed = True

    # -- logging ---------------------------------------------------------------------------
    def _check_step(self, tag: str, step: int) -> None:
        if self.closed:
            raise RuntimeError(f"Run {self.name!r} is closed; open a new ImageRun to log more.")
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"step must be a non-negative int (the batch index), got {step!r}.")
        if (tag, int(step)) in self._logged:
            raise ValueError(
                f"Tag {tag!r} was already logged at step {step} in run {self.name!r}; "
                "TensorBoard would show two images at one step. Use the batch index as the step."
            )
        self._logged.add((tag, int(step)))

    def log_images(self, tag: str, images: torch.Tensor, step: int, *,
                   out_of_range: str = "warn") -> torch.Tensor:
        """Log a batch as one image grid at ``step``; return the grid (3×H×W, values in [0, 1])."""
        grid = images_to_grid(images, nrow=self.nrow, padding=self.padding,
                              pad_value=self.pad_value, out_of_range=out_of_range,
                              what=f"tag {tag!r}, step {step}")
        self._check_step(tag, step)
        self.writer._get_file_writer().add_summary(_image_summary(tag, grid), int(step))
        return grid

    def log_pair(self, step: int, inputs: torch.Tensor, outputs: torch.Tensor, *,
                 out_of_range: str = "warn") -> None:
        """Log ``inputs`` under tag ``input`` and ``outputs`` under tag ``output`` at ``step``."""
        self.log_images("input", inputs, step, out_of_range=out_of_range)
        self.log_images("output", outputs, step, out_of_range=out_of_range)

    def log_scalar(self, tag: str, value: float, step: int) -> None:
        """Log one scalar (e.g. ``"loss/train"``) at ``step``."""
        self._check_step(tag, step)
        self.writer.add_scalar(tag, float(value), int(step))


def images_to_grid(images: torch.Tensor, *, nrow: int = 8, padding: int = 2,
                   pad_value: float = 1.0, out_of_range: str = "warn",
                   what: str = "images") -> torch.Tensor:
    """Check a batch and lay it out as ``make_grid`` does: 3×H×W float in [0, 1].

    Accepts ``N×C×H×W`` or ``C×H×W`` with ``C`` in {1, 3}; floats are expected in [0, 1], uint8 in
    [0, 255]. See the module docstring for ``out_of_range``. The layout is torchvision's
    ``make_grid(images, nrow, padding, pad_value)``.
    """
    if out_of_range not in OUT_OF_RANGE_POLICIES:
        raise ValueError(f"out_of_range must be one of {OUT_OF_RANGE_POLICIES}, got {out_of_range!r}.")
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{what}: expected a torch.Tensor, got {type(images).__name__}.")
    x = images
    if x.requires_grad or x.device.type != "cpu":
        x = x.detach().cpu()
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4:
        raise ValueError(
            f"{what}: expected N×C×H×W (or C×H×W), got shape {tuple(images.shape)}. "
            "Add a batch dimension with x.unsqueeze(0) or a channel one with x.unsqueeze(1)."
        )
    if x.shape[0] == 0 or x.shape[2] == 0 or x.shape[3] == 0:
        raise ValueError(f"{what}: nothing to log, shape {tuple(images.shape)} is empty.")
    if x.shape[1] not in (1, 3):
        raise ValueError(
            f"{what}: TensorBoard images need 1 (gray) or 3 (RGB) channels, got {x.shape[1]}. "
            "Log channels one by one, e.g. x[:, i:i+1], or pick three of them."
        )
    if x.dtype == torch.uint8:
        x = x.float() / 255
    elif not x.is_floating_point():
        raise TypeError(f"{what}: expected a float or uint8 tensor, got {x.dtype}; use x.float().")
    else:
        x = x.float()
    # One pass over the data for min and max (NumPy, single-threaded: cheap even on a busy
    # machine); NaN propagates through min/max, ±inf shows up as an extreme.
    values = x.numpy()
    lo, hi = float(values.min()), float(values.max())
    if np.isnan(lo) or np.isnan(hi):
        raise ValueError(f"{what}: contains NaN, which has no colour; check the computation.")
    if np.isinf(lo) or np.isinf(hi):
        raise ValueError(f"{what}: contains ±inf (e.g. max pooling padding leaked?); check it.")
    if lo < 0 or hi > 1:
        fraction = float(((values < 0) | (values > 1)).mean())
        if out_of_range == "error":
            raise ValueError(
                f"{what}: {fraction:.1%} of values lie outside [0, 1] (min {lo:.3g}, max {hi:.3g}). "
                "Pass out_of_range='rescale' to map them to [0, 1], or 'clip' to clip on purpose."
            )
        if out_of_range == "warn":
            warnings.warn(
                f"{what}: {fraction:.1%} of values lie outside [0, 1] (min {lo:.3g}, max {hi:.3g}); "
                "TensorBoard clips them (above 1 shows white). Pass out_of_range='rescale' to map "
                "the batch to [0, 1], or 'clip' if clipping is what you want.",
                ClippingWarning,
                stacklevel=3,
            )
            x = x.clamp(0, 1)
        elif out_of_range == "clip":
            x = x.clamp(0, 1)
        else:  # rescale over the whole batch, so images stay comparable
            x = (x - lo) / (hi - lo) if hi > lo else torch.zeros_like(x)
    return _grid(x, nrow=nrow, padding=padding, pad_value=pad_value)


def _grid(x: torch.Tensor, *, nrow: int, padding: int, pad_value: float) -> torch.Tensor:
    """torchvision's ``make_grid`` for a batch of equal-sized images, in a few NumPy steps.

    Same layout and pixels (``tests/test_tensorboard_logging.py`` compares them on many shapes):
    ``nrow`` images per row, ``padding`` pixels of ``pad_value`` around and between them, gray
    repeated to RGB, a single image returned as it is. make_grid copies image by image; while
    TensorBoard's writer thread checksums the event file in pure Python, every one of those small
    calls waits for the GIL, so for a batch of 64 small images that loop costs more than the PNG.
    """
    if x.shape[0] == 1 or padding < 0 or nrow < 1:
        return make_grid(x, nrow=nrow, padding=padding, pad_value=pad_value)
    images = x.numpy()
    n, c, h, w = images.shape
    cols = min(nrow, n)
    rows = -(-n // cols)
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((3, rows * cell_h + padding, cols * cell_w + padding), pad_value, np.float32)
    cells = grid[:, padding:padding + rows * cell_h, padding:padding + cols * cell_w]
    cells = cells.reshape(3, rows, cell_h, cols, cell_w)[:, :, :h, :, :w]  # a view into grid
    full_rows = n // cols
    body = images[:full_rows * cols].reshape(full_rows, cols, c, h, w).transpose(2, 0, 3, 1, 4)
    cells[:, :full_rows] = body  # broadcasts gray (c == 1) to the three channels
    for k in range(full_rows * cols, n):  # the incomplete last row, at most cols - 1 images
        cells[:, full_rows, :, k - full_rows * cols] = images[k]
    return torch.from_numpy(grid)


def _image_summary(tag: str, grid: torch.Tensor):
    """The summary ``SummaryWriter.add_image(tag, grid)`` writes, made without its numpy detours.

    Same pixels: TensorBoard's writer multiplies floats by 255, clips to [0, 255] and truncates to
    uint8; we do the same in torch, then encode the PNG with Pillow as it does.
    """
    import io

    from PIL import Image
    from tensorboard.compat.proto.summary_pb2 import Summary

    pixels = np.ascontiguousarray((grid.numpy() * 255).clip(0, 255).astype(np.uint8).transpose(1, 2, 0))
    height, width, channels = pixels.shape
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    image = Summary.Image(height=height, width=width, colorspace=channels,
                          encoded_image_string=buffer.getvalue())
    return Summary(value=[Summary.Value(tag=tag, image=image)])


# -- reading runs back -------------------------------------------------------------------------
def event_files(run_path: str | Path) -> list[Path]:
    """Event files directly inside one run folder."""
    return sorted(p for p in Path(run_path).glob("*tfevents*") if p.is_file())


def _accumulator(run_path: str | Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_path), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    return acc


def read_run_images(run_path: str | Path) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Every image of a run, decoded: ``{tag: [(step, H×W×3 uint8 array), ...]}`` in step order.

    Uses TensorBoard's own ``EventAccumulator`` with ``size_guidance={"images": 0}`` (keep all;
    its default keeps only 4 per tag).
    """
    import io

    from PIL import Image

    acc = _accumulator(run_path)
    out: dict[str, list[tuple[int, np.ndarray]]] = {}
    for tag in acc.Tags()["images"]:
        decoded = []
        for event in acc.Images(tag):
            with Image.open(io.BytesIO(event.encoded_image_string)) as im:
                decoded.append((event.step, np.asarray(im.convert("RGB"))))
        out[tag] = sorted(decoded, key=lambda item: item[0])
    return out


def read_run(run_path: str | Path) -> dict[str, list[tuple[int, int, int]]]:
    """Image tags of a run: ``{tag: [(step, height, width), ...]}`` in step order."""
    return {tag: [(step, a.shape[0], a.shape[1]) for step, a in items]
            for tag, items in read_run_images(run_path).items()}


def read_scalars(run_path: str | Path) -> dict[str, list[tuple[int, float]]]:
    """Scalar tags of a run: ``{tag: [(step, value), ...]}``."""
    acc = _accumulator(run_path)
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def summarize_logs(logdir: str | Path | None = None) -> list[dict]:
    """One row per run folder under ``logdir``: run name, event files, tags, steps, size in bytes."""
    root = Path(logdir) if logdir is not None else logs_dir()
    if not root.is_dir():
        return []
    rows = []
    run_dirs = sorted({p.parent for p in root.rglob("*tfevents*") if p.is_file()})
    for run_path in run_dirs:
        acc = _accumulator(run_path)
        tags = acc.Tags()
        steps = {t: len(acc.Images(t)) for t in tags["images"]}
        steps.update({t: len(acc.Scalars(t)) for t in tags["scalars"]})
        rows.append({
            "run": run_path.relative_to(root).as_posix(),
            "event_files": len(event_files(run_path)),
            "image_tags": sorted(tags["images"]),
            "scalar_tags": sorted(tags["scalars"]),
            "steps": max(steps.values(), default=0),
            "bytes": sum(p.stat().st_size for p in run_path.iterdir() if p.is_file()),
        })
    return rows


def samples_needed(logdir: str | Path | None = None) -> int:
    """A ``--samples_per_plugin images=N`` large enough to show every logged step."""
    most = max((row["steps"] for row in summarize_logs(logdir)), default=0)
    return max(MIN_IMAGE_SAMPLES, most)


def tensorboard_args(logdir: str | Path | None = None, port: int = 6006) -> list[str]:
    """Arguments for ``tensorboard``: 127.0.0.1 only, enough image samples for every step."""
    root = Path(logdir) if logdir is not None else logs_dir()
    return ["--logdir", str(root), "--host", "127.0.0.1", "--port", str(port),
            "--samples_per_plugin", f"images={samples_needed(root)}"]


def hub_proxy_url() -> str | None:
    """On a JupyterHub, the ``TENSORBOARD_PROXY_URL`` that embeds TensorBoard through the user's own
    server (jupyter-server-proxy, behind the hub's login), e.g. ``/user/ada/proxy/%PORT%/``; else None.

    JupyterHub sets ``JUPYTERHUB_SERVICE_PREFIX`` in every single-user server and its kernels.
    """
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    return prefix.rstrip("/") + "/proxy/%PORT%/" if prefix else None


def show_tensorboard(logdir: str | Path | None = None, port: int = 6006) -> str:
    """Embed TensorBoard in a Jupyter front end; headless, only print how to open it.

    Returns the command line (also printed). Inside Jupyter this runs the ``%tensorboard`` magic,
    which starts the server on 127.0.0.1 (never exposed to the network).
    """
    proxy = hub_proxy_url()
    # On a hub, students may share one machine's loopback (TLJH): let TensorBoard pick a free port.
    args = tensorboard_args(logdir, 0 if proxy else port)
    command = "tensorboard " + " ".join(args)
    if in_notebook_frontend():
        if proxy:  # embed through <prefix>proxy/<port>/, not the browser's own localhost
            os.environ.setdefault("TENSORBOARD_PROXY_URL", proxy)
        from IPython import get_ipython

        # %tensorboard looks for a `tensorboard` program on PATH; a Jupyter started without
        # activating .venv would not find it, so point it at the one beside this Python.
        beside = Path(sys.executable).with_name("tensorboard")
        if beside.exists():
            os.environ.setdefault("TENSORBOARD_BINARY", str(beside))
        shell = get_ipython()
        shell.run_line_magic("load_ext", "tensorboard")
        shell.run_line_magic("tensorboard", " ".join(args))
    else:
        print("Not in an interactive notebook, so TensorBoard is not embedded. To browse, run:")
        print("  make tensorboard      (or: " + command + ")")
    return command
