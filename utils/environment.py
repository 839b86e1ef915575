"""Where things live, which device to use, and how to seed: one place for each.

Conventions
-----------
* ``ROOT`` is the repository root (the folder holding ``utils/``). Notebooks put it first on
  ``sys.path`` in their setup cell; the package is never installed (a different ``utils`` exists on PyPI).
* TensorBoard runs go under ``logs_dir()``: ``ROOT/logs`` unless the environment variable
  ``COURSE_LOGS_DIR`` names another folder (the tests use a temporary one).
* ``COURSE_REPOSITORY_URL`` is where the course lives online (Colab clones it).
* ``get_device()`` is the only place a device is chosen. The course runs on the CPU by default;
  pass ``"auto"`` to use CUDA or Apple's MPS when present.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
IMAGES_DIR = DATA_DIR / "images"

#: The course's git repository; Colab clones it (a copy sits in every notebook's setup cell, because
#: Colab opens one notebook without the rest). After forking, change every copy with
#: ``python tools/set_repository_url.py https://github.com/<you>/<your-fork>``.
COURSE_REPOSITORY_URL = "https://github.com/pooling-course/pytorch-pooling-dropout-tensorboard.git"
#: The branch the Colab/Binder badges open.
COURSE_BRANCH = "main"


def logs_dir() -> Path:
    """Folder that holds the TensorBoard runs (``logs/`` unless ``COURSE_LOGS_DIR`` is set)."""
    return Path(os.environ.get("COURSE_LOGS_DIR") or ROOT / "logs").resolve()


def build_dir() -> Path:
    """Generated files, never committed: executed notebooks, HTML (``build/`` or ``COURSE_BUILD_DIR``)."""
    return Path(os.environ.get("COURSE_BUILD_DIR") or ROOT / "build").resolve()


LANGUAGE_ENV_VAR = "COURSE_LANGUAGE"


def language() -> str:
    """The reader's language, ``"en"`` or ``"zh"``: the edition the notebook runs from.

    Chinese notebooks live in ``notebooks/zh-CN/`` (and its solutions/) with the same code, so the
    kernel's working folder says which edition runs. ``COURSE_LANGUAGE`` (``en``/``zh``) overrides it.
    """
    chosen = os.environ.get(LANGUAGE_ENV_VAR, "").strip().lower()
    if chosen.startswith("zh"):
        return "zh"
    if chosen.startswith("en"):
        return "en"
    return "zh" if "zh-CN" in Path.cwd().parts else "en"


def get_device(prefer: str = "cpu") -> torch.device:
    """Return the device for the course: the CPU unless asked otherwise.

    ``prefer="cpu"`` (default) always gives the CPU, so every number matches the notebooks' text.
    ``prefer="auto"`` gives CUDA, then MPS, when available, else the CPU. ``"cuda"`` or ``"mps"``
    asks for that device and raises a clear error when it is missing.
    """
    available = {"cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(), "cpu": True}
    if prefer == "auto":
        return torch.device(next(name for name, ok in available.items() if ok))
    if prefer not in available:
        raise ValueError(f"prefer must be 'cpu', 'auto', 'cuda' or 'mps', got {prefer!r}.")
    if not available[prefer]:
        raise RuntimeError(f"Device {prefer!r} was requested but is not available on this machine. "
                           "Use get_device('cpu') (the default) or get_device('auto').")
    return torch.device(prefer)


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and PyTorch so a notebook gives the same numbers every run.

    Returns the seed, so a setup cell can write ``SEED = seed_everything(0)``.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return seed


def in_notebook_frontend() -> bool:
    """True when running in an interactive Jupyter front end (not when executed headless).

    Headless runs (``make demo``, the tests) set ``COURSE_HEADLESS=1``; Colab is always interactive.
    """
    if os.environ.get("COURSE_HEADLESS") == "1":
        return False
    ipython = sys.modules.get("IPython")  # not imported: not a notebook
    shell = ipython.get_ipython() if ipython else None
    return "google.colab" in sys.modules or type(shell).__name__ == "ZMQInteractiveShell"
