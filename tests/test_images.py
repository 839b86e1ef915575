"""Tests for utils.images: awkward and broken files and folder layouts built in tmp_path, the
course's own images, and a teacher's photo folder (``COURSE_IMAGES``).

Expected pixel values come from NumPy formulas, from Pillow's own decoding/conversion of the same
file, or from torchvision (``ImageFolder``, ``torchvision.io``), never from the loader's output.
A fix an error message suggests is applied literally, and must then work.
"""

from __future__ import annotations

import importlib.util
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from utils.environment import IMAGES_DIR, ROOT
from utils.images import (
    PATTERNS_DIR,
    ImageSkippedWarning,
    find_image,
    image_batches,
    image_names,
    load_images,
)

RNG = np.random.default_rng(12345)


def _load_one(path: Path, **kwargs) -> np.ndarray:
    """Load a folder that holds exactly one image; return it as (H, W, 3) float64."""
    batch = load_images(path.parent, **kwargs)
    assert batch.dtype == torch.float32
    assert batch.ndim == 4 and batch.shape[0] == 1 and batch.shape[1] == 3
    return batch[0].permute(1, 2, 0).double().numpy()


def _save(folder: Path, name: str, image: Image.Image, **save_kwargs) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    image.save(path, **save_kwargs)
    return path


# ------------------------------------------------------------------------------------------
# Modes -> RGB
# ------------------------------------------------------------------------------------------


def test_rgb_values_divided_by_255(tmp_path):
    arr = RNG.integers(0, 256, size=(9, 7, 3), dtype=np.uint8)
    path = _save(tmp_path, "rgb.png", Image.fromarray(arr))
    out = _load_one(path)
    np.testing.assert_allclose(out, arr / 255.0, atol=1e-7)


def test_grayscale_gives_three_equal_channels(tmp_path):
    gray = RNG.integers(0, 256, size=(6, 11), dtype=np.uint8)
    path = _save(tmp_path, "gray.png", Image.fromarray(gray))
    assert Image.open(path).mode == "L"
    out = _load_one(path)
    for c in range(3):
        np.testing.assert_allclose(out[..., c], gray / 255.0, atol=1e-7)


def test_black_and_white_mode_1(tmp_path):
    bits = RNG.integers(0, 2, size=(8, 8)).astype(bool)
    path = _save(tmp_path, "bw.png", Image.fromarray(bits))
    assert Image.open(path).mode == "1"
    out = _load_one(path)
    np.testing.assert_array_equal(out, np.repeat(bits[..., None], 3, axis=2).astype(float))


def _palette_image(indices: np.ndarray, palette: np.ndarray) -> Image.Image:
    im = Image.fromarray(indices.astype(np.uint8), mode="P")
    flat = np.zeros(768, dtype=np.uint8)
    flat[: palette.size] = palette.ravel()
    im.putpalette(flat.tolist())
    return im


def test_palette_looks_up_the_palette(tmp_path):
    palette = np.array([[255, 0, 0], [0, 128, 0], [10, 20, 30], [255, 255, 255]], np.uint8)
    indices = RNG.integers(0, 4, size=(5, 6))
    path = _save(tmp_path, "pal.png", _palette_image(indices, palette))
    assert Image.open(path).mode == "P"
    out = _load_one(path)
    np.testing.assert_allclose(out, palette[indices] / 255.0, atol=1e-7)


def test_palette_transparent_index_becomes_white(tmp_path):
    palette = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    indices = np.array([[0, 1, 2], [1, 1, 0]])
    path = _save(tmp_path, "palt.png", _palette_image(indices, palette), transparency=1)
    assert Image.open(path).info.get("transparency") == 1
    out = _load_one(path)
    expected = palette[indices] / 255.0
    expected[indices == 1] = 1.0  # transparent -> white background
    np.testing.assert_allclose(out, expected, atol=1e-7)


def test_rgba_is_composited_on_white(tmp_path):
    rgba = RNG.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    rgba[0, 0] = [0, 0, 0, 0]  # fully transparent black -> white
    rgba[0, 1] = [10, 20, 30, 255]  # opaque -> itself
    rgba[0, 2] = [0, 0, 0, 128]  # half-transparent black -> light grey
    path = _save(tmp_path, "rgba.png", Image.fromarray(rgba, mode="RGBA"))
    out = _load_one(path)
    alpha = rgba[..., 3:] / 255.0
    expected = rgba[..., :3] / 255.0 * alpha + (1 - alpha)
    np.testing.assert_allclose(out, expected, atol=0.5 / 255 + 1e-6)  # Pillow composites in 8 bits
    white = Image.new("RGBA", (5, 7), "white")
    pillow = np.asarray(Image.alpha_composite(white, Image.open(path).convert("RGBA")).convert("RGB"))
    np.testing.assert_allclose(out, pillow / 255.0, atol=1e-7)
    np.testing.assert_allclose(out[0, 0], [1, 1, 1], atol=1e-7)
    np.testing.assert_allclose(out[0, 1], np.array([10, 20, 30]) / 255, atol=1e-7)
    np.testing.assert_allclose(out[0, 2], [127 / 255] * 3, atol=1e-6)


