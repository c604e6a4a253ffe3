"""`python train.py style=... [key=value ...]`: train one style and export its checkpoint."""

import sys
import warnings
from pathlib import Path

import hydra
import lightning as L
from omegaconf import DictConfig, OmegaConf

from painterly import first_line
from painterly.cli import one_line_errors
from painterly.config import CONFIG_DIR, check_overrides, instantiate
from painterly.export import cache_onnx
from painterly.io.checkpoint import save_style
from painterly.training.module import StyleTransferModule


def build_module(cfg: DictConfig) -> StyleTransferModule:
    plain = lambda node: OmegaConf.to_container(node, resolve=True)  # noqa: E731
    meta = {
        "model_config": plain(cfg.model),
        "style": {"name": cfg.style.name, "image": str(cfg.style.image)},
        "loss": plain(cfg.loss),
        "recipe": plain(cfg),
        "half": cfg.export_half,
    }
    return StyleTransferModule(
        model=instantiate(cfg.model), loss=instantiate(cfg.loss), style_image=cfg.style.image,
        style_size=cfg.style.size, optimizer=instantiate(cfg.optimizer),
        scheduler=instantiate(cfg.scheduler) if cfg.get("scheduler") else None, meta=meta,
        channels_last=cfg.channels_last, compile=cfg.compile,
    )


def export_path(cfg: DictConfig) -> Path:
    """`<export_dir>/<style>.pt`, unless that file exists and `overwrite` is off: then the run dir."""
    target = Path(cfg.export_dir) / f"{cfg.style.name}.pt"
    if target.exists() and not cfg.overwrite:
        fallback = Path(cfg.paths.output_dir) / target.name
        print(f"{target} exists and overwrite=false, so this run exports to {fallback}")
        return fallback
    return target


# Expected in this design: the loss network stays in eval mode, and FLOPs are not counted.
warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode.*")
warnings.filterwarnings("ignore", message=r".*flops_per_batch.*")
warnings.filterwarnings("ignore", message=r".*treespec.*")


def train(cfg: DictConfig) -> Path | None:
    L.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    module = build_module(cfg)
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values()]
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    if not trainer.is_global_zero:
        return None
    path = save_style(module.record(), export_path(cfg))
    print(f"exported {cfg.style.name} after {trainer.global_step} steps to {path}")
    try:
        cache_onnx(path)  # 0.2 s: stylize.py's first call on this style then runs without importing torch
    except Exception as error:  # stylize.py exports on first use instead, or falls back to torch
        print(f"(not cached for stylize.py: {first_line(error)})")
    return path


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="train")
def hydra_main(cfg: DictConfig) -> None:
    with one_line_errors("train"):
        train(cfg)


def main() -> None:
    with one_line_errors("train"):
        check_overrides("train", sys.argv[1:])
    hydra_main()
