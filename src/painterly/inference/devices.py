"""Devices and precisions by name. torch is imported only when a torch device or dtype is asked for: stylize.py's
cached ONNX path on a CPU never imports it, and importing it takes over a second."""

import sys
from pathlib import Path

from painterly import PainterlyError

PRECISIONS = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def has_cuda() -> bool:
    """Whether torch sees a CUDA (or ROCm) GPU, answered without torch on machines that surely have none."""
    surely_none = sys.platform == "darwin" or (
        sys.platform.startswith("linux") and not Path("/proc/driver/nvidia").exists() and not Path("/dev/kfd").exists())
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
