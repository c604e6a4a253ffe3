import resource

import pytest
from PIL import Image

from painterly import PainterlyError
from painterly.stylize import memory
from painterly.stylize.johnson import BYTES_PER_PIXEL, Johnson
from painterly.stylize.pipeline import find_jobs, memory_check
from painterly.stylize.pipeline import stylize_files as run

from conftest import write_bomb, write_photos

GB = 10**9


def test_refusal_names_the_need_and_a_max_size_that_fits():
    with pytest.raises(PainterlyError) as error:
        memory.check_fits("big.png", decoded=1 * GB, working=16 * GB, long_side=8000, available=5 * GB)
    assert str(error.value) == (
        "big.png: needs about 17.0 GB to stylize, 5.0 GB available; try max_size=3584 or tile=512"
    )  # 8000 * sqrt(4 / 16) * 0.9, in steps of 64
    with pytest.raises(PainterlyError, match="^big.png: decoding it needs about 6.0 GB, 2.0 GB available; shrink"):
        memory.check_fits("big.png", decoded=3 * GB, working=3 * GB, long_side=8000, available=2 * GB)
    memory.check_fits("big.png", decoded=1 * GB, working=1 * GB, long_side=8000, available=3 * GB)  # fits


def test_available_memory_heeds_an_address_space_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    assert memory.available_memory() <= memory.meminfo_available()
    status = open("/proc/self/status").read()
    used = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmSize:"))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (used + 2 * GB, hard))
        assert 1 * GB < memory.available_memory() <= 2 * GB
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def test_johnson_estimate_follows_tiles(style_ckpt):
    untiled, tiled = Johnson(style_ckpt, device="cpu"), Johnson(style_ckpt, device="cpu", tile=512)
    assert untiled.working_bytes(4000, 3000) == BYTES_PER_PIXEL * 12_000_000
    assert tiled.working_bytes(4000, 3000) < untiled.working_bytes(4000, 3000) / 8
    assert tiled.working_bytes(400, 300) == untiled.working_bytes(400, 300)  # one tile: no tiling


def test_a_bomb_is_refused_before_decoding_and_the_folder_goes_on(tmp_path, style_ckpt, monkeypatch, capsys):
    photos = write_photos(tmp_path / "in", count=2)
    write_bomb(tmp_path / "in" / "bomb.png")
    decoded = []
    monkeypatch.setattr(
        Image.Image, "load", lambda self, original=Image.Image.load: decoded.append(self.size) or original(self)
    )
    monkeypatch.setattr(memory, "available_memory", lambda: 8 * GB)
    failures = run(Johnson(style_ckpt, device="cpu"), find_jobs(tmp_path / "in", tmp_path / "out"))
    assert failures == [
        f"{tmp_path / 'in' / 'bomb.png'}: needs about 157.8 GB to stylize, 8.0 GB available; "
        "try max_size=2624 or tile=512"
    ]
    assert (14000, 14000) not in decoded and sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        p.name for p in photos
    ]
    failures = run(Johnson(style_ckpt, device="cpu", tile=512), find_jobs(tmp_path / "in" / "bomb.png"))
    assert failures[0].endswith(
        "15.3 GB to stylize, 8.0 GB available; try max_size=8768"
    )  # no tile= advice when tiles are on already


def test_video_frames_are_checked_with_their_batch(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 1 * GB)
    check = memory_check(lambda images: images, "clip.mp4", batch=8)
    assert check(640, 360) == (640, 360)
    with pytest.raises(PainterlyError, match="^clip.mp4: needs about 17.0 GB to stylize"):
        check(7680, 4320)
    assert memory_check(lambda images: images, "clip.mp4", max_size=1280, batch=8)(7680, 4320) == (1280, 720)