def test_la_is_composited_on_white(tmp_path):
    la = RNG.integers(0, 256, size=(4, 9, 2), dtype=np.uint8)
    path = _save(tmp_path, "la.png", Image.fromarray(la, mode="LA"))
    assert Image.open(path).mode == "LA"
    out = _load_one(path)
    alpha = la[..., 1] / 255.0
    gray = la[..., 0] / 255.0 * alpha + (1 - alpha)
    np.testing.assert_allclose(out, np.repeat(gray[..., None], 3, axis=2), atol=0.5 / 255 + 1e-6)


def test_cmyk_pure_inks(tmp_path):
    # white paper, cyan ink, black ink, magenta + yellow inks (= red)
    cmyk = np.array([[[0, 0, 0, 0], [255, 0, 0, 0], [0, 0, 0, 255], [0, 255, 255, 0]]], np.uint8)
    path = _save(tmp_path, "cmyk.tif", Image.fromarray(cmyk, mode="CMYK"))
    assert Image.open(path).mode == "CMYK"
    out = _load_one(path)
    np.testing.assert_allclose(out[0], [[1, 1, 1], [0, 1, 1], [0, 0, 0], [1, 0, 0]], atol=1e-7)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_grayscale_is_scaled_by_65535_not_clipped(tmp_path, ext):
    values = np.array([[0, 1000, 32768, 65535], [255, 256, 40000, 12345]], dtype=np.uint16)
    path = _save(tmp_path, "deep" + ext, Image.fromarray(values))
    assert Image.open(path).mode.startswith("I;16")
    out = _load_one(path)
    np.testing.assert_allclose(out[..., 0], values / 65535.0, atol=1e-7)
    assert out[0, 2, 0] == pytest.approx(32768 / 65535, abs=1e-6)  # mid grey, not white
    assert (out < 1).sum() == 3 * 7  # only the 65535 pixel is white


def test_32_bit_integer_taken_as_16_bit(tmp_path):
    values = np.array([[0, 1000, 65535]], dtype=np.int32)
    path = _save(tmp_path, "int.tif", Image.fromarray(values))
    assert Image.open(path).mode == "I"
    out = _load_one(path)
    np.testing.assert_allclose(out[..., 1], values / 65535.0, atol=1e-7)


def test_32_bit_float_in_unit_range_used_as_is(tmp_path):
    values = np.array([[0.0, 0.25, 0.5, 1.0]], dtype=np.float32)
    path = _save(tmp_path, "float.tif", Image.fromarray(values))
    assert Image.open(path).mode == "F"
    out = _load_one(path)
    np.testing.assert_allclose(out[..., 2], values, atol=1e-7)


@pytest.mark.parametrize(
    ("name", "values", "reason"),
    [
        ("big.tif", np.array([[0, 70000]], dtype=np.int32), "outside 0..65535"),
        ("neg.tif", np.array([[-5, 10]], dtype=np.int32), "outside 0..65535"),
        ("hdr.tif", np.array([[0.0, 2.5]], dtype=np.float32), "outside [0, 1]"),
        ("nan.tif", np.array([[0.0, np.nan]], dtype=np.float32), "NaN"),
    ],
)
def test_out_of_range_deep_images_are_skipped_not_clipped(tmp_path, name, values, reason):
    _save(tmp_path, name, Image.fromarray(values))
    _save(tmp_path, "ok.png", Image.new("RGB", (2, 1), (1, 2, 3)))
    with pytest.warns(ImageSkippedWarning) as record:
        batch = load_images(tmp_path)
    assert batch.shape == (1, 3, 1, 2)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    assert name in messages[0] and reason in messages[0]


