"""Load the sample images (or your own folder of pictures) as one N×3×H×W float32 tensor in [0, 1].

* Files are read in name order, not from sub-folders; hidden files (``.DS_Store``) are ignored.
  Every extension Pillow can open is read (``PIL.Image.registered_extensions()``); any other file,
  or one Pillow cannot decode (empty, truncated, not an image), is skipped with an
  ``ImageSkippedWarning`` naming it and why.
* To RGB in [0, 1]: 8-bit images by Pillow's conversion / 255 (grayscale, palette, CMYK...);
  transparent pixels are composited on white; 16-bit images / 65535 (32768 is mid grey); 32-bit
  integers taken as 16-bit and floats used as they are, if they fit, else the file is skipped.
  EXIF orientation is applied, so phone photos come out as displayed; animations give frame one.
* ``size=None`` needs every image to share one size; ``size=(H, W)`` (or ``n`` for ``(n, n)``)
  scales each image to cover H×W and crops the centre, like ``PIL.ImageOps.fit`` (Lanczos).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from utils.environment import IMAGES_DIR


class ImageSkippedWarning(UserWarning):
    """A file in the image folder was skipped; the message names the file and says why."""


def load_images(folder: str | Path | None = None, size: int | tuple[int, int] | None = None
                ) -> torch.Tensor:
    """Every image in ``folder`` (default: the course's ``data/images``) as ``(N, 3, H, W)``."""
    names, images = _load(folder, size)
    sizes: dict[tuple[int, int], list[str]] = {}
    for name, image in zip(names, images, strict=True):
        sizes.setdefault(tuple(image.shape[1:]), []).append(name)
    if len(sizes) > 1:
        found = "; ".join(f"{h}x{w} (H x W): {', '.join(files[:3])}{' ...' * (len(files) > 3)}"
                          for (h, w), files in sorted(sizes.items()))
        raise ValueError(f"Images in {folder or IMAGES_DIR} have different sizes: {found}. Pass "
                         "size=(H, W) to resize and centre-crop them all to one size, e.g. "
                         "load_images(folder, size=(128, 128)).")
    return torch.stack(images)


def image_names(folder: str | Path | None = None) -> list[str]:
    """The file names ``load_images(folder)`` loads, in the same order."""
    return _load(folder, None)[0]


def image_batches(batch_size: int, size=None, folder=None) -> torch.utils.data.DataLoader:
    """``load_images(folder, size)`` in batches of ``batch_size``, in file order, last batch kept."""
    return torch.utils.data.DataLoader(load_images(folder, size), batch_size=batch_size)


def _load(folder, size) -> tuple[list[str], list[torch.Tensor]]:
    target = _target_size(size)
    folder = Path(IMAGES_DIR if folder is None else folder).expanduser()
    if not folder.exists():
        raise FileNotFoundError(f"Image folder not found: {folder}. Pass an existing folder to "
                                "load_images(folder=...) or leave folder=None for data/images.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    names, images = [], []
    for path in files:
        try:
            images.append(_read(path, target))
            names.append(path.name)
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as why:
            warnings.warn(f"Skipping {path}: {why}", ImageSkippedWarning, stacklevel=3)
    if not images:
        listing = ", ".join(p.name for p in files[:10]) + (" ..." if len(files) > 10 else "")
        raise ValueError(f"No usable image in {folder}: found {listing or 'no files'}"
                         f"{' (each skipped, see the warnings above)' if files else ''}. "
                         "Put PNG or JPEG files there.")
    return names, images


def _read(path: Path, target: tuple[int, int] | None) -> torch.Tensor:
    """One file as a 3×H×W float32 tensor in [0, 1]; an exception saying why if it is unusable."""
    if path.suffix.lower() not in Image.registered_extensions():
        raise ValueError(f"{path.suffix or 'no extension'} is not an image type Pillow knows")
    if path.stat().st_size == 0:
        raise ValueError("empty file (0 bytes)")
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values = np.asarray(im, dtype=np.float64)
        scale = 1.0 if im.mode == "F" else 65535.0
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > scale:
            limits = "[0, 1]" if im.mode == "F" else "0..65535"
            raise ValueError(f"{im.mode} image with values {values.min():.4g}..{values.max():.4g} "
                             f"(NaN or outside {limits}); save it as an 8- or 16-bit image")
        rgb = np.repeat(values[..., None] / scale, 3, axis=2)
    elif im.has_transparency_data:  # on white: transparent pixels show as white, not black
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float64) / 255
        rgb = rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])
    else:
        rgb = np.asarray(im.convert("RGB"), dtype=np.float64) / 255
    if target is not None and rgb.shape[:2] != target:
        fit = [ImageOps.fit(Image.fromarray(rgb[..., c].astype(np.float32)), target[::-1],
                            Image.Resampling.LANCZOS) for c in range(3)]
        rgb = np.stack(fit, axis=2).clip(0, 1)  # Lanczos overshoots at sharp edges
    return torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1).contiguous()


def _target_size(size) -> tuple[int, int] | None:
    if size is None:
        return None
    pair = (size, size) if isinstance(size, int) and not isinstance(size, bool) else size
    if (not isinstance(pair, tuple | list) or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair)):
        raise ValueError(f"size must be None, a positive int or (H, W) of positive ints, got {size!r}.")
    return int(pair[0]), int(pair[1])
