import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import make_style_checkpoint, write_bad_images, write_photos
from omegaconf import OmegaConf
from PIL import Image, ImageOps

from painterly import PainterlyError
from painterly.config import ROOT, compose_config
from painterly.inference import apply, build_method, find_jobs, keep_color, run, stylize_image, target_size
from painterly.inference.devices import device_type, has_cuda, pick_device, pick_dtype
from painterly.inference.tiling import tiled
from painterly.io.images import resize_images, to_pixels
from painterly.methods import johnson
from painterly.methods.johnson import Johnson


@pytest.fixture
def method(style_ckpt):
    return Johnson(style_ckpt, device="cpu")


def rand(*shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


class Shift:
    """A stand-in method: adds a constant, optionally at another size."""

    def __init__(self, amount=0.1, size=None):
        self.amount, self.size = amount, size

    def __call__(self, image):
        out = image + self.amount
        return resize_images(out, self.size) if self.size else out


def random_image(mode, size, seed=0):
    channels = len(Image.new(mode, (1, 1)).getbands())
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    return Image.fromarray(pixels.squeeze(-1)).convert(mode) if channels == 1 else Image.fromarray(pixels, mode)


@pytest.mark.parametrize(("mode", "size", "out_mode"), [
    ("RGB", (37, 29), "RGB"), ("L", (33, 21), "L"), ("RGBA", (30, 22), "RGBA"), ("LA", (17, 9), "LA"),
])
def test_size_mode_and_alpha_kept(tmp_path, method, mode, size, out_mode):
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    random_image(mode, size).save(src)
    stylize_image(method, src, dst)
    out, original = Image.open(dst), Image.open(src)
    assert out.size == size and out.mode == out_mode
    if "A" in mode:
        assert out.getchannel("A").tobytes() == original.getchannel("A").tobytes()


def test_16_bit_gray_is_scaled_not_clipped(tmp_path, method):
    deep = (torch.arange(32 * 48).reshape(32, 48) * 40).numpy().astype("uint16")  # up to 61400 of 65535
    Image.fromarray(deep).save(tmp_path / "deep.png")
    stylize_image(method, tmp_path / "deep.png", tmp_path / "out.png", strength=0)
    out = Image.open(tmp_path / "out.png")
    assert out.mode == "L" and out.getextrema()[0] == 0 and out.getextrema()[1] in (238, 239)


def test_palette_with_transparency_keeps_it(tmp_path, method):
    src, dst = tmp_path / "in.png", tmp_path / "out.webp"
    image = random_image("RGB", (24, 20)).quantize(8)
    image.save(src, transparency=0)
    stylize_image(method, src, dst)
    out = Image.open(dst)
    assert out.size == (24, 20) and out.mode == "RGBA" and out.format == "WEBP"
    assert out.getchannel("A").getextrema() == (0, 255)


def test_exif_orientation_is_applied(tmp_path, method):
    src = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown rotated by 90 degrees
    random_image("RGB", (40, 24)).save(src, exif=exif)
    stylize_image(method, src, tmp_path / "styled.png")
    stylize_image(method, src, tmp_path / "same.png", strength=0)
    assert Image.open(tmp_path / "styled.png").size == (24, 40)
    upright = ImageOps.exif_transpose(Image.open(src)).convert("RGB")
    assert Image.open(tmp_path / "same.png").tobytes() == upright.tobytes()


def test_strength_zero_returns_the_input_and_blends_between(tmp_path, method):
    src = tmp_path / "in.png"
    random_image("RGB", (45, 31)).save(src)
    stylize_image(method, src, tmp_path / "out.png", strength=0)
    assert Image.open(tmp_path / "out.png").tobytes() == Image.open(src).tobytes()

    content = rand(1, 3, 16, 16) * 0.5
    assert np.allclose(apply(Shift(0.2), content, strength=0.25), content + 0.05)


def ycbcr(image):
    """Pillow's YCbCr of a (1, 3, H, W) image, as an independent reference: (3, H, W) ints."""
    return np.asarray(Image.fromarray(to_pixels(image[0])).convert("YCbCr")).transpose(2, 0, 1).astype(int)


def test_preserve_color_keeps_chroma_and_takes_luminance():
    content, stylized = rand(1, 3, 20, 20) * 0.4 + 0.3, rand(1, 3, 20, 20, seed=1) * 0.2 + 0.4
    result = keep_color(stylized, content)
    ours, photo, style = ycbcr(result), ycbcr(content), ycbcr(stylized)
    assert abs(ours[1:] - photo[1:]).max() <= 2  # chroma from the photo
    assert abs(ours[0] - style[0]).max() <= 2     # luminance from the stylized image
    assert abs(photo[1:] - style[1:]).max() > 10  # (they differed)


def test_method_may_change_size_and_the_content_follows():
    content = rand(1, 3, 40, 30)
    assert apply(Shift(0.0, size=(20, 15)), content, strength=0.5, preserve_color=True).shape == (1, 3, 20, 15)


def test_tiling_matches_untiled_away_from_tile_borders():
    conv = torch.nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")  # receptive field: 1 pixel each side
    image = torch.rand(2, 3, 70, 90)
    with torch.no_grad():
        whole, pieces = conv(image), tiled(conv, image, tile=32, overlap=12)
    error = (whole - pieces).abs().amax(dim=(0, 1))
    inner_edges = torch.zeros(70, 90, dtype=torch.bool)
    for axis, size in ((0, 70), (1, 90)):  # tile starts 0, 19, 38 and 0, 19, 39, 58: edges +-1 px are inexact
        for start in {0, 19, 38} if axis == 0 else {0, 19, 39, 58}:
            for edge in (start, start + 31):
                band = slice(max(edge - 1, 0), edge + 2)
                if 0 < edge < size - 1:
                    inner_edges[(band, slice(None)) if axis == 0 else (slice(None), band)] = True
    assert error[~inner_edges].max() < 1e-5 and error.max() > 1e-3  # the border bands are blended, not exact
    assert torch.allclose(tiled(lambda x: x, image, tile=32, overlap=12), image, atol=1e-6)


def test_tiled_johnson_normalizes_all_tiles_alike(style_ckpt):
    image = rand(2, 3, 96, 80)
    plain = Johnson(style_ckpt, device="cpu", engine="torch")
    tiles = Johnson(style_ckpt, device="cpu", tile=48, tile_overlap=16)
    result, expected = tiles(image), plain(image)
    assert tiles.engine == "torch" and result.shape == image.shape and result.min() >= 0 and result.max() <= 1
    # each tile with its own instance norm statistics: what seams are made of
    with torch.inference_mode():
        naive = torch.cat([tiled(plain.run.forward, frame[None], 48, 16) for frame in torch.from_numpy(image)]).numpy()
    assert abs(result - expected).mean() < 0.85 * abs(naive - expected).mean()
    assert not any(m.track_running_stats for m in tiles.run.net.modules() if isinstance(m, torch.nn.InstanceNorm2d))
    assert np.array_equal(Johnson(style_ckpt, device="cpu", tile=96)(image), expected)  # one tile: no tiling
    with pytest.raises(PainterlyError, match="tile"):
        Johnson(style_ckpt, tile=64, tile_overlap=40)


def test_johnson_any_size_batches_and_precisions(method, style_ckpt):
    frames = rand(3, 3, 27, 35)
    batch = method(frames)
    assert batch.shape == frames.shape and batch.dtype == np.float32
    assert np.allclose(batch[1:2], method(frames[1:2]), atol=1e-5)
    for precision in ("fp32", "bf16", "fp16"):  # fp32, bf16: OpenVINO; fp16: eager torch
        assert abs(Johnson(style_ckpt, device="cpu", precision=precision)(frames) - batch).max() < 0.1
    with pytest.raises(PainterlyError, match="too small"):
        method(rand(1, 3, 5, 40))


def test_checkpoint_by_name_and_by_run_dir(tmp_path, monkeypatch, style_ckpt):
    monkeypatch.setattr(johnson, "CHECKPOINT_DIR", tmp_path)
    image = rand(1, 3, 16, 16)
    expected = Johnson(style_ckpt, device="cpu")(image)
    assert np.array_equal(Johnson("tiny", device="cpu")(image), expected)
    with pytest.raises(PainterlyError, match="no checkpoint named 'nope'.*known: tiny"):
        Johnson("nope")

    record = torch.load(style_ckpt, weights_only=True)  # what a Lightning checkpoint of a training run holds
    lightning = {"painterly": {k: v for k, v in record.items() if k != "state_dict"}, "global_step": 7,
                 "state_dict": {f"model.{k}": v for k, v in record["state_dict"].items()}}
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    torch.save(lightning, tmp_path / "run" / "checkpoints" / "last.ckpt")
    run_method = Johnson(tmp_path / "run", device="cpu")
    assert run_method.record["steps"] == 7 and np.allclose(run_method(image), expected, atol=1e-6)


def test_bad_checkpoints_fail_in_one_line(tmp_path):
    (tmp_path / "corrupt.pt").write_bytes(b"PK\x03\x04 not really a zip")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    cases = {tmp_path / "missing.pt": "no such checkpoint", tmp_path / "corrupt.pt": "not a loadable checkpoint",
             tmp_path / "other.pt": "not a painterly style checkpoint", None: "ckpt= is required"}
    for ckpt, reason in cases.items():
        with pytest.raises(PainterlyError, match=reason) as error:
            build_method(compose_config("stylize", [f"ckpt={ckpt}" if ckpt else "ckpt=null"]).method)
        assert "\n" not in str(error.value)


def test_device_and_precision_choices():
    assert has_cuda() == torch.cuda.is_available() and device_type("auto") == pick_device("auto").type
    assert pick_device("auto").type in ("cpu", "cuda") and pick_device("cpu").type == "cpu"
    assert pick_dtype("bf16") == torch.bfloat16
    with pytest.raises(PainterlyError, match="unknown precision 'fp8'"):
        pick_dtype("fp8")
    with pytest.raises(PainterlyError, match="unknown device"):
        pick_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(PainterlyError, match="no CUDA GPU"):
            pick_device("cuda")


def test_resize_options(tmp_path, method):
    assert target_size(400, 300, max_size=100) == (100, 75) and target_size(400, 300, scale=0.5) == (200, 150)
    assert target_size(40, 30, max_size=100, scale=2) == (80, 60)
    assert target_size(40, 30, max_size=50, scale=2) == (50, 38)
    src = tmp_path / "in.jpg"
    random_image("RGB", (60, 40)).save(src)
    stylize_image(method, src, tmp_path / "small.png", max_size=30)
    stylize_image(method, src, tmp_path / "big.png", scale=1.5)
    assert Image.open(tmp_path / "small.png").size == (30, 20) and Image.open(tmp_path / "big.png").size == (90, 60)


def test_find_jobs_for_files_folders_and_globs(tmp_path):
    photos = write_photos(tmp_path / "photos", count=2)
    write_photos(tmp_path / "photos" / "sub", count=1)
    assert find_jobs(photos[0]) == [(photos[0], tmp_path / "photos" / "photo_0_stylized.jpg")]
    (tmp_path / "out").mkdir()
    assert find_jobs(photos[0], tmp_path / "out") == [(photos[0], tmp_path / "out" / "photo_0.jpg")]
    folder = find_jobs(tmp_path / "photos", tmp_path / "styled")
    names = [d.relative_to(tmp_path / "styled").as_posix() for _, d in folder]
    assert names == ["photo_0.jpg", "photo_1.jpg", "sub/photo_0.jpg"]
    assert find_jobs(tmp_path / "photos")[0][1] == tmp_path / "photos_stylized" / "photo_0.jpg"
    globbed = find_jobs(f"{tmp_path}/photos/**/*_0.jpg", tmp_path / "styled")
    assert [d.relative_to(tmp_path / "styled").as_posix() for _, d in globbed] == ["photo_0.jpg", "sub/photo_0.jpg"]
    for args, reason in [((None,), "input= is required"), ((photos[0], tmp_path / "x.txt"), "unknown output format"),
                         ((tmp_path / "out",), "no images found"), ((f"{tmp_path}/*.gif",), "no images found"),
                         ((tmp_path / "photos", tmp_path / "one.png"), "needs an output folder")]:
        with pytest.raises(PainterlyError, match=reason):
            find_jobs(*args)


def test_folder_with_bad_files_does_the_rest_and_lists_failures(tmp_path, method, capsys):
    photos = write_photos(tmp_path / "in", count=3)
    reasons = write_bad_images(tmp_path / "in" / "bad")
    failures = run(method, find_jobs(tmp_path / "in", tmp_path / "out"))
    assert sorted((tmp_path / "out").glob("*.jpg")) == [tmp_path / "out" / p.name for p in photos]
    assert not (tmp_path / "out" / "bad").exists()
    assert len(failures) == len(reasons)
    for failure in failures:
        name = failure.split(":")[0].rsplit("/", 1)[-1]
        assert failure.startswith(str(tmp_path / "in" / "bad" / name)) and reasons[name] in failure
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"stylize: {failure}" for failure in failures]
    assert out.startswith("stylize: done 3 images, failed 4, ") and out.strip().endswith("s/image")


