"""The live app's one door into the rest of painterly: every import from painterly's other modules is here.

Stylizing is stylize.py's own engine (`Johnson`: OpenVINO or ONNX Runtime on a CPU from the cached ONNX export,
CUDA via torch on a GPU) and its own blend (`apply`: strength and preserve_color). Nothing here imports torch
unless a style has no cached export or thumbnail yet (the first use of a style, like stylize.py).
"""

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from painterly import PainterlyError
from painterly.cli.launch import launch
from painterly.config import ROOT, checkpoint_dir
from painterly.stylize.checkpoints import cache_dir, resolve_checkpoint
from painterly.stylize.files import atomic_path
from painterly.stylize.images import from_pixels, to_pixels
from painterly.stylize.johnson import Johnson
from painterly.stylize.onnx_engines import exported_onnx
from painterly.stylize.pipeline import apply

__all__ = [
    "ROOT",
    "checkpoint_dir",
    "PainterlyError",
    "exported_onnx",
    "launch",
    "load_engine",
    "resolve_checkpoint",
    "stylize_pixels",
    "thumbnail_png",
]


def thumbnail_png(ckpt: Path) -> Path:
    """The checkpoint's style thumbnail as a PNG, cached by the checkpoint's sha256 like the ONNX export."""
    with open(ckpt, "rb") as file:
        path = cache_dir() / f"{hashlib.sha256(file.read()).hexdigest()}.thumbnail.png"
    if not path.is_file():
        from painterly.io.checkpoint import read_checkpoint  # imports torch: only a style's first use pays for it

        thumb = read_checkpoint(ckpt)["style_thumbnail"].numpy()
        with atomic_path(path) as tmp:
            Image.fromarray(np.ascontiguousarray(thumb.transpose(1, 2, 0))).save(tmp, format="PNG")
    return path


def load_engine(ckpt: Path, device: str = "auto", precision: str = "auto", engine: str = "auto") -> Johnson:
    return Johnson(ckpt, device=device, precision=precision, engine=engine)


def stylize_pixels(method, pixels: np.ndarray, strength: float, preserve_color: bool) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> stylized (H, W, 3) uint8, exactly as stylize.py blends it."""
    return to_pixels(apply(method, from_pixels(pixels)[None], strength, preserve_color)[0])


def random_style(path, **kwargs) -> Path:
    """painterly.io.checkpoint.random_style, imported on use: this module stays torch-free."""
    from painterly.io.checkpoint import random_style

    return random_style(path, **kwargs)
