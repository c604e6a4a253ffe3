"""Perceptual loss of Johnson et al.: content (feature MSE), style (Gram MSE) and total variation; optionally the
Grams at coarser octaves too (Snelgrove 2017), Grams between shifted copies of a layer (Berger and Memisevic 2016) and
the patch (CNNMRF) loss of Li and Wand (2016)."""

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from painterly import PainterlyError
from painterly.losses.vgg import VGGFeatures


def gram_matrix(features: torch.Tensor, other: torch.Tensor | None = None) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C), normalised by C*H*W so that it does not depend on the image size: the Gram of
    `features`, or between `features` and `other`, a map of the same shape (the shifted Grams)."""
    b, c, h, w = features.shape
    with torch.autocast(features.device.type, enabled=False):  # a sum over H*W products: fp32, also under bf16
        flat = features.reshape(b, c, h * w).float()
        other_flat = flat if other is None else other.reshape(b, c, h * w).float()
        return flat @ other_flat.transpose(1, 2) / (c * h * w)


def shifted_grams(features: torch.Tensor, shift: int, diagonals: bool = False) -> tuple[torch.Tensor, ...]:
    """(B, C, H, W) -> two or four (B, C, C): the Grams between the map and itself moved `shift` cells right, and down
    (Berger and Memisevic 2016); with `diagonals`, two more: moved `shift` cells down and right, and down and left.
    A Gram forgets where features are; these keep which follow which at that distance, so structures longer than
    a layer's receptive field (a swirl's arc) have a statistic."""
    f, s = features, shift
    grams = gram_matrix(f[..., :, :-s], f[..., :, s:]), gram_matrix(f[..., :-s, :], f[..., s:, :])
    if diagonals:
        grams += gram_matrix(f[..., :-s, :-s], f[..., s:, s:]), gram_matrix(f[..., :-s, s:], f[..., s:, :-s])
    return grams


def layer_stride(name: str) -> int:
    """VGG's downsampling at a layer: relu1_x 1, relu2_x 2, ..., relu5_x 16 (one 2x2 pool before each block)."""
    return 2 ** (int(name[4]) - 1)


PATCH = 3  # 3x3 neural patches, as Li and Wand (2016)
# four octaves down, a 256 px crop is 16 px: relu5_1 (stride 16) is one cell there, with no Gram worth the name
MAX_OCTAVES = 4
SHIFT_PX = 32  # the shifted Grams' default shift in image pixels, also that of checkpoints from before the key


def patches(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, L, C*3*3): every 3x3 patch at stride 1."""
    return F.unfold(features, PATCH).transpose(1, 2)


def patch_loss(features: torch.Tensor, style_patches: torch.Tensor, unit_patches: torch.Tensor) -> torch.Tensor:
    """CNNMRF (Li and Wand 2016): the mean squared distance from each 3x3 patch of `features` (B, C, H, W) to the
    painting's patch (of `style_patches`, (N, C*3*3); `unit_patches` are the same scaled to unit length) that it
    matches best by normalised cross-correlation. Where a Gram asks for the painting's feature statistics over the
    whole image, this asks every neighbourhood to be one of the painting's."""
    with torch.autocast(features.device.type, enabled=False):
        flat = patches(features.float())
        with torch.no_grad():  # the output patch's own norm is the same for every candidate: it leaves the argmax
            nearest = (flat @ unit_patches.T).argmax(-1)
        return F.mse_loss(flat, style_patches[nearest])


