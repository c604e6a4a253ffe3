import torch
from torch import nn

from painterly.models.transformer import TransformerNet


def test_keeps_size_and_avoids_checkerboard_layers():
    net = TransformerNet(width=4, num_residual=1)
    assert net(torch.rand(2, 3, 20, 28)).shape == (2, 3, 20, 28)
    kinds = {type(m) for m in net.modules()}
    assert nn.ConvTranspose2d not in kinds and nn.Upsample in kinds and nn.ReflectionPad2d in kinds
    assert all(m.padding == (0, 0) for m in net.modules() if isinstance(m, nn.Conv2d))  # no zero padding


def test_johnson_architecture():
    net = TransformerNet()  # the paper's widths: 32, 64, 128 with 5 residual blocks
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs[:3]] == [32, 64, 128]
    assert convs[0].kernel_size == (9, 9) and convs[-1].kernel_size == (9, 9) and convs[-1].out_channels == 3
    assert len(net.residuals) == 5
    slim = TransformerNet(width=16)
    assert sum(p.numel() for p in slim.parameters()) < sum(p.numel() for p in net.parameters()) / 3


def test_a_bounded_net_outputs_what_inference_shows():
    torch.manual_seed(0)
    net = TransformerNet(width=4, num_residual=1)
    bounded = TransformerNet(width=4, num_residual=1, bounded=True)
    bounded.load_state_dict(net.state_dict())  # the same weights: the sigmoid is the only difference
    x = torch.rand(1, 3, 16, 16) * 40 - 20  # drives the last conv far out of [0, 1]
    raw, squashed = net(x), bounded(x)
    assert raw.min() < 0 and raw.max() > 1
    assert torch.allclose(squashed, torch.sigmoid(raw)) and 0 <= squashed.min() and squashed.max() <= 1
