"""Gatys et al. (2016): optimize the pixels of the image itself against the perceptual loss that training uses.

Slow (hundreds of VGG passes per image) and the reference for quality. Starts from the content image.
"""

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF
from tqdm import tqdm

from painterly import PainterlyError
from painterly.io.tensors import load_rgb, resize_long
from painterly.losses.perceptual import PerceptualLoss
from painterly.stylize.devices import pick_device

DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}


class Gatys:
    """`method(images)`: (B, 3, H, W) float32 RGB in [0, 1] -> the optimized images, `size` on the long side
    (or the input's size with `upscale`). The style's Grams are computed once, here."""

    def __init__(
        self,
        loss: PerceptualLoss,
        style: str,
        size: int = 512,
        style_size: int | None = None,
        iterations: int = 300,
        optimizer: str = "lbfgs",
        lr: float | None = None,
        upscale: bool = False,
        progress: bool = True,
        device: str = "auto",
    ):
        if optimizer not in DEFAULT_LR:
            raise PainterlyError(f"unknown optimizer '{optimizer}'; choose from: {', '.join(DEFAULT_LR)}")
        if size < 1 or iterations < 1:
            raise PainterlyError(f"size and iterations must be positive, not {size} and {iterations}")
        self.device = pick_device(device)
        self.loss = loss.to(self.device)
        self.loss.set_style(resize_long(load_rgb(style), style_size or size)[None].to(self.device))
        self.size, self.iterations, self.optimizer, self.upscale = size, iterations, optimizer, upscale
        self.lr = DEFAULT_LR[optimizer] if lr is None else lr
        self.progress = progress

    def __call__(self, images: np.ndarray) -> np.ndarray:
        image = torch.from_numpy(images)
        content = resize_long(image.to(self.device), self.size)
        targets = self.loss.content_targets(content)
        pixels = content.clone(memory_format=torch.contiguous_format).requires_grad_(True)  # LBFGS views grads flat
        if self.optimizer == "lbfgs":
            # max_iter=1: one update per step, so the bar moves per iteration; LBFGS keeps its history across steps.
            optimizer = torch.optim.LBFGS([pixels], lr=self.lr, max_iter=1, history_size=50)
        else:
            optimizer = torch.optim.Adam([pixels], lr=self.lr)

        terms = {}

        def closure():
            optimizer.zero_grad()
            terms.update(self.loss(pixels, targets))
            terms["total"].backward()
            return terms["total"]

        bar = tqdm(range(self.iterations), desc="gatys", unit="it", leave=False, disable=not self.progress or None)
        for _ in bar:
            optimizer.step(closure)
            bar.set_postfix({k: f"{terms[k].item():.3g}" for k in ("content", "style", "tv", "total")})
        result = pixels.detach().clamp(0, 1)  # not between steps: that would corrupt LBFGS's curvature history
        result = TF.resize(result, list(image.shape[-2:]), antialias=True) if self.upscale else result
        return result.cpu().numpy()
