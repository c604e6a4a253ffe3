import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from painterly import PainterlyError
from painterly.config import ROOT, compose_config
from painterly.stylize import johnson
from painterly.stylize.johnson import Johnson
from painterly.stylize.pipeline import (
    build_method,
)

from conftest import make_style_checkpoint, rand, random_image


@pytest.fixture
def method(style_ckpt):
    return Johnson(style_ckpt, device="cpu")


def test_johnson_any_size_batches_and_precisions(method, style_ckpt):
    frames = rand(3, 3, 27, 35)
    batch = method(frames)
    assert batch.shape == frames.shape and batch.dtype == np.float32
    assert np.allclose(batch[1:2], method(frames[1:2]), atol=1e-5)
    for precision in ("fp32", "bf16", "fp16"):  # fp32, bf16: OpenVINO; fp16: eager torch
        assert abs(Johnson(style_ckpt, device="cpu", precision=precision)(frames) - batch).max() < 0.1
    with pytest.raises(PainterlyError, match="too small"):
        method(rand(1, 3, 5, 40))


def test_bad_checkpoints_fail_in_one_line(tmp_path):
    (tmp_path / "corrupt.pt").write_bytes(b"PK\x03\x04 not really a zip")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    cases = {
        tmp_path / "missing.pt": "no such checkpoint",
        tmp_path / "corrupt.pt": "not a loadable checkpoint",
        tmp_path / "other.pt": "not a painterly style checkpoint",
        None: "ckpt= is required",
    }
    for ckpt, reason in cases.items():
        with pytest.raises(PainterlyError, match=reason) as error:
            build_method(compose_config("stylize", [f"ckpt={ckpt}" if ckpt else "ckpt=null"]).method)
        assert "\n" not in str(error.value)


def test_another_checkpoint_gives_another_style(tmp_path, style_ckpt):
    other = make_style_checkpoint(tmp_path / "other.pt", seed=1)
    image = rand(1, 3, 24, 24)
    assert not np.allclose(Johnson(style_ckpt, device="cpu")(image), Johnson(other, device="cpu")(image))


def test_default_engine_matches_eager_torch_and_caches_its_export(tmp_path, style_ckpt, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    image = rand(2, 3, 30, 44)
    default, eager = Johnson(style_ckpt, device="cpu"), Johnson(style_ckpt, device="cpu", engine="torch")
    fp32 = Johnson(style_ckpt, device="cpu", precision="fp32")
    onnxruntime = Johnson(style_ckpt, device="cpu", engine="onnxruntime")
    assert (default.engine, fp32.engine, eager.engine, onnxruntime.engine) == (
        "openvino",
        "openvino",
        "torch",
        "onnxruntime",
    )
    assert default.precision == ("bf16" if johnson.native_bf16() else "fp32") and eager.precision == "fp32"
    assert abs(default(image) - eager(image)).mean() < 1 / 255
    assert abs(fp32(image) - eager(image)).max() < 1e-4 and abs(onnxruntime(image) - eager(image)).max() < 1e-4
    (cached,) = (tmp_path / "cache" / "painterly").glob("*.onnx")  # one export for both runtimes
    good, exports = cached.read_bytes(), []
    monkeypatch.setattr("painterly.export.export_onnx", lambda module, path: exports.append(path.write_bytes(good)))
    assert np.array_equal(Johnson(style_ckpt, device="cpu")(image), default(image)) and not exports  # cache reused
    cached.write_bytes(b"half an onnx file")  # a corrupt cache entry is exported again, not an error
    assert np.array_equal(Johnson(style_ckpt, device="cpu")(image), default(image)) and len(exports) == 1
    assert cached.read_bytes() == good and capsys.readouterr().err == ""
    with pytest.raises(PainterlyError, match="engine=onnxruntime runs fp32 on the CPU without tiles, not bf16"):
        Johnson(style_ckpt, device="cpu", precision="bf16", engine="onnxruntime")
    with pytest.raises(PainterlyError, match="engine=openvino runs fp32 or bf16 .* with tile="):
        Johnson(style_ckpt, device="cpu", tile=64, tile_overlap=16, engine="openvino")


def test_failed_export_falls_back_to_torch_in_one_line(tmp_path, style_ckpt, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def broken(module, path):
        raise RuntimeError("exporter says no\nand more")

    monkeypatch.setattr("painterly.export.export_onnx", broken)
    method = Johnson(style_ckpt, device="cpu")
    assert method.engine == "torch" and method(rand(1, 3, 16, 16)).shape == (1, 3, 16, 16)
    assert capsys.readouterr().err == "painterly: no openvino engine (exporter says no); running eager torch\n"
    assert not list((tmp_path / "cache" / "painterly").iterdir())  # no half-written file left behind


def test_a_cached_style_stylizes_without_importing_torch(tmp_path, style_ckpt, monkeypatch):
    """torch takes over a second to import: a short stylize.py call on a CPU must not pay it once a style is cached."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    Johnson(style_ckpt, device="cpu")  # the first use exports and caches
    random_image("RGB", (40, 30)).save(tmp_path / "in.jpg")
    code = (
        "import sys; from painterly.cli.stylize import main; sys.argv[1:] = sys.argv[2:]\n"
        "try: main()\nexcept SystemExit as e: assert not e.code\nprint('torch' in sys.modules)"
    )
    args = [f"ckpt={style_ckpt}", f"input={tmp_path / 'in.jpg'}", f"output={tmp_path / 'out.jpg'}", "device=cpu"]
    done = subprocess.run([sys.executable, "-c", code, "-", *args], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False" and Image.open(tmp_path / "out.jpg").size == (40, 30)
