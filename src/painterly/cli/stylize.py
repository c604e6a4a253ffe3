"""`python stylize.py ckpt=... input=... [output=...]`: stylize images, folders, globs and videos in one pass.

The arguments are overrides of configs/stylize.yaml (painterly.cli.launch): a stylize call needs no run dir or
logging, and skipping Hydra's app start-up keeps short calls fast.
"""

import sys

from omegaconf import DictConfig

from painterly.cli.launch import launch, stop_on_signals
from painterly.stylize.pipeline import build_method, find_jobs, stylize_files


def stylize(cfg: DictConfig) -> list[str]:
    jobs = find_jobs(cfg.input, cfg.output, cfg.overwrite)  # bad arguments fail before a model loads
    method = build_method(cfg.method)
    return stylize_files(
        method,
        jobs,
        max_size=cfg.max_size,
        scale=cfg.scale,
        strength=cfg.strength,
        preserve_color=cfg.preserve_color,
        batch_size=cfg.batch_size,
        overwrite=cfg.overwrite,
    )


def main() -> None:
    with stop_on_signals("stylize"):
        failures = launch("stylize", "stylize", stylize, aliases={"style": "style_image"})
    sys.exit(1 if failures else 0)
