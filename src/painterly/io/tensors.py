"""Images as torch tensors, for training and the torch methods: (3, H, W) float RGB in [0, 1]."""

import torch

from painterly.stylize.images import open_image, to_array


def load_rgb(path) -> torch.Tensor:
    """(3, H, W) float tensor in [0, 1]; a bad file raises PainterlyError naming it."""
    return torch.from_numpy(to_array(open_image(path)))


def resize_long(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a (..., 3, H, W) float image so that its long side is `size` pixels, keeping the aspect ratio."""
    height, width = image.shape[-2:]
    scale = size / max(height, width)
    new_size = (max(1, round(height * scale)), max(1, round(width * scale)))
    batch = image.reshape(-1, *image.shape[-3:])
    resized = torch.nn.functional.interpolate(
        batch, size=new_size, mode="bilinear", antialias=True, align_corners=False
    )
    return resized.reshape(*image.shape[:-2], *new_size)


def resize_short(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a (..., 3, H, W) float image so that its short side is `size` pixels, keeping the aspect ratio."""
    height, width = image.shape[-2:]
    return resize_long(image, round(size * max(height, width) / min(height, width)))
