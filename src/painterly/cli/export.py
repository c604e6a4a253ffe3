"""`python scripts/export.py ckpt=... format=onnx|torchscript [out=...]` (configs/export.yaml)."""

from painterly.cli.launch import launch
from painterly.export import export


def main() -> None:
    launch("export", "export", lambda cfg: print(f"exported {export(cfg.ckpt, cfg.format, cfg.out)}"))
