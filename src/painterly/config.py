"""Where things are (this checkout's configs and bundled data; the user's current project), the config resolvers,
and composing configs with one-line errors. No torch: stylize.py composes configs too."""

import os
import sys
from pathlib import Path

import rootutils
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException, InstantiationException, MissingConfigException
from hydra.utils import instantiate as hydra_instantiate
from omegaconf import OmegaConf

from painterly import PainterlyError

MARKER = ".project-root"
ROOT = rootutils.find_root(__file__, indicator=MARKER)  # this checkout (installed editable): configs, bundled data
CONFIG_DIR = ROOT / "configs"


def project_root() -> Path:
    """The user's current project: the nearest folder from the working folder up that holds a `.project-root`,
    else the working folder itself. Runs, checkpoints and the style lookup all live here, so a second checkout or
    a user's own folder never writes into this one."""
    here = Path.cwd()
    return next((folder for folder in (here, *here.parents) if (folder / MARKER).exists()), here)


def checkpoint_dir() -> Path:
    """Trained styles, by name: ckpt=<name> finds <project>/checkpoints/<name>.pt."""
    return project_root() / "checkpoints"


OmegaConf.register_new_resolver("package_dir", lambda: str(ROOT), replace=True)
# progress bars only when a person watches: stderr on a terminal (tqdm's disable=None rule, used by stylize.py)
OmegaConf.register_new_resolver("isatty", lambda: sys.stderr.isatty(), replace=True)

OmegaConf.register_new_resolver("stem", lambda path: Path(path).stem, replace=True)
OmegaConf.register_new_resolver("pid", os.getpid, replace=True)  # unique run dirs (configs/hydra/default.yaml)
OmegaConf.register_new_resolver("mul", lambda a, b: float(a) * float(b), replace=True)
# `${default:${size},512}`: a null shortcut in stylize.yaml falls back to the method's own default
OmegaConf.register_new_resolver("default", lambda value, fallback: fallback if value is None else value, replace=True)


def cpu_precision() -> str:
    """Lightning precision for training on this CPU: bf16-mixed where it has bf16 instructions (AVX512-BF16 or AMX),
    about 2x the steps/s of fp32 (BENCHMARKS.md); 32-true elsewhere, where bf16 would be emulated and slow."""
    from painterly.stylize.devices import native_bf16

    return "bf16-mixed" if native_bf16() else "32-true"


OmegaConf.register_new_resolver("cpu_precision", cpu_precision, replace=True)


def compose_config(config_name: str, overrides=(), hydra_config: bool = False):
    """Compose a config as `python <config_name>.py overrides...` would, raising PainterlyError in one line."""
    os.environ["PROJECT_ROOT"] = str(project_root())  # `${paths.root_dir}`: every command follows the working folder
    try:
        with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
            return compose(config_name, overrides=list(overrides), return_hydra_config=hydra_config)
    except MissingConfigException as error:
        group, _, name = (error.missing_cfg_file or "").rpartition("/")
        if error.options and group:
            raise PainterlyError(unknown_option(group, name, error.options)) from None
        raise PainterlyError(" ".join(str(error).split())) from None
    except HydraException as error:
        raise PainterlyError(" ".join(str(error).split())) from None
    except ValueError as error:
        if not str(error).startswith("Config group override must be"):  # a choice Hydra parsed as a number or bool
            raise
        raise PainterlyError(unknown_choice(overrides) or " ".join(str(error).split())) from None


def unknown_option(group: str, name: str, options) -> str:
    return f"unknown {group} '{name}'; choose from: {', '.join(sorted(options))}"


def unknown_choice(overrides) -> str | None:
    """`unknown style '600'; choose from: ...` for the first override that picks a missing option of a group."""
    for arg in overrides:
        key, _, value = arg.partition("=")
        group = key.removeprefix("override ").lstrip("+~/")
        if (CONFIG_DIR / group).is_dir() and value not in (*group_names(group), "null"):
            return unknown_option(group, value, group_names(group))
    return None


def group_names(group: str) -> list[str]:
    """The options of a config group: configs/<group>/*.yaml."""
    return sorted(path.stem for path in (CONFIG_DIR / group).glob("*.yaml"))


def instantiate(node, **kwargs):
    """`hydra.utils.instantiate`, letting a PainterlyError raised while building surface as itself (one line)."""
    try:
        return hydra_instantiate(node, **kwargs)
    except InstantiationException as error:
        cause = error
        while cause is not None and not isinstance(cause, PainterlyError):
            cause = cause.__cause__
        raise (cause or PainterlyError(" ".join(str(error).split()))) from None
