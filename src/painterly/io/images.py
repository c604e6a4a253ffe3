"""Reading and writing images: one place for EXIF, modes, limits and atomic writes."""

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from painterly import PainterlyError
from painterly.io.files import atomic_path

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
MAX_PIXELS = 16384 * 16384  # larger images are refused as decompression bombs


def find_images(root) -> list[Path]:
    """All image files under `root`, recursively, in a stable order."""
    return sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def open_image(path) -> Image.Image:
    """Open and fully decode an image, upright per its EXIF orientation. Raises PainterlyError naming the problem."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                return ImageOps.exif_transpose(image)
    except FileNotFoundError:
        raise PainterlyError(f"{path}: no such file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PainterlyError(f"{path}: image too large (over {MAX_PIXELS} pixels)") from None
    except Image.UnidentifiedImageError:
        reason = "empty file" if Path(path).stat().st_size == 0 else "not an image, or an unsupported format"
        raise PainterlyError(f"{path}: {reason}") from None
    except (OSError, SyntaxError, ValueError) as error:
        reason = "empty file" if Path(path).stat().st_size == 0 else f"corrupt or truncated image ({error})"
        raise PainterlyError(f"{path}: {reason}") from None


# Pixels <-> tensors by hand, not with torchvision: importing torchvision costs stylize.py over a second of startup.
def from_pixels(pixels: np.ndarray) -> torch.Tensor:
    """(..., H, W, 3) uint8 pixels -> (..., 3, H, W) float tensor in [0, 1]."""
    return torch.from_numpy(pixels).movedim(-1, -3).float() / 255


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Float images in [0, 1] (clamped) -> uint8, rounded, same layout."""
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> (3, H, W) float tensor in [0, 1]."""
    return from_pixels(np.array(image.convert("RGB")))


def resize_long(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a (..., 3, H, W) float image so that its long side is `size` pixels, keeping the aspect ratio."""
    height, width = image.shape[-2:]
    scale = size / max(height, width)
    new_size = (max(1, round(height * scale)), max(1, round(width * scale)))
    batch = image.reshape(-1, *image.shape[-3:])
    resized = torch.nn.functional.interpolate(batch, size=new_size, mode="bilinear", antialias=True, align_corners=False)
    return resized.reshape(*image.shape[:-2], *new_size)


def load_rgb(path) -> torch.Tensor:
    """(3, H, W) float tensor in [0, 1]."""
    return to_tensor(open_image(path))


def to_pil(image: torch.Tensor) -> Image.Image:
    """(3, H, W) float tensor in [0, 1] -> RGB PIL image."""
    return Image.fromarray(to_uint8(image).permute(1, 2, 0).cpu().numpy())


def save_image(image, path, **save_args) -> None:
    """Write a PIL image or a (3, H, W) tensor atomically; the format follows the extension."""
    if isinstance(image, torch.Tensor):
        image = to_pil(image)
    path = Path(path)
    with atomic_path(path) as tmp:
        image.save(tmp, format=Image.registered_extensions().get(path.suffix.lower()), **save_args)
