"""Labelled grids of images as one PNG: the evaluation sheet and the style gallery."""

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw
from torchvision.transforms.v2 import functional as TF
from torchvision.utils import make_grid

from painterly.io.tensors import resize_long
from painterly.stylize.images import save_image, to_array


def fit(image: torch.Tensor, size: int) -> torch.Tensor:
    """(3, h, w) -> (3, size, size): shrunk to fit and centred on white."""
    image = resize_long(image, size)
    h, w = image.shape[-2:]
    top, left = (size - h) // 2, (size - w) // 2
    return F.pad(image, (left, size - w - left, top, size - h - top), value=1.0)


def cell_image(cell: torch.Tensor | str | None, size: int) -> torch.Tensor:
    """A (3, size, size) cell: an image fitted to it, a text on white, or grey for None (a skipped method)."""
    if isinstance(cell, str):
        text = Image.new("RGB", (size, size), "white")
        ImageDraw.Draw(text).text((size // 2, size // 2), cell, fill="black", anchor="mm")
        return torch.from_numpy(to_array(text))
    return fit(cell, size) if cell is not None else torch.full((3, size, size), 0.85)


def write_grid(
    path,
    rows: list[list[torch.Tensor | str | None]],
    labels: list[str],
    size: int,
    captions: dict[int, str] | None = None,
) -> None:
    """One row per photo, one labelled column per entry; a cell is an image, a text, or None (grey: a skipped method).

    `captions` writes a line under the first cell of the rows it names (row index -> text)."""
    cells = [cell_image(cell, size) for row in rows for cell in row]
    grid = TF.to_pil_image(make_grid(cells, nrow=len(labels), padding=4, pad_value=1.0))
    header = Image.new("RGB", (grid.width, 24), "white")
    draw = ImageDraw.Draw(header)
    for i, label in enumerate(labels):
        draw.text((4 + i * (size + 4) + size // 2, 12), label, fill="black", anchor="mm")
    sheet = Image.new("RGB", (grid.width, grid.height + header.height), "white")
    sheet.paste(header)
    sheet.paste(grid, (0, header.height))
    draw = ImageDraw.Draw(sheet)
    for row, caption in (captions or {}).items():
        bottom = header.height + (row + 1) * (size + 4)
        draw.text((4 + size // 2, bottom - 6), caption, fill="black", anchor="md", stroke_width=2, stroke_fill="white")
    save_image(sheet, path)
