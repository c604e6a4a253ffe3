"""`stylize.py method=adain|gatys` as users run it; each launch costs seconds, so few."""

import subprocess
import sys

from PIL import Image

from painterly.config import ROOT


def stylize(*args):
    return subprocess.run([sys.executable, str(ROOT / "stylize.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_adain_keeps_the_size_with_alpha_and_preserve_color(tmp_path, photo_dir, style_image):
    photo = photo_dir / "photo_0.jpg"  # 40 x 32
    result = stylize("method=adain", f"style={style_image}", f"input={photo}", f"output={tmp_path / 'a.png'}",
                     "alpha=0.8", "preserve_color=true")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "a.png").size == (40, 32)


def test_gatys_works_at_size_and_shows_the_losses(tmp_path, photo_dir, style_image):
    photo = photo_dir / "photo_0.jpg"  # 40 x 32
    result = stylize("method=gatys", f"style={style_image}", f"input={photo}", f"output={tmp_path / 'g.png'}",
                     "size=48", "iterations=3", "optimizer=adam")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "g.png").size == (48, 38)
    assert "gatys" in result.stderr and "style=" in result.stderr  # the progress bar with its loss terms


def test_a_bad_style_image_fails_in_one_line(tmp_path, photo_dir):
    photo = photo_dir / "photo_0.jpg"
    (tmp_path / "painting.jpg").write_text("not a picture")
    result = stylize("method=adain", f"style={tmp_path / 'painting.jpg'}", f"input={photo}")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"stylize: {tmp_path / 'painting.jpg'}: not an image")
