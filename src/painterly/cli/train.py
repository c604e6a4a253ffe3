"""`python train.py style=... [key=value ...]`: train one style and export its checkpoint (configs/train.yaml).

Started like every command (painterly.cli.launch). The run dir is made here as @hydra.main would make it:
`hydra.run.dir` (or, with -m, `hydra.sweep.dir`/`hydra.sweep.subdir` per job), its config saved under `.hydra/`.
"""

import logging
import shlex
import sys
import warnings
from functools import partial
from pathlib import Path

import lightning as L
import torch
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf, open_dict

from painterly import PainterlyError, first_line
from painterly.cli.launch import launch, quote, quote_paths
from painterly.config import checkpoint_dir, instantiate
from painterly.export import cache_onnx
from painterly.io.checkpoint import save_style

# Expected in this design: the loss network stays in eval mode, and FLOPs are not counted.
warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")
warnings.filterwarnings("ignore", message=r".*flops_per_batch.*")
warnings.filterwarnings("ignore", message=r".*treespec.*")
# Lightning advertises its cloud services on every run ("💡 Tip: ... litlogger"): nothing to act on here.
logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(
    lambda record: not str(record.msg).startswith("💡 Tip:")
)


def start_run(cfg: DictConfig, sweep: bool = False) -> DictConfig:
    """Make the run dir, save the config in it and let `${hydra:runtime.output_dir}` resolve; returns the job config."""
    hydra = cfg.hydra
    run_dir = Path(hydra.sweep.dir) / hydra.sweep.subdir if sweep else Path(hydra.run.dir)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(run_dir.absolute())
    HydraConfig.instance().set_config(cfg)
    job = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    if hydra.output_subdir:  # null in the DDP processes Lightning starts: the first one saved it
        saved = run_dir / hydra.output_subdir
        saved.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(job, saved / "config.yaml")
        OmegaConf.save(list(hydra.overrides.task), saved / "overrides.yaml")
    return job


def export_path(cfg: DictConfig, said: Path | None = None) -> Path:
    """`<export_dir>/<style>.pt`, unless that file exists and `overwrite` is off: then the run dir. Said at the start
    of a run, and again at the end only when it changed since (`said`)."""
    target = Path(cfg.export_dir) / f"{cfg.style.name}.pt"
    if target.exists() and not cfg.overwrite:
        fallback = Path(cfg.paths.output_dir) / target.name
        if fallback != said:
            print(f"{target} exists and overwrite=false, so this run exports to {fallback}")
        return fallback
    return target


def check_resume(ckpt_path) -> None:
    """`ckpt_path=` must be a Lightning checkpoint of a training run: checked before the run starts."""
    if ckpt_path is None:
        return
    path = Path(ckpt_path)
    if not path.is_file():
        raise PainterlyError(f"ckpt_path={ckpt_path}: no such file; give a run's checkpoints/last.ckpt")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as error:  # torch raises many types for files that are not checkpoints
        raise PainterlyError(f"ckpt_path={ckpt_path}: not a checkpoint ({first_line(error)})") from None
    if not (isinstance(data, dict) and "painterly" in data):
        raise PainterlyError(
            f"ckpt_path={ckpt_path}: not a Lightning checkpoint of a training run (a style checkpoint is for "
            "stylize.py's ckpt=); give a run's checkpoints/last.ckpt"
        )


def stylize_command(cfg: DictConfig, path: Path) -> str:
    """How to use the new style: by name when it went to the checkpoint folder that ckpt=<name> looks in."""
    ckpt = cfg.style.name if path.parent.resolve() == checkpoint_dir().resolve() else path
    return f"python stylize.py ckpt={shlex.quote(str(ckpt))} input=photo.jpg"


def train(cfg: DictConfig, sweep: bool = False) -> Path | None:
    """Fit, then export the style; `cfg` with a `hydra` node (as the command composes it) gets a run dir first."""
    if "hydra" in cfg:
        cfg = start_run(cfg, sweep)
    check_resume(cfg.get("ckpt_path"))
    said = export_path(cfg) if rank_zero_only.rank == 0 else None  # said now, not after hours of training
    L.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    module = instantiate(cfg.model)
    module.recipe = OmegaConf.to_container(cfg, resolve=True)  # set here, never instantiated: it holds _target_s
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values()]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    if not trainer.is_global_zero:
        return None
    path = save_style(module.style_checkpoint(), export_path(cfg, said))
    print(f"exported {cfg.style.name} after {trainer.global_step} steps to {path}")
    try:
        cache_onnx(path)  # 0.2 s: stylize.py's first call on this style then runs without importing torch
    except Exception as error:  # stylize.py exports on first use instead, or falls back to torch
        print(f"(not cached for stylize.py: {first_line(error)})")
    print(f"use it: {stylize_command(cfg, path)}")
    return path


def sweep_jobs(argv: list[str]) -> list[list[str]]:
    """`-m style=a,b seed=1,2`: one override list per combination, as Hydra's basic sweeper expands them."""
    parsed = OverridesParser.create().parse_overrides(argv)
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def main() -> None:
    argv = sys.argv[1:]
    if not {"-m", "--multirun"} & set(argv):
        launch("train", "train", train, argv, hydra_config=True)
        return
    jobs, sweep_dir = sweep_jobs(quote_paths("train", [arg for arg in argv if arg not in ("-m", "--multirun")])), []
    for num, job in enumerate(jobs):
        settings = [f"hydra.job.num={num}", *sweep_dir]
        if not sweep_dir:  # one timestamp for the whole sweep
            cfg = launch("train", "train", lambda cfg: cfg, [*job, *settings], hydra_config=True, quoted=True)
            sweep_dir = [f"hydra.sweep.dir={quote(cfg.hydra.sweep.dir)}"]
        job = [*job, *settings, *sweep_dir]
        launch("train", "train", partial(train, sweep=True), job, hydra_config=True, quoted=True)
