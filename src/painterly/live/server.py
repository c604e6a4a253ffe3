"""The live page's server: Starlette routes for the page, the styles and onnxruntime-web, and one WebSocket.

WebSocket protocol (`/ws`), all of it in static/app.js too:
- server -> client on connect: {"type": "hello", "styles": [...], "style": name}, or {"type": "busy", ...} and close.
- client -> server text: {"type": "settings", "style": name, "strength": 0..1, "preserve_color": bool}.
- client -> server binary: a frame, `FRAME_HEADER` (uint32 frame id) then a JPEG, PNG or WebP image.
- server -> client binary: `REPLY_HEADER` (uint32 frame id, float32 server milliseconds) then the stylized JPEG.
- server -> client text: {"type": "dropped", "id": n} for a frame a newer one replaced before it ran, and
  {"type": "error", "message": ..., "id": n or null} for a bad message. Errors go to that client only.

Newest frame wins: each client has one slot for its next frame. A frame arriving while the slot is full replaces
it, so nothing queues and latency stays at most about two frame times. All clients share one inference thread,
taken in turn, so up to `max_clients` are served fairly.
"""

import asyncio
import io
import json
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from painterly.live.engine import PainterlyError, stylize_pixels

STATIC = Path(__file__).parent / "static"
FRAME_HEADER = struct.Struct(">I")
REPLY_HEADER = struct.Struct(">If")
FRAME_FORMATS = ("JPEG", "PNG", "WEBP")
JPEG_QUALITY = 85  # the reply's JPEG: ~2 ms to encode at 480x360; the page shows it, a snapshot is a PNG of it


class IsolatedOrigin:
    """COOP/COEP headers: they make the page cross-origin isolated, which multi-threaded WASM needs."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"cross-origin-embedder-policy", b"require-corp"),
                    (b"cache-control", b"no-store"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


class FrameError(Exception):
    """A frame or message the server refuses; its text is the error reply."""


def decode_frame(data: bytes, max_side: int) -> np.ndarray:
    """An encoded frame -> (H, W, 3) uint8 RGB, refused before decoding when it is too large or not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FRAME_FORMATS:
                raise FrameError(f"frame is {image.format}, not one of {', '.join(FRAME_FORMATS)}")
            if max(image.size) > max_side:
                raise FrameError(f"frame is {image.width}x{image.height}; at most {max_side} pixels a side")
            return np.asarray(image.convert("RGB"))
    except FrameError:
        raise
    except Exception as error:  # Pillow raises many types for bytes that are not a whole image
        raise FrameError(f"frame is not a readable image ({type(error).__name__})") from None


