"""The live server's protocol, through Starlette's TestClient: no browser, no sockets, fractions of a second."""

import io
import json
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from painterly.config import compose_config
from painterly.live.cli import build
from painterly.live.engine import ROOT, PainterlyError
from painterly.live.server import FRAME_HEADER, REPLY_HEADER, Client


def live_config(styles_dir, *overrides):
    return compose_config("live", [f"styles_dir={styles_dir}", *overrides])


def jpeg(width=64, height=48, seed=0) -> bytes:
    """A smooth random picture (JPEG keeps it close), `width` x `height`."""
    coarse = np.random.default_rng(seed).integers(0, 256, (3, 4, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def client(styles_dir):
    with TestClient(build(live_config(styles_dir, "max_frame_bytes=20000", "max_frame_side=256"))) as client:
        yield client


def frame(frame_id: int, data: bytes) -> bytes:
    return FRAME_HEADER.pack(frame_id) + data


def hello(socket) -> dict:
    message = json.loads(socket.receive_text())
    assert message["type"] == "hello" and message["styles"] == ["ember", "glacier"]
    return message


def stylized(socket, frame_id: int) -> Image.Image:
    reply = socket.receive_bytes()
    got_id, server_ms = REPLY_HEADER.unpack_from(reply)
    assert got_id == frame_id and server_ms > 0
    return Image.open(io.BytesIO(reply[REPLY_HEADER.size :]))


def test_frames_come_back_stylized_with_the_chosen_style_strength_and_colour(client):
    photo = jpeg(64, 48)
    raw = np.asarray(Image.open(io.BytesIO(photo)), dtype=np.float32)
    with client.websocket_connect("/ws") as socket:
        assert hello(socket)["style"] == "ember"
        socket.send_bytes(frame(7, photo))
        ember = stylized(socket, 7)
        assert ember.size == (64, 48) and ember.format == "JPEG"
        ember = np.asarray(ember, dtype=np.float32)
        assert np.abs(ember - raw).mean() > 20
        outputs = {}
        for settings in ({"style": "glacier"}, {"strength": 0.0}, {"strength": 1.0, "preserve_color": True}):
            socket.send_text(json.dumps({"type": "settings", **settings}))
            socket.send_bytes(frame(8, photo))
            outputs[json.dumps(settings)] = np.asarray(stylized(socket, 8), dtype=np.float32)
    glacier, unstyled, kept = outputs.values()
    assert np.abs(glacier - ember).mean() > 10
    assert np.abs(unstyled - raw).mean() < 4  # strength 0 is the photo (JPEG twice over)
    # preserve_color: the photo's colours moved by the style's luminance change (painterly.stylize.pipeline.keep_color)
    expected = np.clip(raw + ((glacier - raw) @ [0.299, 0.587, 0.114])[..., None], 0, 255)
    assert np.abs(kept - expected).mean() < 6 and np.abs(kept - glacier).mean() > 10


def test_bad_input_gets_an_error_reply_and_the_connection_goes_on(client):
    bomb = io.BytesIO()
    Image.new("RGB", (300, 20)).save(bomb, format="PNG")
    gif = io.BytesIO()
    Image.new("RGB", (32, 32)).save(gif, format="GIF")
    bad = [
        ("text", "not json", "must be JSON"),
        ("text", json.dumps({"type": "hack"}), "unknown message type 'hack'"),
        ("text", json.dumps([1, 2]), "unknown message type 'list'"),
        ("text", json.dumps({"type": "settings", "style": "../../etc/passwd"}), "unknown style '../../etc/passwd'"),
        ("text", json.dumps({"type": "settings", "style": str(ROOT / "README.md")}), "unknown style"),
        ("text", json.dumps({"type": "settings", "strength": 2}), "strength must be a number in [0, 1]"),
        ("text", json.dumps({"type": "settings", "preserve_color": "yes"}), "preserve_color must be true or false"),
        ("bytes", b"\x00\x01", "a frame is a 4-byte id then an image"),
        ("bytes", frame(1, b"\xff" * 25000), "frame is 25004 bytes; at most 20000"),
        ("bytes", frame(2, b"GIF89a not really"), "not a readable image"),
        ("bytes", frame(3, gif.getvalue()), "frame is GIF, not one of JPEG, PNG, WEBP"),
        ("bytes", frame(4, bomb.getvalue()), "frame is 300x20; at most 256 pixels a side"),
        ("bytes", frame(5, jpeg(6, 6)), "at least 8 pixels a side"),
        ("bytes", frame(6, jpeg()[:200]), "not a readable image"),
    ]
    with client.websocket_connect("/ws") as socket, client.websocket_connect("/ws") as bystander:
        hello(socket), hello(bystander)
        for kind, data, problem in bad:
            (socket.send_text if kind == "text" else socket.send_bytes)(data)
            reply = json.loads(socket.receive_text())
            assert reply["type"] == "error" and problem in reply["message"], (data[:40], reply)
        socket.send_bytes(frame(9, jpeg()))
        assert stylized(socket, 9).size == (64, 48)
        bystander.send_bytes(frame(10, jpeg()))
        assert stylized(bystander, 10).size == (64, 48)  # nobody else heard of those errors


def test_clients_past_the_limit_are_told_the_server_is_busy(styles_dir):
    with TestClient(build(live_config(styles_dir, "max_clients=1"))) as client:
        with client.websocket_connect("/ws") as first:
            hello(first)
            with client.websocket_connect("/ws") as second:
                busy = json.loads(second.receive_text())
                assert busy["type"] == "busy" and "max_clients=1" in busy["message"]
            first.send_bytes(frame(1, jpeg()))
            stylized(first, 1)
        with client.websocket_connect("/ws") as third:  # the first one's place is free again
            hello(third)


def test_a_client_gone_mid_frame_leaves_nothing_behind(client):
    with client.websocket_connect("/ws") as socket:
        hello(socket)
        socket.send_bytes(frame(1, jpeg(200, 150)))
    deadline = time.monotonic() + 10
    while client.app.state.clients and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not client.app.state.clients
    with client.websocket_connect("/ws") as socket:
        hello(socket)
        socket.send_bytes(frame(2, jpeg()))
        assert stylized(socket, 2).size == (64, 48)


def test_the_newest_frame_replaces_a_waiting_one(styles_dir):
    class State:
        styles = build(live_config(styles_dir)).state.styles
        config = live_config(styles_dir)

    client = Client(socket=None, app_state=State)
    assert client.take_frame(frame(1, b"first")) is None
    assert client.take_frame(frame(2, b"second")) == 1
    assert client.take_frame(frame(3, b"third")) == 2
    assert client.slot == (3, b"third")  # one slot: nothing queues


def test_style_thumbnails_and_exports_are_served_only_for_listed_styles(client):
    styles = client.get("/api/styles").json()
    assert styles["styles"] == ["ember", "glacier"] and styles["default"] == "ember"
    thumb = client.get("/api/styles/glacier/thumbnail.png")
    assert thumb.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(thumb.content)).convert("RGB").getpixel((5, 5)) == (40, 120, 200)
    onnx = client.get("/api/styles/ember/model.onnx")
    assert onnx.status_code == 200 and len(onnx.content) > 1000
    for url in (
        "/api/styles/nope/model.onnx",
        "/api/styles/ember/state.pt",
        "/api/styles/..%2F..%2Fetc/passwd",
        "/api/styles/%2E%2E/model.onnx",
        "/static/../../README.md",
        "/ort/../../package.json",
    ):
        response = client.get(url)
        assert response.status_code == 404 and b"README" not in response.content, url
    page = client.get("/")
    assert b"painterly" in page.content and page.headers["cross-origin-embedder-policy"] == "require-corp"


SERVE_ONE_FRAME = """
import io, json, sys
from PIL import Image
from starlette.testclient import TestClient
from painterly.config import compose_config
from painterly.live.cli import build
from painterly.live.server import FRAME_HEADER

buffer = io.BytesIO()
Image.new("RGB", (64, 48), "teal").save(buffer, format="JPEG")
with TestClient(build(compose_config("live", [f"styles_dir={sys.argv[1]}"]))) as client:
    assert client.get("/api/styles/ember/thumbnail.png").status_code == 200
    assert client.get("/api/styles/ember/model.onnx").status_code == 200
    with client.websocket_connect("/ws") as socket:
        socket.receive_text()
        socket.send_bytes(FRAME_HEADER.pack(1) + buffer.getvalue())
        assert len(socket.receive_bytes()) > 100
print("torch imported:", "torch" in sys.modules)
"""


def test_serving_a_style_with_a_cached_export_never_imports_torch(styles_dir):
    done = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_FRAME, str(styles_dir)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "torch imported: False"


def live(*args, timeout=60):
    return subprocess.run(
        [sys.executable, str(ROOT / "live.py"), *args], capture_output=True, text=True, timeout=timeout
    )


def test_command_line_errors_are_one_line(tmp_path):
    for args, problem in [((f"styles_dir={tmp_path}",), "has no .pt checkpoints"), (("colour=red",), "colour")]:
        done = live(*args)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.startswith("live: ") and problem in done.stderr and len(done.stderr.splitlines()) == 1
    for overrides, problem in [
        (["ckpt=nope"], "no style named 'nope'"),
        (["ssl_certfile=cert.pem"], "needs both ssl_certfile= and ssl_keyfile="),
        (["max_clients=0"], "max_clients must be a positive integer"),
    ]:
        with pytest.raises(PainterlyError, match=problem):
            build(live_config(tmp_path, *overrides))


def test_serving_the_network_prints_a_warning_and_the_url(styles_dir):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "live.py"), f"styles_dir={styles_dir}", "host=0.0.0.0", f"port={port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == f"live: 2 styles; open http://localhost:{port}/"
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert "WARNING: host=0.0.0.0 serves this page" in stderr and "HTTPS" in stderr
