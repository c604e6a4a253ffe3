import lightning as L
import torch
from torch.utils.data import DataLoader

from painterly import PainterlyError
from painterly.data.dataset import PhotoDataset, eval_transform, train_transform
from painterly.stylize.images import find_images

MISSING_HINT = (
    "use data=samples for the bundled photos, or download COCO train2014 "
    "(http://images.cocodataset.org/zips/train2014.zip), unzip it and pass data=coco data.root=/path/to/train2014"
)


class PhotoDataModule(L.LightningDataModule):
    """Random crops of every photo under `root`; `num_holdout` fixed photos are kept out for the image grids."""

    def __init__(
        self,
        root: str,
        image_size: int = 256,
        batch_size: int = 4,
        num_workers: int = 2,
        num_holdout: int = 4,
        pin_memory: bool = True,
    ):
        super().__init__()
        if not root:
            raise PainterlyError("data.root is required: the folder of photos to train on (data.root=/path/to/photos)")
        # relu5_1, the deepest style layer (configs/loss/), sits after four 2x poolings: below 16 px it has no pixels
        for key, value, least in (("image_size", image_size, 16), ("batch_size", batch_size, 1)):
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= least):
                raise PainterlyError(f"data.{key}={value}: must be a whole number, at least {least}")
        self.root, self.image_size, self.batch_size = root, image_size, batch_size
        self.num_workers, self.num_holdout, self.pin_memory = num_workers, num_holdout, pin_memory
        self.train_files: list = []
        self.holdout_files: list = []

    def setup(self, stage=None):
        files = find_images(self.root)
        if not files:
            raise PainterlyError(f"{self.root}: no dataset folder, or no images in it; {MISSING_HINT}")
        step = max(1, len(files) // max(1, self.num_holdout))
        self.holdout_files = files[::step][: self.num_holdout] if len(files) > self.num_holdout else []
        self.train_files = [f for f in files if f not in self.holdout_files]

    def train_dataloader(self):
        dataset = PhotoDataset(self.train_files, train_transform(self.image_size))
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=len(dataset) >= self.batch_size,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            pin_memory=self.pin_memory and torch.cuda.is_available(),
        )

    def holdout_batch(self, size: int) -> torch.Tensor:
        """The held-out photos, center-cropped to `size`, as one batch (for image grids)."""
        dataset = PhotoDataset(self.holdout_files, eval_transform(size))
        return (
            torch.stack([dataset[i][0] for i in range(len(dataset))]) if len(dataset) else torch.empty(0, 3, size, size)
        )
