import io
import signal
import sys

import av
import numpy as np
import pytest

from painterly import Interrupted, PainterlyError
from painterly.cli.launch import stop_on_signals
from painterly.stylize import video
from painterly.stylize.johnson import Johnson
from painterly.stylize.pipeline import find_jobs, stylize_files
from painterly.stylize.video import transform_video

from conftest import make_clip


def probe(path):
    with av.open(str(path)) as clip:
        video = clip.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in clip.decode(video=0)]
        audio = clip.streams.audio[0] if clip.streams.audio else None

        def seconds(stream):
            return float(stream.duration * stream.time_base)

        return {
            "frames": np.stack(frames),
            "rate": video.average_rate,
            "duration": seconds(video),
            "size": (video.width, video.height),
            "audio": audio and (audio.codec_context.name, audio.sample_rate, seconds(audio)),
        }


def test_round_trip_keeps_frames_timing_and_audio(tmp_path):
    src = make_clip(tmp_path / "clip.mp4")
    calls = []

    def invert(frames):
        calls.append(len(frames))
        return 1 - frames

    assert transform_video(src, tmp_path / "out.mp4", invert, batch_size=5) == 12
    before, after = probe(src), probe(tmp_path / "out.mp4")
    assert calls == [5, 5, 2]
    assert len(after["frames"]) == 12 and after["rate"] == 12 and after["size"] == (48, 32)
    assert after["duration"] == pytest.approx(before["duration"]) == pytest.approx(1.0)
    assert after["audio"] == before["audio"] and after["audio"][0] == "aac"
    # the codec is lossy; the inverted brightness ramp must still show, frame by frame
    assert np.abs(after["frames"].astype(float) - (255 - before["frames"].astype(float))).mean() < 4


def test_resizing_silent_clip_and_bad_files(tmp_path):
    src = make_clip(tmp_path / "silent.mp4", frames=3, size=(64, 48), audio=False)
    transform_video(src, tmp_path / "small.mkv", lambda x: x, size=lambda w, h: (w // 2 + 1, h // 2 + 1))
    small = probe(tmp_path / "small.mkv")
    assert small["size"] == (32, 24) and small["audio"] is None and len(small["frames"]) == 3  # even sizes for yuv420p

    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mp4").write_text("not a video")
    for name in ("empty.mp4", "text.mp4", "missing.mp4"):
        with pytest.raises(PainterlyError, match=f"{name}: ") as error:
            transform_video(tmp_path / name, tmp_path / "out.mp4", lambda x: x)
        assert "\n" not in str(error.value)
    assert not (tmp_path / "out.mp4").exists() and not list(tmp_path.glob(".out*"))
    with pytest.raises(PainterlyError, match="unknown video format"):
        transform_video(src, tmp_path / "out.gif", lambda x: x)


def test_stylize_pipeline_runs_a_video_in_batches(tmp_path, style_ckpt, capsys):
    src = make_clip(tmp_path / "clip.mp4", frames=6)
    jobs = find_jobs(src)
    assert jobs == [(src, tmp_path / "clip_stylized.mp4")]
    assert stylize_files(Johnson(style_ckpt, device="cpu"), jobs, strength=0.5, batch_size=4) == []
    assert len(probe(jobs[0][1])["frames"]) == 6 and probe(jobs[0][1])["audio"] == probe(src)["audio"]
    assert capsys.readouterr().out.startswith("stylize: done 6 frames, failed 0, ")


def test_a_signal_that_pyav_swallows_still_stops_the_video(tmp_path, monkeypatch, capsys):
    """SIGTERM handled while PyAV writes through Python's file: its callback catches only Exception, so it prints the
    KeyboardInterrupt and drops the write. The run must still stop, with no file written, not finish a broken one."""
    src = make_clip(tmp_path / "clip.mp4", frames=24, audio=False)
    swallowed = []
    monkeypatch.setattr(sys, "unraisablehook", swallowed.append)

    class SignalledFile(io.FileIO):
        writes = 0

        def write(self, data):
            SignalledFile.writes += 1
            if SignalledFile.writes == 2:
                signal.raise_signal(signal.SIGTERM)  # runs the handler here, inside PyAV's callback
            return super().write(data)

    monkeypatch.setattr(video, "open", lambda path, mode, **_: SignalledFile(path, mode), raising=False)
    with pytest.raises(SystemExit) as stopped:
        stop_on_signals("stylize", lambda: transform_video(src, tmp_path / "out.mp4", lambda x: x, batch_size=1))
    assert [type(u.exc_value) for u in swallowed] == [Interrupted] and "pyio" in str(swallowed[0].object)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert capsys.readouterr().err.endswith("Interrupted: (15, '')\nstylize: stopped by SIGTERM\n")  # Cython prints it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
