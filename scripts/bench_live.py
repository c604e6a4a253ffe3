"""`make bench-live`: the live page's speed, end to end, in headless Chromium with a fake camera on this machine.

It starts `python live.py` on a johnson_slim-shaped style with random weights (width 16, 5 residual blocks: the
compute of a trained slim style, made here in milliseconds), opens the page with Chromium's fake camera playing a
640x480 clip of a bundled photo, and reads the page's own counters (window.painterly): stylized frames shown per
second, and latency from grabbing a camera frame to showing its stylized version (median of the last 30 frames).
Rows: server mode at 480x360 and 640x480, and browser mode (onnxruntime-web, WASM here) at 480x360.
"""

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from painterly.cli.launch import launch
from painterly.config import ROOT
from painterly.live.engine import exported_onnx, random_style, thumbnail_png
from painterly.live.fake_camera import write_y4m
from painterly.stylize.devices import cpu_name

ROWS = [("server", 360), ("server", 480), ("browser", 360)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure(page, url: str, warmup: float, seconds: float) -> dict:
    page.goto(url)
    page.wait_for_function("window.painterly.frames >= 3", timeout=300_000)
    time.sleep(warmup)
    start_frames, start = page.evaluate("window.painterly.frames"), time.perf_counter()
    latencies, server_ms = [], []
    while time.perf_counter() - start < seconds:
        time.sleep(0.5)
        state = page.evaluate("({...window.painterly})")
        latencies.append(state["latency"])
        server_ms.append(state["serverMs"])
    frames = page.evaluate("window.painterly.frames") - start_frames
    return {
        "fps": frames / (time.perf_counter() - start),
        "latency": statistics.median(latencies),
        "server_ms": statistics.median(server_ms),
        "backend": state["backend"],
        "errors": state["errors"],
    }


def main() -> None:
    launch("bench_live", "bench_live", bench)


def bench(args) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("XDG_CACHE_HOME", str(tmp / "cache"))
        if args.ckpt:  # a trained style, with the project's checkpoints/ in the picker
            styles = [f"ckpt={args.ckpt}"]
        else:  # random weights of the slim shape: the same speed, and no trained style needed
            (tmp / "styles").mkdir()
            style = random_style(tmp / "styles" / "slim_random.pt", width=16, num_residual=5)
            exported_onnx(style), thumbnail_png(style)
            random_style(tmp / "styles" / "slim_random_2.pt", width=16, num_residual=5, seed=1, color=(40, 120, 200))
            styles = [f"styles_dir={tmp / 'styles'}", f"ckpt={style}"]
        clip = write_y4m(tmp / "camera.y4m", size=(640, 480), frames=30)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "live.py"),
                *styles,
                f"port={port}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        load_before = os.getloadavg()
        try:
            server.stdout.readline()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium,
                    args=[
                        "--use-fake-device-for-media-stream",
                        "--use-fake-ui-for-media-stream",
                        f"--use-file-for-fake-video-capture={clip}",
                        "--no-sandbox",
                    ],
                )
                page = browser.new_page(viewport={"width": 1280, "height": 760})
                results = []
                for mode, height in ROWS:
                    url = f"http://localhost:{port}/?mode={mode}&height={height}"
                    results.append((mode, height, measure(page, url, args.warmup, args.seconds)))
                if args.screenshot:
                    page.goto(f"http://localhost:{port}/?height=360")
                    page.check("#show-raw")
                    page.wait_for_function("window.painterly.frames >= 5", timeout=300_000)
                    time.sleep(2)
                    page.screenshot(path=str(args.screenshot))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    load_after = os.getloadavg()
    print(
        f"{cpu_name()}, {os.cpu_count()} cores; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"Python {platform.python_version()}, {Path(args.chromium).name}"
    )
    style = args.ckpt or "johnson_slim shape (width 16, 5 residual blocks), random weights"
    print(f"style: {style}; fake camera 640x480")
    print()
    print("| mode | processing size | frames/s | latency, ms (median) | server ms/frame (median) | runs on |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for mode, height, r in results:
        server_ms = f"{r['server_ms']:.0f}" if mode == "server" else "-"
        print(
            f"| {mode} | {height * 4 // 3}x{height} | {r['fps']:.1f} | {r['latency']:.0f} | {server_ms} | "
            f"{r['backend']} |"
        )
        for error in r["errors"]:
            print(f"  {mode} {height}: page error: {error}")


if __name__ == "__main__":
    main()