def test_exif_orientation_is_applied(tmp_path):
    # Stored 40 wide x 20 high: red left half, blue right half. Orientation 6 means "rotate
    # 90 degrees clockwise to display": shown 20 wide x 40 high, red on top, blue below.
    im = Image.new("RGB", (40, 20), (255, 0, 0))
    im.paste((0, 0, 255), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(tmp_path, "phone.jpg", im, exif=exif, quality=95)
    assert Image.open(path).size == (40, 20)
    out = _load_one(path)
    assert out.shape == (40, 20, 3)
    np.testing.assert_allclose(out[5:15, 5:15].mean(axis=(0, 1)), [1, 0, 0], atol=0.03)
    np.testing.assert_allclose(out[25:35, 5:15].mean(axis=(0, 1)), [0, 0, 1], atol=0.03)
    with Image.open(path) as raw:
        shown = np.asarray(ImageOps.exif_transpose(raw).convert("RGB")) / 255.0
    np.testing.assert_allclose(out, shown, atol=1e-7)


def test_multi_frame_gif_uses_first_frame(tmp_path):
    frames = [Image.new("RGB", (4, 3), c) for c in [(255, 0, 0), (0, 255, 0)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    out = _load_one(path)
    np.testing.assert_allclose(out, np.broadcast_to([1.0, 0.0, 0.0], (3, 4, 3)), atol=1e-7)


# ------------------------------------------------------------------------------------------
# Broken, hidden and non-image files
# ------------------------------------------------------------------------------------------


def _good_png(folder: Path, name: str, colour=(10, 200, 30), size=(5, 4)) -> Path:
    return _save(folder, name, Image.new("RGB", size, colour))


def test_broken_files_are_skipped_with_a_warning_naming_each(tmp_path):
    _good_png(tmp_path, "b_good.png")
    (tmp_path / "a_empty.png").write_bytes(b"")
    (tmp_path / "c_text.png").write_text("this is not a PNG\n")
    noise = RNG.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    whole = _save(tmp_path, "whole.png", Image.fromarray(noise)).read_bytes()
    (tmp_path / "whole.png").unlink()
    (tmp_path / "d_truncated.png").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "e_garbage.jpg").write_bytes(bytes(RNG.integers(0, 256, 500, dtype=np.uint8)))

    with pytest.warns(ImageSkippedWarning) as record:
        batch = load_images(tmp_path)
    assert batch.shape == (1, 3, 4, 5)
    np.testing.assert_allclose(batch[0, :, 0, 0].numpy(), np.array([10, 200, 30]) / 255, 1e-6)
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 4
    for message, name in zip(
        messages, ["a_empty.png", "c_text.png", "d_truncated.png", "e_garbage.jpg"], strict=True
    ):
        assert name in message
    assert "empty file (0 bytes)" in messages[0]


def test_hidden_files_and_folders_are_ignored_silently(tmp_path):
    _good_png(tmp_path, "good.png", size=(3, 3))
    _good_png(tmp_path, ".hidden.png", size=(8, 2))  # a valid image of another size
    (tmp_path / "._good.png").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "folder.png").mkdir()  # a directory with an image extension
    _good_png(tmp_path / ".ipynb_checkpoints", "good-checkpoint.png", size=(9, 9))  # Jupyter's copies
    _good_png(tmp_path / "__MACOSX", "._good.png", size=(9, 9))  # a zip made on a Mac
    _good_png(tmp_path / "sub", "inside.png", size=(3, 3))  # sub-folders are read
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = load_images(tmp_path)
        names = image_names(tmp_path)
    assert names == ["good.png", "sub/inside.png"]
    assert batch.shape == (2, 3, 3, 3)


def test_other_files_are_skipped_with_a_warning_saying_why(tmp_path):
    _good_png(tmp_path, "good.png", size=(3, 3))
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "array.npy").write_bytes(b"\x93NUMPY")
    with pytest.warns(ImageSkippedWarning) as record:
        assert image_names(tmp_path) == ["good.png"]
    messages = sorted(str(w.message) for w in record)
    assert "array.npy" in messages[0] and "not an image type Pillow knows" in messages[0]
    assert "notes.txt" in messages[1]


