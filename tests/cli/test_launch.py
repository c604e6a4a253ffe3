"""Every command starts the same way: the same --help, the same key checking, the same one-line errors."""

import inspect
import signal
import sys

import pytest

from painterly import Interrupted, PainterlyError
from painterly.cli.launch import compose_checked, help_text, stop_on_signals
from painterly.config import ROOT

from conftest import run_script

COMMANDS = {
    "train": "train.py",
    "stylize": "stylize.py",
    "export": "scripts/export.py",
    "gallery": "scripts/gallery.py",
    "evaluate": "scripts/evaluate.py",
    "bench": "scripts/bench.py",
}


@pytest.mark.parametrize("config_name", COMMANDS)
def test_help_lists_every_key_of_the_config_with_its_default(config_name):
    text = help_text(config_name, config_name)
    yaml = (ROOT / "configs" / f"{config_name}.yaml").read_text()
    top_keys = [line.split(":")[0] for line in yaml.splitlines() if line[:1].isalpha() and line != "defaults:"]
    listed = [line.split("=")[0].strip() for line in text.splitlines() if line.startswith("  ")]
    assert set(top_keys) <= set(listed)


def test_train_help_lists_the_training_groups_only():
    text = help_text("train", "train")
    assert "style=starry_night" in text and "choices: johnson, johnson_slim, tiny" in text and "method=" not in text


def test_help_and_a_misspelt_key_as_users_see_them():
    shown = run_script("stylize.py", "--help")  # every command's main goes through launch(); stylize.py starts fastest
    assert shown.returncode == 0 and shown.stdout == help_text("stylize", "stylize") + "\n"
    wrong = run_script("stylize.py", "maxsize=3")
    assert wrong.returncode == 1
    assert wrong.stderr == "stylize: unknown key 'maxsize'; did you mean 'max_size'?\n"


@pytest.mark.parametrize(
    ("config_name", "override", "message"),
    [
        ("stylize", "maxsize=3", "unknown key 'maxsize'; did you mean 'max_size'?"),
        ("stylize", "method.iteration=3", "unknown key 'method.iteration'; did you mean 'method.iterations'?"),
        ("train", "trainer.max_step=3", "unknown key 'trainer.max_step'; did you mean 'trainer.max_steps'?"),
        ("train", "modle=tiny", "unknown key 'modle'; did you mean 'model'?"),
        ("bench", "repeat=1", "unknown key 'repeat'; did you mean 'repeats'?"),
        ("evaluate", "sizes=3", "unknown key 'sizes'; did you mean 'size'?"),
        ("export", "zzz=1", "unknown key 'zzz'; see --help for the keys"),
    ],
)
def test_a_misspelt_key_names_the_nearest_one_and_never_suggests_appending(config_name, override, message):
    overrides = ["method=gatys", override] if override.startswith("method.") else [override]
    with pytest.raises(PainterlyError) as error:
        compose_checked(config_name, overrides)
    assert str(error.value) == message and "+" not in str(error.value)


def test_a_new_mapping_for_a_mapping_says_how_to_replace_it():
    # Hydra merges {relu3_1: 1.0} into {relu4_2: 1.0} and refuses the new key; the message must not call
    # loss.content_layers unknown, and the replacement it gives must work as written
    with pytest.raises(PainterlyError) as error:
        compose_checked("train", ["loss.content_layers={relu3_1: 1.0}"])
    assert str(error.value) == (
        "loss.content_layers is a mapping ({'relu4_2': 1.0}): a new one merges into it and cannot add keys; "
        "to replace it, pass ~loss.content_layers '+loss.content_layers={relu3_1: 1.0}'"
    )
    replaced = compose_checked("train", ["~loss.content_layers", "+loss.content_layers={relu3_1: 1.0}"])
    assert replaced.loss.content_layers == {"relu3_1": 1.0}


def test_a_mapping_that_another_override_makes_is_named_as_a_mapping():
    # loss.style_shift_layers is null in train.yaml and a mapping only once experiment=starry_night is composed: the
    # message must read the config the other overrides make, not call the key unknown and suggest itself
    overrides = ["experiment=starry_night", "loss.style_shift_layers={relu5_1: 0.5}"]
    with pytest.raises(PainterlyError) as error:
        compose_checked("train", overrides)
    assert str(error.value) == (
        "loss.style_shift_layers is a mapping ({'relu3_1': 0.5, 'relu4_1': 0.5}): a new one merges into it and cannot"
        " add keys; to replace it, pass ~loss.style_shift_layers '+loss.style_shift_layers={relu5_1: 0.5}'"
    )
    replaced = compose_checked("train", [overrides[0], "~loss.style_shift_layers", f"+{overrides[1]}"])
    assert replaced.loss.style_shift_layers == {"relu5_1": 0.5}


def test_free_form_keys_take_any_key():
    cfg = compose_checked("evaluate", ["gatys.iterations=2", "johnson.engine=torch"])
    assert cfg.gatys.iterations == 2 and cfg.johnson.engine == "torch"


def test_stop_on_signals_catches_a_signal_as_the_command_returns(capsys):
    """SIGTERM after the command has returned, as the handlers come out: still one line and 143, no traceback."""
    lines, first = inspect.getsourcelines(stop_on_signals)
    restore = first + next(i for i, line in enumerate(lines) if line.strip() == "restore()")
    sent = []

    def trace(frame, event, arg):
        return in_stop_on_signals if frame.f_code is stop_on_signals.__code__ else None

    def in_stop_on_signals(frame, event, arg):
        if event == "line" and frame.f_lineno == restore and not sent:
            sent.append(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)
        return in_stop_on_signals

    sys.settrace(trace)
    try:
        with pytest.raises(SystemExit) as stopped:
            stop_on_signals("stylize", lambda: "done")
    finally:
        sys.settrace(None)
    assert sent and stopped.value.code == 128 + signal.SIGTERM
    assert capsys.readouterr().err == "stylize: stopped by SIGTERM\n"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL and Interrupted.received == []
