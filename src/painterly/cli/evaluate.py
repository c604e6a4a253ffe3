"""Side-by-side evaluation of the stylization methods: `python scripts/evaluate.py style=<name|image> input=<folder>`
(configs/evaluate.yaml).

Every method runs through the stylize pipeline (painterly.stylize.pipeline.apply) on the same photos, shrunk to `size`
on the long side. The losses are the fixed evaluation loss (configs/loss/evaluation.yaml: Gatys et al.'s content and
style terms, never a training loss), with the result, the photo and the painting all resized to `compare` pixels on
their short side. Writes <output>/grid.png (photo, methods..., painting), <output>/table.md and <output>/table.csv.
"""

import csv
import os
import sys
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from torchvision.transforms.v2 import functional as TF

from painterly import PainterlyError
from painterly.cli.launch import launch
from painterly.config import checkpoint_dir, compose_config, instantiate
from painterly.io.grid import write_grid
from painterly.io.tensors import load_rgb, resize_long, resize_short
from painterly.stylize.devices import cpu_name, pick_device
from painterly.stylize.images import find_images
from painterly.stylize.pipeline import apply, build_method

METHODS = ("johnson", "gatys", "adain")


def style_config(style: str):
    """The training config for a style given by name (configs/style/) or by image file, with the evaluation loss."""
    style = str(style)  # style=600 reaches here as a number
    by_image = Path(style).suffix != "" or Path(style).is_file()
    chosen = f"style.image={Path(style).resolve()}" if by_image else f"style={style}"
    return compose_config("train", [chosen, "loss=evaluation"])


def load_photos(folder, size: int, limit: int | None) -> list[tuple[str, torch.Tensor]]:
    """(name, (1, 3, H, W) photo with a long side of `size`) for the images in `folder`; unreadable ones are skipped."""
    files = find_images(folder)
    if not Path(folder).is_dir() or not files:
        raise PainterlyError(f"{folder}: no images found")
    photos = []
    for file in files[:limit]:
        try:
            photos.append((file.name, resize_long(load_rgb(file), size)[None]))
        except PainterlyError as error:
            print(f"evaluate: skipping {error}", file=sys.stderr)
    return photos


def machine() -> str:
    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name()}, torch {torch.__version__}"
    return f"CPU {cpu_name()} ({os.cpu_count()} cores, {torch.get_num_threads()} threads), torch {torch.__version__}"


