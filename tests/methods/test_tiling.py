import torch

from painterly.methods.tiling import tile_spans, tiled


def test_tiling_matches_untiled_away_from_tile_borders():
    conv = torch.nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")  # receptive field: 1 pixel each side
    image = torch.rand(2, 3, 70, 90)
    with torch.no_grad():
        whole, pieces = conv(image), tiled(lambda piece, at: conv(piece), image, tile=32, overlap=12)
    error = (whole - pieces).abs().amax(dim=(0, 1))
    inner_edges = torch.zeros(70, 90, dtype=torch.bool)
    for axis, size in ((0, 70), (1, 90)):  # tile starts 0, 19, 38 and 0, 19, 39, 58: edges +-1 px are inexact
        for start in {0, 19, 38} if axis == 0 else {0, 19, 39, 58}:
            for edge in (start, start + 31):
                band = slice(max(edge - 1, 0), edge + 2)
                if 0 < edge < size - 1:
                    inner_edges[(band, slice(None)) if axis == 0 else (slice(None), band)] = True
    assert error[~inner_edges].max() < 1e-5 and error.max() > 1e-3  # the border bands are blended, not exact
    assert torch.allclose(tiled(lambda piece, at: piece, image, tile=32, overlap=12), image, atol=1e-6)


def test_tiles_start_at_multiples_of_align_and_cover_the_axis():
    assert tile_spans(90, 32, 12) == [(0, 32), (19, 51), (39, 71), (58, 90)]
    spans = tile_spans(90, 32, 12, align=4)
    assert spans == [(0, 32), (16, 48), (36, 68), (56, 90)]  # the last one 2 px longer, to reach the end
    assert tile_spans(30, 32, 12, align=4) == [(0, 30)]
    image = torch.rand(1, 3, 70, 90)
    seen = []
    out = tiled(lambda piece, at: seen.append(at) or piece, image, tile=32, overlap=12, align=4)
    assert torch.allclose(out, image, atol=1e-6) and all(y % 4 == 0 and x % 4 == 0 for y, x in seen)