def test_a_method_failure_names_the_file(tmp_path, method, capsys):
    random_image("RGB", (4, 30)).save(tmp_path / "sliver.png")
    assert run(method, find_jobs(tmp_path / "sliver.png")) == [f"{tmp_path / 'sliver.png'}: image too small (4x30); "
                                                               "needs at least 8x8 pixels"]
    with pytest.raises(PainterlyError, match="strength"):
        run(method, [], strength=1.5)


def test_stylize_config_takes_method_shortcuts():
    cfg = compose_config("stylize", ["ckpt=starry_night", "device=cpu", "tile=256", "size=300"])
    assert OmegaConf.to_container(cfg.method, resolve=True) == {
        "_target_": "painterly.methods.johnson.Johnson", "ckpt": "starry_night", "device": "cpu", "precision": "auto",
        "tile": 256, "tile_overlap": 32, "engine": "auto"}
    fallback = OmegaConf.create({"size": None, "m": {"size": "${default:${size},512}"}})
    assert fallback.m.size == 512


def test_outputs_are_written_atomically(tmp_path, method, monkeypatch):
    src, dst = tmp_path / "in.png", tmp_path / "out" / "out.png"
    random_image("RGB", (16, 16)).save(src)
    dst.parent.mkdir()
    dst.write_bytes(b"previous")

    def crash(self, fp, *args, **kwargs):
        open(fp, "wb").write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", crash)
    assert run(method, [(src, dst)]) == [f"{dst}: cannot write (No space left on device)"]
    assert dst.read_bytes() == b"previous" and [p.name for p in dst.parent.iterdir()] == ["out.png"]


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
    assert (default.engine, fp32.engine, eager.engine, onnxruntime.engine) == ("openvino", "openvino", "torch",
                                                                               "onnxruntime")
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
    code = ("import sys; from painterly.cli.stylize import main; sys.argv[1:] = sys.argv[2:]\n"
            "try: main()\nexcept SystemExit as e: assert not e.code\nprint('torch' in sys.modules)")
    args = [f"ckpt={style_ckpt}", f"input={tmp_path / 'in.jpg'}", f"output={tmp_path / 'out.jpg'}", "device=cpu"]
    done = subprocess.run([sys.executable, "-c", code, "-", *args], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "False" and Image.open(tmp_path / "out.jpg").size == (40, 30)


@pytest.mark.parametrize("error", [torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
                                   MemoryError(), RuntimeError("DefaultCPUAllocator: can't allocate memory")])
def test_out_of_memory_fails_that_file_with_advice(tmp_path, error):
    def exhausted(images):
        raise error

    random_image("RGB", (16, 16)).save(tmp_path / "big.png")
    assert run(exhausted, find_jobs(tmp_path / "big.png")) == [
        f"{tmp_path / 'big.png'}: out of memory; try tile=512, max_size= or a smaller precision"]
    with pytest.raises(ZeroDivisionError):  # other errors are bugs: they propagate with their traceback
        run(lambda images: 1 / 0, find_jobs(tmp_path / "big.png"))
