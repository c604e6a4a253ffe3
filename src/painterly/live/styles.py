"""The styles the live page may use: every checkpoint in the styles folder, plus the one given as ckpt=.

The browser names a style; the name is only ever a key of this table, so no name can reach another file.
"""

from pathlib import Path

from painterly.live.engine import (
    PainterlyError,
    checkpoint_dir,
    exported_onnx,
    load_engine,
    resolve_checkpoint,
    thumbnail_png,
)


def style_name(path: Path) -> str:
    """A checkpoint's name on the page: its stem, or the run dir's name for a run's last.ckpt."""
    return path.parents[1].name if path.name == "last.ckpt" and path.parent.name == "checkpoints" else path.stem


class Styles:
    def __init__(self, ckpt=None, folder=None, device="auto", precision="auto", engine="auto"):
        folder = Path(folder) if folder else checkpoint_dir()
        self.paths = {p.stem: p for p in sorted(folder.glob("*.pt")) if p.is_file()}
        self.default = next(iter(self.paths), None)
        if ckpt:
            path = resolve_checkpoint(ckpt)
            self.default = style_name(path)
            self.paths[self.default] = path
        if not self.paths:
            raise PainterlyError(
                f"no styles: {folder} has no .pt checkpoints; train one (python train.py style=...) "
                "or pass ckpt=<checkpoint>"
            )
        self.options = {"device": device, "precision": precision, "engine": engine}
        self.engines = {}

    @property
    def names(self) -> list[str]:
        return list(self.paths)

    def path(self, name) -> Path:
        if name not in self.paths:
            raise PainterlyError(f"unknown style {str(name)[:80]!r}; choose from: {', '.join(self.paths)}")
        return self.paths[name]

    def engine(self, name):
        """The style's stylize.py engine, loaded on first use and kept (a few MB per style)."""
        if name not in self.engines:
            self.engines[name] = load_engine(self.path(name), **self.options)
        return self.engines[name]

    def thumbnail(self, name) -> Path:
        return thumbnail_png(self.path(name))

    def onnx(self, name) -> Path:
        return exported_onnx(self.path(name))
