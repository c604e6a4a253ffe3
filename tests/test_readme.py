"""The README's own command lines, as written: each composes against its command's config and passes the checks
that come before any work (keys, groups, option values), without training or stylizing anything."""

import re
import shlex

import pytest

from painterly.cli.launch import apply_aliases, compose_checked, quote_paths
from painterly.config import ROOT
from painterly.stylize.pipeline import check_options

COMMANDS = {
    "train.py": "train",
    "stylize.py": "stylize",
    "scripts/export.py": "export",
    "scripts/gallery.py": "gallery",
    "scripts/evaluate.py": "evaluate",
    "scripts/bench.py": "bench",
    "live.py": "live",
    "scripts/bench_live.py": "bench_live",
}


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    inline = re.findall(r"`(python [^`]+)`", text)
    lines = [line for block in blocks for line in block.splitlines()] + inline
    return [" ".join(line.split("  #")[0].split()) for line in lines if line.startswith("python ")]


def test_the_readme_has_commands_for_every_entry_point():
    scripts = {shlex.split(line)[1] for line in readme_commands()}  # python <script> ...
    assert {"train.py", "stylize.py", "scripts/export.py", "scripts/evaluate.py"} <= scripts


@pytest.mark.parametrize("line", readme_commands())
def test_a_readme_command_composes_as_written(line):
    _, script, *args = shlex.split(line.replace("<run>", "run").replace("<folder>", "photos"))
    sweep = "-m" in args
    args = [arg for arg in args if arg not in ("-m", "--multirun", "list")]
    config_name = COMMANDS[script]
    args = apply_aliases(config_name, args)
    if sweep:  # a sweep: its first combination composes like the others
        args = [re.sub(r"=([^,]+),.*", r"=\1", arg) for arg in args]
    cfg = compose_checked(config_name, quote_paths(config_name, args), hydra_config=config_name == "train")
    if config_name == "stylize":
        check_options(cfg)
