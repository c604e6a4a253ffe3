"""The stylize pipeline every method shares: inputs to outputs, resizing, strength, preserve_color and failures.

A method only maps RGB batches in [0, 1] to RGB batches, as (B, 3, H, W) float32 numpy arrays (see painterly.methods);
everything around it is here. No torch: a method that needs it imports it.
"""

import glob
import os
import signal
import sys
import time
from functools import partial
from itertools import takewhile
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from painterly import Interrupted, PainterlyError
from painterly.config import instantiate
from painterly.stylize.files import sweep_temporaries
from painterly.stylize.images import (
    IMAGE_EXTENSIONS,
    find_images,
    is_image_file,
    open_image,
    resize_images,
    save_image,
    to_8_bit,
    to_array,
    to_pil,
)
from painterly.stylize.memory import PIPELINE_BYTES_PER_PIXEL, check_fits, decode_bytes
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
    if not np.isfinite(stylized).all():  # clipping would hide them as black or white pixels
        raise PainterlyError("the method's result has non-finite values (NaN or infinity); try precision=fp32")
    if stylized.shape[-2:] != content.shape[-2:]:
        content = resize_images(content, stylized.shape[-2:])
    if preserve_color:
        stylized = keep_color(stylized, content)
    return np.clip(content + (stylized - content) * np.float32(strength), 0, 1)


def working_bytes(method, width: int, height: int, batch: int = 1) -> int:
    """The memory that stylizing `batch` images of this size takes: the method's own estimate when it has one."""
    if hasattr(method, "working_bytes"):
        return method.working_bytes(width, height, batch)
    return PIPELINE_BYTES_PER_PIXEL * width * height * batch


def memory_check(method, src, max_size=None, scale=None, batch: int = 1):
    """`check(width, height, mode=None)`: refuses `src` in one line when decoding it in `mode` (None: already
    decoded, a video frame) and stylizing it at the size max_size and scale give does not fit in memory."""

    def check(width, height, mode=None):
        size = target_size(width, height, max_size, scale)
        check_fits(
            src,
            decode_bytes(width, height, mode) if mode else 0,
            working_bytes(method, *size, batch),
            max(size),
            tile_hint=getattr(method, "tile", None) is None,
        )
        return size

    return check


def stylize_image(
    method, src, dst, max_size=None, scale=None, strength=1.0, preserve_color=False, overwrite=False
) -> list[str]:
    """Stylize one image file into `dst` (format by extension). Gray stays gray, alpha is kept, EXIF is applied.

    Returns notes on what the output does not carry over from the input (frames, bit depth, colour profile).
    """
    fits = memory_check(method, src, max_size, scale)
    image, notes = to_8_bit(open_image(src, check=lambda header: fits(*header.size, header.mode)), src)
    if image.info.get("frames", 1) > 1:
        notes.append(f"{image.info['frames']} frames or pages; only the first is stylized")
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
    save_image(result, dst, overwrite, quality=95, **({"icc_profile": icc} if icc else {}))
    return notes


def default_output(source: Path, suffix: str = "_stylized") -> Path:
    return source.with_name(f"{source.stem}{suffix}{source.suffix}")


