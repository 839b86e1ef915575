"""Where things live, which device to use, and how to seed: one place for each.

Conventions
-----------
* ``ROOT`` is the repository root (the folder holding ``utils/``). Notebooks put it first on
  ``sys.path`` in their setup cell; the package is never installed (a different ``utils`` exists on PyPI).
* TensorBoard runs go under ``logs_dir()``: ``ROOT/logs`` unless the environment variable
  ``COURSE_LOGS_DIR`` names another folder (the tests use a temporary one).
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
NOTEBOOKS_DIR = ROOT / "notebooks"

#: Environment variable that moves every TensorBoard run (used by the tests and the benchmark).
LOGS_ENV_VAR = "COURSE_LOGS_DIR"
#: Environment variable that moves build outputs (executed notebooks, HTML, contact sheets).
BUILD_ENV_VAR = "COURSE_BUILD_DIR"


def logs_dir() -> Path:
    """Folder that holds the TensorBoard runs (``logs/`` unless ``COURSE_LOGS_DIR`` is set)."""
    return Path(os.environ.get(LOGS_ENV_VAR) or ROOT / "logs").resolve()


def build_dir() -> Path:
    """Folder for generated files that are not committed (``build/`` unless ``COURSE_BUILD_DIR``)."""
    return Path(os.environ.get(BUILD_ENV_VAR) or ROOT / "build").resolve()


LANGUAGE_ENV_VAR = "COURSE_LANGUAGE"


def language() -> str:
    """The reader's language, ``"en"`` or ``"zh"``: the edition the notebook runs from.

    Chinese notebooks live in ``notebooks/zh-CN/`` and share their code with the English ones, so the
    kernel's working folder (the notebook's folder) says which edition this is. ``COURSE_LANGUAGE``
    (``en``/``zh``) overrides it. Self-check messages and figure labels follow it.
    """
    chosen = os.environ.get(LANGUAGE_ENV_VAR, "").strip().lower()
    if chosen.startswith("zh"):
        return "zh"
    if chosen.startswith("en"):
        return "en"
    here = Path.cwd()  # notebooks/zh-CN/ or notebooks/zh-CN/solutions/
    return "zh" if "zh-CN" in (here.name, here.parent.name) else "en"


def get_device(prefer: str = "cpu") -> torch.device:
    """Return the device for the course: the CPU unless asked otherwise.

    ``prefer="cpu"`` (default) always gives the CPU, so every number matches the notebooks' text.
    ``prefer="auto"`` gives CUDA, then MPS, when available, else the CPU. ``"cuda"`` or ``"mps"``
    asks for that device and raises a clear error when it is missing.
    """
    prefer = prefer.lower()
    if prefer == "cpu":
        return torch.device("cpu")
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if prefer == "auto":
        if cuda:
            return torch.device("cuda")
        if mps:
            return torch.device("mps")
        return torch.device("cpu")
    if prefer == "cuda" and cuda:
        return torch.device("cuda")
    if prefer == "mps" and mps:
        return torch.device("mps")
    if prefer in {"cuda", "mps"}:
        raise RuntimeError(
            f"Device {prefer!r} was requested but is not available on this machine. "
            "Use get_device('cpu') (the default) or get_device('auto')."
        )
    raise ValueError(f"prefer must be 'cpu', 'auto', 'cuda' or 'mps', got {prefer!r}.")


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and PyTorch so a notebook gives the same numbers every run.

    Returns the seed, so a setup cell can write ``SEED = seed_everything(0)``.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
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
    if "google.colab" in sys.modules:
        return True
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _version(module_name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module_name)
    except PackageNotFoundError:
        return None


def _major_minor(text: str | None) -> tuple[int, int]:
    if not text:
        return (0, 0)
    parts = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in text.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


#: Packages whose versions the start-here notebook reports.
REPORTED_PACKAGES = ("torch", "torchvision", "tensorboard", "numpy", "protobuf", "setuptools",
                     "matplotlib", "pillow", "ipywidgets")


def environment_report() -> tuple[dict[str, str | None], list[str]]:
    """Versions of the packages the course uses, and a list of known problems (empty if none).

    Known-bad combinations checked: a missing package; torch older than 2.2; tensorboard older than
    2.21 together with setuptools 82 or newer (old tensorboard imports ``pkg_resources``, which
    setuptools 82 removed, so it fails at start with ``ModuleNotFoundError: pkg_resources``).
    """
    versions = {name: _version(name) for name in REPORTED_PACKAGES}
    versions["python"] = sys.version.split()[0]
    problems = []
    for name in ("torch", "torchvision", "tensorboard", "numpy", "matplotlib", "pillow"):
        if versions[name] is None:
            problems.append(f"{name} is not installed: run `make venv` (or pip install -r requirements.txt).")
    if versions["torch"] and _major_minor(versions["torch"]) < (2, 2):
        problems.append(f"torch {versions['torch']} is older than 2.2; some results in the lessons differ.")
    tb, st = _major_minor(versions["tensorboard"]), _major_minor(versions["setuptools"])
    if versions["tensorboard"] and tb < (2, 21) and st >= (82, 0):
        problems.append(
            f"tensorboard {versions['tensorboard']} with setuptools {versions['setuptools']}: old "
            "tensorboard needs pkg_resources, removed in setuptools 82. Upgrade: "
            "pip install 'tensorboard>=2.21' (or pin setuptools<82)."
        )
    return versions, problems
