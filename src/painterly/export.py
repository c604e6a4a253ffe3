"""Export a style for other runtimes (`python scripts/export.py`), and the ONNX export that stylize.py caches.

Both formats take and return float32 NCHW RGB in [0, 1] of any batch size, height and width (at least 8 pixels):
the exported module pads to a multiple of 4, crops back and clamps, exactly as stylize.py runs it.
"""

import warnings
from pathlib import Path

import torch

from painterly import PainterlyError
from painterly.config import project_root
from painterly.io.checkpoint import load_style
from painterly.models.transformer import PaddedNet
from painterly.stylize.checkpoints import cached_onnx_path, resolve_checkpoint
from painterly.stylize.files import atomic_path

SUFFIXES = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}


def export_onnx(module: torch.nn.Module, path: Path) -> None:
    # The TorchScript-based exporter: 0.2 s where the dynamo one takes 5 s, and stylize.py exports on a style's
    # first use. Its dynamic axes cover the padding to a multiple of 4 (tested against eager at odd sizes).
    axes = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it is deprecated, and chatty about shape inference
        torch.onnx.export(
            module.eval(),
            (torch.rand(1, 3, 64, 64),),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["image"],
            output_names=["stylized"],
            dynamic_axes={"image": axes, "stylized": axes},
        )


def export_torchscript(module: torch.nn.Module, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, yet still what many runtimes load
        torch.jit.script(module).save(str(path))


def export(ckpt, format: str = "onnx", out=None) -> Path:
    if format not in SUFFIXES:
        raise PainterlyError(f"unknown format '{format}'; choose from: {', '.join(SUFFIXES)}")
    path = resolve_checkpoint(ckpt)
    net, _ = load_style(path)
    # exports go to <project>/exports/, apart from the style checkpoints that stylize.py and the gallery look up
    out = Path(out) if out else project_root() / "exports" / f"{path.stem}{SUFFIXES[format]}"
    with atomic_path(out) as tmp:
        (export_onnx if format == "onnx" else export_torchscript)(PaddedNet(net).eval(), tmp)
    return out


def cache_onnx(ckpt) -> Path:
    """Export a checkpoint into stylize.py's ONNX cache (painterly.stylize.checkpoints.cached_onnx_path)."""
    # written atomically: a killed export leaves no half file in the cache
    return export(ckpt, "onnx", cached_onnx_path(resolve_checkpoint(ckpt)))
