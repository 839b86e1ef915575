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
* ``check_kernel()`` runs when ``utils`` is first imported (the setup cell): a lesson opened with a
  kernel whose Python lacks what the lessons import stops there with what is missing and two fixes.
  This module imports only the standard library at the top, so that check runs before torch is needed.
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    """The reader's language, ``"en"`` or ``"zh"``: the edition of the notebook that runs.

    Each notebook says it in its setup cell (``LANGUAGE = "zh-CN"`` in the Chinese edition, ``"en"``
    in the English one; the only line where the editions' code differs), so Colab, Binder or any
    working folder give the same answer. ``COURSE_LANGUAGE`` (``en``/``zh``) overrides it; outside a
    notebook (scripts, tests) the default is English.
    """
    chosen = os.environ.get(LANGUAGE_ENV_VAR, "") or getattr(sys.modules.get("__main__"), "LANGUAGE", "")
    return "zh" if str(chosen).strip().lower().startswith("zh") else "en"


def label(text: str, **fields) -> str:
    """A text for the reader (figure titles, :func:`utils.shapes.explain`) in their language
    (:func:`language`): the Chinese of ``text`` from utils/labels_zh.json (else ``text``), ``fields``
    filled in: ``label("window ({i}, {j})", i=0, j=1)``."""
    if language() == "zh":
        global _ZH
        if _ZH is None:
            _ZH = json.loads((ROOT / "utils" / "labels_zh.json").read_text(encoding="utf-8"))
        text = _ZH.get(text, text)
    return text.format(**fields) if fields else text


_ZH: dict | None = None


def get_device(prefer: str = "cpu") -> torch.device:
    """Return the device for the course: the CPU unless asked otherwise.

    ``prefer="cpu"`` (default) always gives the CPU, so every number matches the notebooks' text.
    ``prefer="auto"`` gives CUDA, then MPS, when available, else the CPU. ``"cuda"`` or ``"mps"``
    asks for that device and raises a clear error when it is missing.
    """
    import torch

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
    import numpy as np
    import torch

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


# -- the kernel: does its Python have what the lessons import? -------------------------------------
#: Without one of these no lesson runs, so the setup cell stops (as it does for a torch or torchvision
#: older than required). Anything else (the widgets' packages, older versions of the rest) only warns:
#: most cells still run, and the warning says what to install.
CORE_NEEDS = ("torch", "torchvision", "tensorboard", "numpy", "matplotlib", "pillow")
#: The distributions a lesson's kernel imports (the rest of requirements.txt runs the servers). Their
#: lower bounds are read from requirements.txt, the one place versions are written.
KERNEL_NEEDS = (*CORE_NEEDS, "ipywidgets", "anywidget")
VERSION_NEEDED = ("torch", "torchvision")
PYTHON_NEEDED = (3, 10)
COURSE_KERNEL = "Python 3 (pooling course)"  # `make kernel` registers the course's .venv under this name


class KernelError(ImportError):
    """The notebook's kernel cannot run the course (raised by :func:`check_kernel`)."""


class KernelWarning(UserWarning):
    """The notebook's kernel lacks what some cells need (issued by :func:`check_kernel`)."""


def kernel_requirements(requirements: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """``{distribution: lower bound}`` for :data:`KERNEL_NEEDS`, from requirements.txt's ``name>=x`` lines."""
    bounds = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^\s,;#]*)", line)
        if match and match.group(1).lower() in KERNEL_NEEDS:
            bounds[match.group(1).lower()] = match.group(2)
    return {name: bounds[name] for name in KERNEL_NEEDS}


def _release(version: str) -> tuple[int, ...]:
    """``"2.14.1+cpu"`` -> ``(2, 14, 1)``: the release numbers, enough to compare with a lower bound."""
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(n) for n in match.group(0).split(".")) if match else (0,)


