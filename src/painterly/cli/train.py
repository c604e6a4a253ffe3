"""`python train.py style=... [key=value ...]`: train one style and export its checkpoint (configs/train.yaml).

Started like every command (painterly.cli.launch). The run dir is made here as @hydra.main would make it:
`hydra.run.dir` (or, with -m, `hydra.sweep.dir`/`hydra.sweep.subdir` per job), its config saved under `.hydra/`.
"""

import logging
import shlex
import signal
import sys
import tempfile
import warnings
from functools import partial
from pathlib import Path

import lightning as L
import torch
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf, open_dict

from painterly import PainterlyError, first_line
from painterly.cli.launch import launch, quote, quote_paths
from painterly.config import checkpoint_dir, instantiate
from painterly.export import cache_onnx
from painterly.io.checkpoint import load_style, save_style
from painterly.stylize.checkpoints import PARTIAL_SUFFIX, resolve_checkpoint
from painterly.training.resume import check_resume, resume_overrides

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


def in_run_dir(cfg: DictConfig, path: Path) -> bool:
    """Whether `path` is in this run's own dir, where an earlier export (a resumed run's) is its to replace."""
    return path.parent.resolve() == Path(cfg.paths.output_dir).resolve()


def export_path(cfg: DictConfig, said: Path | None = None) -> Path:
    """`<export_dir>/<style>.pt`, unless that file exists and `overwrite` is off: then the run dir. Said at the start
    of a run, and again at the end only when it changed since (`said`)."""
    target = Path(cfg.export_dir) / f"{cfg.style.name}.pt"
    if target.exists() and not cfg.overwrite and not in_run_dir(cfg, target):
        fallback = Path(cfg.paths.output_dir) / target.name
        if fallback != said:
            print(f"{target} exists and overwrite=false, so this run exports to {fallback}")
        return fallback
    return target


def reason(error: OSError) -> str:
    return error.strerror or str(error)


def check_writable(folder) -> None:
    """At start-up, not after hours of training: the style must have somewhere to go."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise PainterlyError(
            f"export_dir {folder} is not writable ({reason(error)}); pass export_dir=<a writable folder>"
        ) from None


def last_checkpoint(trainer: L.Trainer, cfg: DictConfig) -> Path:
    callback = trainer.checkpoint_callback
    return (
        Path(callback.dirpath if callback and callback.dirpath else Path(cfg.paths.output_dir) / "checkpoints")
        / "last.ckpt"
    )


def export_style(cfg: DictConfig, trainer: L.Trainer, module: L.LightningModule, target: Path) -> Path:
    """The style to `target`; if that write fails, one line saying where the run is and how to export it."""
    record = module.style_checkpoint()
    try:
        try:
            return save_style(record, target, overwrite=cfg.overwrite or in_run_dir(cfg, target))
        except PainterlyError:  # another run exported this style since start-up: keep theirs, go to the run dir
            if not target.exists():
                raise
            return save_style(record, export_path(cfg, said=target))
    except OSError as error:
        last, note = last_checkpoint(trainer, cfg), ""
        if trainer.world_size == 1:  # a collective call: only a single process can make it here
            try:
                trainer.save_checkpoint(last)  # holds the final step even between two scheduled saves
            except OSError as again:
                note = f" (saving the final step failed too: {reason(again)})"
        raise PainterlyError(
            f"cannot write {target} ({reason(error)}); the trained network is safe in {last}{note}: "
            f"export it with python train.py ckpt_path={shlex.quote(str(last))} "
            "export_dir=<a writable folder>"
        ) from None


def save_interrupted(cfg: DictConfig, trainer: L.Trainer, module: L.LightningModule, stop: SystemExit) -> int:
    """After Ctrl-C or SIGTERM: the style so far, marked partial, beside the resumable checkpoint that ModelCheckpoint
    saved (save_on_exception), and how to go on. Returns the exit status a shell gives that signal (128 + N)."""
    signum = signal.SIGTERM if isinstance(stop, SIGTERMException) else signal.SIGINT  # Lightning exits on Ctrl-C
    if trainer.is_global_zero:
        last = trainer.checkpoint_callback.last_model_path if trainer.checkpoint_callback else ""
        print(f"train: stopped by {signum.name} at step {trainer.global_step}", file=sys.stderr)
        if trainer.global_step and last:
            record = {**module.style_checkpoint(), "partial": True}
            partial = save_style(record, Path(cfg.paths.output_dir) / f"{cfg.style.name}{PARTIAL_SUFFIX}")
            print(
                f"  resumable checkpoint: {last}\n  style so far (partial): {partial}\n"
                f"  resume: python train.py ckpt_path={shlex.quote(last)}",
                file=sys.stderr,
            )
    return 128 + signum


def stylize_command(cfg: DictConfig, path: Path) -> str:
    """How to use the new style: by name when it went to the checkpoint folder that ckpt=<name> looks in."""
    ckpt = cfg.style.name if path.parent.resolve() == checkpoint_dir().resolve() else path
    return f"python stylize.py ckpt={shlex.quote(str(ckpt))} input=photo.jpg"


def warm_start(module: L.LightningModule, ckpt) -> None:
    """The network starts from a trained style's weights, read as checked data (never instantiated)."""
    path = resolve_checkpoint(ckpt)
    net, record = load_style(path)
    try:
        missing, unexpected = module.model.load_state_dict(net.state_dict(), strict=False)
        # a noise input added to a style trained without one starts at zero: the style's output, unchanged
        if unexpected or any(not key.startswith("noise.") for key in missing):
            raise RuntimeError
    except RuntimeError:
        shape = {k: v for k, v in record["model"].items() if k != "_target_"}
        raise PainterlyError(
            f"init_from={path}: its network {shape} does not fit this run's model.net; train with the model it was "
            "trained with (model=johnson_slim for width 16)"
        ) from None
    print(f"starting from {path}: {record['steps']} steps of {record['style']['name']}")


