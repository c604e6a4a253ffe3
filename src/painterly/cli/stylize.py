"""`python stylize.py ckpt=... input=... [output=...]`: stylize images, folders, globs and videos in one pass.

The arguments are overrides of configs/stylize.yaml (painterly.cli.launch): a stylize call needs no run dir or
logging, and skipping Hydra's app start-up keeps short calls fast.
"""

import sys

from omegaconf import DictConfig

from painterly.cli.launch import launch, stop_on_signals
from painterly.stylize.checkpoints import list_styles
from painterly.stylize.pipeline import build_method, check_options, find_jobs, stylize_files


def stylize(cfg: DictConfig) -> list[str]:
    check_options(cfg)  # bad arguments fail before a model loads
    jobs = find_jobs(cfg.input, cfg.output, cfg.overwrite, cfg.skip_existing)
    if not jobs:  # skip_existing=true, and every output is there
        print("stylize: nothing to do: every output exists")
        return []
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
        say_where=not cfg.output,
    )


def main() -> None:
    if sys.argv[1:] == ["list"]:  # `python stylize.py list`: the styles there are, and where each lives
        print(list_styles())
        return
    failures = stop_on_signals("stylize", lambda: launch("stylize", "stylize", stylize))
    sys.exit(1 if failures else 0)
