import numpy as np
import torch
from PIL import Image

from painterly.cli.gallery import gallery

from conftest import make_style_checkpoint, write_photos


def test_grid_has_a_row_per_photo_and_a_column_per_style(tmp_path):
    ckpts = [make_style_checkpoint(tmp_path / f"style{i}.pt", seed=i) for i in range(2)]
    photos = write_photos(tmp_path / "photos", count=3, size=(40, 30))
    path = gallery(ckpts, photos, tmp_path / "gallery.png", size=32, device="cpu")
    grid = Image.open(path)
    cell = 32 + 4  # cells are padded by 4 pixels
    assert grid.width == 3 * cell + 4  # photo column + two styles
    assert grid.height - 24 == 4 * cell + 4  # header, then the paintings' row + three photos
    # the stylized cells differ between the two styles
    pixels = torch.tensor(np.array(grid.convert("RGB")), dtype=torch.float32)
    first, second = (pixels[24 + cell + 4 : 24 + 2 * cell, 4 + k * cell : (k + 1) * cell] for k in (1, 2))
    assert (first - second).abs().mean() > 1
    corner = pixels[24 + 4 : 24 + cell, 4:cell]  # says what the top row is, on white (a grey cell is a skipped method)
    assert corner.mean() > 230 and corner.min() < 100


def test_scale_rows_render_one_photo_at_each_size_and_say_which(tmp_path):
    ckpt = make_style_checkpoint(tmp_path / "style.pt")
    photos = write_photos(tmp_path / "photos", count=1, size=(40, 30))
    path = gallery(
        [ckpt], photos, tmp_path / "gallery.png", size=32, device="cpu", scale_photo=photos[0], scales=[48, 96]
    )
    grid = Image.open(path)
    assert grid.height - 24 == 4 * (32 + 4) + 4  # the paintings' row, the photo, then one row per scale
