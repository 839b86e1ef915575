"""The optional CIFAR-10 path: never needed, and offline it fails at once with a clear message."""

import warnings

import pytest
import torch
from cifar10 import CIFAR10Unavailable, cifar10_test_batches, steps_for
from conftest import go_offline
from torch.utils.data import DataLoader, TensorDataset


def test_missing_without_download_says_what_to_do(tmp_path):
    with pytest.raises(CIFAR10Unavailable, match="does not need it") as info:
        cifar10_test_batches(tmp_path)
    assert str(tmp_path) in str(info.value) and "download=True" in str(info.value)


def test_offline_download_fails_fast_with_advice(tmp_path, monkeypatch):
    go_offline(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CIFAR10Unavailable, match="Offline or behind a proxy") as info:
            cifar10_test_batches(tmp_path, download=True)
    assert "image_batches()" in str(info.value)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_batch_size(tmp_path, bad):
    with pytest.raises(ValueError, match="batch_size"):
        cifar10_test_batches(tmp_path, batch_size=bad)


@pytest.mark.parametrize(("n", "batch"), [(10_000, 64), (32, 4), (33, 4), (1, 7), (100, 100)])
def test_steps_match_a_dataloader(n, batch):
    loader = DataLoader(TensorDataset(torch.zeros(n)), batch_size=batch, shuffle=False)
    sizes = [len(b[0]) for b in loader]
    assert steps_for(n, batch) == (len(sizes), sizes[-1])


def test_the_seed_workload():
    # The original script: 10,000 test images, batch 64 -> 157 steps, the last one 16 images.
    assert steps_for(10_000, 64) == (157, 16)