def kernel_problems(version_of=metadata.version, python: tuple[int, ...] = sys.version_info[:3],
                    requirements: Path = ROOT / "requirements.txt",
                    colab: bool | None = None) -> list[str]:
    """What this kernel lacks, one line each (``[]``: it can run the course).

    ``version_of(name)`` returns an installed distribution's version or raises
    ``importlib.metadata.PackageNotFoundError`` (the default reads this Python's installed packages).
    On Colab the ipywidgets version is not checked: Colab's front end needs its own ipywidgets 7,
    and upgrading it there stops third-party widgets from showing (manzt/anywidget#48).
    """
    colab = "google.colab" in sys.modules if colab is None else colab
    problems = []
    if tuple(python[:2]) < PYTHON_NEEDED:
        problems.append(f"Python>={'.'.join(map(str, PYTHON_NEEDED))} "
                        f"(this is Python {'.'.join(map(str, python))})")
    for name, lower in kernel_requirements(requirements).items():
        try:
            found = version_of(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}>={lower} (not installed)")
            continue
        if _release(found) < _release(lower) and not (colab and name == "ipywidgets"):
            problems.append(f"{name}>={lower} ({found} installed)")
    return problems


def is_fatal(problem: str) -> bool:
    """Does this line of :func:`kernel_problems` stop every lesson (not just some cells)?"""
    name = problem.split(">=")[0]
    return (name == "Python" or name in VERSION_NEEDED
            or (name in CORE_NEEDS and problem.endswith("(not installed)")))


def register_command(root: Path = ROOT, windows: bool = os.name == "nt") -> str:
    """The terminal command that registers the course's ``.venv`` as :data:`COURSE_KERNEL`
    (``make kernel``; on Windows, without make, what that target runs)."""
    if not windows:
        return f"cd {shlex.quote(str(root))} && make kernel"
    python = root / ".venv" / "Scripts" / "python.exe"
    return (f'"{python}" -m ipykernel install --user --name pooling-course '
            f'--display-name "{COURSE_KERNEL}"')


def kernel_message(problems: list[str], executable: str = sys.executable, root: Path = ROOT,
                   zh: bool | None = None, windows: bool = os.name == "nt",
                   colab: bool | None = None) -> str:
    """What a student reads when the kernel lacks something, with fixes that work as written: the
    course's own kernel (``make kernel``, then Kernel > Change Kernel...), or ``%pip`` into this
    kernel (on Colab only that one). In Chinese too when the notebook is from the Chinese edition."""
    colab = "google.colab" in sys.modules if colab is None else colab
    fatal = any(is_fatal(p) for p in problems)
    specs = " ".join(f'"{p.split(" (")[0]}"' for p in problems if not p.startswith("Python"))
    command = register_command(root, windows)
    restart = "Runtime > Restart session" if colab else "Kernel > Restart Kernel"
    lines = [(f"This notebook's kernel cannot run the course. Its Python ({executable}) lacks:"
              if fatal else f"Some cells of the course will fail in this kernel. Its Python "
                            f"({executable}) lacks:")]
    lines += [f"  - {p}" for p in problems]
    if colab:
        lines += [f"Fix: run  %pip install {specs}  in a cell, then {restart} and run this cell again."]
    else:
        lines += [
            "Fix, either:",
            f"  1. Use the course's kernel: in a terminal run  {command}",
            f"     then in Jupyter choose Kernel > Change Kernel... > {COURSE_KERNEL}",
        ]
        if not windows:
            lines.append("     (or open the lessons with `make lab`, whose kernel is the course's).")
        if specs:
            lines += [f"  2. Or install into this kernel: run  %pip install {specs}  in a cell,",
                      f"     then {restart} and run this cell again."]
    if zh if zh is not None else language() == "zh":
        pip = f"在一个单元格里运行 %pip install {specs}，再 {restart}，重新运行这个单元格。"
        lines += ["", ("这个笔记本的内核（kernel）运行不了本课程" if fatal else
                       "在这个内核（kernel）里，课程的一些单元格会出错")
                  + "：它的 Python 缺少上面列出的包。",
                  "解决办法：" + (pip if colab else
                               f"在终端运行 {command}，然后在 Jupyter 里选 Kernel > Change Kernel... > "
                               f"{COURSE_KERNEL}" + (f"；或者{pip}" if specs else "。"))]
    return "\n".join(lines)


def check_kernel() -> None:
    """Raise :class:`KernelError` (an ``ImportError``) when this Python cannot run any lesson (no torch,
    say); warn (:class:`KernelWarning`) when it lacks only what some cells need (the widgets' packages,
    newer versions). Runs once, when ``utils`` is first imported; costs a few milliseconds (package
    metadata only)."""
    problems = kernel_problems()
    if any(is_fatal(p) for p in problems):
        raise KernelError(kernel_message(problems))
    if problems:
        warnings.warn(kernel_message(problems), KernelWarning, stacklevel=3)
