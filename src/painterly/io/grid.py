"""Labelled grids of images as one PNG: the evaluation sheet and the style gallery."""

import torch
from PIL import Image, ImageDraw
from torchvision.transforms.v2 import functional as TF

from painterly.io.tensors import resize_long
from painterly.stylize.images import save_image

PAD, HEADER = 4, 24  # pixels between cells; the height of the column labels


def cell_image(cell: torch.Tensor | str | None, size: int, height: int) -> Image.Image:
    """A `size` x `height` cell: an image (already fitted to `size`) centred on white, a text on white, or grey for
    None (a skipped method)."""
    canvas = Image.new("RGB", (size, height), "white" if cell is not None else (217, 217, 217))
    if isinstance(cell, str):
        ImageDraw.Draw(canvas).text((size // 2, height // 2), cell, fill="black", anchor="mm")
    elif cell is not None:
        image = TF.to_pil_image(cell.clamp(0, 1))
        canvas.paste(image, ((size - image.width) // 2, (height - image.height) // 2))
    return canvas


def write_grid(
    path,
    rows: list[list[torch.Tensor | str | None]],
    labels: list[str],
    size: int,
    captions: dict[int, str] | None = None,
) -> None:
    """One row per photo, one labelled column per entry; a cell is an image, a text, or None (grey: a skipped method).
    Each row is as tall as its tallest image.

    `captions` writes a line at the foot of the first cell of the rows it names (row index -> text)."""
    rows = [[resize_long(cell, size) if isinstance(cell, torch.Tensor) else cell for cell in row] for row in rows]
    # as tall as the tallest image: a row of 4:3 photos is 3/4 of a square, not a square with white bands (a row of
    # text or grey cells only is square)
    heights = [max((cell.shape[-2] for cell in row if isinstance(cell, torch.Tensor)), default=size) for row in rows]
    sheet = Image.new("RGB", (PAD + len(labels) * (size + PAD), HEADER + PAD + sum(h + PAD for h in heights)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, label in enumerate(labels):
        draw.text((PAD + i * (size + PAD) + size // 2, HEADER // 2), label, fill="black", anchor="mm")
    top = HEADER + PAD
    for r, (row, height) in enumerate(zip(rows, heights, strict=True)):
        for i, cell in enumerate(row):
            sheet.paste(cell_image(cell, size, height), (PAD + i * (size + PAD), top))
        if captions and r in captions:
            foot = (PAD + size // 2, top + height - 6)
            draw.text(foot, captions[r], fill="black", anchor="md", stroke_width=2, stroke_fill="white")
        top += height + PAD
    save_image(sheet, path)
