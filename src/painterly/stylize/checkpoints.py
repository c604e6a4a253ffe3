"""Finding a style checkpoint by name, path or run dir, and where its ONNX export is cached. No torch."""

import hashlib
import os
from pathlib import Path

from painterly import PainterlyError
from painterly.config import CHECKPOINT_DIR

EXPORT_VERSION = "2"  # bump when PaddedNet or painterly.export changes: cached exports then get rebuilt


def resolve_checkpoint(ckpt) -> Path:
    """A checkpoint file, a training run dir (its last Lightning checkpoint) or a bare name in checkpoints/."""
    if not ckpt:
        raise PainterlyError("ckpt= is required: a style checkpoint, a training run dir or a name in checkpoints/")
    path = Path(ckpt)
    if path.is_dir():
        path = path / "checkpoints" / "last.ckpt"
    elif not (path.exists() or path.suffix or len(path.parts) > 1):
        path = CHECKPOINT_DIR / f"{ckpt}.pt"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt"))) or "none yet"
            raise PainterlyError(f"no checkpoint named '{ckpt}' in {CHECKPOINT_DIR}; known: {known}")
    if not path.is_file():
        raise PainterlyError(f"{path}: no such checkpoint")
    return path


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "painterly"


def cached_onnx_path(ckpt: Path) -> Path:
    """Where the ONNX export of a checkpoint is cached: named by the sha256 of the file, so no need to load it."""
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    with open(ckpt, "rb") as file:
        digest.update(file.read())
    return cache_dir() / f"{digest.hexdigest()}.onnx"
