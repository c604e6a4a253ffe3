"""A checkpoint is untrusted data: nothing in it is instantiated, and every field is checked before use."""

import os
import subprocess
import sys

import pytest
import torch

from painterly import PainterlyError
from painterly.config import ROOT
from painterly.io.checkpoint import load_style, read_checkpoint

from conftest import make_style_checkpoint, write_photos

NET = "painterly.models.transformer.TransformerNet"


def tampered(tmp_path, name="evil.pt", lightning=False, **changes):
    """A real tiny style checkpoint with some fields replaced, saved as a style file or a Lightning checkpoint."""
    record = torch.load(make_style_checkpoint(tmp_path / "good.pt"), weights_only=True)
    for key, value in changes.items():
        record[key] = value
    if lightning:
        weights = {f"model.{k}": v for k, v in record.pop("state_dict").items()}
        record = {"painterly": record, "state_dict": weights, "global_step": 3}
    torch.save(record, tmp_path / name)
    return tmp_path / name


def nested_targets(tmp_path):
    """Configs that hydra.utils.instantiate would turn into file writes, copies and imports."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    truncate = {"_target_": "builtins.open", "file": str(victim), "mode": "w"}
    create = {"_target_": "pathlib.Path.touch", "self": str(tmp_path / "created")}
    sitedir = {"_target_": "site.addsitedir", "sitedir": str(tmp_path)}
    return victim, [
        {"_target_": NET, "width": truncate, "num_residual": 1},
        {"_target_": NET, "width": 4, "num_residual": 1, "extra": create},
        {"_target_": NET, "width": 4, "num_residual": {"_target_": "builtins.len", "_args_": [[sitedir]]}},
        truncate,
    ]


@pytest.mark.parametrize("lightning", [False, True], ids=["style", "lightning"])
def test_nested_targets_are_never_built(tmp_path, lightning):
    victim, models = nested_targets(tmp_path)
    for i, model in enumerate(models):
        path = tampered(tmp_path, f"evil{i}.pt", lightning=lightning, model=model)
        with pytest.raises(PainterlyError, match=r"not a valid painterly checkpoint"):
            load_style(path)
    assert victim.read_text() == "precious" and not (tmp_path / "created").exists()


@pytest.mark.parametrize(
    "model, problem",
    [
        ({"_target_": NET, "width": 10**9, "num_residual": 1}, "width must be an integer in"),
        ({"_target_": NET, "width": 4, "num_residual": 10**6}, "num_residual must be an integer in"),
        ({"_target_": NET, "width": 0}, "width must be an integer in"),
        ({"_target_": NET, "width": "32"}, "width must be an integer in"),
        ({"_target_": NET, "width": 4.0}, "width must be an integer in"),
        ({"_target_": NET, "width": True}, "width must be an integer in"),
        ({"_target_": NET, "width": 4, "bounded": 1}, "bounded must be true or false"),
        ({"_target_": NET, "width": 4, "bounded": "yes"}, "bounded must be true or false"),
        ({"_target_": NET, "depth": 3}, "unknown model argument 'depth'"),
        ({"_target_": "torch.nn.Linear", "in_features": 3}, "unsupported model 'torch.nn.Linear'"),
        ("painterly.models.transformer.TransformerNet", "model is not a mapping"),
    ],
)
def test_model_arguments_are_checked(tmp_path, model, problem):
    with pytest.raises(PainterlyError, match=problem):
        read_checkpoint(tampered(tmp_path, model=model))


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"style": {"name": "../../etc/passwd", "image": "x.jpg"}}, "style name"),
        ({"style": {"name": "a/b", "image": "x.jpg"}}, "style name"),
        ({"style": {"name": "x" * 500, "image": "x.jpg"}}, "style name"),
        ({"style": {"name": 3, "image": "x.jpg"}}, "style name"),
        ({"style": "starry"}, "style is not a mapping"),
        ({"style": {"name": "x", "working_size": "512; rm -rf /"}}, "working_size must be a whole number"),
        ({"style": {"name": "x", "working_size": 10**9}}, "working_size must be a whole number"),
        ({"style": {"name": "x", "working_size": 63}}, "working_size must be a whole number"),
        ({"style": {"name": "x", "working_size": 512.0}}, "working_size must be a whole number"),
        ({"style": {"name": "x", "working_size": True}}, "working_size must be a whole number"),
        ({"steps": -1}, "steps must be"),
        ({"steps": "many"}, "steps must be"),
        ({"style_thumbnail": torch.zeros(3, 8, 8)}, "style_thumbnail"),
        ({"style_thumbnail": torch.zeros(3, 5000, 8, dtype=torch.uint8)}, "style_thumbnail"),
        ({"style_thumbnail": "file:///etc/passwd"}, "style_thumbnail"),
        ({"recipe": ["rm -rf /"]}, "recipe is not a mapping"),
        ({"state_dict": {"w": "not a tensor"}}, "state_dict"),
        ({"version": "1"}, "format version"),
    ],
)
def test_every_field_is_checked(tmp_path, changes, problem):
    with pytest.raises(PainterlyError, match=problem):
        read_checkpoint(tampered(tmp_path, **changes))


def test_ordinary_style_names_pass(tmp_path):
    for name in ("starry_night", "café", "Photo (1)", "woman-with-hat.v2"):
        path = tampered(tmp_path, style={"name": name, "image": "x.jpg"})
        assert load_style(path)[1]["style"]["name"] == name


def test_stylize_and_export_refuse_nested_targets_in_one_line(tmp_path):
    victim, models = nested_targets(tmp_path)
    evil = tampered(tmp_path, model=models[0])
    write_photos(tmp_path, count=1)
    env_cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    commands = {
        "stylize": [
            ROOT / "stylize.py",
            f"ckpt={evil}",
            f"input={tmp_path / 'photo_0.jpg'}",
            f"output={tmp_path / 'o.png'}",
        ],
        "export": [ROOT / "scripts" / "export.py", f"ckpt={evil}", f"out={tmp_path / 'o.onnx'}"],
    }
    for args in commands.values():
        result = subprocess.run(
            [sys.executable, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **env_cache},
        )
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "width must be an integer" in result.stderr, result.stderr
    assert victim.read_text() == "precious" and not (tmp_path / "o.png").exists() and not (tmp_path / "o.onnx").exists()
