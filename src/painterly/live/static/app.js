// The live page. Server mode: frames go over the WebSocket (protocol in painterly/live/server.py), at most
// MAX_IN_FLIGHT at a time, so one is stylized while the next travels. Browser mode: the style's ONNX export runs
// here in onnxruntime-web (served by the app from its npm package), WebGPU where the browser has it, else WASM.
"use strict";

const $ = (id) => document.getElementById(id);
const MAX_IN_FLIGHT = 2;
const JPEG_QUALITY = 0.85;
const LUMA = [0.299, 0.587, 0.114]; // BT.601, as painterly.stylize.pipeline.keep_color

// Everything the page shows, readable by tests and scripts/bench_live.py as window.painterly.
const state = {
  mode: "server", style: null, styles: [], strength: 1, preserve: false, height: 360,
  frames: 0, fps: 0, latency: 0, serverMs: 0, dropped: 0, errors: [], backend: "", busy: false,
  settingsVersion: 0, shownVersion: -1, source: "none", outSize: [0, 0],
};
window.painterly = state;

const video = $("video"), out = $("out"), raw = $("raw");
const outCtx = out.getContext("2d"), rawCtx = raw.getContext("2d");
const label = (name) => name.replaceAll("_", " ");  // a style as people read it; spaces let it wrap in its tile
const capture = document.createElement("canvas");
const captureCtx = capture.getContext("2d", { willReadFrequently: true });
let source = null; // { el, width(), height(), still }
let dirty = true;  // a still image needs a new frame only when a setting changed
const shownAt = [], latencies = [];
const FPS_WINDOW_MS = 5000; // frames/s over 5 s: a slow machine (a frame a second or less) reads as a rate, not 0

function message(text) { $("message").textContent = text || ""; }

function changed() { state.settingsVersion++; dirty = true; sendSettings(); }

// --- sources: the camera, or a dropped photo or video ---------------------------------------------------------
async function startCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    message("this page has no camera access (browsers allow it on localhost or https only): drop a photo or video");
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } } });
    if (source) return; // a file was dropped meanwhile
    video.srcObject = stream;
    await video.play();
    useVideo("camera");
  } catch (error) {
    message(`no camera (${error.name}): drop a photo or a video on the page`);
  }
}

function useVideo(kind) {
  source = { el: video, width: () => video.videoWidth, height: () => video.videoHeight, still: false };
  state.source = kind;
  dirty = true;
}

async function useFile(file) {
  if (!file) return;
  message("");
  if (file.type.startsWith("image/")) {
    try {
      const bitmap = await createImageBitmap(file);
      source = { el: bitmap, width: () => bitmap.width, height: () => bitmap.height, still: true };
      state.source = "image";
      dirty = true;
    } catch (error) {
      message(`${file.name}: not an image this browser can read`);
    }
  } else if (file.type.startsWith("video/")) {
    video.srcObject?.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
    video.src = URL.createObjectURL(file);
    video.loop = true;
    try { await video.play(); useVideo("video"); } catch (error) { message(`${file.name}: cannot play this video`); }
  } else {
    message(`${file.name}: drop a photo or a video`);
  }
}

// Draw the current source frame at the processing resolution into `capture`; false when there is none yet.
function grab() {
  if (!source) return false;
  const w0 = source.width(), h0 = source.height();
  if (!w0 || !h0) return false;
  const h = state.height, w = Math.max(8, Math.round((h * w0) / h0 / 2) * 2);
  if (capture.width !== w || capture.height !== h) { capture.width = w; capture.height = h; }
  captureCtx.drawImage(source.el, 0, 0, w, h);
  if (!$("raw-view").hidden) {
    if (raw.width !== w || raw.height !== h) { raw.width = w; raw.height = h; }
    rawCtx.drawImage(capture, 0, 0);
  }
  dirty = false;
  return true;
}

function show(image, sentAt, version) {
  if (out.width !== image.width || out.height !== image.height) { out.width = image.width; out.height = image.height; }
  if (image instanceof ImageData) outCtx.putImageData(image, 0, 0); else outCtx.drawImage(image, 0, 0);
  const now = performance.now();
  shownAt.push(now);
  while (shownAt.length && shownAt[0] < now - FPS_WINDOW_MS) shownAt.shift();
  latencies.push(now - sentAt);
  if (latencies.length > 30) latencies.shift();
  state.frames++;
  state.shownVersion = version;
  state.outSize = [out.width, out.height];
  updateStats(); // at once, not at the next tick: the counters always describe the frames shown
}

