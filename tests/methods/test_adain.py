import numpy as np
import pytest
import torch

from painterly import PainterlyError
from painterly.config import compose_config
from painterly.stylize.images import save_image
from painterly.stylize.pipeline import apply, build_method


def adain(style_image, *overrides):
    return build_method(compose_config("stylize", ["method=adain", f"style_image={style_image}", *overrides]).method)


@pytest.fixture(scope="module")
def method(tmp_path_factory):
    path = tmp_path_factory.mktemp("style") / "noise.png"
    save_image(np.random.default_rng(0).random((3, 40, 56), dtype=np.float32), path)
    return adain(path, "alpha=0.7")


@pytest.mark.parametrize("size", [(64, 64), (45, 61), (8, 5)])
def test_output_has_the_input_size(method, size):
    photo = np.random.default_rng(0).random((2, 3, *size), dtype=np.float32)
    assert apply(method, photo).shape == photo.shape
    assert method(photo).shape == photo.shape


def test_alpha_zero_is_the_decoders_reconstruction(style_image):
    method = adain(style_image, "alpha=0")
    photo = torch.rand(1, 3, 48, 40)
    net = method.net
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(method(photo.numpy())), net.decoder(net.encode(photo)).clamp(0, 1))


def test_preserve_color_keeps_the_photos_chroma(method):
    photo = torch.rand(1, 3, 32, 32)
    out = torch.from_numpy(apply(method, photo.numpy(), preserve_color=True))

    def chroma(x):  # equal shifts of R, G, B leave this unchanged
        return x - x.mean(1, keepdim=True)

    luma = torch.tensor([0.299, 0.587, 0.114])[:, None, None]
    unclamped = photo + ((torch.from_numpy(method(photo.numpy())) - photo) * luma).sum(1, keepdim=True)
    inside = ((unclamped > 0) & (unclamped < 1)).all(1, keepdim=True)
    torch.testing.assert_close(chroma(out)[inside.expand_as(out)], chroma(photo)[inside.expand_as(out)])


def test_bad_arguments_fail_in_one_line(style_image):
    with pytest.raises(PainterlyError, match="alpha must be between 0 and 1"):
        adain(style_image, "alpha=1.5")
    with pytest.raises(PainterlyError, match="style= is required"):
        build_method(compose_config("stylize", ["method=adain"]).method)
