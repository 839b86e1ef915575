"""Lesson 00's claims, checked on the values the executed notebook computed (in its own kernel)."""

import pytest

pytestmark = pytest.mark.notebooks


def test_images_are_a_float_batch_in_unit_range(notebook_runs):
    run = notebook_runs("00_start_here")
    assert run.value("tuple(images.shape[1:2])") == [3]
    assert run.value("str(images.dtype)") == "torch.float32"
    assert 0.0 <= run.value("images.min().item()") and run.value("images.max().item()") <= 1.0