def test_every_extension_pillow_opens_is_read(tmp_path):
    # issue 12, case 4: JPEG data under .jfif and .jpe was ignored silently
    for name in ["a.png", "b.jfif", "c.jpe", "d.JPG", "e.webp", "f.tif"]:
        _save(tmp_path, name, Image.new("RGB", (5, 4), (0, 0, 0)),
              format=Image.registered_extensions()[Path(name).suffix.lower()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert image_names(tmp_path) == ["a.png", "b.jfif", "c.jpe", "d.JPG", "e.webp", "f.tif"]
    assert {".jfif", ".jpe", ".png", ".jpg", ".tif"} <= set(Image.registered_extensions())


def test_a_folder_of_only_unreadable_files_lists_what_it_found(tmp_path):
    (tmp_path / "x.jfif").write_bytes(b"not really a jpeg")
    (tmp_path / "y.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    with pytest.warns(ImageSkippedWarning) as record:
        with pytest.raises(ValueError, match="No usable image") as err:
            load_images(tmp_path)
    assert "x.jfif" in str(err.value) and "y.heic" in str(err.value)
    assert "warnings above" in str(err.value)
    assert len(record) == 2 and all(str(tmp_path) in str(w.message) for w in record)


def test_missing_folder_raises_file_not_found_naming_it(tmp_path):
    missing = tmp_path / "no_such_folder"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_images(missing)
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        image_names(str(missing))


def test_one_file_instead_of_a_folder_is_loaded(tmp_path):
    path = _good_png(tmp_path, "x.png", colour=(10, 20, 30), size=(5, 4))
    _good_png(tmp_path, "y.png", size=(7, 7))
    assert image_names(path) == ["x.png"]
    expected = torch.from_numpy(np.array(Image.open(path))).permute(2, 0, 1)[None] / 255
    torch.testing.assert_close(load_images(path), expected, atol=1e-7, rtol=0)


def test_empty_folder_raises_value_error_naming_it(tmp_path):
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    with pytest.raises(ValueError, match=re.escape(str(empty)) + ": found no files"):
        load_images(empty)


def test_folder_with_only_broken_or_ignored_files(tmp_path):
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "readme.md").write_text("# no images here")
    with pytest.warns(ImageSkippedWarning) as record:
        with pytest.raises(ValueError, match="No usable image"):
            load_images(tmp_path)
    assert sorted(Path(str(w.message).split(": ")[0]).name for w in record) == ["readme.md", "zero.png"]


# ------------------------------------------------------------------------------------------
# Sizes, resizing, order
# ------------------------------------------------------------------------------------------


def test_mixed_sizes_without_size_raise_listing_the_sizes(tmp_path):
    _good_png(tmp_path, "a.png", size=(30, 20))  # PIL size is (W, H): 20 high, 30 wide
    _good_png(tmp_path, "b.png", size=(10, 10))
    _good_png(tmp_path, "c.png", size=(30, 20))
    with pytest.raises(ValueError) as info:
        load_images(tmp_path)
    message = str(info.value)
    assert "20x30" in message and "10x10" in message
    assert "a.png" in message and "b.png" in message
    assert "size=(H, W)" in message
    assert str(tmp_path) in message


def test_size_crops_the_centre_keeping_aspect(tmp_path):
    # 40 wide x 20 high: red | green (20 wide, in the middle) | blue. size=(20, 20) needs no
    # scaling, so the centre crop is exactly the green band.
    im = Image.new("RGB", (40, 20), (255, 0, 0))
    im.paste((0, 255, 0), (10, 0, 30, 20))
    im.paste((0, 0, 255), (30, 0, 40, 20))
    _save(tmp_path, "bands.png", im)
    out = load_images(tmp_path, size=(20, 20))
    assert out.shape == (1, 3, 20, 20)
    np.testing.assert_allclose(
        out[0].permute(1, 2, 0).numpy(), np.broadcast_to([0, 1, 0], (20, 20, 3))
    )
    # Tall target: scale 20 -> 60 high (x3) then the centre 30 columns of 120.
    tall = load_images(tmp_path, size=(60, 30))
    assert tall.shape == (1, 3, 60, 30)
    np.testing.assert_allclose(tall[0, :, :, 5:25].mean(dim=(1, 2)).numpy(), [0, 1, 0], atol=1e-6)


def test_size_matches_pillow_fit_on_8_bit(tmp_path):
    # A smooth image, so 8-bit rounding inside Pillow is the only difference.
    yy, xx = np.mgrid[0:37, 0:53]
    arr = np.stack([xx * 4, yy * 6, (xx + yy) * 2], axis=2).clip(0, 255).astype(np.uint8)
    path = _save(tmp_path, "smooth.png", Image.fromarray(arr))
    for size in [(16, 16), (20, 31), (50, 20), (37, 53)]:
        out = _load_one(path, size=size)
        expected = ImageOps.fit(
            Image.open(path), (size[1], size[0]), method=Image.Resampling.LANCZOS
        )
        np.testing.assert_allclose(out, np.asarray(expected) / 255.0, atol=1.01 / 255)


def test_int_size_means_square(tmp_path):
    _good_png(tmp_path, "a.png", size=(30, 20))
    _good_png(tmp_path, "b.png", size=(7, 50))
    assert load_images(tmp_path, size=16).shape == (2, 3, 16, 16)
    assert load_images(tmp_path, size=(8, 12)).shape == (2, 3, 8, 12)


@pytest.mark.parametrize("bad", [0, -3, (0, 4), (4,), (1, 2, 3), 1.5, (2.0, 3), True, "64"])
def test_invalid_size_is_a_value_error(tmp_path, bad):
    _good_png(tmp_path, "a.png")
    with pytest.raises(ValueError, match="size"):
        load_images(tmp_path, size=bad)


@settings(deadline=None)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    th=st.integers(1, 40),
    tw=st.integers(1, 40),
    colour=st.tuples(*[st.integers(0, 255)] * 3),
)
def test_resizing_a_flat_image_keeps_its_colour(tmp_path_factory, h, w, th, tw, colour):
    folder = tmp_path_factory.mktemp("flat")
    _good_png(folder, "flat.png", colour=colour, size=(w, h))
    out = load_images(folder, size=(th, tw))
    assert out.shape == (1, 3, th, tw)
    expected = torch.tensor(colour, dtype=torch.float32).view(3, 1, 1) / 255
    torch.testing.assert_close(out[0], expected.expand(3, th, tw), atol=1e-5, rtol=0)


def test_sorted_order_and_names(tmp_path):
    colours = {"b.png": (0, 0, 255), "a.png": (255, 0, 0), "c10.png": (0, 255, 0)}
    colours["c2.png"] = (255, 255, 0)
    for name, colour in colours.items():
        _good_png(tmp_path, name, colour=colour, size=(2, 2))
    names = image_names(tmp_path)
    assert names == sorted(colours) == ["a.png", "b.png", "c10.png", "c2.png"]
    batch = load_images(tmp_path)
    for i, name in enumerate(names):
        np.testing.assert_allclose(batch[i, :, 0, 0].numpy(), np.array(colours[name]) / 255)


def test_output_tensor_conventions(tmp_path):
    _good_png(tmp_path, "a.png", size=(6, 4))
    batch = load_images(tmp_path)
    assert batch.dtype == torch.float32
    assert batch.is_contiguous()
    assert batch.device.type == "cpu"
    assert batch.shape == (1, 3, 4, 6)  # (N, C, H, W): 4 high, 6 wide


def test_image_batches_are_in_order_and_keep_the_last_small_batch(tmp_path):
    for i in range(10):
        _good_png(tmp_path, f"img_{i:02d}.png", colour=(i * 20, 0, 0), size=(3, 2))
    loader = image_batches(4, folder=tmp_path)
    assert isinstance(loader, torch.utils.data.DataLoader)
    batches = list(loader)
    assert [b.shape[0] for b in batches] == [4, 4, 2]
    assert all(isinstance(b, torch.Tensor) and b.shape[1:] == (3, 2, 3) for b in batches)
    reds = torch.cat(batches)[:, 0, 0, 0]
    torch.testing.assert_close(reds, torch.arange(10, dtype=torch.float32) * 20 / 255)
    assert list(image_batches(4, folder=tmp_path))[1].equal(batches[1])  # same every time
    sized = next(iter(image_batches(3, size=5, folder=tmp_path)))
    assert sized.shape == (3, 3, 5, 5)


@pytest.mark.parametrize("bad", [0, -1, 2.0, True])
def test_image_batches_rejects_bad_batch_size(tmp_path, bad):  # DataLoader's own check
    _good_png(tmp_path, "a.png")
    with pytest.raises(ValueError, match="batch_size"):
        image_batches(bad, folder=tmp_path)


# ------------------------------------------------------------------------------------------
# The committed sample images
# ------------------------------------------------------------------------------------------

README = ROOT / "data" / "README.md"


def _committed_files(folder=None) -> list[Path]:
    folders = [folder] if folder else [PATTERNS_DIR, IMAGES_DIR]
    return [p for f in folders for p in sorted(f.iterdir()) if not p.name.startswith(".")]


def _course_files() -> list[Path]:
    """The patterns and the course's own photos (``photo_*``): a teacher's files beside or instead of
    them have no naming or size rule."""
    return [p for p in _committed_files() if p.parent == PATTERNS_DIR or p.name.startswith("photo_")]


def test_course_images_are_the_patterns_then_the_photos_at_128(monkeypatch):
    monkeypatch.delenv("COURSE_IMAGES", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImageSkippedWarning)
        images = load_images()
    n = images.shape[0]
    assert n == len(_committed_files())
    assert images.shape == (n, 3, 128, 128)
    assert images.dtype == torch.float32
    assert images.min() >= 0 and images.max() <= 1
    assert image_names() == [p.name for p in _committed_files()]
    torch.testing.assert_close(images, torch.cat([load_images(PATTERNS_DIR), load_images(IMAGES_DIR)]),
                               rtol=0, atol=0)
    assert find_image("photo") == len(_committed_files(PATTERNS_DIR))
    assert find_image("pattern_checkerboard_01") == 0 == find_image("pattern_checkerboard_01.png")
    with pytest.raises(ValueError, match="pattern_zone_plate"):  # it lists the names there are
        find_image("the cat")


def test_committed_images_are_128_rgb_png_with_clear_names():
    for path in _course_files():
        prefix = "pattern" if path.parent == PATTERNS_DIR else "photo"
        assert path.suffix == ".png", path
        assert re.fullmatch(prefix + r"_[a-z0-9_]+\.png", path.name), path.name
        with Image.open(path) as im:
            assert im.format == "PNG" and im.mode == "RGB" and im.size == (128, 128), path


def test_every_committed_image_is_listed_in_the_data_readme():
    text = README.read_text(encoding="utf-8")
    missing = [p.name for p in _course_files() if f"`{p.name}`" not in text]
    assert not missing, f"not listed in data/README.md: {missing}"
    listed = set(re.findall(r"`(pattern_[a-z0-9_]+\.png)`", text))
    assert listed == {p.name for p in _committed_files(PATTERNS_DIR)}, "README lists patterns that do not exist"


def test_every_photo_row_states_a_free_licence():
    rows = [line for line in README.read_text(encoding="utf-8").splitlines() if "| `photo_" in line]
    assert rows
    for row in rows:
        assert "CC0" in row or "public domain" in row, row


def test_committed_images_are_small():
    total = sum(p.stat().st_size for p in _course_files())
    assert total < 5 * 1024 * 1024, f"data/ images are {total / 1e6:.2f} MB; keep them under 5 MB"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_sample_images", ROOT / "tools" / "make_sample_images.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_patterns_equal_a_fresh_run_of_the_generator():
    generator = _generator()
    patterns = generator.make_patterns()
    assert generator.OUT_DIR == PATTERNS_DIR and generator.PHOTOS_DIR == IMAGES_DIR
    assert set(patterns) == {p.name for p in _committed_files(PATTERNS_DIR)}
    for name, arr in patterns.items():
        with Image.open(PATTERNS_DIR / name) as im:
            saved = np.asarray(im.convert("RGB")).astype(int)
        assert np.abs(saved - arr.astype(int)).max() <= 1, name
    photos = {p.name for p in _course_files() if p.parent == IMAGES_DIR}
    assert photos <= {name for name, _, _ in generator.PHOTOS}  # a teacher may delete or add photos


def test_a_deleted_patterns_folder_is_regenerated_by_the_generator(tmp_path):
    generator = _generator()
    assert generator.main(["--out", str(tmp_path / "patterns")]) == 0
    torch.testing.assert_close(load_images(tmp_path / "patterns"), load_images(PATTERNS_DIR),
                               atol=1.01 / 255, rtol=0)


# ------------------------------------------------------------------------------------------
# A teacher's photos: COURSE_IMAGES, or data/images replaced
# ------------------------------------------------------------------------------------------


def _teacher_folder(folder: Path) -> list[Path]:
    """Three images as a teacher has them: sizes, kinds and names that differ (one sorts first)."""
    rng, (yy, xx) = np.random.default_rng(1), np.mgrid[0:300, 0:400]
    photo = np.stack([xx * 255 // 399, yy * 255 // 299, (xx + yy) * 255 // 698], axis=2).astype(np.uint8)
    return [_save(folder, "IMG_0001.jpg", Image.fromarray(photo), quality=90),
            _save(folder, "campus.png", Image.fromarray(rng.integers(0, 256, (90, 90, 4), np.uint8), "RGBA")),
            _save(folder, "digit.png", Image.fromarray(rng.integers(0, 256, (28, 28), np.uint8)))]


def _pillow_fit(path: Path, size=128) -> torch.Tensor:
    """What Pillow itself makes of a file: on white, RGB, covered and centre-cropped (Lanczos)."""
    with Image.open(path) as im:
        rgba = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
    fitted = ImageOps.fit(rgba.convert("RGB"), (size, size), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(fitted).copy()).permute(2, 0, 1).float() / 255


@pytest.mark.parametrize("relative", [False, True])
def test_course_images_env_var_swaps_the_photos_and_keeps_the_patterns(tmp_path, monkeypatch, relative):
    files = _teacher_folder(tmp_path / "mine")
    value = os.path.relpath(tmp_path / "mine", ROOT) if relative else str(tmp_path / "mine")
    monkeypatch.setenv("COURSE_IMAGES", value)  # relative paths are the repository's, as in `make`
    images, names = load_images(), image_names()
    patterns = load_images(PATTERNS_DIR)
    assert names == [p.name for p in _committed_files(PATTERNS_DIR)] + [p.name for p in files]
    assert images.shape == (len(patterns) + 3, 3, 128, 128)
    torch.testing.assert_close(images[: len(patterns)], patterns, rtol=0, atol=0)
    for image, path in zip(images[len(patterns):], files, strict=True):
        atol = 4 / 255 if path.suffix == ".jpg" else 1e-6  # a JPEG is decoded at a reduced scale
        torch.testing.assert_close(image, _pillow_fit(path), rtol=0, atol=atol)
    assert find_image("photo") == len(patterns) and names[find_image("photo")] == "IMG_0001.jpg"
    assert find_image("pattern_stripes_vertical_1") == names.index("pattern_stripes_vertical_1.png")
    assert load_images(size=16).shape == (len(patterns) + 3, 3, 16, 16)


def test_an_empty_photo_folder_says_so_and_its_fix_works(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_IMAGES", str(tmp_path / "mine"))
    (tmp_path / "mine").mkdir()
    with pytest.raises(ValueError, match="No usable image in") as err:
        load_images()
    assert str(tmp_path / "mine") in str(err.value) and "Put PNG or JPEG files there" in str(err.value)
    _good_png(tmp_path / "mine", "one.png", size=(30, 20))  # the fix, as the message says it
    assert load_images().shape == (len(_committed_files(PATTERNS_DIR)) + 1, 3, 128, 128)
    monkeypatch.setenv("COURSE_IMAGES", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_images()


# ------------------------------------------------------------------------------------------
# Folder layouts students point the loader at
# ------------------------------------------------------------------------------------------


def _suggested_call(message: str) -> str:
    """The ``load_images(...)`` call an error message suggests, exactly as printed."""
    return re.search(r"load_images\(.*?\)\)", message).group(0)


def _suggested_code(message: str) -> str:
    """The code an error message gives between backticks, exactly as printed."""
    return re.search(r"`(import [^`]+)`", message).group(1)


def test_image_folder_layout_loads_like_torchvision_image_folder(tmp_path):
    from torchvision.datasets import ImageFolder
    from torchvision.transforms.functional import pil_to_tensor

    rng = np.random.default_rng(2)
    for cls, count in [("cat", 2), ("cat-x", 1), ("dog", 3), ("cat/nested", 2)]:
        for i in range(count):
            _save(tmp_path / cls, f"{i:03d}.png", Image.fromarray(rng.integers(0, 256, (6, 5, 3), np.uint8)))
    (tmp_path / "dog" / "labels.csv").write_text("file,label\n")  # not an image: skipped, said so
    reference = ImageFolder(str(tmp_path))
    expected = torch.stack([pil_to_tensor(im).float() / 255 for im, _ in reference])
    with pytest.warns(ImageSkippedWarning, match="labels.csv"):
        batch, names = load_images(tmp_path), image_names(tmp_path)
    torch.testing.assert_close(batch, expected, rtol=0, atol=1e-7)
    assert names == [Path(p).relative_to(tmp_path).as_posix() for p, _ in reference.samples]


def test_different_sizes_say_what_to_pass_and_that_works(tmp_path):
    big = _good_png(tmp_path / "holiday", "a.png", size=(60, 40))
    _good_png(tmp_path / "holiday" / "more", "b.png", size=(10, 10))
    with pytest.raises(ValueError, match="different sizes") as err:
        load_images(tmp_path / "holiday")
    call = _suggested_call(str(err.value))
    assert call == f"load_images({str(tmp_path / 'holiday')!r}, size=(128, 128))"
    batch = eval(call, {"load_images": load_images})  # applied literally
    assert batch.shape == (2, 3, 128, 128)
    torch.testing.assert_close(batch[0], _pillow_fit(big), rtol=0, atol=1e-6)


def test_too_large_for_memory_says_to_pass_a_size_and_that_works(tmp_path, monkeypatch):
    import utils.images

    for name in ("a.png", "b.png", "c.png"):
        _good_png(tmp_path, name, size=(400, 300))
    monkeypatch.setattr(utils.images, "MAX_BYTES", 2 * 3 * 300 * 400 * 4 - 1)  # stops at the second
    with pytest.raises(ValueError, match="large") as err:
        load_images(tmp_path)
    assert eval(_suggested_call(str(err.value)), {"load_images": load_images}).shape == (3, 3, 128, 128)


def test_a_huge_jpeg_with_a_size_matches_pillow(tmp_path):
    yy, xx = np.mgrid[0:3000, 0:4000]
    smooth = np.stack([xx * 255 // 3999, yy * 255 // 2999, (xx + yy) * 255 // 6998], 2).astype(np.uint8)
    path = _save(tmp_path, "huge.jpg", Image.fromarray(smooth), quality=90)
    out = load_images(tmp_path, size=(96, 128))
    with Image.open(path) as im:
        full = ImageOps.fit(im.convert("RGB"), (128, 96), Image.Resampling.LANCZOS)
    np.testing.assert_allclose(out[0].permute(1, 2, 0).numpy(), np.asarray(full) / 255, atol=3 / 255)


@pytest.mark.filterwarnings("ignore:The image decoding:DeprecationWarning")  # torchvision 0.29 on
def test_16_bit_png_and_jpeg_values_match_torchvision_io(tmp_path):
    from torchvision.io import ImageReadMode, decode_image

    deep = np.array([[0, 1000, 32768, 65535], [255, 256, 40000, 12345]], dtype=np.uint16)
    png = _save(tmp_path / "deep", "deep.png", Image.fromarray(deep))
    reference = decode_image(str(png), mode=ImageReadMode.UNCHANGED)
    assert reference.dtype == torch.uint16
    torch.testing.assert_close(load_images(png)[0, 0], reference[0].double().div(65535).float())
    rgb = np.random.default_rng(3).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    jpg = _save(tmp_path / "jpg", "photo.jpg", Image.fromarray(rgb), quality=90)
    torch.testing.assert_close(load_images(jpg)[0], decode_image(str(jpg)).float() / 255,
                               rtol=0, atol=2 / 255)


def _cifar(root: Path, folder: str, test_file: str, images: np.ndarray) -> None:
    import pickle

    (root / folder).mkdir(parents=True)
    flat = images.reshape(len(images), -1)  # CIFAR stores rows of 3072 bytes: R plane, G, B
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                 "train", test_file]:
        entry = {"data": flat, "labels": [0] * len(flat), "fine_labels": [0] * len(flat)}
        (root / folder / name).write_bytes(pickle.dumps(entry))
    meta = {"label_names": ["a"], "fine_label_names": ["a"]}
    for name in ("batches.meta", "meta"):
        (root / folder / name).write_bytes(pickle.dumps(meta))
    (root / folder / "readme.html").write_text("<html></html>")


@pytest.mark.parametrize(("folder", "test_file", "cls"),
                         [("cifar-10-batches-py", "test_batch", "CIFAR10"), ("cifar-100-python", "test", "CIFAR100")])
@pytest.mark.parametrize("pointed_at", ["root", "batches"])
def test_cifar_python_folder_gives_the_torchvision_line_that_loads_it(
        tmp_path, monkeypatch, folder, test_file, cls, pointed_at):
    import torchvision

    images = np.random.default_rng(4).integers(0, 256, (5, 3, 32, 32), dtype=np.uint8)
    _cifar(tmp_path / "data", folder, test_file, images)
    with pytest.warns(ImageSkippedWarning), pytest.raises(ValueError, match=cls) as err:
        load_images(tmp_path / "data" / (folder if pointed_at == "batches" else ""))
    code = _suggested_code(str(err.value))
    # Our stand-in files are not the real download, so torchvision's checksum check is told to pass.
    monkeypatch.setattr(torchvision.datasets.cifar, "check_integrity", lambda *a, **k: True)
    namespace: dict = {}
    exec(code, namespace)  # applied literally
    torch.testing.assert_close(namespace["images"], torch.from_numpy(images).float() / 255)
    dataset = getattr(torchvision.datasets, cls)(str(tmp_path / "data"), train=False)
    np.testing.assert_array_equal(np.asarray(dataset[2][0]), images[2].transpose(1, 2, 0))


@pytest.mark.parametrize("kind", ["MNIST", "FashionMNIST"])
@pytest.mark.parametrize("depth", [0, 1, 2])
def test_mnist_raw_folder_gives_the_torchvision_line_that_loads_it(tmp_path, kind, depth):
    import struct

    digits = np.random.default_rng(5).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    raw = tmp_path / "data" / kind / "raw"
    raw.mkdir(parents=True)
    for split in ("train", "t10k"):
        (raw / f"{split}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, 4, 28, 28) + digits.tobytes())
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, 4) + bytes(4))
    pointed_at = [tmp_path / "data", tmp_path / "data" / kind, raw][depth]
    with pytest.warns(ImageSkippedWarning), pytest.raises(ValueError, match=kind) as err:
        load_images(pointed_at)
    namespace: dict = {}
    exec(_suggested_code(str(err.value)), namespace)  # applied literally
    expected = torch.from_numpy(digits).float().div(255)[:, None].expand(-1, 3, -1, -1)
    torch.testing.assert_close(namespace["images"], expected)


def test_an_archive_says_to_unpack_it_and_that_works(tmp_path):
    import zipfile

    png = _good_png(tmp_path / "src", "inside.png", colour=(1, 2, 3), size=(4, 4))
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as archive:
        archive.write(png, "photos/inside.png")
    with pytest.warns(ImageSkippedWarning), pytest.raises(ValueError, match="archive") as err:
        load_images(tmp_path / "photos.zip")
    message = str(err.value)
    namespace: dict = {}
    exec(_suggested_code(message), namespace)  # applied literally
    folder = re.search(r", '([^']+)'\)`", message).group(1)
    torch.testing.assert_close(load_images(folder), load_images(png), rtol=0, atol=0)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "I;16", "1"])
def test_every_kind_of_png_in_one_folder_with_a_size(tmp_path, mode):
    rng = np.random.default_rng(6)
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (50, 70), dtype=np.uint16))
    else:
        image = Image.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=np.uint8)).convert(mode)
    _save(tmp_path, "x.png", image)
    _good_png(tmp_path, "y.png", size=(9, 31))
    batch = load_images(tmp_path, size=(20, 20))
    assert batch.shape == (2, 3, 20, 20) and batch.min() >= 0 and batch.max() <= 1
    if mode not in ("I;16",):
        torch.testing.assert_close(batch[0], _pillow_fit(tmp_path / "x.png", 20), rtol=0, atol=1e-6)
