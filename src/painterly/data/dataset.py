"""A COCO-style dataset: any folder tree of photos, unreadable files skipped."""

import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from painterly import PainterlyError
from painterly.io.tensors import load_rgb


def train_transform(image_size: int, resize: int | None = None) -> v2.Transform:
    """Random `image_size` crops of each photo shrunk to `resize` on its short side (default: the whole scene)."""
    return v2.Compose(
        [v2.Resize(resize or image_size, antialias=True), v2.RandomCrop(image_size), v2.RandomHorizontalFlip()]
    )


def eval_transform(image_size: int) -> v2.Transform:
    return v2.Compose([v2.Resize(image_size, antialias=True), v2.CenterCrop(image_size)])


def skipped_files(files, index: int, skipped: int) -> list:
    """The files that PhotoDataset passed over for (index, skipped): the `skipped` ones from `index` on, wrapping."""
    return [files[(index + offset) % len(files)] for offset in range(skipped)]


class PhotoDataset(Dataset):
    """Yields (image, skipped): `skipped` counts the unreadable files passed over to reach this image, which are
    the ones from `index` on (wrapping around): `skipped_files` names them.

    A corrupt file is replaced by the next readable one, so batches stay full and a run never crashes on one.
    """

    def __init__(self, files, transform):
        self.files = list(files)
        self.transform = transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        for offset in range(len(self.files)):
            try:
                image = self.transform(load_rgb(self.files[(index + offset) % len(self.files)]))
                return image, torch.tensor([index, offset])
            except PainterlyError:
                continue
        raise PainterlyError(f"no readable image among {len(self.files)} files")
