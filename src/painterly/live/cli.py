"""`python live.py [ckpt=<style>] [port=8000] [host=127.0.0.1] [key=value ...]`: serve the live camera page."""

import asyncio
import sys

from painterly.live.engine import ROOT, PainterlyError, launch
from painterly.live.server import create_app
from painterly.live.styles import Styles

ORT_DIR = ROOT / "node_modules" / "onnxruntime-web" / "dist"  # `npm ci` (make setup) puts it there
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def build(cfg):
    if bool(cfg.ssl_certfile) != bool(cfg.ssl_keyfile):
        raise PainterlyError("HTTPS needs both ssl_certfile= and ssl_keyfile=")
    if not (isinstance(cfg.max_clients, int) and cfg.max_clients >= 1):
        raise PainterlyError(f"max_clients must be a positive integer, not {cfg.max_clients!r}")
    styles = Styles(cfg.ckpt, cfg.styles_dir, cfg.device, cfg.precision, cfg.engine)
    return create_app(styles, cfg, ORT_DIR)


def main() -> None:
    launch("live", "live", serve)


def serve(cfg) -> None:
    app = build(cfg)
    import uvicorn

    scheme = "https" if cfg.ssl_certfile else "http"
    shown = "localhost" if cfg.host in LOCAL_HOSTS + ("0.0.0.0", "::") else cfg.host
    if cfg.host not in LOCAL_HOSTS:
        print(
            f"live: WARNING: host={cfg.host} serves this page and its styles to every machine that can reach this "
            "one; browsers give those machines the camera only over HTTPS (ssl_certfile=, ssl_keyfile=)",
            file=sys.stderr,
        )
    if not app.state.ort_dir:
        print(f"live: browser mode is off: {ORT_DIR} is missing (run `npm ci` or `make setup`)", file=sys.stderr)
    # ws_max_size: a frame over max_frame_bytes still arrives whole and gets an error reply; far larger ones close
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=cfg.host,
            port=cfg.port,
            ssl_certfile=cfg.ssl_certfile,
            ssl_keyfile=cfg.ssl_keyfile,
            ws_max_size=4 * cfg.max_frame_bytes,
            log_level="warning",
        )
    )

    async def serve():
        serving = asyncio.create_task(server.serve())
        while not (server.started or serving.done()):
            await asyncio.sleep(0.05)
        if server.started:  # the URL only once it answers
            print(f"live: {len(app.state.styles.names)} styles; open {scheme}://{shown}:{cfg.port}/", flush=True)
        await serving

    asyncio.run(serve())