function updateStats() {
  const now = performance.now();
  while (shownAt.length && shownAt[0] < now - FPS_WINDOW_MS) shownAt.shift();
  state.fps = (shownAt.length * 1000) / FPS_WINDOW_MS;
  const sorted = [...latencies].sort((a, b) => a - b);
  state.latency = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
  $("fps").textContent = `${state.fps.toFixed(1)} fps`;
  $("latency").textContent = `${Math.round(state.latency)} ms latency` +
    (state.mode === "server" && state.serverMs ? ` (server ${Math.round(state.serverMs)} ms)` : "");
  $("backend").textContent = state.backend;
  $("out-caption").textContent = `${label(state.style || "")} · ${out.width}×${out.height}`;
}
setInterval(updateStats, 250);

// --- server mode ---------------------------------------------------------------------------------------------
let socket = null, nextId = 1, encoding = false;
const inFlight = new Map(); // frame id -> [time sent, settings version]

function connect() {
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => (typeof event.data === "string" ? onText(JSON.parse(event.data)) : onFrame(event.data));
  socket.onclose = () => {
    inFlight.clear();
    if (state.busy) return;
    message("lost the server; reconnecting…");
    setTimeout(connect, 1000);
  };
}

function sendSettings() {
  if (socket?.readyState === WebSocket.OPEN && state.style) {
    socket.send(JSON.stringify({ type: "settings", style: state.style, strength: state.strength,
                                 preserve_color: state.preserve }));
  }
}

function onText(msg) {
  if (msg.type === "hello") {
    message("");
    if (state.mode === "server") state.backend = "server";
    sendSettings();
  } else if (msg.type === "busy") {
    state.busy = true;
    message(msg.message);
  } else if (msg.type === "dropped") {
    inFlight.delete(msg.id);
    state.dropped++;
  } else if (msg.type === "error") {
    if (msg.id !== null) inFlight.delete(msg.id);
    state.errors.push(msg.message);
    message(msg.message);
  }
  pump();
}

async function onFrame(buffer) {
  const header = new DataView(buffer, 0, 8);
  const id = header.getUint32(0), sent = inFlight.get(id);
  inFlight.delete(id);
  state.serverMs = header.getFloat32(4);
  pump();
  if (!sent || state.mode !== "server") return;
  const bitmap = await createImageBitmap(new Blob([new Uint8Array(buffer, 8)], { type: "image/jpeg" }));
  show(bitmap, sent[0], sent[1]);
  bitmap.close();
}

// Send the next frame when fewer than MAX_IN_FLIGHT are out: the server never gets a queue to work through.
function pump() {
  if (state.mode !== "server" || encoding || socket?.readyState !== WebSocket.OPEN) return;
  if (inFlight.size >= MAX_IN_FLIGHT || !source || (source.still && !dirty) || !grab()) return;
  encoding = true;
  const id = nextId++, sentAt = performance.now(), version = state.settingsVersion;
  capture.toBlob((blob) => {
    encoding = false;
    if (!blob || socket.readyState !== WebSocket.OPEN) return;
    const header = new DataView(new ArrayBuffer(4));
    header.setUint32(0, id);
    inFlight.set(id, [sentAt, version]);
    socket.send(new Blob([header, blob]));
    pump();
  }, "image/jpeg", JPEG_QUALITY);
}
setInterval(pump, 5); // picks up new camera frames when nothing is in flight

// --- browser mode --------------------------------------------------------------------------------------------
let session = null, sessionStyle = null, browserRunning = false;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src; script.onload = resolve; script.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(script);
  });
}

async function webgpuAvailable() {
  try { return Boolean(navigator.gpu && (await navigator.gpu.requestAdapter())); } catch { return false; }
}

async function loadSession(style) {
  if (!window.ort) await loadScript("/ort/ort.min.js");
  ort.env.wasm.wasmPaths = "/ort/";
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const url = `/api/styles/${encodeURIComponent(style)}/model.onnx`;
  const providers = (await webgpuAvailable()) ? ["webgpu", "wasm"] : ["wasm"];
  for (const provider of providers) {
    try {
      session = await ort.InferenceSession.create(url, { executionProviders: [provider] });
      sessionStyle = style;
      state.backend = `browser: ${provider}${provider === "wasm" ? ` ×${ort.env.wasm.numThreads} threads` : ""}`;
      return;
    } catch (error) {
      state.errors.push(`${provider}: ${error.message}`);
    }
  }
  throw new Error(`onnxruntime-web could not run ${style} (${state.errors.at(-1)})`);
}

