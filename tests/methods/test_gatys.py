import pytest
import torch

from painterly import PainterlyError
from painterly.config import ROOT, compose_config
from painterly.io.tensors import load_rgb, resize_long
from painterly.stylize.pipeline import build_method

PAINTING = ROOT / "data/styles/the_scream.jpg"


def gatys(style_image, *overrides):
    cfg = compose_config(
        "stylize", ["method=gatys", f"method.style={style_image}", "size=64", "method.progress=false", *overrides]
    )
    return build_method(cfg.method)


def style_loss(method, image):
    image = torch.as_tensor(image)
    return method.loss(image, image)["style"].item()


@pytest.mark.parametrize("optimizer, iterations", [("lbfgs", 12), ("adam", 25)])
def test_lowers_the_style_loss_fivefold(optimizer, iterations):
    method = gatys(PAINTING, f"optimizer={optimizer}", f"iterations={iterations}")
    photo = resize_long(load_rgb(ROOT / "data/samples/skimage_chelsea.jpg"), 64)[None].numpy()
    out = method(photo)
    assert out.shape == photo.shape and 0 <= out.min() and out.max() <= 1
    assert style_loss(method, out) * 5 <= style_loss(method, photo)


def test_works_at_size_and_optionally_upscales(style_image):
    photo = torch.rand(1, 3, 50, 100).numpy()
    assert gatys(style_image, "iterations=1", "size=32")(photo).shape == (1, 3, 16, 32)
    assert gatys(style_image, "iterations=1", "size=32", "method.upscale=true")(photo).shape == (1, 3, 50, 100)


def test_uses_the_training_loss_config(style_image):
    train = compose_config("train")
    method = gatys(style_image, "iterations=1")
    assert method.loss.style_layers == train.loss.style_layers
    assert method.loss.content_layers == train.loss.content_layers


@pytest.mark.parametrize(
    "override, message", [("optimizer=sgd", "unknown optimizer 'sgd'"), ("iterations=0", "must be positive")]
)
def test_bad_arguments_fail_in_one_line(style_image, override, message):
    with pytest.raises(PainterlyError, match=message):
        gatys(style_image, override)
