import pytest
import torch
from PIL import Image


def write_photos(folder, count=6, size=(40, 32)):
    """`count` small random RGB JPEGs in `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    paths = []
    for i in range(count):
        pixels = (torch.rand(size[1], size[0], 3, generator=generator) * 255).to(torch.uint8).numpy()
        path = folder / f"photo_{i}.jpg"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def photo_dir(tmp_path):
    write_photos(tmp_path / "photos")
    return tmp_path / "photos"


@pytest.fixture
def style_image(tmp_path):
    path = tmp_path / "painting.png"
    stripes = torch.zeros(48, 48, 3, dtype=torch.uint8)
    stripes[::4, :, 0] = 255
    stripes[:, ::3, 2] = 200
    Image.fromarray(stripes.numpy()).save(path)
    return path
