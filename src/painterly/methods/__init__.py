"""Stylization methods behind one interface, chosen in stylize.py with `method=johnson|gatys|adain`.

A method is a callable object built by `hydra.utils.instantiate(cfg.method)` (configs/method/<name>.yaml):

    method(images: np.ndarray) -> np.ndarray   # (B, 3, H, W) float32 RGB in [0, 1] -> same layout

Arrays, not tensors, so that the pipeline and the ONNX engines run without importing torch; a torch method converts
at its boundary (torch.from_numpy shares the memory). It owns its networks and device, and may return another size
than it was given (gatys works at `size=`); the stylize pipeline (painterly.stylize.pipeline) does all I/O,
resizing, strength, preserve_color and error reporting, so every method shares one code path for them.

The torch side: gatys, adain, the torch engine of johnson (torch_engine) and tiling. The johnson method itself is
on the stylize side (painterly.stylize.johnson), which runs without torch.
"""
