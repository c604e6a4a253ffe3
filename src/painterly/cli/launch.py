"""The one way every command starts: `key=value` overrides of its config in configs/, composed with Hydra's compose
API; `-h`/`--help` generated from the config and its comments; errors as one line `prog: message`.

No torch here: stylize.py starts through this too.
"""

import re
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from difflib import get_close_matches
from typing import TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError

from painterly import Interrupted, PainterlyError
from painterly.config import CONFIG_DIR, compose_config, group_names

# Keys that take a file or folder name: their values reach Hydra's override grammar as one quoted string, so that
# any name the shell passes (café.jpg, photo (1).jpg, it's.jpg, a=b.jpg, photo[1].jpg) is taken literally.
PATH_KEYS = (
    "input",
    "output",
    "ckpt",
    "style",
    "style_image",
    "style.image",
    "data.root",
    "ckpt_path",
    "export_dir",
    "out",
)
T = TypeVar("T")
LINE = re.compile(r"^(?P<key>[A-Za-z_]\w*):\s*(?P<value>[^#]*?)\s*(?:#\s*(?P<doc>.*))?$")


@contextmanager
def one_line_errors(prog: str, argv: Sequence[str] = ()):
    """Turn a PainterlyError into `prog: message` on stderr and exit code 1, without a traceback. `argv`, the
    command's arguments, says whether an unresolvable reference was typed by the user."""
    try:
        yield
    except PainterlyError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        sys.exit(1)
    except InterpolationResolutionError as error:  # e.g. a `${` typed in a value: Hydra reads it when building
        problem = str(error).splitlines()[0]
        typed = any("${" in arg for arg in argv)
        hint = "; a value with '${' in it is read as a reference" if typed else ""
        print(f"{prog}: {error.full_key}: {problem}{hint}", file=sys.stderr)
        sys.exit(1)


def stop_on_signals(prog: str, command: Callable[[], T]) -> T:
    """Run `command()` with SIGTERM and SIGINT (Ctrl-C) raising Interrupted where the program is, so that the
    `finally` blocks on the way out remove half-written files; then one line says what was stopped, and the exit
    code is 128 + the signal's.

    For commands with no handling of their own (stylize); training saves and exports through Lightning's."""

    def stop(signum, frame):
        Interrupted.received.append(signum)
        raise Interrupted(signum)

    # a signal ignored from the start stays ignored: a background job (`stylize.py ... &` in a script, nohup) inherits
    # SIGINT ignored so that the terminal's Ctrl-C spares it, as Python and training leave it (docs/reliability.md)
    wanted = [sig for sig in (signal.SIGTERM, signal.SIGINT) if signal.getsignal(sig) is not signal.SIG_IGN]
    previous = {}

    def restore():
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        Interrupted.received.clear()  # the record is of this command's signals only

    # one frame, no context manager: a signal that comes as the handlers go in or out is caught here too, where one
    # in a context manager's __exit__ would escape it as a traceback
    try:
        try:
            for sig in wanted:
                previous[sig] = signal.signal(sig, stop)
            return command()
        finally:
            restore()
    except KeyboardInterrupt as interrupt:
        restore()  # again: the signal may have cut the first short
        signum, doing = getattr(interrupt, "signum", signal.SIGINT), getattr(interrupt, "doing", "")
        print(f"{prog}: stopped by {signal.Signals(signum).name}{' ' + doing if doing else ''}", file=sys.stderr)
        sys.exit(128 + signum)


