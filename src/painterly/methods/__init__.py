"""Stylization methods behind one interface, chosen in stylize.py with `method=johnson|gatys|adain`.

A method is a callable object built by `hydra.utils.instantiate(cfg.method)` (configs/method/<name>.yaml):

    method(image: Tensor) -> Tensor   # (1, 3, H, W) RGB float in [0, 1] on method.device -> same layout

It owns its networks and device, and may return another size than it was given (gatys works at `size=`); the
stylize pipeline (painterly.inference) does all I/O, resizing, strength, preserve_color and error reporting, so
every method shares one code path for them.
"""
