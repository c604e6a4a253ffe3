"""`python scripts/export.py ckpt=... format=onnx|torchscript [out=...]` (configs/export.yaml)."""

import sys

from painterly.cli import one_line_errors
from painterly.config import compose_config
from painterly.export import export


def main() -> None:
    with one_line_errors("export"):
        cfg = compose_config("export", sys.argv[1:])
        print(f"exported {export(cfg.ckpt, cfg.format, cfg.out)}")
