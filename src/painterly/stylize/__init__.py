"""The torch-free stylize path: files in, files out, the network in an ONNX engine.

Nothing here imports torch at module level (tests/stylize/test_torch_free.py checks it in a fresh interpreter):
a cached `python stylize.py` call on a CPU never pays torch's second-long import. A method or engine that needs
torch (gatys, adain, the torch engine, a style's first ONNX export) imports it from the torch side when built.

- pipeline: inputs to outputs for any method: resizing, strength, preserve_color, failures
- images, video, files: Pillow and PyAV I/O as numpy arrays; atomic writes
- johnson: the johnson method; onnx_engines: OpenVINO / ONNX Runtime; checkpoints: finding a style by name
- devices: device, precision and tile options, and what the CPU can do
"""