def train(cfg: DictConfig, sweep: bool = False) -> Path | None:
    """Fit, then export the style; `cfg` with a `hydra` node (as the command composes it) gets a run dir first."""
    if "hydra" in cfg:
        cfg = start_run(cfg, sweep)
    said = export_path(cfg) if rank_zero_only.rank == 0 else None  # said now, not after hours of training
    L.seed_everything(cfg.seed, workers=True)
    check_writable(cfg.export_dir)
    if cfg.get("ckpt_path"):
        check_resume(cfg)
    datamodule = instantiate(cfg.data)
    module = instantiate(cfg.model)
    module.recipe = OmegaConf.to_container(cfg, resolve=True)  # set here, never instantiated: it holds _target_s
    if cfg.get("init_from") and not cfg.get("ckpt_path"):  # a resumed run has its own weights
        warm_start(module, cfg.init_from)
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values()]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    try:
        with warnings.catch_warnings():
            # Lightning 2.6.6 (the newest) calls a pytree API that torch 2.14 deprecates, on every run; nothing
            # here can change it (Lightning-AI/pytorch-lightning#21326).
            warnings.filterwarnings("ignore", r"`isinstance\(treespec, LeafSpec\)`", FutureWarning, r"lightning\.")
            trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    except SystemExit as stop:  # Lightning's ends for Ctrl-C and SIGTERM, after its on_exception callbacks
        if not trainer.interrupted:
            raise
        raise SystemExit(save_interrupted(cfg, trainer, module, stop)) from None
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        # on every rank, as torch's shutdown notes ask (Lightning leaves it up): a rank that exited with its gloo group
        # alive while rank 0 was still exporting aborted once ("terminate called without an active exception")
        torch.distributed.destroy_process_group()
    if not trainer.is_global_zero:
        return None
    path = export_style(cfg, trainer, module, export_path(cfg, said))
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
    try:
        run_command(sys.argv[1:])
    except KeyboardInterrupt:  # outside training (start-up, export): nothing to save yet, or saved already
        print("train: interrupted", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)


def run_command(argv: list[str]) -> None:
    if not {"-m", "--multirun"} & set(argv):
        resume = launch("train", "train", lambda cfg: resume_overrides(argv), argv)  # [] unless ckpt_path= is given
        # the resume overrides come quoted for Hydra already: quote the user's file names alone
        launch("train", "train", train, [*quote_paths("train", argv), *resume], hydra_config=True, quoted=True)
        return
    jobs, sweep_dir = sweep_jobs(quote_paths("train", [arg for arg in argv if arg not in ("-m", "--multirun")])), []
    for num, job in enumerate(jobs):
        settings = [f"hydra.job.num={num}", *sweep_dir]
        if not sweep_dir:  # one timestamp for the whole sweep
            cfg = launch("train", "train", lambda cfg: cfg, [*job, *settings], hydra_config=True, quoted=True)
            sweep_dir = [f"hydra.sweep.dir={quote(cfg.hydra.sweep.dir)}"]
        job = [*job, *settings, *sweep_dir]
        launch("train", "train", partial(train, sweep=True), job, hydra_config=True, quoted=True)