// (1, 3, H, W) float RGB in [0, 1] -> blended RGBA ImageData, as painterly.stylize.pipeline.apply does on the server.
function blend(content, stylized, w, h) {
  const image = new ImageData(w, h), plane = w * h, k = state.strength;
  for (let i = 0; i < plane; i++) {
    const c = [content[i], content[i + plane], content[i + 2 * plane]];
    let s = [stylized[i], stylized[i + plane], stylized[i + 2 * plane]];
    if (state.preserve) {
      let dy = 0;
      for (let j = 0; j < 3; j++) dy += (s[j] - c[j]) * LUMA[j];
      s = c.map((v) => v + dy);
    }
    for (let j = 0; j < 3; j++) image.data[4 * i + j] = 255 * (c[j] + (s[j] - c[j]) * k);
    image.data[4 * i + 3] = 255;
  }
  return image;
}

async function browserLoop() {
  if (browserRunning) return;
  browserRunning = true;
  try {
    while (state.mode === "browser") {
      if (state.style && sessionStyle !== state.style) {
        state.backend = "loading model…";
        await loadSession(state.style);
      }
      if (!session || !source || (source.still && !dirty) || !grab()) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      const w = capture.width, h = capture.height, sentAt = performance.now(), version = state.settingsVersion;
      const pixels = captureCtx.getImageData(0, 0, w, h).data, plane = w * h;
      const input = new Float32Array(3 * plane);
      for (let i = 0; i < plane; i++) {
        for (let j = 0; j < 3; j++) input[i + j * plane] = pixels[4 * i + j] / 255;
      }
      const result = await session.run({ image: new ort.Tensor("float32", input, [1, 3, h, w]) });
      const stylized = result.stylized.data;
      if (state.mode === "browser") show(blend(input, stylized, w, h), sentAt, version);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } catch (error) {
    state.errors.push(error.message);
    message(error.message);
  } finally {
    browserRunning = false;
  }
}

// --- controls ------------------------------------------------------------------------------------------------
async function loadStyles() {
  const response = await fetch("/api/styles");
  const info = await response.json();
  state.styles = info.styles;
  state.style = state.style || info.default;
  if (!info.browser_mode) $("mode").querySelector('[value="browser"]').disabled = true;
  const box = $("styles");
  for (const name of info.styles) {
    const button = document.createElement("button");
    button.dataset.style = name;
    const img = document.createElement("img");
    img.src = `/api/styles/${encodeURIComponent(name)}/thumbnail.png`;
    img.alt = "";
    button.append(img, label(name));
    button.onclick = () => pickStyle(name);
    box.append(button);
  }
  pickStyle(state.style);
}

function pickStyle(name) {
  state.style = name;
  for (const button of $("styles").children) button.classList.toggle("active", button.dataset.style === name);
  changed();
}

function snapshot() {
  out.toBlob((blob) => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `painterly-${state.style}-${new Date().toISOString().replace(/[:.]/g, "-")}.png`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }, "image/png");
}

$("strength").oninput = (event) => { state.strength = Number(event.target.value); changed(); };
$("preserve").onchange = (event) => { state.preserve = event.target.checked; changed(); };
$("resolution").onchange = (event) => { state.height = Number(event.target.value); changed(); };
$("show-raw").onchange = (event) => { $("raw-view").hidden = !event.target.checked; dirty = true; };
$("snapshot").onclick = snapshot;
$("file").onchange = (event) => useFile(event.target.files[0]);
$("mode").onchange = (event) => {
  state.mode = event.target.value;
  state.settingsVersion++;
  dirty = true;
  latencies.length = 0;
  if (state.mode === "browser") browserLoop(); else { state.backend = "server"; pump(); }
};
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("dragging"); });
drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("dragging");
  useFile(event.dataTransfer.files[0]);
});

// Query parameters set the starting controls (?mode=browser&height=480), for links and the benchmark.
const params = new URLSearchParams(location.search);
if (params.get("height")) { $("resolution").value = params.get("height"); state.height = Number($("resolution").value); }
if (params.get("style")) state.style = params.get("style");
connect();
loadStyles().catch((error) => message(`cannot list styles: ${error.message}`));
startCamera();
if (params.get("mode") === "browser") { $("mode").value = "browser"; $("mode").onchange({ target: $("mode") }); }
