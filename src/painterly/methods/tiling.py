"""Run a size-keeping image function over overlapping tiles, so big images fit in bounded memory."""

import math

import torch

from painterly.stylize.devices import check_tile


def tile_spans(size: int, tile: int, overlap: int, align: int = 1) -> list[tuple[int, int]]:
    """(start, end) of evenly spread tiles along one axis, overlapping by about `overlap`, each start a multiple of
    `align` and the last one reaching the end (up to `align` - 1 pixels longer than `tile`)."""
    if size <= tile:
        return [(0, size)]
    count = math.ceil((size - overlap) / (tile - overlap))
    starts = [round(i * (size - tile) / (count - 1)) // align * align for i in range(count)]
    return [(start, min(start + tile, size)) for start in starts[:-1]] + [(starts[-1], size)]


def feather(length: int, start: int, size: int, overlap: int) -> torch.Tensor:
    """Blend weights along one axis of a tile: a linear ramp over `overlap` pixels at inner edges, 1 elsewhere."""
    weights = torch.ones(length)
    ramp = torch.arange(1, overlap + 1) / (overlap + 1)
    if start > 0:
        weights[:overlap] = ramp
    if start + length < size:
        weights[length - overlap :] = torch.minimum(weights[length - overlap :], ramp.flip(0))
    return weights


def tiled(fn, image: torch.Tensor, tile: int, overlap: int = 32, align: int = 1) -> torch.Tensor:
    """`fn(image, (0, 0))` computed tile by tile and feather-blended where tiles overlap, which hides the seams.

    `fn(piece, (y, x))` maps a (B, C, h, w) piece that starts at pixel (y, x), multiples of `align`, to (B, C', h, w);
    any feed-forward method qualifies. Only one tile's activations are alive at a time. A convolutional `fn` gives
    the untiled result except within its receptive field of a tile edge.
    """
    check_tile(tile, overlap)
    height, width = image.shape[-2:]
    if height <= tile and width <= tile:
        return fn(image, (0, 0))
    out, total = None, image.new_zeros(height, width)
    for y, y_end in tile_spans(height, tile, overlap, align):
        for x, x_end in tile_spans(width, tile, overlap, align):
            h, w = y_end - y, x_end - x
            piece = fn(image[..., y:y_end, x:x_end], (y, x))
            weight = (feather(h, y, height, overlap)[:, None] * feather(w, x, width, overlap)).to(image.device)
            if out is None:
                out = piece.new_zeros(*piece.shape[:-2], height, width)
            out[..., y:y_end, x:x_end] += piece * weight
            total[y:y_end, x:x_end] += weight
    return out / total
