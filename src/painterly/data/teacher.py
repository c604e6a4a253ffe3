"""Distillation targets: a teacher's rendering of each training photo.

Two teachers: the pretrained AdaIN network, run here on every photo and cached on disk by a hash of the photo list,
the painting, the size and alpha; or a folder of renderings made beforehand by any method, named like the photos
(gatys's, at minutes a photo: `python stylize.py method=gatys ... skip_existing=true` makes and resumes them).
Photos and targets are kept pre-decoded and pre-resized in memory (uint8), so a step spends no time on JPEGs, and
the first phase of training (`distill_steps`) fits the network to the targets in pixel space without the VGG loss.
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
from painterly.stylize.images import find_images, to_pixels


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


def teacher_pairs(files, renders: str | None = None, **adain) -> list:
    """The pairs of data.teacher: read from a folder of `renders`, or AdaIN's made by `cached_pairs(**adain)`."""
    if renders and adain:
        raise PainterlyError(f"data.teacher: give renders or AdaIN's keys ({', '.join(adain)}), not both")
    return rendered_pairs(files, renders) if renders else cached_pairs(files, **adain)


def rendered_pairs(files, renders: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(photo, rendering) as (3, H, W) uint8 for each photo that has a rendering of the same name under `renders`,
    the photo resized to its rendering's size. Photos without one are left out of training, with a count."""
    by_name = {path.name: path for path in find_images(renders)}  # none for a missing folder
    pairs = []
    for file in files:
        rendering = by_name.get(Path(file).name)
        if rendering is None:
            continue
        try:
            target = load_rgb(rendering)
            photo = resize_long(load_rgb(file), max(target.shape[-2:]))
        except PainterlyError as error:
            print(f"teacher: skipping {error}")
            continue
        if photo.shape != target.shape:  # another photo's rendering, or a cropped one: no pixel lines up
            print(f"teacher: skipping {rendering}: its shape is not {file}'s")
            continue
        pairs.append((to_uint8(photo), to_uint8(target)))
    if not pairs:
        raise PainterlyError(
            f"{renders}: no renderings named like the training photos; make them with python stylize.py "
            f"method=gatys style=<painting> input=<photos> output={renders} skip_existing=true"
        )
    print(f"teacher: {len(pairs)} of {len(files)} training photos have a rendering in {renders}")
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
        # a rendering narrower than the crop (a panorama) is padded rather than ending the run
        self.transform = v2.Compose([v2.RandomCrop(crop, pad_if_needed=True), v2.RandomHorizontalFlip()])

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        photo, target = self.transform(*(tv_tensors.Image(x) for x in self.pairs[index]))
        return photo.as_subclass(torch.Tensor) / 255, torch.tensor([index, 0]), target.as_subclass(torch.Tensor) / 255
