"""The stylize command as users run it: exit codes and one-line messages. Each launch costs seconds, so few."""

import torch
from PIL import Image

from painterly.config import ROOT

from conftest import run_script, write_bad_images, write_photos


def stylize(*args, cwd=ROOT):
    return run_script("stylize.py", *args, cwd=cwd, timeout=120)


def test_folder_with_bad_files(tmp_path, style_ckpt):
    photos = write_photos(tmp_path / "in", count=2)
    reasons = write_bad_images(tmp_path / "in")
    result = stylize(
        f"ckpt={style_ckpt}",
        f"input={tmp_path / 'in'}",
        f"output={tmp_path / 'out'}",
        "preserve_color=true",
        "strength=0.8",
        "tile=32",
        "tile_overlap=8",
        "device=cpu",
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    failures = sorted(line for line in result.stderr.splitlines() if line.startswith("stylize: "))
    assert len(failures) == len(reasons)
    for line, (name, reason) in zip(failures, sorted(reasons.items())):
        assert line.startswith(f"stylize: {tmp_path / 'in' / name}: ") and reason in line
    assert result.stdout.splitlines()[-1].startswith("stylize: done 2 images, failed 4, ")
    for photo in photos:
        assert Image.open(tmp_path / "out" / photo.name).size == Image.open(photo).size
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in photos)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "tiny.pt"]  # no run dir or logs


def test_a_checkpoint_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.pt"
    torch.save({"format": "painterly-style", "payload": Payload()}, evil)
    torch.load(evil, weights_only=False)  # the payload is live: an unsafe load runs it
    assert marker.exists()
    marker.unlink()
    write_photos(tmp_path, count=1)
    result = stylize(f"ckpt={evil}", f"input={tmp_path / 'photo_0.jpg'}", f"output={tmp_path / 'o.png'}")
    assert result.returncode == 1 and not marker.exists() and not (tmp_path / "o.png").exists()
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"stylize: {evil}: not a loadable checkpoint")


def test_unknown_key_fails_in_one_line(tmp_path):
    result = stylize("ckpt=x", "input=y.jpg", "strenght=0.5", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "strenght" in result.stderr
    assert result.stderr.startswith("stylize: ") and not list(tmp_path.iterdir())


# method=adain|gatys as users run them
def test_adain_keeps_the_size_with_alpha_and_preserve_color(tmp_path, photo_dir, style_image):
    photo = photo_dir / "photo_0.jpg"  # 40 x 32
    options = ["alpha=0.8", "preserve_color=true"]
    result = stylize("method=adain", f"style={style_image}", f"input={photo}", f"output={tmp_path / 'a.png'}", *options)
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "a.png").size == (40, 32)


def test_gatys_works_at_size_and_shows_the_losses(tmp_path, photo_dir, style_image):
    photo, options = photo_dir / "photo_0.jpg", ["size=48", "iterations=3", "optimizer=adam"]  # a 40 x 32 photo
    result = stylize("method=gatys", f"style={style_image}", f"input={photo}", f"output={tmp_path / 'g.png'}", *options)
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "g.png").size == (48, 38)
    assert "gatys" in result.stderr and "style=" in result.stderr  # the progress bar with its loss terms


def test_a_bad_style_image_fails_in_one_line(tmp_path, photo_dir):
    photo = photo_dir / "photo_0.jpg"
    (tmp_path / "painting.jpg").write_text("not a picture")
    result = stylize("method=adain", f"style={tmp_path / 'painting.jpg'}", f"input={photo}")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"stylize: {tmp_path / 'painting.jpg'}: not an image")
