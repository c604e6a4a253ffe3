import time
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only
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


# Steps per second of the default recipe (batch 4, 256 px, johnson) on the 2-core CPU of BENCHMARKS.md: 0.568 in
# bf16-mixed; fp32 takes about twice as long per step (3.15 s against 1.6 s, BENCHMARKS.md).
CPU_STEPS_PER_SECOND = {"bf16-mixed": 0.568, "32-true": 0.568 / 2}
LONG_RUN_HOURS = 1.0  # a CPU run expected to take longer than this gets the warning and the faster recipe


def duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{max(1, minutes)} min"


class RunInfo(L.Callback):
    """Says up front where the run writes and how to watch it, the total steps, and (after the first `eta_steps`
    timed steps) the time left over all steps, not one epoch; on a CPU a long recipe is warned about with the
    expected hours and the faster recipe."""

    def __init__(self, log_dir: str, eta_steps: int = 20):
        self.log_dir, self.eta_steps = log_dir, eta_steps
        self.started: tuple[int, float] | None = None
        self.told_eta = False

    def total_steps(self, trainer) -> int:
        return trainer.max_steps if trainer.max_steps > 0 else int(trainer.estimated_stepping_batches)

    @rank_zero_only
    def on_train_start(self, trainer, pl_module):
        total, done = self.total_steps(trainer), trainer.global_step
        print(f"run dir: {trainer.default_root_dir}")
        print(f"watch it: tensorboard --logdir {self.log_dir}")
        print(f"{total} steps" + (f", resuming at step {done}" if done else ""))
        if pl_module.device.type == "cpu":
            datamodule = trainer.datamodule
            pixels = datamodule.batch_size * datamodule.image_size**2 / (4 * 256**2)  # against the measured recipe
            rate = CPU_STEPS_PER_SECOND.get(str(trainer.precision), CPU_STEPS_PER_SECOND["32-true"]) / pixels
            seconds = (total - done) / rate
            if seconds > LONG_RUN_HOURS * 3600:
                print(
                    f"warning: this recipe takes about {duration(seconds)} on a CPU (measured on 2 cores, "
                    "BENCHMARKS.md); for a style in minutes use `python train.py experiment=demo`, or train on a GPU "
                    "(trainer=gpu)"
                )

    @rank_zero_only
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        step, now = trainer.global_step, time.perf_counter()
        if self.started is None:  # timed from the end of the first step: it pays one-off costs (oneDNN, workers)
            self.started = (step, now)
            return
        total, (first, start) = self.total_steps(trainer), self.started
        if not self.told_eta and step - first >= min(self.eta_steps, max(1, (total - first) // 2)):
            per_step = (now - start) / max(1, step - first)
            print(f"step {step}/{total}: {per_step:.2f} s/step, about {duration(per_step * (total - step))} to go")
            self.told_eta = True


class ModelCheckpoint(L.pytorch.callbacks.ModelCheckpoint):
    """Lightning's, with last.ckpt always at the step a Ctrl-C stopped at.

    A scheduled save writes step_N.ckpt, then last.ckpt. Lightning marks the step saved after the first, so a Ctrl-C
    between the two (or inside the second, which is atomic) left last.ckpt one save behind, and its exception save
    skipped the step as saved already: the partial style was at step 4 and last.ckpt at 2 (CI, twenty-first session).
    SIGTERM stops only between steps, so only Ctrl-C can land there.
    """

    saving = False

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.saving = True
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        self.saving = False

    def on_exception(self, trainer, pl_module, exception):
        if self.saving:  # this step's files may be half done: Lightning's exception save then writes both again
            self._last_global_step_saved = -1
        super().on_exception(trainer, pl_module, exception)
