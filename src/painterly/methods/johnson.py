"""Johnson et al. (2016): one pass of a style network trained by `python train.py` (configs/method/johnson.yaml).

On a CPU the network runs in OpenVINO (or ONNX Runtime) from an ONNX export made once per checkpoint and cached by
the checkpoint's hash. A cached run never imports torch: that alone is over a second of a short stylize.py call.
"""

import hashlib
import os
import sys
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from painterly import PainterlyError
from painterly.config import ROOT
from painterly.inference.devices import check_precision, device_type, pick_device

CHECKPOINT_DIR = ROOT / "checkpoints"
MIN_SIZE = 8  # the network's reflection pads need at least 2 pixels at quarter resolution
ENGINES = ("auto", "torch", "openvino", "onnxruntime")
EXPORT_VERSION = "2"  # bump when PaddedNet or the export changes: cached exports then get rebuilt


def resolve_checkpoint(ckpt) -> Path:
    """A checkpoint file, a training run dir (its last Lightning checkpoint) or a bare name in checkpoints/."""
    if not ckpt:
        raise PainterlyError("ckpt= is required: a style checkpoint, a training run dir or a name in checkpoints/")
    path = Path(ckpt)
    if path.is_dir():
        path = path / "checkpoints" / "last.ckpt"
    elif not (path.exists() or path.suffix or len(path.parts) > 1):
        path = CHECKPOINT_DIR / f"{ckpt}.pt"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt"))) or "none yet"
            raise PainterlyError(f"no checkpoint named '{ckpt}' in {CHECKPOINT_DIR}; known: {known}")
    if not path.is_file():
        raise PainterlyError(f"{path}: no such checkpoint")
    return path


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "painterly"


def cached_onnx_path(ckpt: Path) -> Path:
    """Where the ONNX export of a checkpoint is cached: named by the sha256 of the file, so no need to load it."""
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    with open(ckpt, "rb") as file:
        digest.update(file.read())
    return cache_dir() / f"{digest.hexdigest()}.onnx"


def exported_onnx(ckpt: Path, fresh: bool = False) -> Path:
    """The ONNX export of a checkpoint, made on its first use (0.2 s, but it imports torch) and then cached."""
    path = cached_onnx_path(ckpt)
    if fresh or not path.is_file():
        from painterly.export import export  # imports torch: only a style's first use pays for it

        export(ckpt, "onnx", path)  # written atomically: a killed export leaves no half file in the cache
    return path


def threads() -> int:
    """OMP_NUM_THREADS when set (it sets torch's threads too); else 0, the engine's own choice (physical cores)."""
    return int(os.environ.get("OMP_NUM_THREADS") or 0)


@cache
def openvino_core():
    import openvino

    return openvino.Core()


def native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX), as OpenVINO sees it."""
    try:
        return "BF16" in openvino_core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # no working OpenVINO: its engine falls back to torch, and fp32 is the safe choice there
        return False


def auto_precision(engine: str, device: str) -> str:
    """The fastest precision within 1/255 of fp32 on average: bf16 on a CPU with bf16 instructions (OpenVINO),
    fp16 on a GPU with tensor cores (compute capability 7.0 or later), fp32 elsewhere."""
    if engine == "openvino":
        return "bf16" if native_bf16() else "fp32"
    if engine == "torch" and device_type(device) == "cuda":
        import torch

        return "fp16" if torch.cuda.get_device_capability(pick_device(device)) >= (7, 0) else "fp32"
    return "fp32"


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


RUNTIMES = {"openvino": OpenVINOEngine, "onnxruntime": OnnxRuntimeEngine}
RUNTIME_PRECISIONS = {"openvino": ("fp32", "bf16"), "onnxruntime": ("fp32",)}


def load_runtime(engine: str, ckpt: Path, precision: str):
    """A runtime engine for `ckpt`; a cached export that no longer loads (truncated, foreign) is exported again."""
    try:
        return RUNTIMES[engine](exported_onnx(ckpt), precision)
    except (PainterlyError, ImportError):
        raise
    except Exception:  # the runtimes raise their own types for a file they cannot read
        return RUNTIMES[engine](exported_onnx(ckpt, fresh=True), precision)


class Johnson:
    """`method(images)`: (B, 3, H, W) float32 RGB in [0, 1] -> stylized, same size. B > 1 runs a batch (video frames).

    engine=auto runs OpenVINO on a CPU, in fp32 or bf16, and eager torch otherwise (CUDA, fp16, tiles); a runtime
    that fails falls back to torch, which gives the same images. precision=auto: see `auto_precision`; on a CPU
    bf16 is about 2x faster than fp32 and 0.4/255 to 0.95/255 from it on average (BENCHMARKS.md).
    """

    def __init__(self, ckpt, device: str = "auto", precision: str = "auto", tile: int | None = None,
                 tile_overlap: int = 32, engine: str = "auto"):
        if tile is not None and not (tile >= 4 * MIN_SIZE and 0 <= tile_overlap < tile // 2):
            raise PainterlyError(f"tile must be at least {4 * MIN_SIZE} and tile_overlap in [0, tile/2), "
                                 f"not tile={tile} tile_overlap={tile_overlap}")
        if engine not in ENGINES:
            raise PainterlyError(f"unknown engine '{engine}'; choose from: {', '.join(ENGINES)}")
        if precision != "auto":
            check_precision(precision)
        self.path = resolve_checkpoint(ckpt)
        on_cpu = device_type(device) == "cpu"
        runs = lambda name, wanted: on_cpu and tile is None and wanted in RUNTIME_PRECISIONS[name]  # noqa: E731
        if engine == "auto":
            engine = "openvino" if runs("openvino", "fp32" if precision == "auto" else precision) else "torch"
        if precision == "auto":
            precision = auto_precision(engine, device)
        if engine != "torch" and not runs(engine, precision):
            raise PainterlyError(f"engine={engine} runs {' or '.join(RUNTIME_PRECISIONS[engine])} on the CPU without "
                                 f"tiles, not {precision} on {device}{' with tile=' if tile else ''}; use engine=torch")
        self.engine, self.precision, self.run = engine, precision, None
        if engine != "torch":
            try:
                self.run = load_runtime(engine, self.path, precision)
            except PainterlyError:
                raise
            except Exception as error:  # the exporter and the runtimes fail in many ways; torch gives the same images
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                print(f"painterly: no {engine} engine ({reason}); running eager torch", file=sys.stderr)
                self.engine = "torch"
        if self.run is None:
            from painterly.methods.eager import TorchEngine

            self.run = TorchEngine(self.path, device, precision, tile, tile_overlap)

    @cached_property
    def record(self) -> dict:
        """The checkpoint's record (style name, thumbnail, steps, ...), read when first asked for."""
        from painterly.io.checkpoint import read_checkpoint

        return read_checkpoint(self.path)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if min(images.shape[-2:]) < MIN_SIZE:
            raise PainterlyError(f"image too small ({images.shape[-1]}x{images.shape[-2]}); "
                                 f"needs at least {MIN_SIZE}x{MIN_SIZE} pixels")
        return self.run(np.ascontiguousarray(images, dtype=np.float32))
