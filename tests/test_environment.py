"""Paths, device, seed and the reader's language."""

import random

import numpy as np
import pytest
import torch

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


@pytest.mark.parametrize(("folder", "expected"), [
    ("notebooks", "en"), ("notebooks/solutions", "en"),
    ("notebooks/zh-CN", "zh"), ("notebooks/zh-CN/solutions", "zh"),
])
def test_language_follows_the_edition_folder(tmp_path, monkeypatch, folder, expected):
    (tmp_path / folder).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / folder)
    monkeypatch.delenv(environment.LANGUAGE_ENV_VAR, raising=False)
    assert environment.language() == expected
