"""Never destroy the user's originals, and never write a wrong image silently (docs/reliability.md)."""

import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from painterly import PainterlyError
from painterly.stylize import files
from painterly.stylize.pipeline import find_jobs
from painterly.stylize.pipeline import stylize_files as run

from conftest import make_clip, write_photos


class Shift:
    """A stand-in method: adds a constant."""

    def __call__(self, images):
        return images + 0.1


@pytest.fixture
def photos(tmp_path):
    return write_photos(tmp_path / "photos", count=2)


def refused(input, output, reason, overwrite=True):
    """overwrite=True: the inputs are protected even then."""
    with pytest.raises(PainterlyError, match=reason) as error:
        find_jobs(input, output, overwrite)
    assert "\n" not in str(error.value)


def test_output_that_is_an_input_is_refused(tmp_path, photos):
    folder = tmp_path / "photos"
    refused(photos[0], photos[0], f"output={photos[0]}: would overwrite the input {photos[0]}")
    refused(photos[0], folder / ".." / "photos" / "photo_0.jpg", "would overwrite the input")
    refused(photos[0], folder, "would overwrite the input")  # the input's own folder
    os.link(photos[0], tmp_path / "linked.jpg")
    refused(photos[0], tmp_path / "linked.jpg", "would overwrite the input")  # the same file by another name
    for same in (folder, f"{folder}/", folder / ".", tmp_path / "photos_link"):
        if same == tmp_path / "photos_link":
            os.symlink(folder, same)
        refused(folder, same, "is the input folder, its photos would be overwritten")
    refused(f"{folder}/*.jpg", folder, "is the input folder")
    clip = make_clip(tmp_path / "clip.mp4", frames=2, audio=False)
    refused(clip, clip, f"would overwrite the input {clip}")
    # a destination that is another input: photos/photos/x.jpg -> photos/x.jpg
    nested = write_photos(folder / "photos", count=1)
    refused(folder, tmp_path, f"would overwrite the input {photos[0]}")
    assert nested and all(p.exists() for p in photos)


def test_an_output_folder_inside_the_input_is_not_read(tmp_path, photos):
    folder = tmp_path / "photos"
    first = find_jobs(folder, folder / "styled")
    run(Shift(), first)
    for input in (folder, f"{folder}/**/*.jpg"):
        again = find_jobs(input, folder / "styled", overwrite=True)
        assert [src for src, _ in again] == photos and [dst for _, dst in again] == [dst for _, dst in first]


