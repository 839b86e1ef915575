"""Paths, device, seed, the reader's language, and the check that the kernel can run the course."""

import json
import os
import random
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import make_recipe

from utils import environment
from utils.environment import get_device, logs_dir, seed_everything


def test_root_holds_the_package_and_data():
    assert (environment.ROOT / "utils" / "__init__.py").is_file()
    assert environment.IMAGES_DIR == environment.ROOT / "data" / "images"


def test_logs_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_LOGS_DIR", raising=False)
    assert logs_dir() == (environment.ROOT / "logs").resolve()
    monkeypatch.setenv("COURSE_LOGS_DIR", str(tmp_path))
    assert logs_dir() == tmp_path.resolve()


def test_cpu_by_default():
    assert get_device() == torch.device("cpu")
    assert get_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(ValueError, match="prefer must be"):
        get_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_missing_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not available"):
        get_device("cuda")


def test_seed_everything_repeats_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3)

    seed_everything(7)
    a = draw()
    seed_everything(7)
    b = draw()
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    assert seed_everything(3) == 3


@pytest.mark.parametrize(("line", "folder", "expected"), [
    ('LANGUAGE = "en"', "notebooks/zh-CN", "en"), ('LANGUAGE = "zh-CN"', "content", "zh"),
    ('LANGUAGE = "zh-CN"', "notebooks", "zh"), (None, "notebooks/zh-CN", "en"),
])
def test_language_is_the_notebooks_own_line_not_its_folder(tmp_path, monkeypatch, line, folder, expected):
    """The setup cell's LANGUAGE line (in the kernel's namespace, ``__main__``) decides, wherever the kernel runs
    (Colab's working folder is /content)."""
    (tmp_path / folder).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / folder)
    monkeypatch.delenv(environment.LANGUAGE_ENV_VAR, raising=False)
    main = sys.modules["__main__"]
    monkeypatch.delattr(main, "LANGUAGE", raising=False)
    if line:
        monkeypatch.setattr(main, "LANGUAGE", line.split('"')[1], raising=False)
    assert environment.language() == expected
    monkeypatch.setenv(environment.LANGUAGE_ENV_VAR, "zh" if expected == "en" else "en")  # the override
    assert environment.language() != expected


# -- the kernel check: a lesson opened with a Python that lacks the course's packages ---------------
def _versions(**found):
    def version_of(name):
        if name not in found:
            raise metadata.PackageNotFoundError(name)
        return found[name]

    return version_of


def test_kernel_needs_take_their_bounds_from_requirements():
    bounds = environment.kernel_requirements()
    assert set(bounds) == set(environment.KERNEL_NEEDS)
    text = (environment.ROOT / "requirements.txt").read_text()
    for name, lower in bounds.items():
        assert re.search(rf"^{name}>={re.escape(lower)}\b", text, re.M | re.I), name


def test_this_kernel_can_run_the_course():
    assert environment.kernel_problems() == []


def test_kernel_problems_name_what_is_missing_or_too_old():
    bounds = environment.kernel_requirements()
    fine = {name: lower for name, lower in bounds.items()}
    assert environment.kernel_problems(_versions(**fine)) == []
    old = dict(fine, torch="1.13.1+cu117", numpy="2.0.0rc1")
    del old["torchvision"]
    assert environment.kernel_problems(_versions(**old)) == [
        f"torch>={bounds['torch']} (1.13.1+cu117 installed)",
        f"torchvision>={bounds['torchvision']} (not installed)",
    ]
    assert environment.kernel_problems(_versions(**fine), python=(3, 9, 18)) == [
        "Python>=3.10 (this is Python 3.9.18)"]


def test_the_pip_fix_asks_for_exactly_what_is_missing_and_this_venv_satisfies_it():
    from packaging.requirements import Requirement

    problems = environment.kernel_problems(_versions(numpy="1.0"))
    message = environment.kernel_message(problems, zh=False)
    line = next(x for x in message.splitlines() if "%pip install" in x)
    specs = re.findall(r'"([^"]+)"', line)
    assert len(specs) == len(environment.KERNEL_NEEDS)
    for spec in specs:
        requirement = Requirement(spec)
        assert requirement.specifier.contains(metadata.version(requirement.name), prereleases=True)
    assert "中文" not in message and "make kernel" in message


def test_the_message_speaks_chinese_in_the_chinese_edition(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules["__main__"], "LANGUAGE", "zh-CN", raising=False)  # the setup cell's 1st line
    monkeypatch.delenv(environment.LANGUAGE_ENV_VAR, raising=False)
    message = environment.kernel_message(["torch>=2.2 (not installed)"])
    assert "内核" in message and "make kernel" in message.split("内核")[1]


@pytest.mark.slow
def test_make_kernel_registers_the_name_the_message_gives():
    command = make_recipe("kernel")
    assert "ipykernel install --user" in command
    assert f'--display-name "{environment.COURSE_KERNEL}"' in command


