import numpy as np
import pytest
import torch

from painterly import PainterlyError
from painterly.stylize import checkpoints
from painterly.stylize.johnson import Johnson

from conftest import rand


def test_checkpoint_by_name_and_by_run_dir(tmp_path, monkeypatch, style_ckpt):
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", tmp_path)
    image = rand(1, 3, 16, 16)
    expected = Johnson(style_ckpt, device="cpu")(image)
    assert np.array_equal(Johnson("tiny", device="cpu")(image), expected)
    with pytest.raises(PainterlyError, match="no checkpoint named 'nope'.*known: tiny"):
        Johnson("nope")

    record = torch.load(style_ckpt, weights_only=True)  # what a Lightning checkpoint of a training run holds
    lightning = {
        "painterly": {k: v for k, v in record.items() if k != "state_dict"},
        "global_step": 7,
        "state_dict": {f"model.{k}": v for k, v in record["state_dict"].items()},
    }
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    torch.save(lightning, tmp_path / "run" / "checkpoints" / "last.ckpt")
    from_run = Johnson(tmp_path / "run", device="cpu")
    assert from_run.record["steps"] == 7 and np.allclose(from_run(image), expected, atol=1e-6)
