"""AdaIN (Huang & Belongie 2017): any painting as the style, no training; one encoder-decoder pass per image."""

import numpy as np
import torch

from painterly import PainterlyError
from painterly.io.tensors import load_rgb, resize_long
from painterly.models.adain import AdaINNet
from painterly.stylize.devices import pick_device


class AdaIN:
    """`method(images)`: (B, 3, H, W) float32 RGB in [0, 1] -> stylized, same size.

    `alpha` in [0, 1] is the style strength."""

    def __init__(self, style: str, alpha: float = 1.0, style_size: int = 512, device: str = "auto"):
        if not style:
            raise PainterlyError("style= is required: the painting to take the style from")
        if not 0 <= alpha <= 1:
            raise PainterlyError(f"alpha must be between 0 and 1, not {alpha}")
        self.device, self.alpha = pick_device(device), alpha
        self.net = AdaINNet().to(self.device)
        with torch.inference_mode():
            self.style_feat = self.net.encode(resize_long(load_rgb(style), style_size)[None].to(self.device))

    @torch.inference_mode()
    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.net(torch.from_numpy(images).to(self.device), self.style_feat, self.alpha).float().cpu().numpy()
