"""Will an image fit in memory? Asked before it is decoded: a decompression bomb (200 megapixels in a few hundred
kilobytes) would otherwise grow the process until the kernel kills it, and the rest of a folder with it."""

import math
import resource
from pathlib import Path

from painterly import PainterlyError

# Bytes per working pixel of the pipeline around a method: the RGB(A) copy, content, result, blend, clip (float32)
# and the uint8 output. Counted from painterly.stylize.pipeline, rounded up.
PIPELINE_BYTES_PER_PIXEL = 64
GB = 1e9


def meminfo_available() -> int:
    """MemAvailable of /proc/meminfo: what can be allocated without swapping."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 62  # not Linux: no figure to go by


def address_space_left() -> int:
    """What RLIMIT_AS (`ulimit -v`) leaves of this process's address space."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return 1 << 62
    try:
        status = Path("/proc/self/status").read_text()
        used = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        used = 0
    return soft - used


def cgroup_left() -> int:
    """What a container's memory limit (cgroup v2 memory.max) leaves."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            return int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text())
    except (OSError, ValueError):
        pass
    return 1 << 62


def available_memory() -> int:
    return min(meminfo_available(), address_space_left(), cgroup_left())


def decode_bytes(width: int, height: int, mode: str) -> int:
    """A decoded image in `mode` and its RGB(A) copy, at full size: resizing comes after decoding."""
    from PIL import Image

    try:
        bands = Image.getmodebands(mode)
    except (KeyError, ValueError):
        bands = 4
    depth = 4 if mode in ("I", "F") else 2 if mode.startswith("I;16") else 1
    return width * height * (bands * depth + 4)


def check_fits(
    path, decoded: int, working: int, long_side: int, tile_hint: bool = True, available: int | None = None
) -> None:
    """Refuse `path` in one line when decoding it (`decoded` bytes) and stylizing it at a working size whose long
    side is `long_side` (`working` bytes) need more memory than there is, suggesting a max_size= that would fit."""
    available = available_memory() if available is None else available
    needed = decoded + working
    if needed <= available:
        return
    if decoded >= available:
        raise PainterlyError(
            f"{path}: decoding it needs about {needed / GB:.1f} GB, {available / GB:.1f} GB "
            "available; shrink it with another tool first"
        )
    scale = math.sqrt((available - decoded) / working)  # the working set grows with the square of the long side
    hint = f"try max_size={max(64, int(long_side * scale * 0.9) // 64 * 64)}" + (" or tile=512" if tile_hint else "")
    raise PainterlyError(
        f"{path}: needs about {needed / GB:.1f} GB to stylize, {available / GB:.1f} GB available; {hint}"
    )
