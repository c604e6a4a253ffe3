"""The style checkpoint: one small self-describing file per trained style.

It holds plain data only (tensors, numbers, strings), so it loads with `torch.load(weights_only=True)`:
a checkpoint that tries to run code on load is refused by torch itself.
"""

from pathlib import Path

import torch
from hydra.utils import instantiate

from painterly import PainterlyError
from painterly.io.files import atomic_path

FORMAT = "painterly-style"
VERSION = 1
# A checkpoint names its network class; only these may be built from one (a name is no licence to run code).
ALLOWED_MODELS = {"painterly.models.transformer.TransformerNet"}


def build_model(model_config: dict) -> torch.nn.Module:
    if model_config.get("_target_") not in ALLOWED_MODELS:
        raise PainterlyError(f"unsupported model {model_config.get('_target_')!r}; known: {sorted(ALLOWED_MODELS)}")
    return instantiate(model_config)


def style_record(model: torch.nn.Module, model_config: dict, style: dict, loss: dict, steps: int,
                 thumbnail: torch.Tensor, recipe: dict | None = None, half: bool = False) -> dict:
    """Everything a style checkpoint holds. `half` stores float weights as fp16 (half the size)."""
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().clone()
             for k, v in model.state_dict().items()}
    return {
        "format": FORMAT, "version": VERSION, "style": dict(style), "model": dict(model_config),
        "loss": dict(loss), "steps": int(steps), "style_thumbnail": thumbnail.cpu(), "recipe": recipe or {},
        "state_dict": state,
    }


def save_style(record: dict, path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(record, tmp)
    return path


def read_checkpoint(path) -> dict:
    """Load a style checkpoint, or the style record inside a Lightning training checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise PainterlyError(f"{path}: no such checkpoint")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt zips and refused pickles
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PainterlyError(f"{path}: not a loadable checkpoint ({first_line})") from None
    if isinstance(data, dict) and isinstance(data.get("painterly"), dict):  # Lightning checkpoint of a run
        record = dict(data["painterly"])
        prefix = "model."
        record["state_dict"] = {k[len(prefix):]: v for k, v in data["state_dict"].items() if k.startswith(prefix)}
        record["steps"] = data.get("global_step", record.get("steps", 0))
        return record
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PainterlyError(f"{path}: not a painterly style checkpoint")
    if data.get("version", 0) > VERSION:
        raise PainterlyError(f"{path}: made by a newer painterly (format version {data['version']})")
    return data


def load_style(path) -> tuple[torch.nn.Module, dict]:
    """(network in eval mode with fp32 weights, the checkpoint's record)."""
    record = read_checkpoint(path)
    model = build_model(record["model"])
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in record["state_dict"].items()})
    except RuntimeError as error:
        raise PainterlyError(f"{path}: weights do not fit the model ({str(error).splitlines()[0]})") from None
    return model.eval(), record
