"""LightningModule that trains a feed-forward network for one style (Johnson et al. 2016)."""

import lightning as L
import torch
from torch import nn

from painterly.io.checkpoint import style_record
from painterly.stylize.images import to_pixels
from painterly.io.tensors import load_rgb, resize_long
from painterly.losses.perceptual import PerceptualLoss


def style_thumbnail(image: torch.Tensor, size: int = 256) -> torch.Tensor:
    """The painting as (3, h, w) uint8, `size` on the long side, for the style checkpoint."""
    return torch.from_numpy(to_pixels(resize_long(image, size).numpy())).permute(2, 0, 1).contiguous()


class StyleTransferModule(L.LightningModule):
    """`model` learns to restyle photos; `loss` is the frozen perceptual loss, left out of checkpoints.

    `meta` (model config, style, loss config, recipe) travels inside every Lightning checkpoint, so that one
    can be exported or used by stylize.py without the config that made it.
    """

    def __init__(self, model: nn.Module, loss: PerceptualLoss, style_image: str, style_size: int,
                 optimizer, scheduler=None, meta: dict | None = None, channels_last: bool = True, compile: bool = False):
        super().__init__()
        self.model, self.loss = model, loss
        self.style_image, self.style_size = style_image, style_size
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.meta = meta or {}
        self.thumbnail = style_thumbnail(load_rgb(style_image))  # also fails early on a bad style image
        self.channels_last, self.compile_model = channels_last, compile
        self.skipped_files: set[int] = set()
        self.strict_loading = False  # checkpoints leave out the frozen VGG

    def style_batch(self) -> torch.Tensor:
        return resize_long(load_rgb(self.style_image), self.style_size)[None]

    def configure_model(self):
        if self.channels_last:  # faster convolutions on GPUs (tensor cores) and with oneDNN on CPUs
            self.to(memory_format=torch.channels_last)
        if self.compile_model:
            self.model.compile()  # in place: state-dict keys stay the same

    def on_fit_start(self):
        # Each rank computes the Grams itself, on its own device, once per run.
        self.loss.set_style(self.style_batch().to(self.device))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)

    def training_step(self, batch, batch_idx):
        images, skipped = batch
        self.note_skipped(skipped)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        terms = self.loss(self.model(images), images)
        self.log_dict({f"train/{k}_loss": v for k, v in terms.items()}, prog_bar=False)
        self.log("loss", terms["total"], prog_bar=True, logger=False)
        return terms["total"]

    def note_skipped(self, skipped: torch.Tensor):
        new = {int(i) for i in skipped if i >= 0} - self.skipped_files
        if new and not self.skipped_files:
            first = self.trainer.datamodule.train_files[min(new)]
            print(f"warning: skipping unreadable image {first}; a count of all such files follows at the end")
        self.skipped_files |= new

    def on_train_end(self):
        if self.skipped_files:
            print(f"skipped {len(self.skipped_files)} unreadable image(s) in the dataset")

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.model.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer=optimizer), "interval": "step"}}

    def record(self) -> dict:
        """The style checkpoint for the current weights."""
        return style_record(self.model, steps=self.global_step, thumbnail=self.thumbnail, **self.meta)

    def on_save_checkpoint(self, checkpoint):
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if not k.startswith("loss.")}
        checkpoint["painterly"] = {k: v for k, v in self.record().items() if k != "state_dict"}