# stylize.py's options: (type, test, what is allowed). None is allowed where the config's default is null.
OPTIONS = {
    "max_size": (int, lambda v: v > 0, "a whole number of pixels above 0"),
    "scale": (float, lambda v: v > 0, "a number above 0"),
    "strength": (float, lambda v: 0 <= v <= 1, "a number from 0 (the photo) to 1 (the full style)"),
    "preserve_color": (bool, lambda v: True, "true or false"),
    "overwrite": (bool, lambda v: True, "true or false"),
    "skip_existing": (bool, lambda v: True, "true or false"),
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


def find_jobs(input, output=None, overwrite: bool = False, skip_existing: bool = False) -> list[tuple[Path, Path]]:
    """(source, destination) pairs for an image or video file, a folder or a glob.

    A folder's or glob's images go into the `output` folder under the same relative names; an output folder inside
    the input is not read from. No destination is an input, and none exists unless `overwrite`; `skip_existing`
    drops the jobs whose output exists (outputs are written whole or not at all, so an interrupted run goes on).
    """
    if overwrite and skip_existing:
        raise PainterlyError("overwrite=true and skip_existing=true: choose one (replace outputs, or keep them)")
    jobs = list_jobs(input, output)
    refuse_overwriting_inputs(jobs, output)
    if skip_existing:
        todo = [(src, dst) for src, dst in jobs if not dst.exists()]
        if len(todo) < len(jobs):
            print(f"stylize: skipping {len(jobs) - len(todo)} of {len(jobs)} whose output exists", file=sys.stderr)
        return todo
    if not overwrite:
        refuse_existing_outputs(jobs)
    return jobs


def list_jobs(input, output=None) -> list[tuple[Path, Path]]:
    if not input:
        raise PainterlyError("input= is required: an image, a video, a folder or a glob")
    source = Path(input)
    if source.is_dir():
        base, files, default = source, find_images(source), default_output(source)
        report_skipped(source)
    elif glob.has_magic(str(input)) and not source.exists():  # a file named photo[1].jpg is that file, not a glob
        base = Path(*takewhile(lambda part: not glob.has_magic(part), source.parts[:-1]))
        files = sorted(Path(p) for p in glob.glob(str(input), recursive=True) if is_image_file(Path(p)))
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
    folder = Path(output) if output else default
    if folder.suffix.lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS:
        raise PainterlyError(f"output={output}: a folder input needs an output folder, not a file")
    if folder.resolve() == base.resolve():
        raise PainterlyError(
            f"output={folder}: is the input folder, its photos would be overwritten; choose another output folder"
        )
    if folder.resolve().is_relative_to(base.resolve()):  # an output folder inside the input holds earlier outputs
        files = [file for file in files if not file.resolve().is_relative_to(folder.resolve())]
    if not files:
        raise PainterlyError(f"{input}: no images found")
    return [(file, folder / file.relative_to(base)) for file in files]


def refuse_overwriting_inputs(jobs, output) -> None:
    """Refuse any destination that is one of the inputs (the same file by any path: links, `..`, case)."""
    inputs = {file_id(src): src for src, _ in jobs}
    for _, dst in jobs:
        if dst.exists() and file_id(dst) in inputs:
            raise PainterlyError(
                f"output={output}: would overwrite the input {inputs[file_id(dst)]}; choose another output"
            )


def file_id(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


def refuse_existing_outputs(jobs) -> None:
    existing = [dst for _, dst in jobs if dst.exists()]
    if existing:
        more = f" (and {len(existing) - 1} other outputs)" if len(existing) > 1 else ""
        raise PainterlyError(
            f"{existing[0]}: already exists{more}; give overwrite=true to replace, or skip_existing=true to keep "
            f"{'them' if more else 'it'} and stylize the rest"
        )


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
    method,
    jobs,
    max_size=None,
    scale=None,
    strength=1.0,
    preserve_color=False,
    batch_size=8,
    overwrite=False,
    say_where=False,
) -> list[str]:
    """Stylize every (source, destination) job, going on past bad files. Prints the failures and a one-line summary,
    which names where the outputs went when `say_where` (the user gave no output=).

    Returns the failures as `file: reason` lines. Notes on what an output does not carry over are printed as they
    come. SIGINT/SIGTERM (Interrupted) leave no partial file: the write in progress is removed on the way out.
    """
    if not 0 <= strength <= 1:
        raise PainterlyError(f"strength must be between 0 and 1, not {strength}")
    sweep_folders({dst.parent for _, dst in jobs})
    failures, done, unit = [], 0, "image"
    start = time.perf_counter()
    for src, dst in tqdm(jobs, unit="image", disable=len(jobs) < 2 or None):
        try:
            if is_video(src):
                fn = partial(apply, method, strength=strength, preserve_color=preserve_color)
                size = memory_check(method, src, max_size, scale, batch_size)
                done, unit = done + transform_video(src, dst, fn, batch_size, size, overwrite), "frame"
            else:
                for note in stylize_image(method, src, dst, max_size, scale, strength, preserve_color, overwrite):
                    print(f"stylize: {src}: warning: {note}", file=sys.stderr)
                done += 1
        except PainterlyError as error:
            failures.append(str(error) if str(error).startswith((str(src), str(dst))) else f"{src}: {error}")
        except OSError as error:  # writing: a full disk, a read-only folder
            failures.append(f"{dst}: cannot write ({error.strerror or error})")
        except KeyboardInterrupt as stop:
            doing = f"while writing {dst} (not written, no partial file left); done {done} {unit}{'s' * (done != 1)}"
            rerun = "skip_existing=true" + (" instead of overwrite=true" if overwrite else "")
            doing += f"; run it again with {rerun} to go on" if len(jobs) > 1 else ""
            raise Interrupted(getattr(stop, "signum", signal.SIGINT), doing) from None
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


def sweep_folders(folders) -> None:
    """Remove what killed runs (kill -9, a power cut) left half-written in the output folders."""
    for folder in sorted(folders):
        if folder.is_dir():
            removed = sweep_temporaries(folder)
            if removed:
                print(
                    f"stylize: {folder}: removed {len(removed)} temporary file{'s' * (len(removed) != 1)} "
                    "left by a killed run",
                    file=sys.stderr,
                )
