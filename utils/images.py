"""Images as one N×3×H×W float32 tensor in [0, 1]: ``load_images()`` is the course's set at 128×128 (the
patterns of ``data/patterns``, then the photos of ``data/images`` or of the folder ``COURSE_IMAGES`` names);
``load_images(folder)`` reads any folder: what it reads, converts and refuses is in ``data/README.md``."""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from utils.environment import DATA_DIR, IMAGES_DIR, ROOT

PATTERNS_DIR, IMAGE_SIZE, MAX_BYTES = DATA_DIR / "patterns", 128, 2**31  # size=None stops at 2 GiB
#: A file of a dataset torchvision reads, as the end of its path -> the dataset's class.
DATASETS = {"cifar-10-batches-py/test_batch": "CIFAR10", "cifar-100-python/test": "CIFAR100",
            **{f"{c}/raw/t10k-images-idx3-ubyte": c for c in ("MNIST", "FashionMNIST", "KMNIST")}}


class ImageSkippedWarning(UserWarning):
    """A file in the image folder was skipped; the message names the file and says why."""


def load_images(folder: str | Path | None = None, size: int | tuple[int, int] | None = None
                ) -> torch.Tensor:
    """Every image in ``folder`` (default: the course's patterns and photos) as ``(N, 3, H, W)``."""
    return torch.stack(_load(folder, size)[1])


def image_names(folder: str | Path | None = None) -> list[str]:
    """The file names ``load_images(folder)`` loads, in the same order (paths below ``folder``)."""
    return _load(folder, 1)[0]


def find_image(name: str) -> int:
    """Index in ``load_images()`` of the image called ``name`` (``"pattern_checkerboard_01"``) or, for
    ``"photo"``, of the first photo, whatever its file is called."""
    if name == "photo":  # the photos follow the patterns
        return len(image_names(PATTERNS_DIR))
    names = image_names()
    if not (found := [i for i, n in enumerate(names) if name in (n, Path(n).stem)]):
        raise ValueError(f"No course image is called {name!r}; image_names() gives: {', '.join(names)}.")
    return found[0]


def image_batches(batch_size: int, size=None, folder=None) -> torch.utils.data.DataLoader:
    """``load_images(folder, size)`` in batches of ``batch_size``, in file order, last batch kept."""
    return torch.utils.data.DataLoader(load_images(folder, size), batch_size=batch_size)


def _load(folder, size) -> tuple[list[str], list[torch.Tensor]]:
    if folder is None:  # the patterns, then the photos (COURSE_IMAGES: absolute or in the repository)
        photos = ROOT / os.path.expanduser(os.environ.get("COURSE_IMAGES") or IMAGES_DIR)
        (a, x), (b, y) = (_load(f, IMAGE_SIZE if size is None else size) for f in (PATTERNS_DIR, photos))
        return a + b, x + y
    target, root = _target_size(size), Path(folder).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"Image folder not found: {root}. Pass an existing folder or file.")
    rel = (lambda p: p.relative_to(root)) if root.is_dir() else (lambda p: Path(p.name))
    files = [root] if root.is_file() else sorted(  # ImageFolder's order: class folder, sub-folder, name
        (p for p in root.rglob("*") if p.is_file() and not any(s[0] == "." for s in rel(p).parts)),
        key=lambda p: (rel(p).parts[:-1][:1], rel(p).parent.as_posix(), p.name))
    names, images, nbytes, hint = [], [], 0, f", e.g. load_images({str(root)!r}, size=(128, 128))"
    for path in files:
        try:
            images.append(_read(path, target))
            names.append(rel(path).as_posix())
            nbytes += images[-1].nbytes
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as why:
            warnings.warn(f"Skipping {path}: {why}", ImageSkippedWarning, stacklevel=4)
        if nbytes > MAX_BYTES:
            raise ValueError(f"The images in {root} are large: {len(images)} already take more than "
                             f"{MAX_BYTES / 2**30:.0f} GiB as float32. Pass size=(H, W) to scale them{hint}.")
    if not images:
        listing = ", ".join(p.name for p in files[:10]) + (" ..." if len(files) > 10 else "")
        raise ValueError(f"No usable image in {root}: found {listing or 'no files'}"
                         f"{' (each skipped, see the warnings above)' if files else ''}. "
                         f"{_dataset_hint(files) or 'Put PNG or JPEG files there.'}")
    if len(sizes := sorted({tuple(i.shape[1:]) for i in images})) > 1:
        found = "; ".join(f"{h}x{w} (H x W): " + ", ".join([n for n, i in zip(names, images, strict=True)
                                                           if i.shape[1:] == (h, w)][:3]) for h, w in sizes)
        raise ValueError(f"Images in {root} have different sizes: {found}. Pass size=(H, W) to "
                         f"resize and centre-crop them all to one size{hint}.")
    return names, images


