"""Resume a run as the README writes it: `python train.py ckpt_path=<run dir>/checkpoints/last.ckpt`.

The network, style, data and loss a run trained with come from its checkpoint, as overrides of the project's own
configs. A checkpoint is untrusted data: only known keys with checked plain values (integers in range, finite
floats, known VGG layer names, paths that Hydra cannot read as interpolations) become overrides, and nothing in
it is ever instantiated.
"""

import math
import re
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from painterly import PainterlyError
from painterly.config import compose_config
from painterly.io.checkpoint import check_style_name, model_spec, read_checkpoint
from painterly.losses.perceptual import MAX_OCTAVES, SHIFT_PX
from painterly.losses.vgg import layer_names

LAYERS = set(layer_names("vgg19"))
# A path becomes a quoted Hydra override: no quotes, backslashes, `$` (interpolation) or control characters.
PLAIN_PATH = re.compile(r"[^\x00-\x1f\x7f'\"\\$]{1,4096}")
MAX_SIZE = 8192  # pixels on a side: far above any style or crop size used in training
# how often the run saves and draws, with the least value each takes (save_top_k=-1 keeps every checkpoint)
CADENCE = {
    "callbacks.model_checkpoint.every_n_train_steps": 1,
    "callbacks.model_checkpoint.save_top_k": -1,
    "callbacks.style_grid.every_n_steps": 1,
}
# with the recipe's network, data and loss, what makes a resumed run's weights those of an unbroken one: the workers
# draw crops from RNGs of their own, and the held-out photos are left out of training (data/resumable.py)
EXACTNESS = {"data.num_workers": 0, "data.num_holdout": 0, "seed": 0}
PRECISIONS = {"32-true", "32", "64-true", "64", "16-mixed", "bf16-mixed", "16-true", "bf16-true"}
SCHEDULERS = {"torch.optim.lr_scheduler.CosineAnnealingLR": "cosine"}  # _target_ -> its option in configs/scheduler/


def checked(condition: bool, problem: str) -> None:
    if not condition:
        raise PainterlyError(problem)


def select(tree, key: str):
    for part in key.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def plain_path(value, key: str) -> str:
    checked(
        isinstance(value, str) and PLAIN_PATH.fullmatch(value) is not None,
        f"{key} must be a path without quotes, backslashes or $, not {value!r:.80}",
    )
    return value


def integer(value, key: str, low: int = 1, high: int = MAX_SIZE) -> int:
    checked(
        type(value) is int and low <= value <= high, f"{key} must be an integer in [{low}, {high}], not {value!r:.80}"
    )
    return value


def weight(value, key: str) -> float:
    checked(
        type(value) in (int, float) and math.isfinite(value) and 0 <= value <= 1e12,
        f"{key} must be a finite non-negative number, not {value!r:.80}",
    )
    return float(value)


def boolean(value, key: str) -> bool:
    checked(type(value) is bool, f"{key} must be true or false, not {value!r:.80}")
    return value


def layer_weights(value, key: str) -> dict[str, float]:
    checked(isinstance(value, dict) and 0 < len(value) <= len(LAYERS), f"{key} must map VGG19 layer names to weights")
    for name in value:
        checked(name in LAYERS, f"{key}: unknown VGG19 layer {name!r:.40}")
    return {name: weight(w, f"{key}.{name}") for name, w in value.items()}


def kept_values(record: dict) -> dict:
    """What a resume keeps from the checkpoint, by config key: the network, style, data and loss it trained with."""
    _, model_args = model_spec(record["model"])
    recipe, loss = record.get("recipe", {}), record.get("loss", {})
    values = {"model.net._target_": record["model"]["_target_"], **{f"model.net.{k}": v for k, v in model_args.items()}}
    values["style.name"] = check_style_name(record["style"]["name"])
    values["style.image"] = plain_path(record["style"].get("image"), "style.image")
    values["style.size"] = integer(select(recipe, "style.size"), "style.size")
    values["data.root"] = plain_path(select(recipe, "data.root"), "data.root")
    values["data.image_size"] = integer(select(recipe, "data.image_size"), "data.image_size")
    resize = select(recipe, "data.resize")  # absent before data.resize existed: crops of the whole photo
    values["data.resize"] = None if resize is None else integer(resize, "data.resize", values["data.image_size"])
    values["data.batch_size"] = integer(select(recipe, "data.batch_size"), "data.batch_size")
    values["model.optimizer.lr"] = weight(select(recipe, "model.optimizer.lr"), "model.optimizer.lr")
    scheduler = select(recipe, "scheduler._target_")
    checked(scheduler is None or scheduler in SCHEDULERS, f"unknown scheduler {scheduler!r:.80}")
    values["scheduler._target_"] = scheduler
    for key in ("content_layers", "style_layers"):
        values[f"loss.{key}"] = layer_weights(loss.get(key), f"loss.{key}")
    for key in ("content_weight", "style_weight", "tv_weight"):
        values[f"loss.{key}"] = weight(loss.get(key), f"loss.{key}")
    # absent before the octaves existed: none
    values["loss.style_octaves"] = integer(loss.get("style_octaves", 0), "loss.style_octaves", 0, MAX_OCTAVES)
    # absent before they existed; null: the octaves take every style layer, no patch loss, no shifted Grams
    for key in ("style_octave_layers", "patch_layers", "style_shift_layers"):
        layers = loss.get(key)
        values[f"loss.{key}"] = None if layers is None else layer_weights(layers, f"loss.{key}")
    # absent before the shifted Grams existed: their default shift
    values["loss.style_shift_px"] = integer(loss.get("style_shift_px", SHIFT_PX), "loss.style_shift_px")
    diagonals = loss.get("style_shift_diagonals", False)
    values["loss.style_shift_diagonals"] = boolean(diagonals, "loss.style_shift_diagonals")
    return values