@pytest.mark.slow
def test_importing_utils_does_not_import_torch():
    """The check runs before torch is imported, so a kernel without torch reaches it."""
    code = "import sys, utils.environment; print('torch' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=environment.ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.slow
def test_a_python_without_torch_gets_the_message_and_fix_1_works(tmp_path):
    """A real other environment (no torch) imports utils as the setup cell does: the course's message,
    not "No module named 'torch'". Then fix 1, literally: `make kernel` (into a private Jupyter data
    folder), and the kernel it registers runs the setup cell's import."""
    from conftest import python_without

    other = python_without(tmp_path / "other-env")
    code = f"import sys; sys.path.insert(0, {str(environment.ROOT)!r}); import utils"
    failed = subprocess.run([str(other), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert failed.returncode != 0
    assert "utils.environment.KernelError: This notebook's kernel cannot run the course" in failed.stderr
    bounds = environment.kernel_requirements()
    assert f"torch>={bounds['torch']} (not installed)" in failed.stderr
    assert f"torchvision>={bounds['torchvision']} (not installed)" in failed.stderr
    assert "No module named" not in failed.stderr
    command = re.search(r"in a terminal run  (.+)$", failed.stderr, re.M).group(1)
    env = dict(os.environ, JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"))
    subprocess.run(command, shell=True, env=env, check=True, capture_output=True)
    spec = json.loads((tmp_path / "jupyter-data" / "kernels" / "pooling-course" / "kernel.json").read_text())
    assert spec["display_name"] == environment.COURSE_KERNEL
    subprocess.run([spec["argv"][0], "-c", code], check=True, cwd=tmp_path)


@pytest.mark.slow
def test_on_windows_the_message_gives_what_make_kernel_runs():
    """No make on Windows: the command is the Makefile's recipe with the venv's python.exe."""
    recipe = make_recipe("kernel")
    command = environment.register_command(Path("C:/Users/me/course"), windows=True)
    assert command.split(" -m ", 1)[1] == recipe.split(" -m ", 1)[1]
    assert command.startswith('"C:') and "Scripts" in command
    message = environment.kernel_message(["torch>=2.2 (not installed)"], windows=True)
    assert environment.register_command(windows=True) in message and "make" not in message


@pytest.mark.parametrize(("problem", "fatal"), [
    ("torch>=2.2 (not installed)", True),
    ("torch>=2.2 (1.13.1 installed)", True),
    ("torchvision>=0.17 (0.15.2 installed)", True),
    ("tensorboard>=2.21 (not installed)", True),
    ("numpy>=1.24 (not installed)", True),
    ("tensorboard>=2.21 (2.19.0 installed)", False),  # Colab's: it still writes and serves runs
    ("matplotlib>=3.7 (3.5.1 installed)", False),
    ("ipywidgets>=8.0 (not installed)", False),  # only the calculator and the pair viewer need them
    ("anywidget>=0.9 (not installed)", False),
    ("Python>=3.10 (this is Python 3.9.18)", True),
])
def test_what_stops_every_lesson_and_what_only_some_cells(problem, fatal):
    assert environment.is_fatal(problem) is fatal


def test_check_kernel_raises_for_what_stops_every_lesson_and_warns_for_the_rest(monkeypatch):
    monkeypatch.setattr(environment, "kernel_problems", lambda: ["anywidget>=0.9 (not installed)"])
    with pytest.warns(environment.KernelWarning, match="Some cells of the course will fail"):
        environment.check_kernel()
    monkeypatch.setattr(environment, "kernel_problems",
                        lambda: ["torch>=2.2 (not installed)", "anywidget>=0.9 (not installed)"])
    with pytest.raises(environment.KernelError, match="cannot run the course") as raised:
        environment.check_kernel()
    assert '%pip install "torch>=2.2" "anywidget>=0.9"' in str(raised.value)


def test_on_colab_its_own_ipywidgets_7_is_fine_and_the_fix_is_pip_only():
    """Colab's front end needs its ipywidgets 7 (upgrading it hides third-party widgets there), and
    there is no terminal or make: the message gives the %pip line and Colab's restart menu."""
    colab_like = {name: lower for name, lower in environment.kernel_requirements().items()
                  if name != "anywidget"}
    colab_like["ipywidgets"] = "7.7.1"
    assert environment.kernel_problems(_versions(**colab_like), colab=True) == [
        f"anywidget>={environment.kernel_requirements()['anywidget']} (not installed)"]
    assert len(environment.kernel_problems(_versions(**colab_like), colab=False)) == 2
    message = environment.kernel_message(["anywidget>=0.9 (not installed)"], colab=True, zh=True)
    assert '%pip install "anywidget>=0.9"' in message and "Runtime > Restart session" in message
    assert "make" not in message and "Change Kernel" not in message
