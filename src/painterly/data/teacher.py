"""Distillation targets: the pretrained AdaIN network's rendering of every training photo, made once per style.

Photos and targets are kept pre-decoded and pre-resized in memory (uint8), so a step spends no time on JPEGs, and
the first phase of training (`distill_steps`) fits the network to the targets in pixel space without the VGG loss.
The pairs are cached on disk by a hash of the photo list, the painting, the size and alpha.
"""

import hashlib
from pathlib import Path

import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from painterly import PainterlyError
from painterly.io.tensors import load_rgb, resize_long, resize_short
from painterly.stylize.files import atomic_path
from painterly.stylize.images import to_pixels


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    """(3, H, W) float in [0, 1] -> (3, H, W) uint8, by the one float-to-pixel conversion (stylize.images)."""
    return torch.from_numpy(to_pixels(image.numpy())).permute(2, 0, 1).contiguous()


@torch.inference_mode()
def make_pairs(files, style_image: str, size: int, alpha: float) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(photo, AdaIN target) as (3, H, W) uint8, each photo resized to `size` on its short side."""
    from painterly.models.adain import AdaINNet

    net = AdaINNet().eval()
    painting = resize_long(load_rgb(style_image), 512)  # AdaIN's own style size (configs/method/adain.yaml)
    style = net.encode(painting[None])
    pairs = []
    for i, file in enumerate(files):
        try:
            photo = resize_short(load_rgb(file), size)
        except PainterlyError as error:
            print(f"teacher: skipping {error}")
            continue
        pairs.append((to_uint8(photo), to_uint8(net(photo[None], style, alpha)[0])))
        if (i + 1) % 50 == 0:
            print(f"teacher: {i + 1}/{len(files)} targets")
    return pairs


def cached_pairs(files, style_image: str, size: int, alpha: float, cache_dir) -> list:
    key = hashlib.sha256(repr((sorted(map(str, files)), str(style_image), size, alpha)).encode())
    key.update(Path(style_image).read_bytes())
    path = Path(cache_dir) / f"adain_{key.hexdigest()[:16]}.pt"
    if path.is_file():
        return torch.load(path, weights_only=True)
    pairs = make_pairs(files, style_image, size, alpha)
    with atomic_path(path) as tmp:
        torch.save(pairs, tmp)
    return pairs


class PairDataset(Dataset):
    """Random `crop`-pixel crops, flipped at random, of (photo, target) pairs: the same crop for both.
    Yields (photo, (index, 0 files skipped), target) in [0, 1]: the batch layout of PhotoDataset plus the target."""

    def __init__(self, pairs, crop: int):
        self.pairs = pairs
        self.transform = v2.Compose([v2.RandomCrop(crop), v2.RandomHorizontalFlip()])

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        photo, target = self.transform(*(tv_tensors.Image(x) for x in self.pairs[index]))
        return photo.as_subclass(torch.Tensor) / 255, torch.tensor([index, 0]), target.as_subclass(torch.Tensor) / 255
