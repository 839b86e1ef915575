"""Load the course's sample images (or your own) as one PyTorch tensor.

Conventions
-----------
* Result: ``float32`` tensor of shape ``(N, 3, H, W)`` (PyTorch's N×C×H×W), values in [0, 1],
  RGB channel order, on the CPU. ``size`` is given as ``(H, W)``, height first, like PyTorch.
* Order: files sorted by name (Python's ``sorted`` on the file name), so every run logs the same
  image at the same position. ``image_names()`` gives the names in that order.
* Which files: every file in the folder (not sub-folders) whose extension is one of
  ``IMAGE_EXTENSIONS`` (case does not matter). Hidden files (name starting with ``.``, such as
  ``.DS_Store`` or macOS ``._photo.png``) and other extensions are ignored silently.
  A candidate file that cannot be read (empty, truncated, not really an image, a value range we
  cannot map to [0, 1]) is skipped with an ``ImageSkippedWarning`` that names it and says why.
* Conversion to RGB in [0, 1]:
    - 8-bit RGB, grayscale (``L``), black-and-white (``1``), palette (``P``), CMYK and YCbCr:
      Pillow's conversion to RGB, divided by 255. Grayscale gives three equal channels.
    - Transparency (``RGBA``, ``LA``, ``PA``, palette with a transparent colour): composited on a
      **white** background, ``rgb * alpha + 1 * (1 - alpha)``. White, because most transparent
      images (logos, silhouettes, diagrams) are drawn to be seen on a light page; a fully
      transparent pixel becomes white (1, 1, 1), never black.
    - 16-bit grayscale (``I;16``, e.g. a 16-bit PNG or TIFF): divided by 65535, so 65535 is
      white and 32768 is mid grey (not clipped to white).
    - 32-bit integer (``I``): taken as 16-bit, divided by 65535; a file with values outside
      0..65535 is skipped with a warning.
    - 32-bit float (``F``): used as is when every value is finite and in [0, 1]; otherwise the
      file is skipped with a warning.
    - Multi-frame files (GIF, TIFF): the first frame.
* EXIF orientation is applied first (``PIL.ImageOps.exif_transpose``), so a phone photo comes
  out the way it is displayed; sizes are reported after rotation.
* ``size=None`` keeps every image as it is and needs them all to share one size (the committed
  sample images are all 128 × 128). ``size=(H, W)`` (or ``size=n`` for ``(n, n)``) scales each
  image so it covers H × W, keeping its aspect ratio, and crops the centre (like
  ``PIL.ImageOps.fit``), using Pillow's Lanczos filter on the [0, 1] values; the result is
  clipped to [0, 1] because Lanczos can overshoot at sharp edges by a few percent.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.utils.data
from PIL import Image, ImageOps

try:
    from utils.environment import IMAGES_DIR
except ImportError:  # pragma: no cover - only when utils/ is used outside the repository
    IMAGES_DIR = Path(__file__).resolve().parent.parent / "data" / "images"

#: File extensions that are treated as images (lower case, with the dot).
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)

#: Resampling filter used when ``size`` is given.
RESAMPLE = Image.Resampling.LANCZOS


class ImageSkippedWarning(UserWarning):
    """A file in the image folder was skipped; the message names the file and says why."""


# ------------------------------------------------------------------------------------------
# Public functions
# ------------------------------------------------------------------------------------------


def load_images(
    folder: str | Path | None = None, size: int | Sequence[int] | None = None
) -> torch.Tensor:
    """Load every image in ``folder`` as a float32 tensor ``(N, 3, H, W)`` in [0, 1].

    Parameters
    ----------
    folder:
        Folder to read (not recursive). ``None`` means the course's ``data/images``.
    size:
        ``None`` (all images must already share one size), an int ``n`` for ``(n, n)``, or
        ``(H, W)``: each image is resized to cover H × W and centre-cropped (aspect kept).

    Raises
    ------
    FileNotFoundError
        ``folder`` does not exist (the message names it).
    NotADirectoryError
        ``folder`` is a file.
    ValueError
        No usable image in ``folder``; or ``size=None`` and the images have different sizes
        (the message lists the sizes found and which files have them); or ``size`` is invalid.

    Unreadable files are skipped with an :class:`ImageSkippedWarning` each.
    """
    names, arrays, folder_path = _load_folder(folder, size)
    return _stack(names, arrays, folder_path)


def image_names(folder: str | Path | None = None) -> list[str]:
    """File names that ``load_images(folder)`` loads, in the same (sorted) order.

    Files that would be skipped are left out (with the same warnings).
    """
    names, _, _ = _load_folder(folder, size=None)
    return names


def image_batches(
    batch_size: int,
    size: int | Sequence[int] | None = None,
    folder: str | Path | None = None,
) -> torch.utils.data.DataLoader:
    """A ``DataLoader`` over ``load_images(folder, size)`` in batches of ``batch_size``.

    It yields plain tensors ``(B, 3, H, W)``, in file order (``shuffle=False``), and keeps a
    smaller last batch (``drop_last=False``): 32 images in batches of 8 give 4 batches, so a
    lesson can log one TensorBoard step per batch with ``for step, batch in enumerate(...)``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    images = load_images(folder, size)
    return torch.utils.data.DataLoader(images, batch_size=batch_size, shuffle=False)


# ------------------------------------------------------------------------------------------
# Internals
# ------------------------------------------------------------------------------------------


class _Skip(Exception):
    """Raised inside the loader for a file that must be skipped; the text is the reason."""


def _resolve_folder(folder: str | Path | None) -> Path:
    path = Path(IMAGES_DIR if folder is None else folder).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"Image folder not found: {path}. Pass an existing folder to load_images(folder=...)"
            " or leave folder=None for the course's data/images."
        )
    if not path.is_dir():
        raise NotADirectoryError(f"Expected a folder of images, got a file: {path}.")
    return path


