"""A test-only callback: every DDP rank saves its network weights at the end of training."""

from pathlib import Path

import lightning as L
import torch


class SaveRankWeights(L.Callback):
    def __init__(self, folder: str):
        self.folder = Path(folder)

    def on_train_end(self, trainer, pl_module):
        self.folder.mkdir(parents=True, exist_ok=True)
        torch.save(pl_module.model.state_dict(), self.folder / f"rank{trainer.global_rank}.pt")
