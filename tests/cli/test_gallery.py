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
    # a 24 px header, the (square) paintings' row, then three rows of 4:3 photos, each as tall as its photos at 32 px
    assert grid.height == 24 + 4 + cell + 3 * (24 + 4)
    pixels = torch.tensor(np.array(grid.convert("RGB")), dtype=torch.float32)
    top = 24 + 4 + cell  # the first photo's row
    photo, first, second = (pixels[top : top + 24, 4 + k * cell : (k + 1) * cell] for k in (0, 1, 2))
    assert (first - second).abs().mean() > 1  # the stylized cells differ between the two styles
    assert max(photo[0].mean(), photo[-1].mean()) < 200  # no white bands: the photo fills its row
    corner = pixels[24 + 4 : 24 + cell, 4:cell]  # says what the top row is, on white (a grey cell is a skipped method)
    assert corner.mean() > 230 and corner.min() < 100


def test_scale_rows_render_one_photo_at_each_size_and_say_which(tmp_path):
    ckpt = make_style_checkpoint(tmp_path / "style.pt")
    photos = write_photos(tmp_path / "photos", count=1, size=(40, 30))
    path = gallery(
        [ckpt], photos, tmp_path / "gallery.png", size=32, device="cpu", scale_photo=photos[0], scales=[48, 96]
    )
    grid = Image.open(path)
    # the (square) paintings' row, then rows of the 4:3 photo, 24 px tall at 32 px: as is, then one row per scale
    assert grid.height == 24 + 4 + (32 + 4) + 3 * (24 + 4)