def default_values(record: dict) -> dict:
    """What a resume takes from the checkpoint unless overridden: where the run was going, how far, and the settings
    that an unbroken run's weights depend on besides the recipe's network, data and loss."""
    recipe = record.get("recipe", {})
    values = {
        "trainer.max_steps": integer(select(recipe, "trainer.max_steps"), "trainer.max_steps", 1, 10**9),
        "export_dir": plain_path(select(recipe, "export_dir"), "export_dir"),
        **{
            key: integer(select(recipe, key), key, low, 2**32)
            for key, low in {**CADENCE, **EXACTNESS}.items()
            if select(recipe, key) is not None  # checkpoints from before the key existed
        },
    }
    precision = select(recipe, "trainer.precision")
    if precision is not None:  # a resume on a host whose default differs (bf16) would go on in another precision
        checked(
            str(precision) in PRECISIONS,
            f"trainer.precision must be one of {sorted(PRECISIONS)}, not {precision!r:.80}",
        )
        values["trainer.precision"] = str(precision)
    return values


def override(key: str, value) -> list[str]:
    """Hydra overrides that set `key` to the plain `value` (a mapping replaces the config's, not merged into it)."""
    if key == "scheduler._target_":  # a config group: chosen by name; none is `~scheduler` (the default is cosine)
        return [f"scheduler={SCHEDULERS[value]}"] if value else ["~scheduler"]
    if value is None:
        return [f"{key}=null"]
    if isinstance(value, dict):
        # null first: a mapping assigned to a mapping is merged into it, and `~key` fails where the config has null
        return [f"{key}=null", f"{key}={{{','.join(f'{k}:{v!r}' for k, v in value.items())}}}"]
    return [f"{key}='{value}'" if isinstance(value, str) else f"{key}={value!r}"]


def config_value(cfg: DictConfig, key: str):
    value = OmegaConf.select(cfg, key, throw_on_resolution_failure=False)  # e.g. the run dir, before the run
    return OmegaConf.to_container(value, resolve=True) if isinstance(value, DictConfig) else value


def named(key: str, args: list[str]) -> bool:
    """Whether an override sets `key` or a group or node above it (`model=johnson` names `model.width`)."""
    names = {arg.partition("=")[0].lstrip("+~") for arg in args}
    return any(key == name or key.startswith(f"{name}.") for name in names)


def training_checkpoint(path) -> dict:
    try:
        record = read_checkpoint(path, training=True)
        return {"kept": kept_values(record), "defaults": default_values(record)}
    except PainterlyError as error:
        message = str(error)
        raise PainterlyError(
            message if message.startswith(str(path)) else f"{path}: cannot resume: {message}"
        ) from None


def resume_overrides(args: list[str]) -> list[str]:
    """Overrides that resume the run `ckpt_path=` names, to follow the user's `args`; [] for a new run.

    An override of the user that contradicts the checkpoint's network, style, data or loss is refused.
    """
    user = compose_config("train", args)
    if not user.get("ckpt_path"):
        return []
    path = Path(user.ckpt_path)
    values = training_checkpoint(path)
    base = compose_config(
        "train", [f"ckpt_path={arg.partition('=')[2]}" for arg in args if arg.startswith("ckpt_path=")]
    )
    for key, value in values["kept"].items():
        mine = config_value(user, key)
        if (named(key, args) or mine != config_value(base, key)) and mine != value:
            raise PainterlyError(
                f"{path} was trained with {key}={value}; a resume keeps it, so drop the override "
                f"that sets {mine} (or start a new run without ckpt_path)"
            )
    overrides = [o for key, value in values["kept"].items() for o in override(key, value)]
    overrides += [
        o
        for key, value in values["defaults"].items()
        if not named(key, args) and config_value(user, key) == config_value(base, key)
        for o in override(key, value)
    ]
    run_dir = path.resolve().parent.parent
    if path.resolve().parent.name == "checkpoints" and not any(arg.startswith("hydra.run.dir=") for arg in args):
        overrides += override("hydra.run.dir", plain_path(str(run_dir), "run dir"))  # one TensorBoard curve
    return overrides


def check_resume(cfg: DictConfig) -> None:
    """Before fitting from `cfg.ckpt_path`: one line, not a size-mismatch traceback, when the config differs."""
    path = Path(cfg.ckpt_path)
    for key, value in training_checkpoint(path)["kept"].items():
        mine = config_value(cfg, key)
        checked(
            mine == value,
            f"{path} was trained with {key}={value}, not {mine}; resume with python train.py ckpt_path={path}",
        )
