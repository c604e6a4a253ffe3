"""LightningModule that trains a feed-forward network for one style (Johnson et al. 2016), built from configs/model/."""

import copy

import lightning as L
import torch
from lightning.fabric.utilities.throughput import measure_flops
from lightning.pytorch.utilities import rank_zero_only
from torch import nn

from painterly import PainterlyError
from painterly.data.dataset import skipped_files
from painterly.io.checkpoint import check_working_size, style_record
from painterly.io.tensors import load_rgb, resize_long
from painterly.losses.perceptual import PerceptualLoss
from painterly.stylize.images import to_pixels

NAMED_SKIPS = 3  # unreadable photos named one by one; the rest are counted
print_rank_zero = rank_zero_only(print)  # under DDP every rank runs this module; one of them speaks


def style_thumbnail(image: torch.Tensor, size: int = 256) -> torch.Tensor:
    """The painting as (3, h, w) uint8, `size` on the long side, for the style checkpoint."""
    return torch.from_numpy(to_pixels(resize_long(image, size).numpy())).permute(2, 0, 1).contiguous()


class StyleTransferModule(L.LightningModule):
    """`net` learns to restyle photos like `style` (name, image, size); `loss` is the frozen perceptual loss, left
    out of checkpoints. `recipe`, the whole training config, travels with the style record inside every Lightning
    checkpoint, so that one can be exported or used by stylize.py without the config that made it.
    """

    def __init__(
        self,
        net: nn.Module,
        loss: PerceptualLoss,
        optimizer,
        style: dict,
        scheduler=None,
        export_half: bool = False,
        channels_last: bool = True,
        compile: bool = False,
        distill_steps: int = 0,
        teacher_content: bool = False,
    ):
        super().__init__()
        lr = getattr(optimizer, "keywords", {}).get("lr")  # the optimizer comes as a partial (configs/model/)
        if lr is not None and not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > 0):
            raise PainterlyError(f"model.optimizer.lr={lr}: must be a number above 0 (the paper's is 1e-3)")
        # plain values only (the objects are rebuilt from config): checkpoints stay loadable with weights_only=True
        self.save_hyperparameters(logger=False, ignore=["net", "loss", "optimizer", "scheduler"])
        self.model = net  # `model.` prefixes the network's weights in Lightning checkpoints (io.checkpoint)
        self.loss = loss
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.recipe: dict = {}  # the whole training config, plain; train() sets it
        self.thumbnail = style_thumbnail(load_rgb(style["image"]))  # also fails early on a bad style image
        check_working_size(style.get("working_size"), "style.working_size")  # before training, not at export
        self.skipped_files: set = set()
        self.strict_loading = False  # checkpoints leave out the frozen VGG
        self.step_kind: tuple | None = None  # (batch shape, distilling) of the last step, for flops_per_batch
        self._flops: dict[tuple, int] = {}

    def style_batch(self) -> torch.Tensor:
        return resize_long(load_rgb(self.hparams.style["image"]), self.hparams.style["size"])[None]

    def configure_model(self):
        if self.hparams.channels_last:  # faster convolutions on GPUs (tensor cores) and with oneDNN on CPUs
            self.to(memory_format=torch.channels_last)
        if self.hparams.compile:
            self.model.compile()  # in place: state-dict keys stay the same

    def on_fit_start(self):
        # Each rank computes the Grams itself, on its own device, once per run.
        self.loss.set_style(self.style_batch().to(self.device))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)

    def training_step(self, batch, batch_idx):
        images, skipped, *target = batch  # a target with data.teacher
        self.note_skipped(skipped)
        if self.hparams.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        distilling = bool(target) and self.global_step < self.hparams.distill_steps
        self.step_kind = (tuple(images.shape), distilling)
        output = self.model(images)
        if distilling:  # pixel L1 to the teacher: no VGG pass
            distill = torch.nn.functional.l1_loss(output.float(), target[0])
            self.log("train/distill_loss", distill)
            self.log("loss", distill, prog_bar=True, logger=False)
            return distill
        terms = self.loss(output, target[0] if target and self.hparams.teacher_content else images)
        self.log_dict({f"train/{k}_loss": v for k, v in terms.items()}, prog_bar=False)
        self.log("loss", terms["total"], prog_bar=True, logger=False)
        return terms["total"]

    @property
    def flops_per_batch(self) -> int | None:
        """FLOPs of one step like the last (forward and backward: the network and the VGG, or the network alone
        while distilling), for ThroughputMonitor's flops_per_sec. Counted once per kind of step, on copies and for
        one image (FLOPs grow with the batch): a step of the copies costs a quarter of a real one at batch 4."""
        if self.step_kind is not None and self.step_kind not in self._flops:
            shape, distilling = self.step_kind
            with torch.inference_mode(False), torch.enable_grad():  # ThroughputMonitor asks in inference mode
                net, loss = (copy.deepcopy(module) for module in (self.model, self.loss))
                photo = torch.rand(1, *shape[1:], device=self.device)

                def step():
                    output = net(photo)
                    return torch.nn.functional.l1_loss(output, photo) if distilling else loss(output, photo)["total"]

                self._flops[self.step_kind] = shape[0] * measure_flops(net, step, lambda total: total)
        return self._flops.get(self.step_kind)

    def note_skipped(self, skipped: torch.Tensor):
        """Count every unreadable photo once, naming the first few as they come; the total follows at the end."""
        for index, count in skipped.tolist():
            for file in skipped_files(self.trainer.datamodule.train_files, index, count):
                if file not in self.skipped_files:
                    self.skipped_files.add(file)
                    if len(self.skipped_files) <= NAMED_SKIPS:
                        print_rank_zero(f"warning: skipping unreadable image {file}")
                    elif len(self.skipped_files) == NAMED_SKIPS + 1:
                        print_rank_zero("warning: skipping more unreadable images; their count follows at the end")

    def on_train_end(self):
        if self.skipped_files:
            print_rank_zero(f"skipped {len(self.skipped_files)} unreadable image(s) in the dataset")

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.model.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def style_checkpoint(self) -> dict:
        """The style checkpoint for the current weights, described by the training config it came from."""
        style = {"name": self.hparams.style["name"], "image": str(self.hparams.style["image"])}
        if self.hparams.style.get("working_size"):  # the size to render at, where one was measured to matter
            style["working_size"] = self.hparams.style["working_size"]
        return style_record(
            self.model,
            self.recipe.get("model", {}).get("net", {}),
            style,
            self.recipe.get("loss", {}),
            self.global_step,
            self.thumbnail,
            self.recipe,
            half=self.hparams.export_half,
        )

    def on_save_checkpoint(self, checkpoint):
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if not k.startswith("loss.")}
        # Counted once per run, not per process: counting draws a random photo from the RNG that also draws the crops,
        # so a resume that counted again would train on other crops than the unbroken run (data/resumable.py).
        checkpoint["flops"] = [[list(shape), distilling, flops] for (shape, distilling), flops in self._flops.items()]
        checkpoint["painterly"] = {k: v for k, v in self.style_checkpoint().items() if k != "state_dict"}

    def on_load_checkpoint(self, checkpoint):
        saved = checkpoint.get("flops")
        for entry in saved if isinstance(saved, list) else []:  # checked: a malformed entry is counted again
            match entry:
                case [list() as shape, bool() as distilling, int() as flops] if all(type(n) is int for n in shape):
                    self._flops[(tuple(shape), distilling)] = flops
