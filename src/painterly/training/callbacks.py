from pathlib import Path

import lightning as L
import torch
from torchvision.utils import make_grid

from painterly.stylize.images import save_image


class StyleGrid(L.Callback):
    """Held-out photos (top row) above their stylized versions (bottom row), to TensorBoard and as a PNG in the
    run dir, every `every_n_steps` steps and at the end of every run."""

    def __init__(self, every_n_steps: int = 500, image_size: int = 256):
        self.every_n_steps, self.image_size = every_n_steps, image_size
        self.photos = None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.every_n_steps and trainer.global_step % self.every_n_steps == 0:
            self.log_grid(trainer, pl_module)

    def on_train_end(self, trainer, pl_module):
        self.log_grid(trainer, pl_module)

    @torch.no_grad()
    def log_grid(self, trainer, pl_module):
        log_dir = trainer.log_dir  # a broadcast under DDP: every rank must ask for it
        if not trainer.is_global_zero:
            return
        if self.photos is None:
            self.photos = trainer.datamodule.holdout_batch(self.image_size)
        if not len(self.photos):
            return
        was_training = pl_module.training
        pl_module.eval()
        stylized = pl_module(self.photos.to(pl_module.device)).float().clamp(0, 1).cpu()
        pl_module.train(was_training)
        grid = make_grid(torch.cat([self.photos, stylized]), nrow=len(self.photos), padding=4, pad_value=1.0)
        for logger in trainer.loggers:
            if hasattr(logger.experiment, "add_image"):
                logger.experiment.add_image("stylized", grid, trainer.global_step)
        if log_dir:
            save_image(grid.numpy(), Path(log_dir) / "grids" / f"step_{trainer.global_step:06d}.png")


def batch_size(batch) -> int:
    """Images in a training batch (for ThroughputMonitor)."""
    return len(batch[0])
