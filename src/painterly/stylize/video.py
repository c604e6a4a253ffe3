"""Video in and out with PyAV: frames go through a function in batches, timing is kept and audio is copied as is."""

import errno
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np
from tqdm import tqdm

from painterly import Interrupted, PainterlyError
from painterly.stylize.files import atomic_path
from painterly.stylize.images import from_pixels, to_pixels

# output container -> video encoder; yuv420p everywhere, which every player can show
VIDEO_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".avi": "mpeg4", ".webm": "libvpx-vp9"}
VIDEO_EXTENSIONS = tuple(VIDEO_CODECS)
# errors that FFmpeg can only have met writing the output: they name the destination, not the source
WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)


def is_video(path) -> bool:
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def frame_batches(source, video, audio, copy_audio, batch_size):
    """Decoded frames of `video` in lists of `batch_size`; `audio` packets go to `copy_audio` as they come."""
    batch = []
    for packet in source.demux(*[s for s in (video, audio) if s is not None]):
        if packet.stream is audio:
            if packet.dts is not None:  # the demuxer ends each stream with an empty packet
                copy_audio(packet)
            continue
        for frame in packet.decode():
            batch.append(frame)
            if len(batch) == batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def to_images(frames, width: int, height: int) -> np.ndarray:
    """Video frames -> (B, 3, H, W) float32 in [0, 1]."""
    return from_pixels(np.stack([frame.to_ndarray(width=width, height=height, format="rgb24") for frame in frames]))


def to_frames(images: np.ndarray, like):
    """(B, 3, H, W) in [0, 1] -> video frames with the timestamps of the frames `like`."""
    for array, original in zip(to_pixels(images), like):
        frame = av.VideoFrame.from_ndarray(array, format="rgb24")
        frame.pts, frame.time_base = original.pts, original.time_base
        yield frame


@contextmanager
def output_container(path):
    """`av.open(path, "w")` on a file that Python opens, and so always closes. PyAV leaves its own file open when
    writing the header fails (a full disk), and the deleted temporary would then keep the disk full.

    Unbuffered, since FFmpeg buffers: a buffered file runs pending signal handlers after each write, inside PyAV's
    callback, which swallows their exception (Interrupted.received)."""
    with open(path, "wb", buffering=0) as file:
        target = av.open(file, "w")  # the format comes from file.name's extension
        try:
            yield target
        finally:
            target.close()
        Interrupted.raise_if_received()  # one that PyAV swallowed dropped a write: the file is not whole


def transform_video(src, dst, fn, batch_size: int = 8, size=None, overwrite: bool = True) -> int:
    """Write `dst`: every frame of `src` through `fn` ((B, 3, H, W) RGB in [0, 1] -> same), with the audio of `src`.

    `size(width, height) -> (width, height)` resizes frames first. Frames keep their timestamps, so frame count, rate
    and duration are kept. Returns the number of frames. Raises PainterlyError `src: reason` for unreadable videos,
    and OSError for a failed write (a full disk), which leaves no partial file. overwrite=False never replaces `dst`.
    """
    dst = Path(dst)
    if dst.suffix.lower() not in VIDEO_CODECS:
        raise PainterlyError(f"{dst}: unknown video format; use one of {', '.join(VIDEO_EXTENSIONS)}")
    count = 0
    try:
        with av.open(str(src)) as source, atomic_path(dst, overwrite) as tmp, output_container(tmp) as target:
            if not source.streams.video:
                raise PainterlyError(f"{src}: no video stream")
            video = source.streams.video[0]
            width, height = size(video.width, video.height) if size else (video.width, video.height)
            video_out = target.add_stream(VIDEO_CODECS[dst.suffix.lower()], rate=video.average_rate or 25)
            video_out.width, video_out.height = max(2, width // 2 * 2), max(2, height // 2 * 2)  # yuv420p: even sizes
            video_out.pix_fmt, video_out.time_base = "yuv420p", video.time_base
            audio = source.streams.audio[0] if source.streams.audio else None
            audio_out = target.add_stream_from_template(audio) if audio else None

            def copy_audio(packet):
                packet.stream = audio_out
                target.mux(packet)

            with tqdm(total=video.frames or None, unit="frame", desc=Path(src).name, disable=None) as bar:
                for frames in frame_batches(source, video, audio, copy_audio, batch_size):
                    images = fn(to_images(frames, video_out.width, video_out.height))
                    for frame in to_frames(images, frames):
                        target.mux(video_out.encode(frame))
                    count += len(frames)
                    bar.update(len(frames))
                    Interrupted.raise_if_received()
            if count == 0:
                raise PainterlyError(f"{src}: no video frames")
            target.mux(video_out.encode(None))
    except FileNotFoundError:
        raise PainterlyError(f"{src}: no such file") from None
    except av.FFmpegError as error:
        if error.errno in WRITE_ERRORS:
            raise OSError(error.errno, error.strerror, str(dst)) from None
        raise PainterlyError(f"{src}: cannot convert the video ({error.strerror or error})") from None
    return count
