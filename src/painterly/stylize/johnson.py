"""Johnson et al. (2016): one pass of a style network trained by `python train.py` (configs/method/johnson.yaml).

On a CPU the network runs in OpenVINO (or ONNX Runtime) from an ONNX export made once per checkpoint and cached by
the checkpoint's hash (painterly.stylize.onnx_engines); elsewhere in the torch engine (painterly.methods.torch_engine).
"""

import sys
from functools import cached_property

import numpy as np

from painterly import PainterlyError, first_line
from painterly.stylize.checkpoints import resolve_checkpoint
from painterly.stylize.devices import check_precision, check_tile, device_type, native_bf16, pick_device
from painterly.stylize.onnx_engines import ONNX_ENGINE_PRECISIONS, load_onnx_engine

MIN_SIZE = 8  # the network's reflection pads need at least 2 pixels at quarter resolution
ENGINES = ("auto", "torch", "openvino", "onnxruntime")
# Peak memory per pixel of one untiled image, pipeline included: 645 bytes measured with OpenVINO and 779 with eager
# torch (fp32, width-32 network, 1 and 4 megapixels; docs/reliability.md), rounded up.
BYTES_PER_PIXEL = 800


def auto_precision(engine: str, device: str) -> str:
    """The fastest precision within 1/255 of fp32 on average: bf16 on a CPU with bf16 instructions (OpenVINO),
    fp16 on a GPU with tensor cores (compute capability 7.0 or later), fp32 elsewhere."""
    if engine == "openvino":
        return "bf16" if native_bf16() else "fp32"
    if engine == "torch" and device_type(device) == "cuda":
        import torch

        return "fp16" if torch.cuda.get_device_capability(pick_device(device)) >= (7, 0) else "fp32"
    return "fp32"


class Johnson:
    """`method(images)`: (B, 3, H, W) float32 RGB in [0, 1] -> stylized, same size. B > 1 runs a batch (video frames).

    engine=auto runs OpenVINO on a CPU, in fp32 or bf16, and torch otherwise (CUDA, fp16, tiles); an ONNX engine
    that fails falls back to torch, which gives the same images. precision=auto: see `auto_precision`; on a CPU
    bf16 is about 2x faster than fp32 and 0.4/255 to 0.95/255 from it on average (BENCHMARKS.md).
    """

    def __init__(
        self,
        ckpt,
        device: str = "auto",
        precision: str = "auto",
        tile: int | None = None,
        tile_overlap: int = 32,
        engine: str = "auto",
    ):
        check_tile(tile, tile_overlap, min_tile=4 * MIN_SIZE)
        if engine not in ENGINES:
            raise PainterlyError(f"unknown engine '{engine}'; choose from: {', '.join(ENGINES)}")
        if precision != "auto":
            check_precision(precision)
        self.path = resolve_checkpoint(ckpt)
        on_cpu = device_type(device) == "cpu"

        def onnx_runs(name, wanted):
            return on_cpu and tile is None and wanted in ONNX_ENGINE_PRECISIONS[name]

        if engine == "auto":
            engine = "openvino" if onnx_runs("openvino", "fp32" if precision == "auto" else precision) else "torch"
        if precision == "auto":
            precision = auto_precision(engine, device)
        if on_cpu and precision == "fp16":  # CPUs compute fp16 in software: many times slower than fp32
            best = "bf16" if native_bf16() else "fp32"
            print(f"stylize: precision=fp16 is slow on a CPU; use precision=auto (here {best})", file=sys.stderr)
        if engine != "torch" and not onnx_runs(engine, precision):
            raise PainterlyError(
                f"engine={engine} runs {' or '.join(ONNX_ENGINE_PRECISIONS[engine])} on the CPU "
                f"without tiles, not {precision} on {device}{' with tile=' if tile else ''}; "
                "use engine=torch"
            )
        self.engine, self.precision, self.tile, self.net = engine, precision, tile, None
        if engine != "torch":
            try:
                self.net = load_onnx_engine(engine, self.path, precision)
            except PainterlyError:
                raise
            except Exception as error:  # the exporter and the engines fail in many ways; torch gives the same images
                print(f"painterly: no {engine} engine ({first_line(error)}); running eager torch", file=sys.stderr)
                self.engine = "torch"
        if self.net is None:
            from painterly.methods.torch_engine import TorchEngine

            self.net = TorchEngine(self.path, device, precision, tile, tile_overlap)

    @cached_property
    def record(self) -> dict:
        """The checkpoint's record (style name, thumbnail, steps, ...), read when first asked for (imports torch)."""
        from painterly.io.checkpoint import read_checkpoint

        return read_checkpoint(self.path)

    def working_bytes(self, width: int, height: int, batch: int = 1) -> int:
        """About how much memory stylizing `batch` images of this size takes: tiles bound the network's share."""
        if self.tile and max(width, height) > self.tile:
            from painterly.stylize.memory import PIPELINE_BYTES_PER_PIXEL

            return BYTES_PER_PIXEL * self.tile**2 + (PIPELINE_BYTES_PER_PIXEL + 8) * width * height * batch
        return BYTES_PER_PIXEL * width * height * batch

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if min(images.shape[-2:]) < MIN_SIZE:
            raise PainterlyError(
                f"image too small ({images.shape[-1]}x{images.shape[-2]}); needs at least {MIN_SIZE}x{MIN_SIZE} pixels"
            )
        return self.net(np.ascontiguousarray(images, dtype=np.float32))
