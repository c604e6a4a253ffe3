"""A y4m clip for Chromium's fake camera, made from a photo: the page without a camera, for tests and benchmarks.

`chromium --use-fake-device-for-media-stream --use-fake-ui-for-media-stream --use-file-for-fake-video-capture=x.y4m`
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from painterly.live.engine import ROOT

SAMPLE = ROOT / "data" / "samples" / "skimage_chelsea.jpg"


def write_y4m(path, size=(640, 480), frames=8, fps=30, photo=SAMPLE) -> Path:
    """`frames` frames of `photo` at `size`, each a little brighter or darker (up to 4%): a clip that changes a
    little, so a stuck picture shows, while any two frames stay close.

    y4m is raw YUV 4:2:0 (JPEG's full-range YCbCr): a header line, then per frame "FRAME\\n" and the Y, U, V planes.
    """
    width, height = size
    frame = ImageOps.fit(Image.open(photo).convert("RGB"), size, Image.Resampling.LANCZOS).convert("YCbCr")
    y = np.asarray(frame.getchannel("Y"), dtype=np.float32)
    u, v = (np.asarray(frame.getchannel(name).resize((width // 2, height // 2))) for name in ("Cb", "Cr"))
    with open(path, "wb") as file:
        file.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            gain = 1 + 0.04 * np.sin(2 * np.pi * i / frames)
            file.write(b"FRAME\n" + np.clip(y * gain, 0, 255).astype(np.uint8).tobytes() + u.tobytes() + v.tobytes())
    return Path(path)
