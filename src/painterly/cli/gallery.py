"""A grid of sample photos (rows) in every trained style (columns), the paintings along the top.

The last rows show one photo rendered at each of `scales` (long side, pixels), shrunk to the same cell: a network's
strokes have a fixed size in pixels, so the larger the render, the smaller the strokes look against the scene."""

from pathlib import Path

import torch

from painterly import PainterlyError
from painterly.cli.launch import launch
from painterly.config import checkpoint_dir
from painterly.io.grid import write_grid
from painterly.io.tensors import load_rgb, resize_long
from painterly.stylize.checkpoints import style_files
from painterly.stylize.johnson import Johnson
from painterly.stylize.pipeline import apply


def stylized_row(styles, image: torch.Tensor) -> list[torch.Tensor]:
    """The (3, H, W) photo, then the photo in each style."""
    return [image, *(torch.from_numpy(apply(style, image[None].numpy())[0]) for style in styles)]


def gallery(ckpts, photos, output, size: int = 256, device: str = "auto", scale_photo=None, scales=()) -> Path:
    ckpts = ckpts or style_files()
    if not ckpts:
        raise PainterlyError(
            f"no style checkpoints in {checkpoint_dir()}; pass ckpts=[...] (see `python stylize.py list`)"
        )
    styles = [Johnson(ckpt, device=device) for ckpt in ckpts]
    names = [style.record["style"]["name"] for style in styles]
    paintings = [style.record["style_thumbnail"].float() / 255 for style in styles]
    rows = [["the paintings", *paintings]]
    for photo in photos:
        rows.append(stylized_row(styles, resize_long(load_rgb(photo), size)))
    captions = {}
    for scale in scales if scale_photo else ():
        captions[len(rows)] = f"rendered at {scale} px"
        rows.append(stylized_row(styles, resize_long(load_rgb(scale_photo), scale)))
    write_grid(output, rows, ["photo", *names], size, captions)
    return Path(output)


def render(cfg) -> None:
    with torch.inference_mode():
        path = gallery(cfg.ckpts, cfg.photos, cfg.output, cfg.size, cfg.device, cfg.scale_photo, cfg.scales)
    print(f"gallery: wrote {path}")


def main() -> None:
    launch("gallery", "gallery", render)
