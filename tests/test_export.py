import sys
import warnings

import onnxruntime
import pytest
import torch

from painterly import PainterlyError
from painterly.export import export, main
from painterly.methods.johnson import Johnson

SIZES = [(1, 3, 37, 51), (2, 3, 64, 20)]  # the export traces at 64 x 64


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


def test_torchscript_runs_at_other_sizes_like_eager(tmp_path, style_ckpt):
    path = export(style_ckpt, "torchscript")
    assert path == tmp_path / "tiny.torchscript.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(path))
    eager = Johnson(style_ckpt, device="cpu", engine="torch")
    for size in SIZES:
        image = torch.rand(size)
        with torch.no_grad():
            assert abs(module(image).numpy() - eager(image.numpy())).max() < 1e-5


def test_export_arguments_fail_in_one_line(tmp_path, style_ckpt, monkeypatch, capsys):
    with pytest.raises(PainterlyError, match="unknown format 'tflite'"):
        export(style_ckpt, "tflite")
    for argv, message in [([f"ckpt={tmp_path / 'missing.pt'}"], "no such checkpoint"), (["formats=onnx"], "formats")]:
        monkeypatch.setattr(sys, "argv", ["export.py", *argv])
        with pytest.raises(SystemExit) as exit:
            main()
        err = capsys.readouterr().err
        assert exit.value.code == 1 and err.startswith("export: ") and message in err and err.count("\n") == 1
    assert not list(tmp_path.glob("*.onnx")) and not list(tmp_path.glob(".*"))
