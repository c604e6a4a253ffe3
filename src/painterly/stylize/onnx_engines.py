"""The johnson network from its ONNX export, in OpenVINO or ONNX Runtime on the CPU. No torch once it is cached."""

import os
from pathlib import Path

import numpy as np

from painterly import PainterlyError
from painterly.stylize.checkpoints import cached_onnx_path
from painterly.stylize.devices import openvino_core


def threads() -> int:
    """OMP_NUM_THREADS when set (it sets torch's threads too); else 0, the engine's own choice (physical cores)."""
    return int(os.environ.get("OMP_NUM_THREADS") or 0)


class OpenVINOEngine:
    """OpenVINO on the CPU: Winograd convolutions in fp32, and hardware bf16 where the CPU has it."""

    def __init__(self, onnx: Path, precision: str = "fp32"):
        config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32"}
        if threads():
            config["INFERENCE_NUM_THREADS"] = threads()
        self.request = openvino_core().compile_model(str(onnx), "CPU", config).create_infer_request()

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.request.infer({0: images})[0].copy()  # the request reuses its output buffer


class OnnxRuntimeEngine:
    def __init__(self, onnx: Path, precision: str = "fp32"):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting between images
        self.session = onnxruntime.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"image": images})[0]


ONNX_ENGINES = {"openvino": OpenVINOEngine, "onnxruntime": OnnxRuntimeEngine}
ONNX_ENGINE_PRECISIONS = {"openvino": ("fp32", "bf16"), "onnxruntime": ("fp32",)}


def exported_onnx(ckpt: Path, fresh: bool = False) -> Path:
    """The cached ONNX export of a checkpoint; a style's first use makes it (0.2 s, but that imports torch)."""
    path = cached_onnx_path(ckpt)
    if fresh or not path.is_file():
        from painterly.export import cache_onnx  # the torch side: only a style's first use pays for it

        cache_onnx(ckpt)
    return path


def load_onnx_engine(engine: str, ckpt: Path, precision: str):
    """An ONNX engine for `ckpt`; a cached export that no longer loads (truncated, foreign) is exported again."""
    try:
        return ONNX_ENGINES[engine](exported_onnx(ckpt), precision)
    except (PainterlyError, ImportError):
        raise
    except Exception:  # the engines raise their own types for a file they cannot read
        return ONNX_ENGINES[engine](exported_onnx(ckpt, fresh=True), precision)