def _dataset_hint(files: list[Path]) -> str:
    """For the files of a dataset torchvision reads, or an archive: what to run instead."""
    for p in files:
        key = next((k for k in DATASETS if p.as_posix().endswith("/" + k)), None)
        if key:
            data = f"torchvision.datasets.{DATASETS[key]}({str(p.parents[key.count('/')])!r}, train=False).data"
            line = (f"torch.from_numpy({data}).permute(0, 3, 1, 2).float() / 255" if "cifar" in key
                    else f"{data}[:, None].float().div(255).repeat(1, 3, 1, 1)")
            return (f"This is {DATASETS[key]} ({p.parent}), which torchvision reads: `import torch, torchvision; "
                    f"images = {line}` (the test set in [0, 1]; train=True for the training set).")
        if p.suffix.lower() in (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz"):
            return (f"{p.name} is an archive: unpack it, `import shutil; shutil.unpack_archive("
                    f"{str(p)!r}, {str(p.parent / 'unpacked')!r})`, then pass that folder.")
    return ""


def _read(path: Path, target: tuple[int, int] | None) -> torch.Tensor:
    """One file as a 3×H×W float32 tensor in [0, 1]; an exception saying why if it is unusable."""
    if path.suffix.lower() not in Image.registered_extensions():
        raise ValueError(f"{path.suffix or 'no extension'} is not an image type Pillow knows")
    if path.stat().st_size == 0:
        raise ValueError("empty file (0 bytes)")
    with Image.open(path) as im:
        if target is not None and im.format == "JPEG":  # decode a big JPEG at a reduced scale
            im.draft(im.mode, tuple(math.ceil(s * max(target) / min(im.size)) for s in im.size))
        im = ImageOps.exif_transpose(im)
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        values, scale = np.asarray(im, dtype=np.float64), 1.0 if im.mode == "F" else 65535.0
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > scale:
            raise ValueError(f"{im.mode} image with values {values.min():.4g}..{values.max():.4g} (NaN or "
                             f"outside {'[0, 1]' if scale == 1 else '0..65535'}); save it as an 8- or 16-bit image")
        im = Image.fromarray((values / scale).astype(np.float32))  # mode F: one channel, to three below
    elif im.has_transparency_data:  # on white: transparent pixels show as white, not black
        im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA")).convert("RGB")
    else:
        im = im.convert("RGB")
    if target is not None and im.size != target[::-1]:
        im = ImageOps.fit(im, target[::-1], Image.Resampling.LANCZOS)
    array = np.asarray(im, dtype=np.float32) / (255 if im.mode == "RGB" else 1)
    return torch.from_numpy(np.atleast_3d(array).clip(0, 1)).permute(2, 0, 1).expand(3, -1, -1).contiguous()


def _target_size(size) -> tuple[int, int] | None:
    pair = (size, size) if isinstance(size, int) and not isinstance(size, bool) else size
    if size is not None and (not isinstance(pair, tuple | list) or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair)):
        raise ValueError(f"size must be None, a positive int or (H, W) of positive ints, got {size!r}.")
    return pair if size is None else (int(pair[0]), int(pair[1]))
