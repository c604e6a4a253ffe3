import numpy as np
import pytest
import torch

from painterly import PainterlyError
from painterly.methods.tiling import tiled
from painterly.methods.torch_engine import TorchEngine
from painterly.stylize.johnson import Johnson

from conftest import make_style_checkpoint, rand
from helpers.run_if import run_if


def test_tiled_johnson_normalizes_all_tiles_alike(style_ckpt):
    image = rand(2, 3, 96, 80)
    plain = Johnson(style_ckpt, device="cpu", engine="torch")
    tiles = Johnson(style_ckpt, device="cpu", tile=48, tile_overlap=16)
    result, expected = tiles(image), plain(image)
    assert tiles.engine == "torch" and result.shape == image.shape and result.min() >= 0 and result.max() <= 1
    # each tile with its own instance norm statistics: what seams are made of
    with torch.inference_mode():
        frames = torch.from_numpy(image)
        naive = torch.cat([tiled(plain.net.forward, frame[None], 48, 16) for frame in frames]).numpy()
    assert abs(result - expected).mean() < 0.85 * abs(naive - expected).mean()
    assert not any(m.track_running_stats for m in tiles.net.net.modules() if isinstance(m, torch.nn.InstanceNorm2d))
    assert np.array_equal(Johnson(style_ckpt, device="cpu", tile=96)(image), expected)  # one tile: no tiling
    with pytest.raises(PainterlyError, match="tile"):
        Johnson(style_ckpt, tile=64, tile_overlap=40)


def test_tiles_of_a_noise_input_read_the_field_where_they_lie(tmp_path, monkeypatch):
    style = make_style_checkpoint(tmp_path / "noisy.pt", noise_channels=8)
    image = rand(1, 3, 96, 120)
    whole = Johnson(style, device="cpu", engine="torch")(image)
    tiles = Johnson(style, device="cpu", tile=48, tile_overlap=16)
    placed = abs(tiles(image) - whole).mean()
    forward = TorchEngine.forward
    monkeypatch.setattr(TorchEngine, "forward", lambda self, images, offset=(0, 0): forward(self, images))
    assert placed < 0.5 * abs(tiles(image) - whole).mean()  # every tile reading the field's corner: strokes move


@run_if(gpu=True)
def test_fp16_on_cuda_stays_within_a_level_of_fp32(style_ckpt):
    image = rand(2, 3, 40, 56)
    exact = Johnson(style_ckpt, device="cpu", engine="torch", precision="fp32")(image)
    half = Johnson(style_ckpt, device="cuda", precision="fp16")
    assert half.engine == "torch" and half.net.device.type == "cuda" and half.net.dtype == torch.float16
    result = half(image)
    assert result.dtype == np.float32 and result.shape == image.shape
    assert abs(result - exact).mean() < 1 / 255
