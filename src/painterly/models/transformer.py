"""The image transformation network of Johnson et al. (2016), with the fixes later work found.

Reflection padding everywhere (no dark borders), instance norm (Ulyanov et al. 2016) and nearest-neighbour
upsampling followed by a convolution instead of transposed convolutions (no checkerboard, Odena et al. 2016).
Images go in and come out as RGB in [0, 1]; any height and width that is a multiple of 4 keeps its size.
"""

import torch
from torch import nn


class ConvBlock(nn.Sequential):
    def __init__(self, in_ch, out_ch, kernel, stride=1, upsample=False, norm=True, relu=True):
        layers = [nn.Upsample(scale_factor=2, mode="nearest")] if upsample else []
        layers += [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(in_ch, out_ch, kernel, stride)]
        if norm:
            layers.append(nn.InstanceNorm2d(out_ch, affine=True))
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.body = nn.Sequential(ConvBlock(channels, channels, 3), ConvBlock(channels, channels, 3, relu=False))

    def forward(self, x):
        return x + self.body(x)


class TransformerNet(nn.Module):
    """c9s1-w, d2w, d4w, `num_residual` x R4w, u2w, uw, c9s1-3 in Johnson's notation (w = `width`, 32 in the paper).

    Unbounded, the output is clamped at inference only, so training can push whole regions far below 0 that then
    show as black (docs/training.md, run B); `bounded` squashes it into [0, 1] as the paper's scaled tanh did.
    """

    def __init__(self, width: int = 32, num_residual: int = 5, bounded: bool = False):
        super().__init__()
        self.bounded = bounded  # a sigmoid output: training sees the [0, 1] image that inference shows
        w = width
        self.encoder = nn.Sequential(
            ConvBlock(3, w, 9), ConvBlock(w, 2 * w, 3, stride=2), ConvBlock(2 * w, 4 * w, 3, stride=2)
        )
        self.residuals = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(num_residual)])
        self.decoder = nn.Sequential(
            ConvBlock(4 * w, 2 * w, 3, upsample=True),
            ConvBlock(2 * w, w, 3, upsample=True),
            ConvBlock(w, 3, 9, norm=False, relu=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.decoder(self.residuals(self.encoder(x)))
        return torch.sigmoid(out) if self.bounded else out


class PaddedNet(nn.Module):
    """A style network that takes any height and width: reflection-pads to a multiple of 4, crops back, clamps.

    This is also the module that gets exported, so ONNX and TorchScript users get the same behaviour.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2], x.shape[-1]
        padded = nn.functional.pad(x, (0, (4 - width % 4) % 4, 0, (4 - height % 4) % 4), mode="reflect")
        return self.net(padded)[..., :height, :width].clamp(0, 1)