def octaves(images: torch.Tensor, count: int) -> list[torch.Tensor]:
    """`images`, then `count` coarser copies, each half the size of the one before (means of 2x2 pixels)."""
    pyramid = [images]
    for _ in range(count):
        pyramid.append(F.avg_pool2d(pyramid[-1], 2))
    return pyramid


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels."""
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().mean()
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().mean()
    return dx + dy


class PerceptualLoss(nn.Module):
    """Weighted content + style + TV loss against a frozen VGG.

    `vgg` builds the loss network for given layers (a partial of VGGFeatures). `content_layers` and `style_layers`
    map layer names to per-layer weights; a weight of 0 drops its layer (Hydra merges an experiment's map into
    the default's, so 0 is how a config removes a layer). `style_octaves` adds the Gram loss at that many coarser
    octaves of the output and the painting, by default weighted as the full size: a VGG layer's Gram sees structures
    up to its receptive field, and an octave down that covers twice the painting (Snelgrove 2017, "High-resolution
    multi-scale neural texture synthesis"). `style_octave_layers` maps the style layers taken at the coarser octaves
    to a factor on their full-size weight; null takes every style layer at its full-size weight.
    `style_shift_layers` maps style layers to a factor on their weight for the Grams between the layer and itself
    shifted by `style_shift_px` pixels of the image (Berger and Memisevic 2016), none by default; right and down,
    and with `style_shift_diagonals` down-right and down-left too, at the same factor in all. `patch_layers` maps
    layer names to the weights of their patch loss, none by default. The style targets are computed once by
    `set_style` and kept as (non-persistent) buffers, so they follow the module across devices.
    """

    def __init__(
        self,
        vgg: Callable[..., VGGFeatures],
        content_layers: dict,
        style_layers: dict,
        content_weight: float = 1.0,
        style_weight: float = 1.0,
        tv_weight: float = 0.0,
        patch_layers: dict | None = None,
        style_octaves: int = 0,
        style_octave_layers: dict | None = None,
        style_shift_layers: dict | None = None,
        style_shift_px: int = SHIFT_PX,
        style_shift_diagonals: bool = False,
    ):
        super().__init__()
        self.content_layers = {name: w for name, w in content_layers.items() if w}
        self.style_layers = {name: w for name, w in style_layers.items() if w}
        for key, layers in (("content_layers", self.content_layers), ("style_layers", self.style_layers)):
            if not layers:
                raise PainterlyError(f"loss.{key}: every weight is 0; keep at least one layer")
        self.patch_layers = {name: w for name, w in (patch_layers or {}).items() if w}
        if not (type(style_octaves) is int and 0 <= style_octaves <= MAX_OCTAVES):
            raise PainterlyError(
                f"loss.style_octaves must be a whole number from 0 to {MAX_OCTAVES}, not {style_octaves!r}"
            )
        self.style_octaves = style_octaves
        factors = {name: 1.0 for name in self.style_layers} if style_octave_layers is None else style_octave_layers
        self.octave_layers = {name: f for name, f in factors.items() if f}
        if unknown := sorted(set(self.octave_layers) - set(self.style_layers)):
            raise PainterlyError(
                f"loss.style_octave_layers: {', '.join(unknown)} is not a style layer; choose from "
                f"{', '.join(self.style_layers)}"
            )
        if style_octaves and not self.octave_layers:
            raise PainterlyError("loss.style_octave_layers: every factor is 0; keep one layer or set style_octaves=0")
        self.shift_layers = {name: f for name, f in (style_shift_layers or {}).items() if f}
        if unknown := sorted(set(self.shift_layers) - set(self.style_layers)):
            raise PainterlyError(
                f"loss.style_shift_layers: {', '.join(unknown)} is not a style layer; choose from "
                f"{', '.join(self.style_layers)}"
            )
        self.shifts = {name: style_shift_px // layer_stride(name) for name in self.shift_layers}
        if bad := sorted(name for name, shift in self.shifts.items() if shift < 1):
            raise PainterlyError(
                f"loss.style_shift_px={style_shift_px} is less than one cell of {', '.join(bad)}; "
                f"use at least {max(layer_stride(name) for name in bad)}"
            )
        self.shift_diagonals = style_shift_diagonals
        self.content_weight, self.style_weight, self.tv_weight = content_weight, style_weight, tv_weight
        wanted = [*self.content_layers, *self.style_layers, *self.patch_layers]
        self.vgg = vgg(layers=wanted)  # built only as deep as needed
        self.layers = [name for name in self.vgg.names if name in wanted]

    @torch.no_grad()
    def set_style(self, style_image: torch.Tensor) -> None:
        """Compute the target Grams (at each octave, and patches) from one (1, 3, H, W) style image in [0, 1]."""
        features = self.vgg(style_image, [*self.style_layers, *self.patch_layers])
        for octave, image in enumerate(octaves(style_image, self.style_octaves)):
            grams = features if octave == 0 else self.vgg(image, self.octave_layers)
            for name in self.style_layers if octave == 0 else self.octave_layers:
                self.register_buffer(at_octave(f"gram_{name}", octave), gram_matrix(grams[name]), persistent=False)
        for name, shift in self.shifts.items():
            grams = shifted_grams(features[name], shift, self.shift_diagonals)
            for axis, gram in zip(self.shift_axes, grams, strict=True):
                self.register_buffer(at_shift(name, axis), gram, persistent=False)
        for name in self.patch_layers:  # and their unit-length twins, once here rather than at every step
            style_patches = patches(features[name].float())[0]
            self.register_buffer(f"patches_{name}", style_patches, persistent=False)
            self.register_buffer(f"unit_patches_{name}", F.normalize(style_patches, dim=1), persistent=False)

    def style_target(self, name: str, octave: int = 0) -> torch.Tensor:
        return getattr(self, at_octave(f"gram_{name}", octave))

    @property
    def shift_axes(self) -> str:
        """The shifted Grams' directions: right, down, and with the diagonals down-right and down-left."""
        return "xyda" if self.shift_diagonals else "xy"

    def shift_targets(self, name: str) -> tuple[torch.Tensor, ...]:
        return tuple(getattr(self, at_shift(name, axis)) for axis in self.shift_axes)

    def style_patches(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        return getattr(self, f"patches_{name}"), getattr(self, f"unit_patches_{name}")

    @torch.no_grad()
    def content_targets(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.vgg(content, self.content_layers)

    def forward(self, output: torch.Tensor, content) -> dict[str, torch.Tensor]:
        """Weighted loss terms (content, style, tv, total; style_<layer> for each style layer, and
        style_<layer>_octave<k> for each octave layer at each coarser octave; style_<layer>_shift for each shift
        layer; patch and patch_<layer> where there are patch layers) for the stylized `output` (B, 3, H, W) in
        [0, 1] of `content`: the content images, or their `content_targets` when they are fixed (as in the Gatys
        method)."""
        targets = content if isinstance(content, dict) else self.content_targets(content)
        features = self.vgg(output, self.layers)
        content_loss = sum(
            w * F.mse_loss(features[n].float(), targets[n].float()) for n, w in self.content_layers.items()
        )
        full = {n: self.style_weight * w for n, w in self.style_layers.items()}
        coarse = {n: full[n] * f for n, f in self.octave_layers.items()}  # at each octave layer's factor
        by_layer = {}
        for octave, image in enumerate(octaves(output, self.style_octaves)):
            grams = features if octave == 0 else self.vgg(image, self.octave_layers)
            for n, w in (coarse if octave else full).items():
                target = self.style_target(n, octave).expand(len(output), -1, -1)
                by_layer[at_octave(f"style_{n}", octave)] = w * F.mse_loss(gram_matrix(grams[n]), target)
        for n, shift in self.shifts.items():
            targets = self.shift_targets(n)
            pairs = zip(shifted_grams(features[n], shift, self.shift_diagonals), targets, strict=True)
            # the mean over the directions, twice: the factor weighs two directions or four the same
            loss = 2 * sum(F.mse_loss(g, t.expand(len(output), -1, -1)) for g, t in pairs) / len(targets)
            by_layer[f"style_{n}_shift"] = full[n] * self.shift_layers[n] * loss
        by_patch = {
            f"patch_{n}": w * patch_loss(features[n], *self.style_patches(n)) for n, w in self.patch_layers.items()
        }
        terms = {
            "content": self.content_weight * content_loss,
            "style": sum(by_layer.values()),
            "tv": self.tv_weight * total_variation(output),
        }
        if by_patch:
            terms["patch"] = sum(by_patch.values())
        terms["total"] = sum(terms.values())
        return terms | by_layer | by_patch  # style_<layer>, patch_<layer>: each layer's weighted share


def at_octave(name: str, octave: int) -> str:
    """A Gram buffer's or term's name at an octave: gram_relu3_1 at full size, gram_relu3_1_octave1 one octave down."""
    return f"{name}_octave{octave}" if octave else name


def at_shift(name: str, axis: str) -> str:
    """A shifted Gram buffer's name: gram_relu3_1_shiftx for the map against itself moved right, shifty down,
    shiftd down and right, shifta down and left."""
    return f"gram_{name}_shift{axis}"
