from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from painterly import PainterlyError
from painterly.config import CONFIG_DIR, compose_config

GROUPS = sorted(p.parent.name for p in CONFIG_DIR.glob("*/*.yaml") if p.parent.name not in ("hydra", "method"))
OPTIONS = [(group, path.stem) for group in GROUPS for path in sorted((CONFIG_DIR / group).glob("*.yaml"))]


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_group_option_composes_and_resolves(group, option, tmp_path):
    cfg = compose_config("train", [f"{group}={option}", f"paths.output_dir={tmp_path}", "data.root=/photos"])
    resolved = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    for key in ("image_size", "batch_size"):
        assert isinstance(resolved["data"][key], int)
    assert resolved["trainer"]["max_steps"] > 0 and resolved["export_dir"]
    assert Path(resolved["style"]["image"]).name.endswith(".jpg") or group == "style"


def test_shipped_styles_point_at_bundled_paintings(tmp_path):
    for path in sorted((CONFIG_DIR / "style").glob("*.yaml")):
        cfg = compose_config("train", [f"style={path.stem}", f"paths.output_dir={tmp_path}"])
        assert cfg.style.name == path.stem and Path(cfg.style.image).is_file()


def test_any_image_is_a_style_named_after_its_file(tmp_path):
    cfg = compose_config("train", ["style.image=/art/monet_water_lilies.jpg", f"paths.output_dir={tmp_path}"])
    assert cfg.style.name == "monet_water_lilies"


def test_unknown_names_fail_in_one_line():
    with pytest.raises(PainterlyError, match=r"^unknown model 'huge'; choose from: johnson, johnson_slim, tiny$"):
        compose_config("train", ["model=huge"])
    for choice in ("600", "1.5", "true"):  # Hydra parses these as numbers and booleans, not option names
        with pytest.raises(PainterlyError, match=rf"^unknown style '{choice}'; choose from: shipwreck, starry_night"):
            compose_config("train", [f"style={choice}"])
    with pytest.raises(PainterlyError) as error:
        compose_config("train", ["no_such_key=1"])
    assert "\n" not in str(error.value) and "no_such_key" in str(error.value)


def test_cpu_training_uses_bf16_where_the_cpu_has_bf16_instructions(tmp_path):
    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    cfg = compose_config("train", [f"paths.output_dir={tmp_path}"])
    assert cfg.trainer.precision == ("bf16-mixed" if native else "32-true")
    assert (
        compose_config("train", [f"paths.output_dir={tmp_path}", "trainer.precision=32-true"]).trainer.precision
        == "32-true"
    )
