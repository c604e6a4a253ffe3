"""Reading and writing images: one place for EXIF, modes, limits and atomic writes. No torch (see below)."""

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from painterly import PainterlyError
from painterly.stylize.files import atomic_path

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
    except PermissionError:
        raise PainterlyError(f"{path}: permission denied") from None
    except IsADirectoryError:
        raise PainterlyError(f"{path}: a folder, not an image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PainterlyError(f"{path}: image too large (over {MAX_PIXELS} pixels)") from None
    except Image.UnidentifiedImageError:
        reason = "empty file" if Path(path).stat().st_size == 0 else "not an image, or an unsupported format"
        raise PainterlyError(f"{path}: {reason}") from None
    except (OSError, SyntaxError, ValueError) as error:
        reason = "empty file" if Path(path).stat().st_size == 0 else f"corrupt or truncated image ({error})"
        raise PainterlyError(f"{path}: {reason}") from None


# Images are numpy arrays here: stylize.py's cached ONNX path then runs without importing torch (a second of start-up).
def from_pixels(pixels: np.ndarray) -> np.ndarray:
    """(..., H, W, 3) uint8 pixels -> (..., 3, H, W) float32 in [0, 1]."""
    return np.moveaxis(pixels, -1, -3).astype(np.float32) / 255


def to_pixels(images: np.ndarray) -> np.ndarray:
    """(..., 3, H, W) floats in [0, 1] (clipped) -> (..., H, W, 3) uint8, rounded."""
    return np.ascontiguousarray(np.moveaxis((np.clip(images, 0, 1) * 255).round().astype(np.uint8), -3, -1))


def to_array(image: Image.Image) -> np.ndarray:
    """PIL image -> (3, H, W) float32 RGB in [0, 1]."""
    return from_pixels(np.asarray(image.convert("RGB")))


def to_pil(image: np.ndarray) -> Image.Image:
    """(3, H, W) floats in [0, 1] -> RGB PIL image."""
    return Image.fromarray(to_pixels(image))


def resize_images(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(..., C, H, W) floats -> (..., C, *size) with Pillow's antialiased bilinear filter, channel by channel."""
    height, width = size
    flat = images.reshape(-1, *images.shape[-2:]).astype(np.float32)
    resized = [np.asarray(Image.fromarray(plane).resize((width, height), Image.Resampling.BILINEAR)) for plane in flat]
    return np.stack(resized).reshape(*images.shape[:-2], height, width)


def save_image(image, path, **save_args) -> None:
    """Write a PIL image or a (3, H, W) float array in [0, 1] atomically; the format follows the extension."""
    if isinstance(image, np.ndarray):
        image = to_pil(image)
    path = Path(path)
    with atomic_path(path) as tmp:
        image.save(tmp, format=Image.registered_extensions().get(path.suffix.lower()), **save_args)
