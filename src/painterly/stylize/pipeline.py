"""The stylize pipeline every method shares: inputs to outputs, resizing, strength, preserve_color and failures.

A method only maps RGB batches in [0, 1] to RGB batches, as (B, 3, H, W) float32 numpy arrays (see painterly.methods);
everything around it is here. No torch: a method that needs it imports it.
"""

import glob
import os
import sys
import time
from functools import partial
from itertools import takewhile
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from painterly import PainterlyError
from painterly.config import instantiate
from painterly.stylize.images import (
    IMAGE_EXTENSIONS,
    find_images,
    open_image,
    resize_images,
    save_image,
    to_array,
    to_pil,
)
from painterly.stylize.video import VIDEO_EXTENSIONS, is_video, transform_video

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # BT.601, the Y of YCbCr as JPEG uses it


def build_method(method_cfg):
    """The method that `cfg.method` describes (see painterly.methods)."""
    return instantiate(method_cfg)


def target_size(width: int, height: int, max_size: int | None = None, scale: float | None = None) -> tuple[int, int]:
    """(width, height) times `scale`, then shrunk to `max_size` on the long side when it is longer."""
    factor = scale or 1.0
    if max_size and max(width, height) * factor > max_size:
        factor = max_size / max(width, height)
    return max(1, round(width * factor)), max(1, round(height * factor))


def keep_color(stylized: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The luminance (YCbCr Y) of `stylized` with the chroma (Cb, Cr) of `content`.

    Going back from YCbCr, a change of Y alone moves R, G and B equally, so this is content + Y(stylized) - Y(content).
    """
    return content + np.einsum("...chw,c->...hw", stylized - content, LUMA)[..., None, :, :]


def is_out_of_memory(error: Exception) -> bool:
    """torch's OutOfMemoryError and CPU allocation failures, recognised without importing torch."""
    return (
        isinstance(error, MemoryError)
        or type(error).__name__ == "OutOfMemoryError"
        or "can't allocate memory" in str(error)
    )


def apply(method, content: np.ndarray, strength: float = 1.0, preserve_color: bool = False) -> np.ndarray:
    """Stylize a (B, 3, H, W) float32 batch in [0, 1].

    The result has the size the method returns (content is resized to it)."""
    stylized = np.asarray(method(content), dtype=np.float32)
    if stylized.shape[-2:] != content.shape[-2:]:
        content = resize_images(content, stylized.shape[-2:])
    if preserve_color:
        stylized = keep_color(stylized, content)
    return np.clip(content + (stylized - content) * np.float32(strength), 0, 1)


def stylize_image(method, src, dst, max_size=None, scale=None, strength=1.0, preserve_color=False) -> None:
    """Stylize one image file into `dst` (format by extension). Gray stays gray, alpha is kept, EXIF is applied."""
    image = open_image(src)
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit gray: Pillow's conversions would clip it, so scale
        image = image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    gray = Image.getmodebase(image.mode) == "L"
    alpha = "A" in image.getbands() or "transparency" in image.info
    icc = image.info.get("icc_profile")
    image = image.convert("RGBA" if alpha else "RGB")
    size = target_size(*image.size, max_size, scale)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    result = to_pil(apply(method, to_array(image)[None], strength, preserve_color)[0])
    if gray:
        result = result.convert("L")
    if alpha and Path(dst).suffix.lower() not in (".jpg", ".jpeg"):
        result.putalpha(image.getchannel("A").resize(result.size, Image.Resampling.LANCZOS))
    save_image(result, dst, quality=95, **({"icc_profile": icc} if icc else {}))


def default_output(source: Path, suffix: str = "_stylized") -> Path:
    return source.with_name(f"{source.stem}{suffix}{source.suffix}")


# stylize.py's options: (type, test, what is allowed). None is allowed where the config's default is null.
OPTIONS = {
    "max_size": (int, lambda v: v > 0, "a whole number of pixels above 0"),
    "scale": (float, lambda v: v > 0, "a number above 0"),
    "strength": (float, lambda v: 0 <= v <= 1, "a number from 0 (the photo) to 1 (the full style)"),
    "preserve_color": (bool, lambda v: True, "true or false"),
    "tile": (int, lambda v: v > 0, "a whole number of pixels"),
    "tile_overlap": (int, lambda v: v >= 0, "a whole number of pixels, 0 or more"),
    "batch_size": (int, lambda v: v > 0, "a whole number above 0"),
}


def check_options(cfg) -> None:
    """Every pipeline option of the stylize config, checked before any file is touched: one line naming the key, the
    value and what is allowed."""
    for key, (kind, test, allowed) in OPTIONS.items():
        value = cfg.get(key)
        if value is None and key in ("max_size", "scale", "tile"):
            continue
        right_type = (
            isinstance(value, bool)
            if kind is bool
            else isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool)
        )
        if not (right_type and test(value)):
            raise PainterlyError(f"{key}={value}: must be {allowed}")


