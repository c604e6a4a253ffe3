"""A grid of sample photos (rows) in every trained style (columns), the paintings along the top."""

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


def gallery(ckpts, photos, output, size: int = 256, device: str = "auto") -> Path:
    ckpts = ckpts or style_files()
    if not ckpts:
        raise PainterlyError(
            f"no style checkpoints in {checkpoint_dir()}; pass ckpts=[...] (see `python stylize.py list`)"
        )
    styles = [Johnson(ckpt, device=device) for ckpt in ckpts]
    names = [style.record["style"]["name"] for style in styles]
    paintings = [style.record["style_thumbnail"].float() / 255 for style in styles]
    rows = [[None, *paintings]]
    for photo in photos:
        image = resize_long(load_rgb(photo), size)[None]
        rows.append([image[0], *(torch.from_numpy(apply(style, image.numpy())[0]) for style in styles)])
    write_grid(output, rows, ["photo", *names], size)
    return Path(output)


def render(cfg) -> None:
    with torch.inference_mode():
        path = gallery(cfg.ckpts, cfg.photos, cfg.output, cfg.size, cfg.device)
    print(f"gallery: wrote {path}")


def main() -> None:
    launch("gallery", "gallery", render)
