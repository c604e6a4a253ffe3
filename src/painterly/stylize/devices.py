"""Devices, precisions and tiles by name, and what the CPU can do. torch is imported only when a torch device or
dtype is asked for: stylize.py's cached ONNX path on a CPU never imports it, and importing it takes over a second."""

import platform
import sys
from functools import cache
from pathlib import Path

from painterly import PainterlyError

PRECISIONS = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def has_cuda() -> bool:
    """Whether torch sees a CUDA (or ROCm) GPU, answered without torch on machines that surely have none."""
    surely_none = sys.platform == "darwin" or (
        sys.platform.startswith("linux") and not Path("/proc/driver/nvidia").exists() and not Path("/dev/kfd").exists()
    )
    if surely_none and "torch" not in sys.modules:
        return False
    import torch

    return torch.cuda.is_available()


def device_type(name: str | None = "auto") -> str:
    """'cpu' or 'cuda' for a device name (auto, cpu, cuda, cuda:1)."""
    if name in (None, "auto"):
        return "cuda" if has_cuda() else "cpu"
    kind = str(name).split(":")[0]
    if kind not in ("cpu", "cuda"):
        raise PainterlyError(f"unknown device '{name}'; use auto, cpu or cuda")
    if kind == "cuda" and not has_cuda():
        raise PainterlyError(f"device={name}, but no CUDA GPU is available; use device=auto or device=cpu")
    return kind


def pick_device(name: str | None = "auto"):
    import torch

    kind = device_type(name)
    try:
        return torch.device(kind if name in (None, "auto") else name)
    except RuntimeError:
        raise PainterlyError(f"unknown device '{name}'; use auto, cpu or cuda") from None


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise PainterlyError(f"unknown precision '{precision}'; choose from: {', '.join(PRECISIONS)}")
    return precision


def pick_dtype(precision: str = "fp32"):
    import torch

    return getattr(torch, PRECISIONS[check_precision(precision)])


def check_tile(tile: int | None, overlap: int, min_tile: int = 1) -> None:
    """Tiles overlap by less than half a tile, so that every pixel has a tile where it is not in a feathered band."""
    if tile is not None and not (tile >= min_tile and 0 <= overlap < tile / 2):
        raise PainterlyError(
            f"tile must be at least {min_tile} and tile_overlap in [0, tile/2), not tile={tile} tile_overlap={overlap}"
        )


@cache
def openvino_core():
    import openvino

    return openvino.Core()


def native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX), as OpenVINO sees it. The one bf16 check:
    training's CPU precision (configs/trainer/cpu.yaml) and stylize's precision=auto both read it."""
    try:
        return "BF16" in openvino_core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # no working OpenVINO: its engine falls back to torch, and fp32 is the safe choice there
        return False


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
