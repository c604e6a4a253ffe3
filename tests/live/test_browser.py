"""The live page in a real browser: Debian's chromium, driven by Playwright, with a fake camera playing a y4m clip
made from a bundled photo, against `python live.py` running as users run it."""

import base64
import io
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from painterly.live.engine import ROOT
from painterly.live.fake_camera import write_y4m

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ORT = ROOT / "node_modules" / "onnxruntime-web" / "dist"

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install '.[test]')"
)
if not shutil.which(CHROMIUM):
    pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(styles_dir):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "live.py"), f"styles_dir={styles_dir}", f"port={port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().startswith("live: 2 styles; open"), process.stderr.read()
    yield process, f"http://localhost:{port}/"
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    clip = write_y4m(tmp_path_factory.mktemp("camera") / "camera.y4m", size=(320, 240), frames=6)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={clip}",
                "--no-sandbox",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 760}, accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()
    assert server[0].poll() is None, "the server died"


def wait_frames(page, count: int, timeout_ms=60000) -> dict:
    """Wait until `count` more stylized frames show, under the current settings; returns the page's state."""
    start = page.evaluate("window.painterly.frames")
    page.wait_for_function(
        f"window.painterly.frames >= {start + count} && "
        "window.painterly.shownVersion === window.painterly.settingsVersion",
        timeout=timeout_ms,
    )
    return page.evaluate("({...window.painterly})")


def canvas(page, selector: str) -> np.ndarray:
    url = page.eval_on_selector(selector, "canvas => canvas.toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"), dtype=np.float32)


def test_server_mode_stylizes_the_camera_switches_styles_and_takes_snapshots(page, server, tmp_path):
    page.goto(server[1] + "?height=240")
    page.check("#show-raw")
    state = wait_frames(page, 3)
    assert state["source"] == "camera" and state["backend"] == "server" and state["outSize"] == [320, 240]
    assert state["fps"] > 0 and state["latency"] > 0 and not state["errors"]
    raw, ember = canvas(page, "#raw"), canvas(page, "#out")
    assert raw.shape == ember.shape == (240, 320, 3)
    assert raw.std() > 20 and np.abs(ember - raw).mean() > 20  # a real picture came in, and a stylized one out
    page.screenshot(path=tmp_path / "server.png")

    page.click("#styles button[data-style=glacier]")
    wait_frames(page, 2)
    glacier = canvas(page, "#out")
    assert np.abs(glacier - ember).mean() > 10
    page.fill("#strength", "0")  # a range input: fill sets it and fires input
    page.dispatch_event("#strength", "input")
    wait_frames(page, 2)
    assert np.abs(canvas(page, "#out") - canvas(page, "#raw")).mean() < 12  # the photo (camera moves a little)

    with page.expect_download() as download:
        page.click("#snapshot")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("painterly-glacier-") and saved.suffix == ".png"
    assert Image.open(saved).format == "PNG" and Image.open(saved).size == (320, 240)
    assert not page.errors


@pytest.mark.skipif(not ORT.is_dir(), reason=f"onnxruntime-web is not installed at {ORT} (npm ci; make setup)")
def test_browser_mode_runs_the_style_in_onnxruntime_web(page, server):
    page.goto(server[1] + "?height=240&mode=browser")
    page.check("#show-raw")
    state = wait_frames(page, 2)
    assert state["backend"].startswith("browser: "), state
    ember = canvas(page, "#out")
    assert np.abs(ember - canvas(page, "#raw")).mean() > 20
    page.click("#styles button[data-style=glacier]")
    wait_frames(page, 2)
    assert np.abs(canvas(page, "#out") - ember).mean() > 10
    assert not page.errors


BAD_CLIENT = """async () => {
  const socket = new WebSocket(location.origin.replace("http", "ws") + "/ws");
  const replies = [];
  socket.onmessage = (event) => replies.push(JSON.parse(event.data));
  await new Promise((resolve) => { socket.onopen = resolve; });
  socket.send("{not json");
  socket.send(JSON.stringify({type: "settings", style: "../../../etc/passwd"}));
  socket.send(new Uint8Array([0, 0, 0, 1, 137, 80, 78, 71, 1, 2, 3]));
  for (let waited = 0; replies.length < 4 && waited < 30000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return replies;
}"""


def test_bad_messages_and_an_abrupt_disconnect_leave_the_server_serving_others(page, browser, server):
    page.goto(server[1] + "?height=240")
    wait_frames(page, 2)

    other = browser.new_context().new_page()
    other.goto(server[1] + "?height=240")
    replies = other.evaluate(BAD_CLIENT)
    assert [reply["type"] for reply in replies] == ["hello", "error", "error", "error"], replies
    assert "unknown style" in replies[2]["message"] and "not a readable image" in replies[3]["message"]
    wait_frames(other, 2)
    other.context.close()  # mid-stream: frames in flight, the socket gone without a close handshake

    state = wait_frames(page, 3)  # the first page never noticed
    assert not state["errors"] and not page.errors
    time.sleep(0.5)
    assert server[0].poll() is None
    assert page.evaluate("fetch('/api/styles').then(r => r.status)") == 200
