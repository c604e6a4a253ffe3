import os

import numpy as np
import pytest
import torch

from painterly import PainterlyError
from painterly.stylize import checkpoints
from painterly.stylize.johnson import Johnson

from conftest import make_style_checkpoint, rand


def test_checkpoint_by_name_and_by_run_dir(tmp_path, monkeypatch):
    style_ckpt = make_style_checkpoint(tmp_path / "checkpoints" / "tiny.pt")
    monkeypatch.chdir(tmp_path)  # ckpt=<name> looks in the current project's checkpoints/
    image = rand(1, 3, 16, 16)
    expected = Johnson(style_ckpt, device="cpu")(image)
    assert np.array_equal(Johnson("tiny", device="cpu")(image), expected)
    with pytest.raises(PainterlyError, match="no style named 'nope'.*python stylize.py list"):
        Johnson("nope")

    record = torch.load(style_ckpt, weights_only=True)  # what a Lightning checkpoint of a training run holds
    lightning = {
        "painterly": {k: v for k, v in record.items() if k != "state_dict"},
        "global_step": 7,
        "state_dict": {f"model.{k}": v for k, v in record["state_dict"].items()},
    }
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    torch.save(lightning, tmp_path / "run" / "checkpoints" / "last.ckpt")
    from_run = Johnson(tmp_path / "run", device="cpu")
    assert from_run.record["steps"] == 7 and np.allclose(from_run(image), expected, atol=1e-6)


def test_the_project_follows_the_working_folder_not_the_checkout(tmp_path, monkeypatch):
    from painterly.config import ROOT, compose_config, project_root

    (tmp_path / "mine" / "sub").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "mine" / "sub")
    assert project_root() == tmp_path / "mine" / "sub"  # no marker: the working folder
    (tmp_path / "mine" / ".project-root").touch()
    assert project_root() == tmp_path / "mine"  # the nearest marker up
    for name in ("train", "gallery", "evaluate"):
        cfg = compose_config(name, [])
        text = str(cfg.export_dir if name == "train" else cfg.output)
        assert text.startswith(str(tmp_path / "mine")), name
    cfg = compose_config("train", [])  # the bundled photos and paintings still come from the checkout
    assert cfg.data.root == str(ROOT / "data/samples") and cfg.style.image.startswith(str(ROOT))
    assert checkpoints.checkpoint_dir() == tmp_path / "mine" / "checkpoints"


def test_no_such_style_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PainterlyError) as error:
        checkpoints.resolve_checkpoint("starry_night")
    assert "python train.py style=starry_night" in str(error.value) and "experiment=demo" in str(error.value)


def test_a_first_leg_is_found_by_name_and_never_listed(tmp_path, monkeypatch):
    """checkpoints/base/<style>.pt: what a two-leg style (and the warm starts) start from, not a style to show."""
    base = make_style_checkpoint(tmp_path / "checkpoints" / "base" / "starry_night.pt")
    monkeypatch.chdir(tmp_path)
    assert checkpoints.resolve_checkpoint("base/starry_night") == base
    assert checkpoints.style_files() == [] and str(base) not in checkpoints.list_styles()
    (tmp_path / "checkpoints" / "base" / "starry_night.pt").unlink()
    with pytest.raises(PainterlyError, match=r"no style named 'base/starry_night'.*train.py experiment=starry_night_b"):
        checkpoints.resolve_checkpoint("base/starry_night")
    with pytest.raises(PainterlyError, match="other/tiny: no such checkpoint"):  # other folders are plain paths
        checkpoints.resolve_checkpoint("other/tiny")


def test_exports_are_told_apart_from_styles_everywhere(tmp_path, monkeypatch):
    from painterly.export import export

    ckpt = make_style_checkpoint(tmp_path / "checkpoints" / "tiny.pt")
    monkeypatch.chdir(tmp_path)
    onnx, script = export("tiny", "onnx"), export("tiny", "torchscript")
    assert onnx.parent == script.parent == tmp_path / "exports"  # apart from the style checkpoints
    stray = export("tiny", "torchscript", tmp_path / "checkpoints" / "stray.pt")  # even where a user puts one
    assert checkpoints.style_files() == [ckpt]
    for path, kind in [(onnx, "an ONNX export"), (script, "a TorchScript export"), (stray, "a TorchScript export")]:
        with pytest.raises(PainterlyError, match=f"{kind}, not a style checkpoint; give ckpt= the style's .pt"):
            checkpoints.resolve_checkpoint(path)
    listed = checkpoints.list_styles()
    assert "tiny" in listed and str(ckpt) in listed and "stray" not in listed and "starry_night" in listed


def test_list_names_the_newest_runs_by_style_and_counts_the_rest(tmp_path, monkeypatch):
    runs = tmp_path / "logs" / "train" / "runs"
    names = [
        f"2026-11-2{day}_10-00-00_{style}_pid{day}" for day, style in enumerate(["a", "b", "c", "d", "the_scream"])
    ]
    for age, name in enumerate(
        ["2026-11-19_09-00-00_old_pid7", "my-own-run", "2026-11-19_09-30-00_older_pid8", *names]
    ):
        (runs / name / "checkpoints").mkdir(parents=True)
        (runs / name / "checkpoints" / "last.ckpt").write_bytes(b"")
        os.utime(runs / name / "checkpoints" / "last.ckpt", (1e9 + age, 1e9 + age))  # newest last saved, not by name
    monkeypatch.chdir(tmp_path)
    listed = checkpoints.list_styles()
    assert f"  {'the_scream (run)':<20} {runs / names[-1]}\n" in listed  # named after the style it trains
    assert "old_pid7" not in listed and "my-own-run" not in listed and f"  ... and 3 older runs in {runs}\n" in listed
    assert "a (run)" in listed and checkpoints.run_label(runs / "my-own-run") == "(run)"  # named otherwise