def encode_frame(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


class Settings:
    def __init__(self, style):
        self.style, self.strength, self.preserve_color = style, 1.0, False

    def update(self, message: dict, styles) -> None:
        style = message.get("style", self.style)
        strength = message.get("strength", self.strength)
        preserve_color = message.get("preserve_color", self.preserve_color)
        if not isinstance(style, str) or style not in styles.paths:
            raise FrameError(f"unknown style {str(style)[:80]!r}; choose from: {', '.join(styles.names)}")
        if type(strength) not in (int, float) or not 0 <= strength <= 1:
            raise FrameError(f"strength must be a number in [0, 1], not {str(strength)[:20]!r}")
        if not isinstance(preserve_color, bool):
            raise FrameError("preserve_color must be true or false")
        self.style, self.strength, self.preserve_color = style, float(strength), preserve_color


class Client:
    """One WebSocket: a receive loop that fills the newest-frame slot, and a worker that stylizes from it."""

    def __init__(self, socket: WebSocket, app_state):
        self.socket, self.state = socket, app_state
        self.settings = Settings(app_state.styles.default)
        self.slot: tuple[int, bytes] | None = None
        self.ready = asyncio.Event()
        self.send_lock = asyncio.Lock()

    async def send(self, message) -> None:
        async with self.send_lock:
            if isinstance(message, bytes):
                await self.socket.send_bytes(message)
            else:
                await self.socket.send_text(json.dumps(message))

    async def error(self, message: str, frame_id=None) -> None:
        await self.send({"type": "error", "message": message, "id": frame_id})

    async def receive(self) -> None:
        while True:
            message = await self.socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                if message.get("bytes") is not None:
                    dropped = self.take_frame(message["bytes"])
                    if dropped is not None:
                        await self.send({"type": "dropped", "id": dropped})
                else:
                    self.take_text(message.get("text") or "")
            except FrameError as error:
                await self.error(str(error))

    def take_frame(self, data: bytes) -> int | None:
        """Put a frame in the slot; returns the id of the frame it replaced, if any."""
        limit = self.state.config.max_frame_bytes
        if len(data) > limit + FRAME_HEADER.size:
            raise FrameError(f"frame is {len(data)} bytes; at most {limit}")
        if len(data) <= FRAME_HEADER.size:
            raise FrameError(f"a frame is a {FRAME_HEADER.size}-byte id then an image; got {len(data)} bytes")
        dropped = self.slot[0] if self.slot is not None else None
        self.slot = (FRAME_HEADER.unpack_from(data)[0], data[FRAME_HEADER.size :])
        self.ready.set()
        return dropped

    def take_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            raise FrameError("a text message must be JSON") from None
        if not isinstance(message, dict) or message.get("type") != "settings":
            kind = message.get("type") if isinstance(message, dict) else type(message).__name__
            raise FrameError(f"unknown message type {str(kind)[:40]!r}; the server takes 'settings' and frames")
        self.settings.update(message, self.state.styles)

    async def work(self) -> None:
        while True:
            await self.ready.wait()
            self.ready.clear()
            frame_id, data = self.slot
            self.slot = None
            settings = (self.settings.style, self.settings.strength, self.settings.preserve_color)
            try:
                reply = await self.state.run(self.stylize, data, *settings)
            except FrameError as error:
                await self.error(str(error), frame_id)
                continue
            except PainterlyError as error:
                await self.error(f"{settings[0]}: {error}", frame_id)
                continue
            except Exception as error:  # an engine failure: this frame fails, the client and the server go on
                await self.error(f"stylize failed ({type(error).__name__}: {str(error)[:200]})", frame_id)
                continue
            seconds, jpeg = reply
            await self.send(REPLY_HEADER.pack(frame_id, seconds * 1000) + jpeg)

    def stylize(self, data: bytes, style: str, strength: float, preserve_color: bool) -> tuple[float, bytes]:
        start = time.perf_counter()
        pixels = decode_frame(data, self.state.config.max_frame_side)
        if min(pixels.shape[:2]) < 8:
            raise FrameError(f"frame is {pixels.shape[1]}x{pixels.shape[0]}; at least 8 pixels a side")
        stylized = stylize_pixels(self.state.styles.engine(style), pixels, strength, preserve_color)
        return time.perf_counter() - start, encode_frame(stylized)


async def websocket_endpoint(socket: WebSocket) -> None:
    state = socket.app.state
    await socket.accept()
    if len(state.clients) >= state.config.max_clients:
        await socket.send_text(
            json.dumps(
                {
                    "type": "busy",
                    "message": (
                        f"server busy: {len(state.clients)} clients already connected "
                        f"(max_clients={state.config.max_clients}); try again later"
                    ),
                }
            )
        )
        await socket.close(code=1013)  # 1013: try again later
        return
    client = Client(socket, state)
    state.clients.add(client)
    worker = asyncio.create_task(client.work())
    try:
        await client.send({"type": "hello", "styles": state.styles.names, "style": state.styles.default})
        await client.receive()
    except WebSocketDisconnect:
        pass
    finally:  # a client gone mid-frame: its worker is cancelled; a frame in the inference thread finishes unsent
        worker.cancel()
        state.clients.discard(client)
        client.slot = None


async def index(request):
    return FileResponse(STATIC / "index.html")


async def style_list(request):
    styles = request.app.state.styles
    return JSONResponse(
        {
            "styles": styles.names,
            "default": styles.default,
            "max_frame_bytes": request.app.state.config.max_frame_bytes,
            "max_frame_side": request.app.state.config.max_frame_side,
            "browser_mode": request.app.state.ort_dir is not None,
        }
    )


async def style_file(request):
    styles, name, kind = request.app.state.styles, request.path_params["name"], request.path_params["file"]
    if name not in styles.paths:
        return PlainTextResponse(f"unknown style; choose from: {', '.join(styles.names)}", status_code=404)
    make = {"thumbnail.png": styles.thumbnail, "model.onnx": styles.onnx}.get(kind)
    if make is None:
        return PlainTextResponse("a style has thumbnail.png and model.onnx", status_code=404)
    try:
        path = await run_in_threadpool(make, name)
    except PainterlyError as error:
        return PlainTextResponse(str(error), status_code=500)
    return FileResponse(path, media_type="image/png" if kind.endswith(".png") else "application/octet-stream")


def create_app(styles, config, ort_dir: Path | None = None) -> Starlette:
    """The app for `styles` (painterly.live.styles.Styles). `config`: max_clients, max_frame_bytes, max_frame_side.

    `ort_dir` is onnxruntime-web's dist folder (from npm); without it browser mode is off.
    """
    inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stylize")  # one engine run at a time

    routes = [
        Route("/", index),
        Route("/api/styles", style_list),
        Route("/api/styles/{name}/{file}", style_file),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    ort_dir = Path(ort_dir) if ort_dir and Path(ort_dir).is_dir() else None
    if ort_dir:
        routes.append(Mount("/ort", StaticFiles(directory=ort_dir), name="ort"))
    app = Starlette(routes=routes, middleware=[Middleware(IsolatedOrigin)])
    app.state.styles, app.state.config, app.state.ort_dir, app.state.clients = styles, config, ort_dir, set()

    async def run(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(inference, fn, *args)

    app.state.run = run
    return app
