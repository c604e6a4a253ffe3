"""Run a size-keeping image function over overlapping tiles, so big images fit in bounded memory."""

import math

import torch

from painterly.stylize.devices import check_tile


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Evenly spread tile offsets along one axis, overlapping by at least `overlap`, the last one flush with the end."""
    if size <= tile:
        return [0]
    count = math.ceil((size - overlap) / (tile - overlap))
    return [round(i * (size - tile) / (count - 1)) for i in range(count)]


def feather(length: int, start: int, size: int, overlap: int) -> torch.Tensor:
    """Blend weights along one axis of a tile: a linear ramp over `overlap` pixels at inner edges, 1 elsewhere."""
    weights = torch.ones(length)
    ramp = torch.arange(1, overlap + 1) / (overlap + 1)
    if start > 0:
        weights[:overlap] = ramp
    if start + length < size:
        weights[length - overlap :] = torch.minimum(weights[length - overlap :], ramp.flip(0))
    return weights


def tiled(fn, image: torch.Tensor, tile: int, overlap: int = 32) -> torch.Tensor:
    """`fn(image)` computed tile by tile and feather-blended where tiles overlap, which hides the seams.

    `fn` maps (B, C, h, w) to (B, C', h, w); any feed-forward method qualifies. Only one tile's activations are
    alive at a time. A convolutional `fn` gives the untiled result except within its receptive field of a tile edge.
    """
    check_tile(tile, overlap)
    height, width = image.shape[-2:]
    if height <= tile and width <= tile:
        return fn(image)
    out, total = None, image.new_zeros(height, width)
    for y in tile_starts(height, tile, overlap):
        for x in tile_starts(width, tile, overlap):
            h, w = min(tile, height), min(tile, width)
            piece = fn(image[..., y : y + h, x : x + w])
            weight = (feather(h, y, height, overlap)[:, None] * feather(w, x, width, overlap)).to(image.device)
            if out is None:
                out = piece.new_zeros(*piece.shape[:-2], height, width)
            out[..., y : y + h, x : x + w] += piece * weight
            total[y : y + h, x : x + w] += weight
    return out / total
