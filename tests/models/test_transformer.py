import torch
from torch import nn

from painterly.models.transformer import NoiseInjection, TransformerNet


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


def test_noise_input_starts_at_zero_draws_fresh_in_training_and_reads_one_field_in_inference():
    torch.manual_seed(0)
    plain, noisy = TransformerNet(width=4, num_residual=1), TransformerNet(width=4, num_residual=1, noise_channels=8)
    missing, unexpected = noisy.load_state_dict(plain.state_dict(), strict=False)
    assert missing == ["noise.project.weight"] and not unexpected and "noise.field" not in noisy.state_dict()
    x = torch.rand(2, 3, 24, 32)
    assert torch.equal(noisy.eval()(x), plain.eval()(x))  # zero weights: the style it starts from, unchanged
    nn.init.normal_(noisy.noise.project.weight)
    assert torch.equal(noisy(x), noisy(x)) and not torch.allclose(noisy(x), plain(x), atol=1e-3)
    noisy.train()
    assert not torch.allclose(noisy(x), noisy(x), atol=1e-3)  # fresh noise each step


def test_a_piece_reads_the_noise_of_its_place_in_the_image():
    noise = NoiseInjection(channels=3, noise_channels=3, period=16).eval()
    with torch.no_grad():
        noise.project.weight.copy_(torch.eye(3)[:, :, None, None])  # the field itself
        whole = noise(torch.zeros(1, 3, 40, 36))
        assert torch.equal(whole[..., :16, :16], noise.field) and torch.equal(whole[..., 16:32, 16:32], noise.field)
        assert torch.equal(noise(torch.zeros(2, 3, 12, 9), (5, 23)), whole[..., 5:17, 23:32].expand(2, -1, -1, -1))