def _candidate_files(folder: Path) -> list[Path]:
    files = [
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    ]
    return sorted(files, key=lambda p: p.name)


def _parse_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, bool):
        raise ValueError(f"size must be None, an int or (H, W), got {size!r}.")
    if isinstance(size, int | np.integer):
        size = (int(size), int(size))
    try:
        h, w = size
    except (TypeError, ValueError):
        raise ValueError(f"size must be None, an int or (H, W), got {size!r}.") from None
    for v in (h, w):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"size must be None, an int or (H, W) of positive ints, got {size!r}.")
    return int(h), int(w)


def _load_folder(
    folder: str | Path | None, size: int | Sequence[int] | None
) -> tuple[list[str], list[np.ndarray], Path]:
    target = _parse_size(size)
    path = _resolve_folder(folder)
    names: list[str] = []
    arrays: list[np.ndarray] = []
    for file in _candidate_files(path):
        try:
            arr = _read_rgb(file)
        except _Skip as reason:
            warnings.warn(f"Skipping {file}: {reason}", ImageSkippedWarning, stacklevel=3)
            continue
        if target is not None:
            arr = _fit(arr, target)
        names.append(file.name)
        arrays.append(arr)
    if not arrays:
        raise ValueError(
            f"No usable image in {path}. Put PNG or JPEG files there "
            f"(extensions {', '.join(sorted(IMAGE_EXTENSIONS))}); see any warnings above for "
            "files that were skipped."
        )
    return names, arrays, path


def _stack(names: list[str], arrays: list[np.ndarray], folder: Path) -> torch.Tensor:
    shapes: dict[tuple[int, int], list[str]] = {}
    for name, arr in zip(names, arrays, strict=True):
        shapes.setdefault(arr.shape[:2], []).append(name)
    if len(shapes) > 1:
        found = "; ".join(
            f"{h}x{w} (H x W): {', '.join(files[:3])}{' ...' if len(files) > 3 else ''}"
            for (h, w), files in sorted(shapes.items())
        )
        raise ValueError(
            f"Images in {folder} have different sizes: {found}. "
            "Pass size=(H, W) to resize and centre-crop them all to one size, "
            "e.g. load_images(folder, size=(128, 128))."
        )
    batch = np.stack(arrays).astype(np.float32, copy=False)  # (N, H, W, 3)
    return torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()


def _read_rgb(file: Path) -> np.ndarray:
    """Read one file as float32 (H, W, 3) in [0, 1]; raise _Skip with a reason if unusable."""
    if file.stat().st_size == 0:
        raise _Skip("empty file (0 bytes)")
    try:
        with Image.open(file) as im:
            im.load()
            im = ImageOps.exif_transpose(im)
            return _to_rgb(im)
    except _Skip:
        raise
    except Image.UnidentifiedImageError:
        raise _Skip("not an image Pillow can identify") from None
    except Image.DecompressionBombError as exc:
        raise _Skip(str(exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _Skip(f"cannot be read ({type(exc).__name__}: {exc})") from None


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 -> (H, W, 3) float in [0, 1], alpha-composited on white."""
    rgb = rgba[..., :3].astype(np.float64) / 255.0
    alpha = rgba[..., 3:4].astype(np.float64) / 255.0
    return rgb * alpha + (1.0 - alpha)


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=2)


def _to_rgb(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode == "RGB":
        out = np.asarray(im, dtype=np.float64) / 255.0
    elif mode in ("L", "1"):
        out = _gray_to_rgb(np.asarray(im.convert("L"), dtype=np.float64) / 255.0)
    elif mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        out = _composite_on_white(np.asarray(im.convert("RGBA")))
    elif mode.startswith("I;16"):
        # 16-bit: I;16 (little endian), I;16B (big endian), I;16L, I;16N.
        values = np.asarray(im).astype(np.float64)
        out = _gray_to_rgb(values / 65535.0)
    elif mode == "I":
        values = np.asarray(im).astype(np.float64)
        lo, hi = values.min(), values.max()
        if lo < 0 or hi > 65535:
            raise _Skip(
                f"32-bit integer image with values {lo:.0f}..{hi:.0f}, outside 0..65535; "
                "save it as 8-bit or 16-bit"
            )
        out = _gray_to_rgb(values / 65535.0)
    elif mode == "F":
        values = np.asarray(im).astype(np.float64)
        if not np.isfinite(values).all():
            raise _Skip("32-bit float image containing NaN or infinity")
        lo, hi = values.min(), values.max()
        if lo < 0 or hi > 1:
            raise _Skip(
                f"32-bit float image with values {lo:.3g}..{hi:.3g}, outside [0, 1]; "
                "rescale it to [0, 1] first"
            )
        out = _gray_to_rgb(values)
    else:
        # P (no transparency), CMYK, YCbCr, LAB, HSV, RGBX, ...: Pillow's own conversion.
        try:
            out = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
        except (ValueError, OSError) as exc:
            raise _Skip(f"image mode {mode!r} cannot be converted to RGB ({exc})") from None
    return out.astype(np.float32)


def _fit(arr: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Resize (H, W, 3) float [0, 1] to cover ``target`` = (H, W), crop the centre, clip."""
    h, w = target
    if arr.shape[:2] == (h, w):
        return arr
    channels = [
        np.asarray(
            ImageOps.fit(
                Image.fromarray(np.ascontiguousarray(arr[..., c])), (w, h), method=RESAMPLE
            ),
            dtype=np.float32,
        )
        for c in range(3)
    ]
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0)
