import numpy as np
import pytest
import torch
from PIL import Image

from painterly import PainterlyError
from painterly.io.tensors import load_rgb, resize_long
from painterly.stylize.images import open_image, save_image, to_array


def test_the_tensor_views_match_the_arrays(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "image.png")
    image = load_rgb(tmp_path / "image.png")
    assert torch.equal(image, torch.from_numpy(to_array(Image.fromarray(pixels))))
    assert resize_long(image, 10).shape == (3, 6, 10)
    save_image(image.numpy(), tmp_path / "again.png")
    assert np.array_equal(np.asarray(open_image(tmp_path / "again.png")), pixels)


def test_a_bad_file_is_named_in_one_line(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(PainterlyError, match="empty.jpg: empty file"):
        load_rgb(tmp_path / "empty.jpg")
