"""A y4m clip for Chromium's fake camera, made from a photo: the page without a camera, for tests and benchmarks.

`chromium --use-fake-device-for-media-stream --use-fake-ui-for-media-stream --use-file-for-fake-video-capture=x.y4m`
"""

from pathlib import Path

import numpy as np
from PIL import Image

from painterly.live.engine import ROOT

SAMPLE = ROOT / "data" / "samples" / "skimage_chelsea.jpg"


def write_y4m(path, size=(640, 480), frames=8, fps=30, photo=SAMPLE) -> Path:
    """`frames` frames of `photo` at `size`, each panned a few pixels from the last: a clip that moves a little.

    y4m is raw YUV 4:2:0 (JPEG's full-range YCbCr): a header line, then per frame "FRAME\\n" and the Y, U, V planes.
    """
    width, height = size
    photo = Image.open(photo).convert("RGB")
    margin = 4 * frames
    big = photo.resize((width + margin, height + margin * height // width), Image.Resampling.LANCZOS)
    with open(path, "wb") as file:
        file.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            frame = big.crop((4 * i, 2 * i, 4 * i + width, 2 * i + height)).convert("YCbCr")
            y, u, v = (np.asarray(plane) for plane in frame.split())
            half = (width // 2, height // 2)
            file.write(b"FRAME\n" + y.tobytes() + np.asarray(Image.fromarray(u).resize(half)).tobytes()
                       + np.asarray(Image.fromarray(v).resize(half)).tobytes())
    return Path(path)
