import os
import signal
import subprocess
import sys

import av
import numpy as np
import pytest
import torch
from PIL import Image

from painterly.config import compose_config


@pytest.fixture(autouse=True, scope="session")
def onnx_cache(tmp_path_factory):
    """Styles exported for ONNX Runtime go to this session's cache, not the user's: one export per checkpoint."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


def write_photos(folder, count=6, size=(40, 32)):
    """`count` small random RGB JPEGs in `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    paths = []
    for i in range(count):
        pixels = (torch.rand(size[1], size[0], 3, generator=generator) * 255).to(torch.uint8).numpy()
        path = folder / f"photo_{i}.jpg"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def photo_dir(tmp_path):
    write_photos(tmp_path / "photos")
    return tmp_path / "photos"


@pytest.fixture
def style_image(tmp_path):
    path = tmp_path / "painting.png"
    stripes = torch.zeros(48, 48, 3, dtype=torch.uint8)
    stripes[::4, :, 0] = 255
    stripes[:, ::3, 2] = 200
    Image.fromarray(stripes.numpy()).save(path)
    return path


def fast_config(tmp_path, photo_dir, style_image, *overrides, run="run"):
    """A `python train.py debug=fast` config on `photo_dir` and `style_image`, its run dir and export in `tmp_path`."""
    return compose_config(
        "train",
        [
            "debug=fast",
            f"data.root={photo_dir}",
            "data.num_holdout=2",
            f"style.image={style_image}",
            f"paths.output_dir={tmp_path / run}",
            f"export_dir={tmp_path / 'export'}",
            "trainer.enable_progress_bar=false",
            *overrides,
        ],
    )


def make_style_checkpoint(path, seed=0, noise_channels=0):
    """A real style checkpoint of a tiny random network (width 4), made in milliseconds; with a noise input of
    `noise_channels`, whose weights are random."""
    from painterly.io.checkpoint import random_style

    # any file name, a valid style name
    return random_style(path, width=4, num_residual=1, seed=seed, name="tiny", noise_channels=noise_channels)


@pytest.fixture
def style_ckpt(tmp_path):
    return make_style_checkpoint(tmp_path / "tiny.pt")


def write_bad_images(folder):
    """One file per way an image can be bad, each named after its flaw: {file name: expected reason}."""
    import struct
    import zlib

    folder.mkdir(parents=True, exist_ok=True)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.png").write_text("not a picture\n")
    whole = folder / "truncated.jpg"
    Image.new("RGB", (64, 48), "teal").save(whole, quality=95)
    whole.write_bytes(whole.read_bytes()[:300])
    # a 30000 x 30000 PNG header: tiny on disk, 900 megapixels once decoded
    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 1, 0, 0, 0, 0))
    (folder / "bomb.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )
    return {
        "empty.jpg": "empty file",
        "notes.png": "not an image",
        "truncated.jpg": "truncated",
        "bomb.png": "too large",
    }


def rand(*shape, seed=0):
    """A float32 array of `shape` in [0, 1)."""
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def random_image(mode, size, seed=0):
    channels = len(Image.new(mode, (1, 1)).getbands())
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    return Image.fromarray(pixels.squeeze(-1)).convert(mode) if channels == 1 else Image.fromarray(pixels, mode)


def run_script(script, *args, cwd=None, timeout=300):
    """`python <script relative to the checkout> args...` as a user runs it, output captured as text."""
    from painterly.config import ROOT

    command = [sys.executable, str(ROOT / script), *map(str, args)]
    return subprocess.run(command, cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout)


def sigint_at(handler):
    """A Popen preexec_fn: the child starts with SIGINT at `handler`, whatever launched the suite. One started as a
    background job (`make test &`, nohup) has SIGINT ignored, and a child inherits that, so Ctrl-C would not reach
    it."""
    return lambda: signal.signal(signal.SIGINT, handler)


def make_clip(path, frames=12, fps=12, size=(48, 32), audio=True):
    """An H.264 clip whose frames brighten one by one, with a 440 Hz AAC tone of the same duration."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        sound = out.add_stream("aac", rate=16000, layout="mono") if audio else None
        for i in range(frames):
            pixels = np.full((size[1], size[0], 3), 20 + i * 200 // frames, np.uint8)
            out.mux(video.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(video.encode(None))
        if sound:
            samples = 16000 * frames // fps
            wave = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)[None]
            for start in range(0, samples, 1024):
                frame = av.AudioFrame.from_ndarray(wave[:, start : start + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 16000, start
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
    return path


def write_bomb(path, side=14000):  # side: a multiple of 100
    """A valid all-black `side` x `side` gray PNG: 196 megapixels for side=14000, under Pillow's limit of 268, in
    about 200 KB on disk. Streamed through zlib, so writing it never holds the pixels."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, rows = zlib.compressobj(), b"\0" * (side + 1) * 100  # each row: filter type 0, then the pixels
    parts = [packer.compress(rows) for _ in range(side // 100)] + [packer.flush()]
    with open(path, "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)))
        file.write(chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
    return path


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a tiny tmpfs, filled up: every write there fails with ENOSPC. Mounting needs root (CI is)."""
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the fsync test covers the logic")
    try:
        filler = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(filler, b"\0" * 4096):
                pass
        except OSError:  # full
            pass
        finally:
            os.close(filler)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)