def config_keys(config_name: str) -> tuple[list[str], list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(header comment lines, [(key, default, one-line doc)], [(group, default option)]) of configs/<name>.yaml."""
    header, keys, groups, in_defaults = [], [], [], False
    for line in (CONFIG_DIR / f"{config_name}.yaml").read_text().splitlines():
        if line.startswith("#") and not keys and not groups:
            header.append(line.lstrip("# ").rstrip())
        elif line.startswith("defaults:"):
            in_defaults = True
        elif in_defaults and line.lstrip().startswith("- "):
            name, _, option = line.strip()[2:].partition(":")
            if option and not name.startswith(("override", "/")) and name != "hydra":
                groups.append((name.strip(), option.strip()))
        elif match := LINE.match(line):
            in_defaults = False
            keys.append((match["key"], match["value"] or "", match["doc"] or ""))
    return header, keys, groups


def help_text(prog: str, config_name: str) -> str:
    header, keys, groups = config_keys(config_name)
    lines = [*[h for h in header if h], "", f"{prog}: keys (key=value), with their defaults:"]
    width = max(len(f"{k}={v}") for k, v, _ in keys + [(g, o, "") for g, o in groups])
    for key, value, doc in keys:
        if key in dict(groups):
            continue  # a group's slot (train's `scheduler: null`): listed with the groups
        lines.append(f"  {f'{key}={value}':<{width}}  {doc}".rstrip())
    if groups:
        lines += ["", "groups (group=option; then group.key=value sets that option's keys):"]
        for group, option in groups:
            lines.append(f"  {f'{group}={option}':<{width}}  choices: {', '.join(group_names(group))}")
    return "\n".join(lines)


def unknown_key_message(key: str, node: DictConfig) -> str:
    """`unknown key 'maxsize'; did you mean 'max_size'?`, the nearest keys of `node`, the config the other overrides
    make (`composed_without`)."""
    *parents, last = key.split(".")
    for part in parents:
        child = node.get(part) if isinstance(node, DictConfig) else None
        if not isinstance(child, DictConfig):
            last = ".".join([part, *parents[parents.index(part) + 1 :], last])
            break
        node = child
    prefix = key[: len(key) - len(last)]
    names = list(node.keys()) if isinstance(node, DictConfig) else []
    if not prefix:
        names += [g for g in (p.name for p in CONFIG_DIR.iterdir() if p.is_dir()) if g not in names]
    near = get_close_matches(last, names, n=1, cutoff=0.6)
    hint = f"did you mean '{prefix}{near[0]}'?" if near else "see --help for the keys"
    return f"unknown key '{key}'; {hint}"


def composed_without(config_name: str, key: str, overrides: Sequence[str]) -> DictConfig:
    """The config the overrides other than `key=...` make (an experiment's mappings), or the plain one if they fail."""
    others = [o for o in overrides if not o.startswith(f"{key}=")]
    try:
        return compose_config(config_name, others)
    except PainterlyError:
        return compose_config(config_name)


def free_form_keys(config_name: str) -> list[str]:
    """Top-level keys declared `{}`: mappings that take any key (evaluate's `gatys.iterations=100`)."""
    return [key for key, value, _ in config_keys(config_name)[1] if value == "{}"]


def compose_checked(config_name: str, overrides: Sequence[str], hydra_config: bool = False) -> DictConfig:
    """compose_config, with an unknown key named in one line with the nearest known one."""
    free = tuple(f"{key}." for key in free_form_keys(config_name))
    overrides = [f"+{arg}" if arg.startswith(free) else arg for arg in overrides]
    try:
        return compose_config(config_name, overrides, hydra_config=hydra_config)
    except PainterlyError as error:
        unknown = re.search(r"Could not override '([^']+)'|Key '([^']+)' is not in struct", str(error))
        if not unknown:
            raise
        key = unknown[1] or unknown[2]
        node = composed_without(config_name, key, overrides)
        raise PainterlyError(mapping_message(key, overrides, node) or unknown_key_message(key, node)) from None


def mapping_message(key: str, overrides: Sequence[str], config: DictConfig) -> str | None:
    """For `loss.content_layers={relu3_1: 1.0}`: Hydra merges a mapping into the one there (in `config`, which the
    other overrides make), so a new key is refused as if the whole mapping were unknown. Say how to replace it."""
    given = next((o for o in overrides if o.startswith(f"{key}=")), None)
    node = OmegaConf.select(config, key, default=None)
    if given is None or not isinstance(node, DictConfig):
        return None
    current = OmegaConf.to_container(node)
    return (
        f"{key} is a mapping ({current}): a new one merges into it and cannot add keys; "
        f"to replace it, pass ~{key} '+{given}'"
    )


def quote(value: str) -> str:
    """`value` as a quoted string of Hydra's override grammar: quotes escaped, a backslash doubled only before a
    quote or at the end (Hydra's rule), and `${` escaped so that OmegaConf does not read an interpolation."""
    value = re.sub(r"(\\*)('|$)", lambda m: m[1] * 2 + ("\\'" if m[2] else ""), value)
    return "'" + value.replace("${", "\\${") + "'"


def quote_paths(config_name: str, argv: Sequence[str]) -> list[str]:
    """Split each `key=value` on its first '=' and quote the value of a file-name key (not a config group's choice:
    train's `style=the_scream`)."""
    groups = dict(config_keys(config_name)[2])
    quoted = []
    for arg in argv:
        key, equals, value = arg.partition("=")
        if equals and value and key.lstrip("+~") in PATH_KEYS and key not in groups:
            arg = f"{key}={quote(value)}"
        quoted.append(arg)
    return quoted


# Keys renamed as typed, by config: stylize's `style=` is `style_image=`. A key named like a config group
# (configs/style/) would otherwise be read by Hydra as a choice from that group.
ALIASES = {"stylize": {"style": "style_image"}, "evaluate": {"style": "painting"}}


def apply_aliases(config_name: str, argv: Sequence[str]) -> list[str]:
    argv = list(argv)
    for typed, key in ALIASES.get(config_name, {}).items():
        argv = [f"{key}={arg[len(typed) + 1 :]}" if arg.startswith(f"{typed}=") else arg for arg in argv]
    return argv


def launch(
    prog: str,
    config_name: str,
    command: Callable[[DictConfig], object],
    argv: Sequence[str] | None = None,
    hydra_config: bool = False,
    quoted: bool = False,
):
    """Run `command(cfg)` for `prog key=value ...`, or print the help; a PainterlyError exits 1 in one line.

    Keys are renamed as `ALIASES` says. File names are quoted for Hydra here (`quote_paths`) unless `quoted` says
    the caller did it.
    """
    argv = apply_aliases(config_name, list(sys.argv[1:] if argv is None else argv))
    if "-h" in argv or "--help" in argv:
        print(help_text(prog, config_name))
        sys.exit(0)
    with one_line_errors(prog, argv):
        flags = [arg for arg in argv if arg.startswith("-")]
        if flags:
            raise PainterlyError(f"unknown option {flags[0]}; arguments are key=value (see --help)")
        overrides = argv if quoted else quote_paths(config_name, argv)
        return command(compose_checked(config_name, overrides, hydra_config=hydra_config))


def plain(node) -> dict:
    """A config node as plain Python data, interpolations resolved."""
    return OmegaConf.to_container(node, resolve=True)
