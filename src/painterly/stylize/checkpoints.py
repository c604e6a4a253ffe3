"""The one checkpoint lookup: a style by name, path or run dir; which styles there are; where a style's ONNX export
is cached. Exports (ONNX, TorchScript) are told apart from style checkpoints here, wherever they lie. No torch."""

import hashlib
import os
import re
import sys
import zipfile
from pathlib import Path

from painterly import PainterlyError
from painterly.config import CONFIG_DIR, checkpoint_dir, project_root

EXPORT_VERSION = "3"  # bump when the network, PaddedNet or painterly.export changes: cached exports then get rebuilt
PARTIAL_SUFFIX = ".partial.pt"  # train.py's name for the style an interrupted run saved
RUN_DIR = re.compile(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_(.+)_pid\d+")  # configs/hydra/default.yaml's run dirs
RECENT_RUNS = 5  # the newest training runs `stylize.py list` names; older ones are counted
BASE = "base"  # checkpoints/base/: first legs that shipped styles fine-tune from; found by name, never listed


def export_kind(path: Path) -> str | None:
    """'an ONNX export' or 'a TorchScript export' for a file that scripts/export.py made, else None.

    TorchScript archives are zips with a `code/` folder (torch.jit.save); a style checkpoint (torch.save) has none.
    """
    if path.suffix.lower() == ".onnx":
        return "an ONNX export"
    try:
        with zipfile.ZipFile(path) as archive:
            if any("/code/" in name for name in archive.namelist()):
                return "a TorchScript export"
    except (OSError, zipfile.BadZipFile):
        pass  # not a zip: read_checkpoint says what is wrong with it
    return None


def style_files(folder: Path | None = None) -> list[Path]:
    """The style checkpoints in `folder` (default: <project>/checkpoints), exports left out."""
    folder = checkpoint_dir() if folder is None else folder
    return sorted(path for path in folder.glob("*.pt") if export_kind(path) is None)


def style_recipes() -> list[str]:
    """The paintings that `python train.py style=<name>` trains (configs/style/)."""
    return sorted(path.stem for path in (CONFIG_DIR / "style").glob("*.yaml"))


def how_to_get(name: str) -> str:
    folder, _, style = name.rpartition("/")
    if folder == BASE and (CONFIG_DIR / "experiment" / f"{style}_base.yaml").is_file():
        return f"train it with `python train.py experiment={style}_base` (the first leg of {style}; an hour or less)"
    if name in style_recipes():
        return (
            f"train it with `python train.py style={name}` (hours on a CPU; `python train.py experiment=demo` "
            "makes a quick one in outputs/demo/)"
        )
    return "train one with `python train.py style.image=/path/to/painting.jpg`; see `python stylize.py list`"


def resolve_checkpoint(ckpt) -> Path:
    """A checkpoint file, a training run dir (its last Lightning checkpoint), or a name in checkpoints/: a bare one
    (a style) or base/<style> (the first leg of a two-leg style)."""
    if not ckpt:
        raise PainterlyError("ckpt= is required: a style checkpoint, a training run dir or a name in checkpoints/")
    path = Path(ckpt)
    if path.is_dir():
        path = path / "checkpoints" / "last.ckpt"
    elif not (path.exists() or path.suffix or (len(path.parts) > 1 and path.parts[0] != BASE)):
        path = checkpoint_dir() / f"{ckpt}.pt"
        if not path.exists():
            raise PainterlyError(f"no style named '{ckpt}' in {checkpoint_dir()}; {how_to_get(str(ckpt))}")
    if not path.is_file():
        raise PainterlyError(f"{path}: no such checkpoint")
    if kind := export_kind(path):
        raise PainterlyError(
            f"{path}: {kind}, not a style checkpoint; give ckpt= the style's .pt file it was exported from "
            "(see `python stylize.py list`), or run the export in its own runtime"
        )
    if path.name.endswith(PARTIAL_SUFFIX):
        last = path.parent / "checkpoints" / "last.ckpt"  # the partial style lies in its run dir
        resume = (
            f"python train.py ckpt_path={last}"
            if last.is_file()
            else "python train.py ckpt_path=<run dir>/checkpoints/last.ckpt"
        )
        print(f"warning: {path} is the style of an interrupted training run; `{resume}` finishes it", file=sys.stderr)
    return path


def list_styles() -> str:
    """What `python stylize.py list` prints: the trained styles with where each lives, then the ones to train."""
    root, lines = project_root(), []
    trained = style_files() + style_files(root / "outputs" / "demo")
    runs = sorted((root / "logs" / "train" / "runs").glob("*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    lines.append(
        f"trained styles (ckpt=<name> looks in {checkpoint_dir()}):" if trained or runs else "no trained styles yet"
    )
    lines += [f"  {path.stem:<20} {path}{working_size_note(path)}" for path in trained]
    lines += [f"  {run_label(path.parent.parent):<20} {path.parent.parent}" for path in runs[-RECENT_RUNS:]]
    if len(runs) > RECENT_RUNS:
        lines.append(f"  ... and {len(runs) - RECENT_RUNS} older runs in {runs[0].parent.parent.parent}")
    lines.append("paintings to train (python train.py style=<name>; experiment=demo for a quick one):")
    lines += [f"  {name}" for name in style_recipes()]
    lines.append("any image is a style too: python train.py style.image=/path/to/painting.jpg")
    return "\n".join(lines)


def run_label(run_dir: Path) -> str:
    """`<style> (run)` for a run dir named as configs/hydra/default.yaml names them (<time>_<style>_pid<pid>)."""
    named = RUN_DIR.fullmatch(run_dir.name)
    return f"{named[1]} (run)" if named else "(run)"


def working_size_note(path: Path) -> str:
    """` (render at about N px on the long side: max_size=N)` for a style whose checkpoint says so, else ''."""
    from painterly.io.checkpoint import read_checkpoint  # torch: only `stylize.py list` reads the records

    try:
        size = read_checkpoint(path)["style"].get("working_size")
    except PainterlyError:
        return ""  # a bad file is reported when it is used
    return f" (render at about {size} px on the long side: max_size={size})" if size else ""


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "painterly"


def cached_onnx_path(ckpt: Path) -> Path:
    """Where the ONNX export of a checkpoint is cached: named by the sha256 of the file, so no need to load it."""
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    with open(ckpt, "rb") as file:
        digest.update(file.read())
    return cache_dir() / f"{digest.hexdigest()}.onnx"
