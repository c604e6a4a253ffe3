import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image, ImageOps

from painterly import PainterlyError
from painterly.config import compose_config
from painterly.stylize.images import open_image, resize_images, to_pixels
from painterly.stylize.johnson import Johnson
from painterly.stylize.pipeline import apply, find_jobs, keep_color, stylize_files, stylize_image, target_size

from conftest import rand, random_image, write_bad_images, write_photos


@pytest.fixture
def method(style_ckpt):
    return Johnson(style_ckpt, device="cpu")


class Shift:
    """A stand-in method: adds a constant, optionally at another size."""

    def __init__(self, amount=0.1, size=None):
        self.amount, self.size = amount, size

    def __call__(self, image):
        out = image + self.amount
        return resize_images(out, self.size) if self.size else out


@pytest.mark.parametrize(
    ("mode", "size", "out_mode"),
    [
        ("RGB", (37, 29), "RGB"),
        ("L", (33, 21), "L"),
        ("RGBA", (30, 22), "RGBA"),
        ("LA", (17, 9), "LA"),
    ],
)
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
    assert abs(ours[0] - style[0]).max() <= 2  # luminance from the stylized image
    assert abs(photo[1:] - style[1:]).max() > 10  # (they differed)


def test_method_may_change_size_and_the_content_follows():
    content = rand(1, 3, 40, 30)
    assert apply(Shift(0.0, size=(20, 15)), content, strength=0.5, preserve_color=True).shape == (1, 3, 20, 15)


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
    for args, reason in [
        ((None,), "input= is required"),
        ((photos[0], tmp_path / "x.txt"), "unknown output format"),
        ((tmp_path / "out",), "no images found"),
        ((f"{tmp_path}/*.gif",), "no images found"),
        ((tmp_path / "photos", tmp_path / "one.png"), "needs an output folder"),
    ]:
        with pytest.raises(PainterlyError, match=reason):
            find_jobs(*args)


def test_folder_with_bad_files_does_the_rest_and_lists_failures(tmp_path, method, capsys):
    photos = write_photos(tmp_path / "in", count=3)
    reasons = write_bad_images(tmp_path / "in" / "bad")
    failures = stylize_files(method, find_jobs(tmp_path / "in", tmp_path / "out"))
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
    assert stylize_files(method, find_jobs(tmp_path / "sliver.png")) == [
        f"{tmp_path / 'sliver.png'}: image too small (4x30); needs at least 8x8 pixels"
    ]
    with pytest.raises(PainterlyError, match="strength"):
        stylize_files(method, [], strength=1.5)


def test_stylize_config_takes_method_shortcuts():
    cfg = compose_config("stylize", ["ckpt=starry_night", "device=cpu", "tile=256", "size=300"])
    assert OmegaConf.to_container(cfg.method, resolve=True) == {
        "_target_": "painterly.stylize.johnson.Johnson",
        "ckpt": "starry_night",
        "device": "cpu",
        "precision": "auto",
        "tile": 256,
        "tile_overlap": 32,
        "engine": "auto",
    }
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
    assert stylize_files(method, [(src, dst)]) == [f"{dst}: cannot write (No space left on device)"]
    assert dst.read_bytes() == b"previous" and [p.name for p in dst.parent.iterdir()] == ["out.png"]


@pytest.mark.parametrize(
    "error",
    [
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        MemoryError(),
        RuntimeError("DefaultCPUAllocator: can't allocate memory"),
    ],
)
def test_out_of_memory_fails_that_file_with_advice(tmp_path, error):
    def exhausted(images):
        raise error

    random_image("RGB", (16, 16)).save(tmp_path / "big.png")
    assert stylize_files(exhausted, find_jobs(tmp_path / "big.png")) == [
        f"{tmp_path / 'big.png'}: out of memory; try tile=512, max_size= or a smaller precision"
    ]
    with pytest.raises(ZeroDivisionError):  # other errors are bugs: they propagate with their traceback
        stylize_files(lambda images: 1 / 0, find_jobs(tmp_path / "big.png"))


def test_a_missing_input_is_no_such_file_and_a_literal_name_wins_over_a_glob(tmp_path):
    with pytest.raises(PainterlyError, match=r"missing\.jpg: no such file"):
        find_jobs(tmp_path / "missing.jpg", tmp_path / "out.png")
    literal = tmp_path / "photo[1].jpg"  # as a glob, [1] would match photo1.jpg only
    Image.new("RGB", (8, 8)).save(literal)
    Image.new("RGB", (8, 8)).save(tmp_path / "photo1.jpg")
    assert find_jobs(literal, tmp_path / "o.jpg") == [(literal, tmp_path / "o.jpg")]


def test_files_a_folder_input_skips_are_counted_with_the_reason(tmp_path, capsys):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.jpg")
    for name in ("anim.gif", "clip.mp4", "notes.txt", ".DS_Store"):
        (tmp_path / name).write_bytes(b"x")
    assert [src.name for src, _ in find_jobs(tmp_path)] == ["a.jpg"]
    err = capsys.readouterr().err
    assert "skipping 3 file(s)" in err and ".gif, .mp4, .txt" in err and "1 video(s): give each as input=" in err


def test_an_unreadable_file_is_permission_denied(tmp_path, monkeypatch):
    path = tmp_path / "locked.jpg"
    Image.new("RGB", (8, 8)).save(path)

    def refuse(*args, **kwargs):  # chmod 000 does not stop root (CI), so the OS's answer is simulated
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Image, "open", refuse)
    with pytest.raises(PainterlyError, match=r"locked\.jpg: permission denied$"):
        open_image(path)
