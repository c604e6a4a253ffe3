"""The style checkpoint: one small self-describing file per trained style.

It holds plain data only (tensors, numbers, strings), so it loads with `torch.load(weights_only=True)`:
a checkpoint that tries to run code on load is refused by torch itself. A file from elsewhere is still untrusted
data: `check_record` validates every field before use, and the network is built from an allow-listed class with
checked integer arguments, never with `hydra.utils.instantiate` (which would build any nested `_target_`).
"""

import re
from pathlib import Path

import torch

from painterly import PainterlyError, first_line
from painterly.models.transformer import TransformerNet
from painterly.stylize.files import atomic_path

FORMAT = "painterly-style"
VERSION = 1
# The networks a checkpoint may name, and the values of each argument: the paper's net is width 32 with 5 residual
# blocks; the integer bounds leave room for larger variants while refusing sizes that would exhaust memory.
MODELS = {"painterly.models.transformer.TransformerNet": TransformerNet}
MODEL_ARGS = {
    "width": range(1, 129),
    "num_residual": range(0, 17),
    "bounded": (False, True),
    "noise_channels": range(0, 65),
}
STYLE_NAME = re.compile(r"\w[\w .()+-]{0,63}")  # a label and a file stem: no path separators, no "..", no control
MAX_THUMBNAIL = 1024


def checked(condition: bool, problem: str) -> None:
    if not condition:
        raise PainterlyError(problem)


def model_spec(model_config) -> tuple[type, dict]:
    """(class, arguments) of the network a checkpoint describes: allow-listed, known integer arguments in range."""
    checked(isinstance(model_config, dict), "model is not a mapping")
    target = model_config.get("_target_")
    checked(target in MODELS, f"unsupported model {target!r:.80}; known: {', '.join(MODELS)}")
    kwargs = {key: value for key, value in model_config.items() if key != "_target_"}
    for key, value in kwargs.items():
        checked(key in MODEL_ARGS, f"unknown model argument {key!r:.80}; known: {', '.join(MODEL_ARGS)}")
        allowed = MODEL_ARGS[key]
        if isinstance(allowed, range):
            checked(
                type(value) is int and value in allowed,
                f"model argument {key} must be an integer in [{allowed.start}, {allowed.stop - 1}], not {value!r:.80}",
            )
        else:
            checked(type(value) is bool, f"model argument {key} must be true or false, not {value!r:.80}")
    return MODELS[target], kwargs


def build_model(model_config) -> torch.nn.Module:
    model_class, kwargs = model_spec(model_config)
    return model_class(**kwargs)


def check_style_name(name) -> str:
    checked(
        isinstance(name, str) and STYLE_NAME.fullmatch(name) is not None and ".." not in name,
        f"style name must be 1-64 letters, digits, spaces or ._()+- (no path), not {name!r:.80}",
    )
    return name


def check_working_size(size, key: str) -> None:
    """The size to render a style at (configs/style/: working_size): none, or a whole number of pixels."""
    checked(
        size is None or (type(size) is int and 64 <= size <= 16384),
        f"{key} must be a whole number of pixels from 64 to 16384, not {size!r:.80}",
    )


def check_record(record) -> dict:
    """Every field a painterly command reads from a checkpoint, checked as untrusted data."""
    checked(isinstance(record, dict), "not a mapping")
    style = record.get("style")
    checked(isinstance(style, dict), "style is not a mapping")
    check_style_name(style.get("name"))
    checked(isinstance(style.get("image", ""), str), "style image is not a string")
    check_working_size(style.get("working_size"), "style working_size")
    steps = record.get("steps", 0)
    checked(type(steps) is int and steps >= 0, f"steps must be a non-negative integer, not {steps!r:.80}")
    thumb = record.get("style_thumbnail")
    checked(
        isinstance(thumb, torch.Tensor)
        and thumb.dtype == torch.uint8
        and thumb.dim() == 3
        and thumb.shape[0] == 3
        and 0 < min(thumb.shape[1:])
        and max(thumb.shape[1:]) <= MAX_THUMBNAIL,
        f"style_thumbnail must be a (3, h, w) uint8 tensor of at most {MAX_THUMBNAIL} pixels a side",
    )
    for key in ("loss", "recipe"):
        checked(isinstance(record.get(key, {}), dict), f"{key} is not a mapping")
    state = record.get("state_dict")
    checked(
        isinstance(state, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()),
        "state_dict is not a mapping of names to tensors",
    )
    model_spec(record.get("model"))
    return record


