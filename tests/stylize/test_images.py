import numpy as np
import pytest

from painterly import PainterlyError
from painterly.stylize.images import from_pixels, open_image, resize_images, to_pixels


def test_pixels_round_trip_and_layout():
    pixels = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    images = from_pixels(pixels)
    assert (
        images.shape == (2, 3, 5, 7)
        and images.dtype == np.float32
        and np.isclose(images[1, 2, 3, 4], pixels[1, 3, 4, 2] / 255)
    )
    assert np.array_equal(to_pixels(images), pixels)
    assert np.array_equal(to_pixels(np.array([[[[-0.5]], [[0.5]], [[1.5]]]])), [[[[0, 128, 255]]]])  # clipped, rounded


def test_resize_images_keeps_values_and_averages_when_shrinking():
    flat = np.full((2, 3, 40, 30), 0.25, dtype=np.float32)
    assert np.allclose(resize_images(flat, (20, 15)), 0.25) and resize_images(flat, (20, 15)).shape == (2, 3, 20, 15)
    stripes = np.zeros((1, 1, 8, 8), dtype=np.float32)
    stripes[..., ::2] = 1.0  # a pattern finer than the new grid: antialiasing averages it out
    assert np.allclose(resize_images(stripes, (4, 4)), 0.5, atol=0.1)


def test_a_bad_file_is_named_in_one_line(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(PainterlyError, match="empty.jpg: empty file"):
        open_image(tmp_path / "empty.jpg")
