"""Reading and writing images: one place for EXIF, modes, limits and atomic writes. No torch (see below)."""

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

from painterly import PainterlyError
from painterly.stylize.files import atomic_path, is_temporary

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
MAX_PIXELS = 16384 * 16384  # larger images are refused as decompression bombs
EIGHT_BIT_MODES = ("1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBX", "RGBa", "YCbCr")  # convert("RGB") is exact


def find_images(root) -> list[Path]:
    """All image files under `root`, recursively, in a stable order (half-written temporaries left out)."""
    return sorted(p for p in Path(root).rglob("*") if is_image_file(p))


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not is_temporary(path) and path.is_file()


def open_image(path, check=None) -> Image.Image:
    """Open and fully decode an image, upright per its EXIF orientation. Raises PainterlyError naming the problem.

    `check(image)` sees the image before it is decoded (its size, mode and `n_frames` are known from the header) and
    may refuse it by raising. The number of frames or pages of a multi-frame file is kept in `info["frames"]`.
    """
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if check:
                    check(image)
                # Pillow decodes 16-bit colour (PNG, TIFF) straight to 8-bit RGB: only the undecoded tiles tell
                deep = image.mode in ("RGB", "RGBA") and any(";16" in str(tile.args) for tile in image.tile)
                image.load()
                upright = ImageOps.exif_transpose(image)
                upright.info["frames"] = getattr(image, "n_frames", 1)
                upright.info["deep_colour"] = deep
                return upright
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


def to_8_bit(image: Image.Image, path) -> tuple[Image.Image, list[str]]:
    """An image in a mode the pipeline stylizes (RGB, RGBA, L, LA, P and kin) and notes on what changed on the way.

    Pillow's own conversions would clip 16-bit gray to white and float pixels to black, and turn CMYK into RGB
    without its colour profile: silent wrong output, so they are scaled, converted or refused here.
    """
    if image.mode == "F" or image.mode.startswith("I"):
        low, high = image.getextrema()
        if image.mode == "F" or low < 0 or high > 65535:
            raise PainterlyError(
                f"{path}: {'floating-point' if image.mode == 'F' else '32-bit'} pixels "
                f"({low:g} to {high:g}); save it as an 8- or 16-bit image first"
            )
        return image.convert("I").point(lambda value: value * (1 / 257)).convert("L"), [
            "16-bit image; stylized and written as 8-bit"
        ]
    if image.info.get("deep_colour"):
        return image, ["16-bit image; stylized and written as 8-bit"]
    if image.mode == "CMYK":
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
            rgb = ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (KeyError, TypeError, OSError, ImageCms.PyCMSError):  # no profile, or one that does not load
            return image.convert("RGB"), [
                "CMYK without a usable colour profile; converted to RGB naively, colours may shift"
            ]
        rgb.info.pop("icc_profile", None)  # the CMYK profile does not describe these pixels
        return rgb, []
    if image.mode not in EIGHT_BIT_MODES:
        raise PainterlyError(f"{path}: unsupported colour mode {image.mode}; save it as RGB or grayscale first")
    return image, []


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


def save_image(image, path, overwrite: bool = True, **save_args) -> None:
    """Write a PIL image or a (3, H, W) float array in [0, 1] atomically; the format follows the extension.

    overwrite=False refuses to replace an existing file (PainterlyError)."""
    if isinstance(image, np.ndarray):
        image = to_pil(image)
    path = Path(path)
    with atomic_path(path, overwrite) as tmp:
        image.save(tmp, format=Image.registered_extensions().get(path.suffix.lower()), **save_args)
