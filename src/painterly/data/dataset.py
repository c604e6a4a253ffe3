"""A COCO-style dataset: any folder tree of photos, unreadable files skipped."""

import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from painterly import PainterlyError
from painterly.io.tensors import load_rgb


def train_transform(image_size: int) -> v2.Transform:
    return v2.Compose([v2.Resize(image_size, antialias=True), v2.RandomCrop(image_size), v2.RandomHorizontalFlip()])


def eval_transform(image_size: int) -> v2.Transform:
    return v2.Compose([v2.Resize(image_size, antialias=True), v2.CenterCrop(image_size)])


class PhotoDataset(Dataset):
    """Yields (image, skipped): `skipped` is the index of an unreadable file passed over to reach this image, or -1.

    A corrupt file is replaced by the next readable one, so batches stay full and a run never crashes on one.
    """

    def __init__(self, files, transform):
        self.files = list(files)
        self.transform = transform

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        skipped = -1
        for offset in range(len(self.files)):
            i = (index + offset) % len(self.files)
            try:
                return self.transform(load_rgb(self.files[i])), torch.tensor(skipped)
            except PainterlyError:
                skipped = i if skipped < 0 else skipped
        raise PainterlyError(f"no readable image among {len(self.files)} files")
