"""Johnson et al. (2016): one pass of a style network trained by `python train.py` (configs/method/johnson.yaml)."""

import hashlib
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from painterly import PainterlyError
from painterly.config import ROOT
from painterly.inference import pick_device, pick_dtype, tiled
from painterly.io.checkpoint import load_style
from painterly.io.files import atomic_path

CHECKPOINT_DIR = ROOT / "checkpoints"
MIN_SIZE = 8  # the network's reflection pads need at least 2 pixels at quarter resolution
ENGINES = ("auto", "torch", "onnxruntime")
EXPORT_VERSION = "1"  # bump when PaddedNet or the export changes: cached exports then get rebuilt


def resolve_checkpoint(ckpt) -> Path:
    """A checkpoint file, a training run dir (its last Lightning checkpoint) or a bare name in checkpoints/."""
    if not ckpt:
        raise PainterlyError("ckpt= is required: a style checkpoint, a training run dir or a name in checkpoints/")
    path = Path(ckpt)
    if path.is_dir():
        return path / "checkpoints" / "last.ckpt"
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    named = CHECKPOINT_DIR / f"{ckpt}.pt"
    if not named.exists():
        known = ", ".join(sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt"))) or "none yet"
        raise PainterlyError(f"no checkpoint named '{ckpt}' in {CHECKPOINT_DIR}; known: {known}")
    return named


class PaddedNet(nn.Module):
    """A style network that takes any height and width: reflection-pads to a multiple of 4, crops back, clamps.

    This is also the module that gets exported, so ONNX and TorchScript users get the same behaviour.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2], x.shape[-1]
        padded = F.pad(x, (0, (4 - width % 4) % 4, 0, (4 - height % 4) % 4), mode="reflect")
        return self.net(padded)[..., :height, :width].clamp(0, 1)


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "painterly"


def content_hash(net: nn.Module) -> str:
    """sha256 of the weights (names, shapes, values): the same style saved twice, or by a training run, hashes alike."""
    digest = hashlib.sha256(f"{EXPORT_VERSION} {torch.__version__}".encode())
    for name, tensor in net.state_dict().items():
        digest.update(f"{name} {tuple(tensor.shape)} {tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def onnx_session(net: nn.Module):
    """An ONNX Runtime CPU session of `net`, exported once per set of weights and cached (export takes seconds)."""
    import onnxruntime  # here, not at the top: a missing or broken onnxruntime then falls back to torch
    from painterly.export import export_onnx  # here: painterly.export imports this module

    path = cache_dir() / f"{content_hash(net)}.onnx"
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # physical cores, or what OMP_NUM_THREADS says
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting between images
    load = lambda: onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])  # noqa: E731
    if path.is_file():
        try:
            return load()
        except Exception:  # onnxruntime raises its own types for a truncated or foreign file: export it again
            pass
    with atomic_path(path) as tmp:
        export_onnx(net, tmp)
    return load()


@contextmanager
def pooled_norm_stats(net: nn.Module, first_pass):
    """Within: each instance norm layer of `net` normalizes with its input statistics pooled over `first_pass()`."""
    sums = {m: [0, 0, 0] for m in net.modules() if isinstance(m, nn.InstanceNorm2d)}  # pixels, sum, sum of squares

    def record(module, args):
        x, (count, total, squares) = args[0].float(), sums[module]
        sums[module] = [count + x[:, 0].numel(), total + x.sum((0, 2, 3), dtype=torch.float64),
                        squares + x.square().sum((0, 2, 3), dtype=torch.float64)]

    hooks = [m.register_forward_pre_hook(record) for m in sums]
    try:
        first_pass()
    finally:
        for hook in hooks:
            hook.remove()
    for module, (count, total, squares) in sums.items():
        mean, dtype = total / count, module.weight.dtype
        variance = (squares / count - mean.square()).clamp(min=0)
        module.running_mean, module.running_var = mean.to(dtype), variance.to(dtype)
        module.track_running_stats = True  # in eval mode: normalize with running_mean and running_var
    try:
        yield
    finally:
        for module in sums:
            module.running_mean = module.running_var = None
            module.track_running_stats = False


class Johnson:
    """`method(images)`: (B, 3, H, W) RGB in [0, 1] -> stylized, same size. B > 1 runs a batch (video frames).

    engine=auto runs ONNX Runtime for fp32 on CPU (several times faster than eager torch there, see BENCHMARKS.md)
    and torch otherwise: under inference_mode, channels_last on CUDA, in the dtype that `precision` gives.
    """

    def __init__(self, ckpt, device: str = "auto", precision: str = "fp32", tile: int | None = None,
                 tile_overlap: int = 32, engine: str = "auto"):
        if tile is not None and not (tile >= 4 * MIN_SIZE and 0 <= tile_overlap < tile // 2):
            raise PainterlyError(f"tile must be at least {4 * MIN_SIZE} and tile_overlap in [0, tile/2), "
                                 f"not tile={tile} tile_overlap={tile_overlap}")
        if engine not in ENGINES:
            raise PainterlyError(f"unknown engine '{engine}'; choose from: {', '.join(ENGINES)}")
        self.device, self.dtype = pick_device(device), pick_dtype(precision)
        cpu_fp32 = self.device.type == "cpu" and self.dtype == torch.float32
        if engine == "onnxruntime" and not cpu_fp32:
            raise PainterlyError(f"engine=onnxruntime runs fp32 on the CPU only, not {precision} on {self.device}; "
                                 "use engine=torch")
        net, self.record = load_style(resolve_checkpoint(ckpt))
        # channels_last suits CUDA's convolutions; on CPU eager it measured ~10% slower than NCHW
        self.layout = torch.channels_last if self.device.type == "cuda" else torch.contiguous_format
        self.net = PaddedNet(net).to(self.device, self.dtype, memory_format=self.layout).eval()
        self.tile, self.tile_overlap, self.session = tile, tile_overlap, None
        if engine != "torch" and cpu_fp32:
            try:
                self.session = onnx_session(self.net)
            except Exception as error:  # the exporter fails in many ways; eager torch gives the same images
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                print(f"painterly: no ONNX Runtime engine ({reason}); running eager torch", file=sys.stderr)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.device, self.dtype, memory_format=self.layout)
        return self.net(images).float()

    def tiled(self, image: torch.Tensor) -> torch.Tensor:
        """One image tile by tile, in two passes.

        Instance norm would give each tile its own colours and contrast, and the seams would show. So a first pass
        pools every norm layer's statistics over all tiles, and the second normalizes every tile with them.
        """
        run = lambda: tiled(self.forward, image, self.tile, self.tile_overlap)  # noqa: E731
        with pooled_norm_stats(self.net, run):
            return run()

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if min(images.shape[-2:]) < MIN_SIZE:
            raise PainterlyError(f"image too small ({images.shape[-1]}x{images.shape[-2]}); "
                                 f"needs at least {MIN_SIZE}x{MIN_SIZE} pixels")
        images = images.float()
        if self.tile and max(images.shape[-2:]) > self.tile:  # torch engine: pooled_norm_stats hooks its modules
            return torch.cat([self.tiled(image[None]) for image in images])
        if self.session is not None:
            return torch.from_numpy(self.session.run(None, {"image": images.contiguous().numpy()})[0])
        return self.forward(images)
