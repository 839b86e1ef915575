"""The original lesson's workload, optionally: the CIFAR-10 test set in batches of 64.

The seed lesson pooled the CIFAR-10 test set (10,000 images of 3×32×32, batch 64: 157 steps, the last
one 16 images). The course never needs it: every notebook runs on ``data/images`` and nothing is
downloaded at run time. This module is the optional online path for a teacher who wants the
original: ``download=True`` fetches it once (about 170 MB) into ``root``; offline that fails at once
with a message that says what to do instead.
"""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import DataLoader

from utils.environment import DATA_DIR

#: Where the dataset goes unless ``root`` is given (git-ignored).
DEFAULT_ROOT = DATA_DIR / "cifar10"
#: The folder torchvision extracts; its presence means the dataset is there.
EXTRACTED_FOLDER = "cifar-10-batches-py"


class CIFAR10Unavailable(RuntimeError):
    """CIFAR-10 is not on disk and could not be downloaded."""


def cifar10_test_batches(root: str | Path | None = None, batch_size: int = 64,
                         download: bool = False) -> DataLoader:
    """The CIFAR-10 test set as float32 batches N×3×32×32 in [0, 1], in file order (no shuffle).

    ``root`` (default ``data/cifar10``) must hold ``cifar-10-batches-py``. With ``download=True`` a
    missing dataset is fetched once. Raises ``CIFAR10Unavailable`` with what to do when the dataset
    is missing, or when the download fails (offline, proxy, blocked site).
    """
    import torchvision
    from torchvision import transforms

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    root = Path(root) if root is not None else DEFAULT_ROOT
    if not (root / EXTRACTED_FOLDER).is_dir() and not download:
        raise CIFAR10Unavailable(
            f"CIFAR-10 is not in {root} (no {EXTRACTED_FOLDER}/ folder). The course does not need "
            "it: use utils.images.image_batches() for the bundled images. To use CIFAR-10, call "
            "cifar10_test_batches(download=True) once with internet, or put cifar-10-python.tar.gz "
            f"(from the CIFAR-10 website) in {root} and call it with download=True to extract it."
        )
    try:
        dataset = torchvision.datasets.CIFAR10(str(root), train=False, download=download,
                                               transform=transforms.ToTensor())
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        raise CIFAR10Unavailable(
            f"Could not get CIFAR-10 into {root}: {err}. Offline or behind a proxy? The course does "
            "not need it: use utils.images.image_batches() for the bundled images, or copy "
            f"cifar-10-python.tar.gz from a connected machine into {root}."
        ) from err
    return DataLoader(dataset, batch_size=batch_size, shuffle=False)


def steps_for(n_images: int, batch_size: int) -> tuple[int, int]:
    """(number of steps, size of the last batch) when ``n_images`` are cut into batches."""
    steps = -(-n_images // batch_size)
    return steps, n_images - (steps - 1) * batch_size
