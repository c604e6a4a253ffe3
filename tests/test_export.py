import warnings

import onnxruntime
import pytest
import torch

from painterly.export import export
from painterly.stylize.johnson import Johnson

from conftest import make_style_checkpoint

# the export traces at 64 x 64; 1040 px is 260 cells of a noise input, past its field's 256, where it wraps
SIZES = [(1, 3, 37, 51), (2, 3, 64, 20), (1, 3, 12, 1040)]


@pytest.fixture(params=["plain", "noise"])
def style_ckpt(request, tmp_path):
    return make_style_checkpoint(tmp_path / "tiny.pt", noise_channels=8 if request.param == "noise" else 0)


def test_onnx_runs_at_other_sizes_like_eager(tmp_path, style_ckpt):
    path = export(style_ckpt, "onnx", tmp_path / "style.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"]
    eager = Johnson(style_ckpt, device="cpu", engine="torch")
    for size in SIZES:
        image = torch.rand(size).numpy()
        (result,) = session.run(None, {"image": image})
        assert result.shape == size and result.dtype == "float32"
        assert abs(result - eager(image)).max() < 1e-4


def test_torchscript_runs_at_other_sizes_like_eager(tmp_path, style_ckpt, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the user's project: exports go to its exports/, apart from the style checkpoints
    path = export(style_ckpt, "torchscript")
    assert path == tmp_path / "exports" / "tiny.torchscript.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(path))
    eager = Johnson(style_ckpt, device="cpu", engine="torch")
    for size in SIZES:
        image = torch.rand(size)
        with torch.no_grad():
            assert abs(module(image).numpy() - eager(image.numpy())).max() < 1e-5
