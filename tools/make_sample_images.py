"""Make the course's images (128x128 RGB PNG): patterns in data/patterns/, photos in data/images/.

Two kinds of file, in two folders, so a teacher can replace the photos and keep the patterns:

* ``data/patterns/pattern_*.png``: generated here from numbers alone (NumPy and Pillow's built-in
  bitmap font), so anyone can regenerate them byte for byte (a deleted folder too) with::

      python tools/make_sample_images.py

* ``data/images/photo_*.png``: photos bundled with scikit-image whose documentation says they are CC0 or
  public domain (see data/README.md). They are made from the originals only when you pass the
  folder that holds them, for example::

      pip download --no-deps scikit-image==0.26.0 -d /tmp/skimage
      cd /tmp/skimage && unzip -q scikit_image-0.26.0-*.whl 'skimage/data/*'
      python tools/make_sample_images.py --originals /tmp/skimage/skimage/data

  Without ``--originals`` the committed photo PNGs are left as they are. scikit-image itself is
  never a dependency of the course.

``--check`` regenerates the patterns in memory and compares them with the committed files
(exit status 1 when one differs by more than one grey level), without writing anything.

Each photo is cropped to a square box (in the original's pixels, chosen so pooling has fine
detail to act on) and resized to 128x128 with Pillow's Lanczos filter; grayscale originals are
stored as RGB with three equal channels, and the transparent background of the horse
silhouette is composited on white.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "data" / "patterns"  # the patterns; lessons find them by name
PHOTOS_DIR = ROOT / "data" / "images"  # the photos, which a teacher may replace with any images
SIZE = 128  # every committed image is SIZE x SIZE RGB

# --------------------------------------------------------------------------------------------
# Photos: (output name, original file in skimage/data, crop box (left, top, right, bottom) in
# the original's pixels or None for the largest centred square).
# --------------------------------------------------------------------------------------------
PHOTOS: list[tuple[str, str, tuple[int, int, int, int] | None]] = [
    ("photo_astronaut.png", "astronaut.png", (32, 0, 416, 384)),
    ("photo_brick.png", "brick.png", (0, 0, 256, 256)),
    ("photo_camera.png", "camera.png", None),
    ("photo_chelsea.png", "chelsea.png", None),
    ("photo_coffee.png", "coffee.png", None),
    ("photo_grass.png", "grass.png", (0, 0, 256, 256)),
    ("photo_gravel.png", "gravel.png", (0, 0, 256, 256)),
    ("photo_horse.png", "horse.png", (0, -36, 400, 364)),
    ("photo_hubble_deep_field.png", "hubble_deep_field.jpg", (300, 250, 556, 506)),
    ("photo_retina.png", "retina.jpg", None),
    ("photo_rocket.png", "rocket.jpg", None),
    ("photo_text.png", "text.png", (60, 0, 232, 172)),
]


def _square_box(width: int, height: int) -> tuple[int, int, int, int]:
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return (left, top, left + side, top + side)


def make_photo(original: Path, box: tuple[int, int, int, int] | None) -> Image.Image:
    """Crop ``original`` to ``box`` (pad outside it with white) and resize to SIZE x SIZE RGB."""
    with Image.open(original) as im:
        im.load()
        if im.mode in ("RGBA", "LA", "P"):
            rgba = im.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(white, rgba)
        im = im.convert("RGB")
    if box is None:
        box = _square_box(*im.size)
    left, top, right, bottom = box
    if right - left != bottom - top:
        raise ValueError(f"crop box {box} for {original.name} is not square")
    # A box reaching outside the original is padded with white (used for the horse).
    canvas = Image.new("RGB", (right - left, bottom - top), (255, 255, 255))
    canvas.paste(im, (-left, -top))
    return canvas.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


# --------------------------------------------------------------------------------------------
# Patterns: each returns a uint8 array (SIZE, SIZE, 3). Coordinates: y down, x right.
# --------------------------------------------------------------------------------------------
_yy, _xx = np.mgrid[0:SIZE, 0:SIZE]


def _gray(values: np.ndarray) -> np.ndarray:
    """float array in [0, 1] (SIZE, SIZE) -> uint8 RGB with three equal channels."""
    u8 = np.clip(np.round(values * 255.0), 0, 255).astype(np.uint8)
    return np.repeat(u8[:, :, None], 3, axis=2)


def checkerboard(square: int) -> np.ndarray:
    return _gray(((_yy // square + _xx // square) % 2).astype(float))


def stripes(width: int, vertical: bool) -> np.ndarray:
    coord = _xx if vertical else _yy
    return _gray(((coord // width) % 2).astype(float))


def stripes_diagonal() -> np.ndarray:
    # 1-pixel white diagonal lines every 6 pixels: max pooling thickens them into staircases.
    return _gray(((_xx + _yy) % 6 == 0).astype(float))


def grid_lines() -> np.ndarray:
    # 1-pixel white lines every 8 pixels on black, starting at 3 so the lines fall inside
    # 2x2 windows at odd positions.
    return _gray((((_xx % 8) == 3) | ((_yy % 8) == 3)).astype(float))


def dots() -> np.ndarray:
    # Single bright pixels every 8 pixels: max pooling keeps every dot at full brightness,
    # 2x2 average pooling divides each by 4.
    return _gray((((_xx % 8) == 5) & ((_yy % 8) == 5)).astype(float))


def single_pixel() -> np.ndarray:
    # One white pixel (row 61, column 66) on black: where does it go after pooling?
    img = np.zeros((SIZE, SIZE))
    img[61, 66] = 1.0
    return _gray(img)


def gradient_horizontal() -> np.ndarray:
    # Left to right from 0 to 1: pooling barely changes a smooth ramp.
    return _gray(np.broadcast_to(_xx / (SIZE - 1), (SIZE, SIZE)))


def gradient_colour() -> np.ndarray:
    # Red grows to the right, green grows downwards, blue is 0.5.
    r = _xx / (SIZE - 1)
    g = _yy / (SIZE - 1)
    b = np.full((SIZE, SIZE), 0.5)
    rgb = np.stack([r, g, b], axis=2)
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def colour_bars() -> np.ndarray:
    # Eight vertical bars 16 pixels wide: white, yellow, cyan, green, magenta, red, blue, black.
    colours = np.array(
        [
            [255, 255, 255],
            [255, 255, 0],
            [0, 255, 255],
            [0, 255, 0],
            [255, 0, 255],
            [255, 0, 0],
            [0, 0, 255],
            [0, 0, 0],
        ],
        dtype=np.uint8,
    )
    return colours[_xx // 16]


def zone_plate() -> np.ndarray:
    # Rings whose frequency grows with the radius (cos(k r^2)): pooling turns the fine outer
    # rings into false coarse patterns (aliasing).
    cy = cx = (SIZE - 1) / 2
    r2 = (_yy - cy) ** 2 + (_xx - cx) ** 2
    return _gray(0.5 + 0.5 * np.cos(np.pi * r2 / SIZE))


def shapes() -> np.ndarray:
    # Flat coloured shapes with thin outlines on grey.
    im = Image.new("RGB", (SIZE, SIZE), (128, 128, 128))
    d = ImageDraw.Draw(im)
    d.ellipse((8, 8, 56, 56), fill=(230, 40, 40))
    d.rectangle((72, 8, 120, 56), fill=(40, 90, 230))
    d.polygon([(8, 120), (32, 72), (56, 120)], fill=(250, 210, 30))
    d.ellipse((72, 72, 120, 120), outline=(255, 255, 255), width=1)
    d.rectangle((84, 84, 108, 108), outline=(0, 0, 0), width=1)
    return np.asarray(im)


def noise_gray() -> np.ndarray:
    # Uniform noise in [0, 1]: max pooling brightens it, average pooling smooths it towards 0.5.
    rng = np.random.default_rng(2024)
    return _gray(rng.integers(0, 256, size=(SIZE, SIZE)) / 255.0)


def salt_and_pepper() -> np.ndarray:
    # Mid grey with 3% white (salt) and 3% black (pepper) pixels: max pooling spreads the salt
    # and removes the pepper, average pooling blurs both.
    rng = np.random.default_rng(7)
    u = rng.random((SIZE, SIZE))
    img = np.full((SIZE, SIZE), 0.5)
    img[u < 0.03] = 0.0
    img[u > 0.97] = 1.0
    return _gray(img)


def _text_image(lines: list[str], dark_on_light: bool) -> np.ndarray:
    # Pillow's built-in bitmap font (no font files, same pixels everywhere), drawn at 1x and
    # scaled 2x with nearest neighbour so strokes are exactly 2 pixels wide, then shifted by one
    # pixel so each stroke straddles two 2x2 pooling windows (unshifted, 2x2 pooling with
    # stride 2 would see whole 2x2 blocks and change nothing).
    half = SIZE // 2
    fg, bg = (0, 255) if dark_on_light else (255, 0)
    im = Image.new("L", (half, half), bg)
    d = ImageDraw.Draw(im)
    # load_default_imagefont() is Pillow >= 10.1; before that load_default() was this font.
    font = getattr(ImageFont, "load_default_imagefont", ImageFont.load_default)()
    y = 3
    for line in lines:
        d.text((2, y), line, fill=fg, font=font)
        y += 12
    im = im.resize((SIZE, SIZE), Image.Resampling.NEAREST)
    arr = np.roll(np.asarray(im), shift=(1, 1), axis=(0, 1))  # edges are background
    return np.repeat(arr[:, :, None], 3, axis=2)


def text_dark() -> np.ndarray:
    # Black text on white: 2x2 max pooling erases it (white wins every window).
    return _text_image(["Pooling", "MaxPool", "AvgPool", "k=2 s=2", "p=0.5"], True)


def text_light() -> np.ndarray:
    # White text on black: max pooling thickens it.
    return _text_image(["Dropout", "2x2 max", "3x3 avg", "stride 2", "ceil!"], False)


PATTERNS = {
    "pattern_checkerboard_01.png": lambda: checkerboard(1),
    "pattern_checkerboard_04.png": lambda: checkerboard(4),
    "pattern_checkerboard_16.png": lambda: checkerboard(16),
    "pattern_colour_bars.png": colour_bars,
    "pattern_dots.png": dots,
    "pattern_gradient_colour.png": gradient_colour,
    "pattern_gradient_horizontal.png": gradient_horizontal,
    "pattern_grid_lines.png": grid_lines,
    "pattern_noise_gray.png": noise_gray,
    "pattern_salt_and_pepper.png": salt_and_pepper,
    "pattern_shapes.png": shapes,
    "pattern_single_pixel.png": single_pixel,
    "pattern_stripes_diagonal.png": stripes_diagonal,
    "pattern_stripes_horizontal_2.png": lambda: stripes(2, vertical=False),
    "pattern_stripes_vertical_1.png": lambda: stripes(1, vertical=True),
    "pattern_stripes_vertical_3.png": lambda: stripes(3, vertical=True),
    "pattern_stripes_vertical_8.png": lambda: stripes(8, vertical=True),
    "pattern_text_dark.png": text_dark,
    "pattern_text_light.png": text_light,
    "pattern_zone_plate.png": zone_plate,
}


def make_patterns() -> dict[str, np.ndarray]:
    """Every pattern as a uint8 array (SIZE, SIZE, 3), keyed by file name."""
    out = {}
    for name, make in PATTERNS.items():
        arr = np.ascontiguousarray(make(), dtype=np.uint8)
        if arr.shape != (SIZE, SIZE, 3):
            raise AssertionError(f"{name}: shape {arr.shape}, expected {(SIZE, SIZE, 3)}")
        out[name] = arr
    return out


def _save_png(arr_or_image, path: Path) -> None:
    im = arr_or_image if isinstance(arr_or_image, Image.Image) else Image.fromarray(arr_or_image)
    im.convert("RGB").save(path, format="PNG", optimize=True)


def check(out_dir: Path) -> int:
    """Compare regenerated patterns with the files in ``out_dir``; return the number that differ."""
    bad = 0
    for name, arr in make_patterns().items():
        path = out_dir / name
        if not path.exists():
            print(f"missing: {path}")
            bad += 1
            continue
        with Image.open(path) as im:
            saved = np.asarray(im.convert("RGB"), dtype=np.int16)
        diff = int(np.abs(saved - arr.astype(np.int16)).max()) if saved.shape == arr.shape else -1
        if diff < 0 or diff > 1:
            print(f"differs: {path} (max difference {diff} grey levels; -1 means shape)")
            bad += 1
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="patterns' folder (data/patterns)")
    parser.add_argument("--photos", type=Path, default=PHOTOS_DIR, help="photos' folder (data/images)")
    parser.add_argument(
        "--originals",
        type=Path,
        default=None,
        help="folder with scikit-image's sample files (skimage/data); photos are remade from it",
    )
    parser.add_argument("--check", action="store_true", help="compare patterns, write nothing")
    args = parser.parse_args(argv)

    if args.check:
        bad = check(args.out)
        print(f"{len(PATTERNS) - bad}/{len(PATTERNS)} patterns match {args.out}")
        return 1 if bad else 0

    args.out.mkdir(parents=True, exist_ok=True)
    for name, arr in make_patterns().items():
        _save_png(arr, args.out / name)
    print(f"wrote {len(PATTERNS)} patterns to {args.out}")

    if args.originals is not None:
        missing = [src for _, src, _ in PHOTOS if not (args.originals / src).exists()]
        if missing:
            print(f"not found in {args.originals}: {', '.join(missing)}", file=sys.stderr)
            return 2
        args.photos.mkdir(parents=True, exist_ok=True)
        for name, src, box in PHOTOS:
            _save_png(make_photo(args.originals / src, box), args.photos / name)
        print(f"wrote {len(PHOTOS)} photos from {args.originals}")
    else:
        print("photos left as they are (pass --originals DIR to remake them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