def style_record(
    model: torch.nn.Module,
    model_config: dict,
    style: dict,
    loss: dict,
    steps: int,
    thumbnail: torch.Tensor,
    recipe: dict | None = None,
    half: bool = False,
) -> dict:
    """Everything a style checkpoint holds. `half` stores float weights as fp16 (half the size)."""
    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().clone()
        for k, v in model.state_dict().items()
    }
    return {
        "format": FORMAT,
        "version": VERSION,
        "style": dict(style),
        "model": dict(model_config),
        "loss": dict(loss),
        "steps": int(steps),
        "style_thumbnail": thumbnail.cpu(),
        "recipe": recipe or {},
        "state_dict": state,
    }


def save_style(record: dict, path, overwrite: bool = True) -> Path:
    """Write atomically; without `overwrite` an existing file is never replaced, even one that appeared meanwhile."""
    path = Path(path)
    with atomic_path(path, overwrite) as tmp:
        torch.save(record, tmp)
    return path


def random_style(
    path, width=16, num_residual=5, seed=0, color=(200, 120, 40), name: str | None = None, noise_channels: int = 0
) -> Path:
    """A real style checkpoint of an untrained network (johnson_slim's shape by default), named `name` or after the
    file, with a plain-colour thumbnail: the styles of the tests and the benchmarks, made in milliseconds. A noise
    input gets random weights, not the zeros training starts from, so that it shows."""
    torch.manual_seed(seed)
    model = TransformerNet(width=width, num_residual=num_residual, noise_channels=noise_channels)
    config = {"_target_": "painterly.models.transformer.TransformerNet", "width": width, "num_residual": num_residual}
    if noise_channels:
        torch.nn.init.normal_(model.noise.project.weight)
        config["noise_channels"] = noise_channels
    thumbnail = torch.tensor(color, dtype=torch.uint8).view(3, 1, 1).expand(3, 32, 32).clone()
    style = {"name": name or Path(path).stem, "image": "random"}
    return save_style(style_record(model, config, style, loss={}, steps=0, thumbnail=thumbnail), path)


def read_checkpoint(path, training: bool = False) -> dict:
    """Load a style checkpoint, or the style record inside a Lightning training checkpoint (the only kind taken
    with `training`: a run resumes from one)."""
    path = Path(path)
    if not path.is_file():
        raise PainterlyError(f"{path}: no such checkpoint")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt zips and refused pickles
        raise PainterlyError(f"{path}: not a loadable checkpoint ({first_line(error)})") from None
    if isinstance(data, dict) and isinstance(data.get("painterly"), dict):  # Lightning checkpoint of a run
        record = dict(data["painterly"])
        prefix, weights = "model.", data.get("state_dict")
        if isinstance(weights, dict):
            record["state_dict"] = {k[len(prefix) :]: v for k, v in weights.items() if str(k).startswith(prefix)}
        record["steps"] = data.get("global_step", record.get("steps", 0))
        return checked_record(record, path)
    if training:
        raise PainterlyError(f"{path}: not a training checkpoint; a run resumes from <run dir>/checkpoints/last.ckpt")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PainterlyError(f"{path}: not a painterly style checkpoint")
    if not isinstance(data.get("version"), int) or data["version"] > VERSION:
        raise PainterlyError(f"{path}: made by a newer painterly (format version {data.get('version')!r:.20})")
    return checked_record(data, path)


def checked_record(record, path) -> dict:
    try:
        return check_record(record)
    except PainterlyError as error:
        raise PainterlyError(f"{path}: not a valid painterly checkpoint: {error}") from None


def load_style(path) -> tuple[torch.nn.Module, dict]:
    """(network in eval mode with fp32 weights, the checkpoint's record)."""
    record = read_checkpoint(path)
    model = build_model(record["model"])
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in record["state_dict"].items()})
    except RuntimeError as error:
        raise PainterlyError(f"{path}: weights do not fit the model ({first_line(error)})") from None
    return model.eval(), record