def test_existing_outputs_are_kept_without_overwrite(tmp_path, photos, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo_1.jpg").write_bytes(b"the user's")
    refused(
        tmp_path / "photos",
        out,
        f"^{out / 'photo_1.jpg'}: already exists; give overwrite=true to replace, or skip_existing=true to keep it "
        "and stylize the rest$",
        overwrite=False,
    )
    (out / "photo_0.jpg").write_bytes(b"the user's")
    refused(
        tmp_path / "photos",
        out,
        "photo_0.jpg: already exists \\(and 1 other outputs\\); give overwrite=true .* to keep them and",
        overwrite=False,
    )
    refused(photos[0], out / "photo_0.jpg", "already exists", overwrite=False)
    # an output that appears after the check (another program, a second stylize) is not replaced either
    jobs = [(photos[0], out / "new.jpg"), (photos[1], out / "photo_1.jpg")]
    assert run(Shift(), jobs) == [f"{out / 'photo_1.jpg'}: already exists; give overwrite=true to replace it"]
    assert (out / "photo_1.jpg").read_bytes() == b"the user's" and Image.open(out / "new.jpg").size == (40, 32)
    assert run(Shift(), find_jobs(tmp_path / "photos", out, overwrite=True), overwrite=True) == []
    assert Image.open(out / "photo_1.jpg").size == (40, 32)
    assert sorted(p.name for p in out.iterdir()) == ["new.jpg", "photo_0.jpg", "photo_1.jpg"]


def test_skip_existing_stylizes_only_what_has_no_output(tmp_path, photos, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo_1.jpg").write_bytes(b"done before the interruption")
    jobs = find_jobs(tmp_path / "photos", out, skip_existing=True)
    assert jobs == [(photos[0], out / "photo_0.jpg")]
    assert "skipping 1 of 2 whose output exists" in capsys.readouterr().err
    assert run(Shift(), jobs) == [] and (out / "photo_1.jpg").read_bytes() == b"done before the interruption"
    assert find_jobs(tmp_path / "photos", out, skip_existing=True) == []  # all done: nothing left to do
    with pytest.raises(PainterlyError, match="^overwrite=true and skip_existing=true: choose one"):
        find_jobs(tmp_path / "photos", out, overwrite=True, skip_existing=True)


def test_a_failed_write_fails_images_and_videos_and_leaves_nothing(tmp_path, photos, monkeypatch):
    """ENOSPC reported when the data is flushed, as a full disk under delayed allocation does."""

    def full(fd):
        raise OSError(28, "No space left on device")

    clip = make_clip(tmp_path / "clip.mp4", frames=3, audio=False)
    out = tmp_path / "out"
    jobs = [(photos[0], out / "photo.png"), (clip, out / "clip.mp4")]
    monkeypatch.setattr(files.os, "fsync", full)
    assert run(Shift(), jobs) == [f"{dst}: cannot write (No space left on device)" for _, dst in jobs]
    assert list(out.iterdir()) == []


def test_a_full_disk_fails_images_and_videos_and_leaves_nothing(full_disk, tmp_path, photos, capsys):
    clip = make_clip(tmp_path / "clip.mp4", frames=24, size=(160, 120), audio=False)
    jobs = [(photos[0], full_disk / "photo.png"), (clip, full_disk / "clip.mp4"), (photos[1], tmp_path / "ok.png")]
    assert run(Shift(), jobs) == [f"{dst}: cannot write (No space left on device)" for _, dst in jobs[:2]]
    assert [p.name for p in full_disk.iterdir()] == ["filler"] and Image.open(tmp_path / "ok.png").size == (40, 32)
    assert capsys.readouterr().out.startswith("stylize: done 1 image, failed 2")


def saved(tmp_path, name, image, **args):
    image.save(tmp_path / name, **args)
    return tmp_path / name


def png_16_bit_rgb(path, width=40, height=32):
    """A 16-bit RGB PNG, written by hand (Pillow writes 16-bit gray only)."""
    rows = b"".join(b"\x00" + np.full((width, 3), 40000, ">u2").tobytes() for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)  # bit depth 16, colour type 2 (RGB)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )
    return path


def test_inputs_outside_the_8_bit_range_are_said_or_refused(tmp_path, capsys):
    ramp = np.linspace(0, 1, 32 * 40, dtype=np.float32).reshape(32, 40)
    frames = [Image.new("RGB", (40, 32), color) for color in ("red", "green", "blue")]
    cases = {
        saved(tmp_path, "float.tif", Image.fromarray(ramp)): "error: floating-point pixels (0 to 1)",
        saved(tmp_path, "int32.tif", Image.fromarray((ramp * 1e6).astype(np.int32))): "error: 32-bit pixels",
        saved(tmp_path, "lab.tif", Image.new("LAB", (40, 32))): "error: unsupported colour mode LAB",
        saved(
            tmp_path, "deep.png", Image.fromarray((ramp * 65535).astype(np.uint16))
        ): "warning: 16-bit image; stylized and written as 8-bit",
        png_16_bit_rgb(tmp_path / "deep_rgb.png"): "warning: 16-bit image; stylized and written as 8-bit",
        saved(
            tmp_path, "print.jpg", Image.new("CMYK", (40, 32), (0, 255, 0, 0))
        ): "warning: CMYK without a usable colour profile; converted to RGB naively",
        saved(
            tmp_path, "pages.tif", frames[0], save_all=True, append_images=frames[1:]
        ): "warning: 3 frames or pages; only the first is stylized",
        saved(
            tmp_path, "animated.webp", frames[0], save_all=True, append_images=frames[1:], lossless=True
        ): "warning: 3 frames or pages; only the first is stylized",
    }
    failures = run(Shift(), [(src, tmp_path / "out" / f"{src.stem}.png") for src in cases])
    lines = capsys.readouterr().err.splitlines()
    for src, expected in cases.items():
        kind, message = expected.split(": ", 1)
        line = f"{src}: {message}"
        if kind == "error":
            assert any(f.startswith(line) for f in failures) and not (tmp_path / "out" / f"{src.stem}.png").exists()
        else:
            assert any(f.startswith(f"stylize: {src}: warning: {message}") for f in lines)
            assert Image.open(tmp_path / "out" / f"{src.stem}.png").size == (40, 32)
    assert len(failures) == 3 and len(lines) == 5 + 3
    assert Image.open(tmp_path / "out" / "print.png").getpixel((0, 0))[0] > 200  # cyan=0, magenta=255: red-ish
    assert Image.open(tmp_path / "out" / "pages.png").getpixel((0, 0))[0] > 200  # the first page, red


def test_a_non_finite_result_fails_the_file(tmp_path, photos):
    def broken(images):
        out = images.copy()
        out[..., 0, 0] = np.nan
        return out

    assert run(broken, [(photos[0], tmp_path / "out.png")]) == [
        f"{photos[0]}: the method's result has non-finite values (NaN or infinity); try precision=fp32"
    ]
    assert not (tmp_path / "out.png").exists()
