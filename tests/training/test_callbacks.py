"""The checkpoint callback: a Ctrl-C inside a scheduled save still leaves last.ckpt at the step it stopped at."""

import signal
from pathlib import Path

import lightning as L
import pytest
import torch

from painterly.cli.train import train

from conftest import fast_config


def test_a_ctrl_c_between_a_saves_two_files_leaves_last_ckpt_at_that_step(
    tmp_path, photo_dir, style_image, monkeypatch
):
    save, stopped = L.Trainer.save_checkpoint, []

    def ctrl_c_before_last_ckpt_at_step_4(trainer, filepath, *args, **kwargs):
        if trainer.global_step == 4 and Path(filepath).name == "last.ckpt" and not stopped:
            stopped.append(filepath)  # step_000004.ckpt is written, last.ckpt still holds step 2
            raise KeyboardInterrupt
        return save(trainer, filepath, *args, **kwargs)

    monkeypatch.setattr(L.Trainer, "save_checkpoint", ctrl_c_before_last_ckpt_at_step_4)
    cfg = fast_config(tmp_path, photo_dir, style_image, "trainer.max_steps=6")
    sigint = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as stop:
            train(cfg)
    finally:
        signal.signal(signal.SIGINT, sigint)  # Lightning ignores further Ctrl-Cs once it has one
    assert stop.value.code == 128 + signal.SIGINT and stopped
    run = tmp_path / "run"
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 4
    assert torch.load(run / "painting.partial.pt", weights_only=True)["steps"] == 4
