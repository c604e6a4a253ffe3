"""`python stylize.py ckpt=... input=... [output=...]`: stylize images, folders, globs and videos in one pass."""

import sys

import hydra
from omegaconf import DictConfig

from painterly.cli import one_line_errors
from painterly.config import CONFIG_DIR, check_overrides
from painterly.inference import build_method, find_jobs, run


def stylize(cfg: DictConfig) -> list[str]:
    jobs = find_jobs(cfg.input, cfg.output)  # bad arguments fail before a model loads
    method = build_method(cfg.method)
    return run(method, jobs, max_size=cfg.max_size, scale=cfg.scale, strength=cfg.strength,
               preserve_color=cfg.preserve_color, batch_size=cfg.batch_size)


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="stylize")
def hydra_main(cfg: DictConfig) -> None:
    with one_line_errors("stylize"):
        failures = stylize(cfg)
    sys.exit(1 if failures else 0)


def main() -> None:
    # configs/style is a config group (training's), so Hydra would read style=<image> as a choice from it.
    sys.argv = [f"style_image={arg[len('style='):]}" if arg.startswith("style=") else arg for arg in sys.argv]
    with one_line_errors("stylize"):
        check_overrides("stylize", sys.argv[1:])
    hydra_main()
