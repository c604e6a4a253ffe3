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


class NoiseInjection(nn.Module):
    """Gaussian noise through a 1x1 convolution, zero at the start, added to the features (the noise inputs of
    Ulyanov et al. 2016's texture networks): something to draw strokes from where the photo is flat.

    Training draws fresh noise each step. Inference reads one fixed field, so a render repeats exactly, a video's
    strokes stay put and a tile sees the noise of its place in the image (`offset`, in cells). The field is
    `period` cells square (4 px each after the encoder) and wraps around beyond them. An index wraps it: a `repeat`
    exported its counts as constants of the traced size, and ONNX Runtime and OpenVINO failed at any other size.
    """

    def __init__(self, channels: int, noise_channels: int, period: int = 256):
        super().__init__()
        self.project = nn.Conv2d(noise_channels, channels, 1, bias=False)
        nn.init.zeros_(self.project.weight)  # a trained network without noise starts unchanged
        field = torch.randn(1, noise_channels, period, period, generator=torch.Generator().manual_seed(0))
        self.register_buffer("field", field, persistent=False)  # made from the seed, not stored in checkpoints

    def forward(self, h: torch.Tensor, offset: tuple[int, int] = (0, 0)) -> torch.Tensor:
        batch, _, height, width = h.shape
        if self.training:
            noise = torch.randn(batch, self.field.shape[1], height, width, device=h.device, dtype=h.dtype)
        else:
            period = self.field.shape[-1]
            rows = (torch.arange(height, device=h.device) + offset[0]) % period
            cols = (torch.arange(width, device=h.device) + offset[1]) % period
            noise = self.field.index_select(2, rows).index_select(3, cols).to(h.dtype)
        return h + self.project(noise)


class TransformerNet(nn.Module):
    """c9s1-w, d2w, d4w, `num_residual` x R4w, u2w, uw, c9s1-3 in Johnson's notation (w = `width`, 32 in the paper).

    Unbounded, the output is clamped at inference only, so training can push whole regions far below 0 that then
    show as black (docs/training.md, run B); `bounded` squashes it into [0, 1] as the paper's scaled tanh did.
    """

    def __init__(self, width: int = 32, num_residual: int = 5, bounded: bool = False, noise_channels: int = 0):
        super().__init__()
        self.bounded = bounded  # a sigmoid output: training sees the [0, 1] image that inference shows
        w = width
        self.encoder = nn.Sequential(
            ConvBlock(3, w, 9), ConvBlock(w, 2 * w, 3, stride=2), ConvBlock(2 * w, 4 * w, 3, stride=2)
        )
        self.noise = NoiseInjection(4 * w, noise_channels) if noise_channels else None
        self.residuals = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(num_residual)])
        self.decoder = nn.Sequential(
            ConvBlock(4 * w, 2 * w, 3, upsample=True),
            ConvBlock(2 * w, w, 3, upsample=True),
            ConvBlock(w, 3, 9, norm=False, relu=False),
        )

    def forward(self, x: torch.Tensor, offset: tuple[int, int] = (0, 0)) -> torch.Tensor:
        """`offset`: where `x` starts in a larger image, in pixels (multiples of 4), for the noise input's field."""
        h = self.encoder(x)
        if self.noise is not None:
            h = self.noise(h, (offset[0] // 4, offset[1] // 4))
        out = self.decoder(self.residuals(h))
        return torch.sigmoid(out) if self.bounded else out


class PaddedNet(nn.Module):
    """A style network that takes any height and width: reflection-pads to a multiple of 4, crops back, clamps.

    This is also the module that gets exported, so ONNX and TorchScript users get the same behaviour.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.at(x, (0, 0))

    def at(self, x: torch.Tensor, offset: tuple[int, int]) -> torch.Tensor:
        """The output for `x`, a piece of a larger image that starts at pixel `offset` (multiples of 4): a tile."""
        height, width = x.shape[-2], x.shape[-1]
        padded = nn.functional.pad(x, (0, (4 - width % 4) % 4, 0, (4 - height % 4) % 4), mode="reflect")
        return self.net(padded, offset)[..., :height, :width].clamp(0, 1)
