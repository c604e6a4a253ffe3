"""The johnson method in eager torch: GPUs, fp16/bf16, tiles, and the fallback when no ONNX engine runs."""

from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from painterly.io.checkpoint import load_style
from painterly.methods.tiling import tiled
from painterly.models.transformer import PaddedNet
from painterly.stylize.devices import pick_device, pick_dtype


@contextmanager
def pooled_norm_stats(net: nn.Module, first_pass):
    """Within: each instance norm layer of `net` normalizes with its input statistics pooled over `first_pass()`."""
    sums = {m: [0, 0, 0] for m in net.modules() if isinstance(m, nn.InstanceNorm2d)}  # pixels, sum, sum of squares

    def record(module, args):
        x, (count, total, squares) = args[0].float(), sums[module]
        sums[module] = [
            count + x[:, 0].numel(),
            total + x.sum((0, 2, 3), dtype=torch.float64),
            squares + x.square().sum((0, 2, 3), dtype=torch.float64),
        ]

    hooks = [m.register_forward_pre_hook(record) for m in sums]
    try:
        first_pass()
    finally:
        for hook in hooks:
            hook.remove()
    for module, (count, total, squares) in sums.items():
        mean, dtype = total / count, module.weight.dtype
        variance = (squares / count - mean.square()).clamp(min=0)
        module.running_mean, module.running_var = mean.to(dtype), variance.to(dtype)
        module.track_running_stats = True  # in eval mode: normalize with running_mean and running_var
    try:
        yield
    finally:
        for module in sums:
            module.running_mean = module.running_var = None
            module.track_running_stats = False


class TorchEngine:
    """A style checkpoint under inference_mode: channels_last on CUDA, in the dtype that `precision` gives."""

    def __init__(
        self, path, device: str = "auto", precision: str = "fp32", tile: int | None = None, tile_overlap: int = 32
    ):
        self.device, self.dtype = pick_device(device), pick_dtype(precision)
        net, _ = load_style(path)
        # channels_last suits CUDA's convolutions; on CPU eager it measured ~10% slower than NCHW
        self.layout = torch.channels_last if self.device.type == "cuda" else torch.contiguous_format
        self.net = PaddedNet(net).to(self.device, self.dtype, memory_format=self.layout).eval()
        self.tile, self.tile_overlap = tile, tile_overlap

    def forward(self, images: torch.Tensor, offset: tuple[int, int] = (0, 0)) -> torch.Tensor:
        images = images.to(self.device, self.dtype, memory_format=self.layout)
        return self.net.at(images, offset).float()

    def tiled(self, image: torch.Tensor) -> torch.Tensor:
        """One image tile by tile, in two passes.

        Instance norm would give each tile its own colours and contrast, and the seams would show. So a first pass
        pools every norm layer's statistics over all tiles, and the second normalizes every tile with them.
        """

        def tiled_pass():
            # starts at multiples of 4: a noise input's cells are 4 px, so every tile reads the untiled field
            return tiled(self.forward, image, self.tile, self.tile_overlap, align=4)

        with pooled_norm_stats(self.net, tiled_pass):
            return tiled_pass()

    @torch.inference_mode()
    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = torch.from_numpy(images)
        if self.tile and max(images.shape[-2:]) > self.tile:
            return torch.cat([self.tiled(image[None]) for image in images]).cpu().numpy()
        return self.forward(images).cpu().numpy()
