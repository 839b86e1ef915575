"""Lesson 00's claims, checked on the values the executed notebook computed (in its own kernel)."""

import pytest

pytestmark = pytest.mark.notebooks


def test_images_are_a_float_batch_in_unit_range(notebook_runs):
    run = notebook_runs("00_start_here")
    assert run.value("tuple(images.shape[1:2])") == [3]
    assert run.value("str(images.dtype)") == "torch.float32"
    assert 0.0 <= run.value("images.min().item()") and run.value("images.max().item()") <= 1.0


def test_images_are_the_sample_folder_loaded_by_load_images(notebook_runs):
    import torch

    from utils.images import load_images

    run = notebook_runs("00_start_here")
    assert torch.equal(torch.tensor(run.value("images")), load_images())
    assert len(load_images()) == 32


def test_first_run_is_one_clean_event_file_with_four_steps_of_eight(notebook_runs):
    from pathlib import Path

    import torch
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard.summary import image as image_summary

    from utils.images import load_images

    run = notebook_runs("00_start_here")
    run_dir = Path(run.value("str(run_dir)"))
    assert run_dir == Path(run.value("str(LOGS)")) / "logs_start_here"
    assert len([p for p in run_dir.iterdir() if "tfevents" in p.name]) == 1
    acc = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    acc.Reload()
    assert acc.Tags()["images"] == ["sample_images"]
    logged = acc.Images("sample_images")
    images = load_images()
    assert [e.step for e in logged] == list(range(4)) and len(images) == 4 * 8
    for event, batch in zip(logged, torch.split(images, 8), strict=True):
        proto = image_summary("sample_images", batch, dataformats="NCHW").value[0].image
        assert event.encoded_image_string == proto.encoded_image_string


def test_text_puts_the_step_slider_above_the_image():
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parents[2] / "notebooks" / "00_start_here.ipynb", 4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "above" in text and "under each image" not in text