def write_tables(out: Path, rows: list[dict], layers: list[str], title: str) -> None:
    """table.csv and table.md: a row per method, with the style loss also split by VGG layer (`style_<layer>`)."""
    by_layer = [f"style_{layer}" for layer in layers]
    fields = ["method", "content_loss", "style_loss", "seconds_per_image", "note", *by_layer]
    with open(out / "table.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fields, restval="")
        writer.writeheader()
        writer.writerows(rows)

    def number(value, digits=3):
        return "–" if value in ("", None) else f"{value:.{digits}g}"

    header = ["method", "content loss", "style loss", *(f"style: {layer}" for layer in layers), "s / image", "note"]
    lines = [title, "", f"| {' | '.join(header)} |", "|---" + "|---:" * (len(header) - 2) + "|---|"]
    for r in rows:
        numbers = [r["content_loss"], r["style_loss"], *(r.get(key) for key in by_layer), r["seconds_per_image"]]
        lines.append(f"| {r['method']} | {' | '.join(number(v) for v in numbers)} | {r['note']} |")
    (out / "table.md").write_text("\n".join(lines) + "\n")


def mean_terms(terms: list[dict]) -> dict:
    return {key: sum(t[key] for t in terms) / len(terms) for key in terms[0]}


def evaluation_losses(loss_config, painting: torch.Tensor, compare: int, device="cpu"):
    """(stylized, content) -> {content_loss, style_loss, style_<layer>...} of (1, 3, H, W) images, with the painting,
    the result and the photo each resized to `compare` pixels on the short side."""
    loss = instantiate(loss_config).to(device)
    loss.set_style(resize_short(painting, compare)[None].to(device))

    def losses(stylized: torch.Tensor, content: torch.Tensor) -> dict[str, float]:
        with torch.no_grad():
            terms = loss(*(resize_short(image, compare).to(device) for image in (stylized, content)))
        by_layer = {key: value.item() for key, value in terms.items() if key.startswith("style_")}
        return {"content_loss": terms["content"].item(), "style_loss": terms["style"].item(), **by_layer}

    return losses


def method_overrides(options: DictConfig, method: str) -> list[str]:
    """`gatys.iterations=100` -> `method.iterations=100`, for the stylize config of that method."""
    values = OmegaConf.to_container(options[method], resolve=True)
    return [f"method.{key}={'null' if value is None else value}" for key, value in values.items()]


def evaluate(options: DictConfig) -> Path:
    if not options.painting or not options.input:
        raise PainterlyError("style= and input= are required (see --help)")
    size, limit = options.size, options.limit
    cfg = style_config(options.painting)
    name, painting = cfg.style.name, load_rgb(cfg.style.image)
    ckpt = Path(options.ckpt or checkpoint_dir() / f"{name}.pt")
    photos = load_photos(options.input, size, limit)
    out = Path(options.output)
    device = pick_device(options.device)

    losses = evaluation_losses(cfg.loss, painting, options.compare, device)
    stats = [
        {
            "method": "photo (unchanged)",
            "seconds_per_image": "",
            "note": "the starting point",
            **mean_terms([losses(p, p) for _, p in photos]),
        }
    ]
    results = {}
    for method_name in options.methods:
        if method_name not in METHODS:
            raise PainterlyError(f"unknown method '{method_name}'; choose from: {', '.join(METHODS)}")
        if method_name == "johnson" and not ckpt.is_file():
            stats.append(
                {
                    "method": method_name,
                    "content_loss": "",
                    "style_loss": "",
                    "seconds_per_image": "",
                    "note": f"skipped: no checkpoint {ckpt} (train one, or pass ckpt=)",
                }
            )
            continue
        config = compose_config(
            "stylize",
            [
                f"method={method_name}",
                f"style_image={Path(cfg.style.image)}",
                f"ckpt={ckpt}",
                f"device={device}",
                f"size={size}",
                *method_overrides(options, method_name),
            ],
        )
        method = build_method(config.method)
        outputs, seconds, terms = [], 0.0, []
        for photo_name, photo in photos:
            start = time.perf_counter()
            stylized = torch.from_numpy(apply(method, photo.numpy()))
            seconds += time.perf_counter() - start
            content = TF.resize(photo, list(stylized.shape[-2:]), antialias=True)
            terms.append(losses(stylized, content))
            outputs.append(stylized[0])
            print(
                f"evaluate: {method_name} {photo_name} content {terms[-1]['content_loss']:.3g} "
                f"style {terms[-1]['style_loss']:.3g}"
            )
        results[method_name] = outputs
        stats.append(
            {"method": method_name, "seconds_per_image": seconds / len(photos), "note": "", **mean_terms(terms)}
        )
        del method

    out.mkdir(parents=True, exist_ok=True)
    rows = [
        [photo[0], *(results.get(m, [None] * len(photos))[i] for m in METHODS), painting]
        for i, (_, photo) in enumerate(photos)
    ]
    write_grid(out / "grid.png", rows, ["photo", *METHODS, "painting"], size)
    title = (
        f"Style `{name}`, {len(photos)} photo(s) rendered at {size} px on the long side and compared at "
        f"{options.compare} px on the short side; losses are the evaluation loss (configs/loss/evaluation.yaml), "
        f"averaged over the photos.  \nMeasured on {machine()}."
    )
    write_tables(out, stats, list(cfg.loss.style_layers), title)
    print(f"evaluate: wrote {out / 'grid.png'}, {out / 'table.md'} and {out / 'table.csv'}")
    return out


def main() -> None:
    launch("evaluate", "evaluate", evaluate)
