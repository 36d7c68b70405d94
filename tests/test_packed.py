"""Screenshots kept packed in strips (heatmap/drawing/packed.py): the same pixels, a fraction of the bytes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from heatmap.drawing.encode import STRIP_ROWS, downscale, preview_jpeg
from heatmap.drawing.packed import Packed, Window
from heatmap.drawing.render import Display, render_map
from tests.test_render import CAPTION, bands_from, noise, pixels, screenshot_like


@pytest.mark.parametrize("height", [1, STRIP_ROWS - 1, STRIP_ROWS, STRIP_ROWS + 1, 1100])
def test_a_packed_picture_unpacks_to_its_pixels(height: int) -> None:
    image = noise(131, height, seed=height)
    packed = Packed.of(image)
    assert packed.size == image.size and len(packed.strips) == -(-height // packed.rows)
    assert np.array_equal(pixels(packed.image()), pixels(image))


@pytest.mark.parametrize(
    "box",
    [
        (0, 0, 131, 1),
        (3, 500, 70, 530),
        (0, 1023, 131, 1025),
        (10, 1090, 131, 1100),
        (-5, -3, 20, 4),
        (100, 1095, 140, 1110),
    ],
)
def test_a_crop_unpacks_the_strips_it_spans_and_equals_pillows(box: tuple[int, int, int, int]) -> None:
    """Outside the picture a crop is black, as Pillow's; a window's crop is its rows' crop of the picture."""
    image = noise(131, 1100, seed=9)
    assert np.array_equal(pixels(Packed.of(image).crop(box)), pixels(image.crop(box)))
    left, top, right, bottom = box
    window = Window(Packed.of(image), 100, 1000)
    assert np.array_equal(pixels(window.crop(box)), pixels(image.crop((left, top + 100, right, bottom + 100))))


def test_a_tall_screenshot_packs_to_a_fraction_of_its_decoded_bytes() -> None:
    page = pixels(screenshot_like())
    tall = Image.fromarray(np.tile(page, (-(-6000 // page.shape[0]), 1, 1))[:6000])
    packed = Packed.of(tall)
    assert packed.nbytes < tall.width * tall.height * 4 / 8  # Pillow keeps it in four bytes a pixel


def test_maps_downscales_and_previews_of_a_packed_picture_match_the_pictures() -> None:
    """A map painted on the packed screenshot is the map painted on the picture, byte for byte; its downscale for
    the browser differs by at most one level where Pillow's fixed-point weights round the other way (each strip
    resizes the rows it reaches, not the whole picture), and its JPEG fits the same budget."""
    image = Image.fromarray(np.tile(pixels(screenshot_like()), (2, 1, 1)))
    packed = Packed.of(image)
    bands = bands_from([int(1000 * 0.98**b) for b in range(image.height // 100)])
    on_packed = render_map(packed, Display(kind="attention", smooth=True), CAPTION, bands)
    on_image = render_map(image, Display(kind="attention", smooth=True), CAPTION, bands)
    assert np.array_equal(pixels(on_packed.image), pixels(on_image.image))
    size = (image.width * 2 // 3, image.height * 2 // 3)
    assert np.abs(pixels(downscale(packed, *size)).astype(int) - pixels(downscale(image, *size))).max() <= 1
    jpeg = preview_jpeg(packed, 600, 200_000)
    small = Image.open(io.BytesIO(jpeg))
    assert len(jpeg) <= 200_000
    assert small.width <= 600 and small.height == round(image.height * small.width / image.width)


def test_a_tall_packed_pictures_preview_is_downscaled_once_at_the_width_that_fits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The width that fits is judged from bands spread down the page, not from a copy of all of it: the packed
    original is downscaled once, at that width, and its rows unpacked well under twice (it was downscaled at
    1,200 px first, then again from that copy)."""
    import heatmap.drawing.encode as encode

    page = pixels(screenshot_like())
    tall = Image.fromarray(np.tile(page, (-(-12_000 // page.shape[0]), 1, 1))[:12_000])
    packed = Packed.of(tall)
    widths: list[int] = []
    unpacked: list[int] = []
    downscale, strip = encode.downscale, Packed._strip
    monkeypatch.setattr(encode, "downscale", lambda im, w, h: widths.append(w) or downscale(im, w, h))
    monkeypatch.setattr(Packed, "_strip", lambda self, i, rows: unpacked.append(rows) or strip(self, i, rows))
    jpeg = preview_jpeg(packed, 1200, 600_000)
    width = Image.open(io.BytesIO(jpeg)).width
    assert len(jpeg) <= 600_000 and widths == [width] and width < 1200
    assert sum(unpacked) < 2 * packed.height
    monkeypatch.setattr(encode, "downscale", downscale)
    assert Image.open(io.BytesIO(preview_jpeg(tall, 1200, 600_000))).width == width  # as the decoded picture's