def find_jobs(input, output=None) -> list[tuple[Path, Path]]:
    """(source, destination) pairs for an image or video file, a folder or a glob.

    A folder's or glob's images go into the `output` folder under the same relative names.
    """
    if not input:
        raise PainterlyError("input= is required: an image, a video, a folder or a glob")
    source = Path(input)
    if source.is_dir():
        base, files, default = source, find_images(source), default_output(source)
        report_skipped(source)
    elif glob.has_magic(str(input)) and not source.exists():  # a file named photo[1].jpg is that file, not a glob
        base = Path(*takewhile(lambda part: not glob.has_magic(part), source.parts[:-1]))
        files = sorted(
            Path(p)
            for p in glob.glob(str(input), recursive=True)
            if Path(p).suffix.lower() in IMAGE_EXTENSIONS and Path(p).is_file()
        )
        default = Path("stylized")
    else:
        if not source.exists():
            raise PainterlyError(f"{source}: no such file or folder")
        target = Path(output) if output else default_output(source)
        if output and (target.is_dir() or str(output).endswith("/")):
            target = target / source.name
        formats = VIDEO_EXTENSIONS if is_video(source) else IMAGE_EXTENSIONS
        if target.suffix.lower() not in formats:
            raise PainterlyError(f"{target}: unknown output format; use one of {', '.join(formats)}")
        return [(source, target)]
    if not files:
        raise PainterlyError(f"{input}: no images found")
    folder = Path(output) if output else default
    if folder.suffix.lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS:
        raise PainterlyError(f"output={output}: a folder input needs an output folder, not a file")
    return [(file, folder / file.relative_to(base)) for file in files]


def report_skipped(folder: Path) -> None:
    """Say how many files in an input folder are passed over, and why: only images are stylized in a folder."""
    skipped = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() not in IMAGE_EXTENSIONS]
    skipped = [p for p in skipped if not p.name.startswith(".")]  # hidden files (.DS_Store) are no one's photos
    if skipped:
        videos = sum(is_video(p) for p in skipped)
        kinds = ", ".join(sorted({p.suffix.lower() or p.name for p in skipped})[:6])
        why = f"{videos} video(s): give each as input=<video>; " if videos else ""
        print(
            f"stylize: skipping {len(skipped)} file(s) in {folder} that are not {'/'.join(IMAGE_EXTENSIONS)} images "
            f"({kinds}); {why}a folder input stylizes images only",
            file=sys.stderr,
        )


def stylize_files(
    method, jobs, max_size=None, scale=None, strength=1.0, preserve_color=False, batch_size=8, say_where=False
) -> list[str]:
    """Stylize every (source, destination) job, going on past bad files. Prints the failures and a one-line summary,
    which names where the outputs went when `say_where` (the user gave no output=).

    Returns the failures as `file: reason` lines.
    """
    if not 0 <= strength <= 1:
        raise PainterlyError(f"strength must be between 0 and 1, not {strength}")
    failures, done, unit = [], 0, "image"
    start = time.perf_counter()
    for src, dst in tqdm(jobs, unit="image", disable=len(jobs) < 2 or None):
        try:
            if is_video(src):
                frames = transform_video(
                    src,
                    dst,
                    partial(apply, method, strength=strength, preserve_color=preserve_color),
                    batch_size,
                    partial(target_size, max_size=max_size, scale=scale),
                )
                done, unit = done + frames, "frame"
            else:
                stylize_image(method, src, dst, max_size, scale, strength, preserve_color)
                done += 1
        except PainterlyError as error:
            failures.append(str(error) if str(error).startswith(str(src)) else f"{src}: {error}")
        except OSError as error:  # writing: a full disk, a read-only folder
            failures.append(f"{dst}: cannot write ({error.strerror or error})")
        except Exception as error:
            if not is_out_of_memory(error):
                raise
            failures.append(f"{src}: out of memory; try tile=512, max_size= or a smaller precision")
    seconds = time.perf_counter() - start
    for failure in failures:
        print(f"stylize: {failure}", file=sys.stderr)
    speed = f", {seconds / done:.3f} s/{unit}" if done else ""
    where = f"; wrote {os.path.commonpath([str(dst) for _, dst in jobs])}" if say_where and done else ""
    print(f"stylize: done {done} {unit}{'s' * (done != 1)}, failed {len(failures)}{speed}{where}")
    return failures
