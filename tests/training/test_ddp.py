import os
import subprocess
import sys
from pathlib import Path

import torch

from painterly.config import ROOT


def test_two_process_ddp_on_cpu_keeps_ranks_identical(tmp_path, photo_dir, style_image):
    weights = tmp_path / "weights"
    command = [
        sys.executable,
        str(ROOT / "train.py"),
        "debug=fast",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.precision=32-true",
        "trainer.max_steps=2",
        f"data.root={photo_dir}",
        "data.num_holdout=2",
        f"style.image={style_image}",
        f"hydra.run.dir={tmp_path / 'run'}",
        f"export_dir={tmp_path / 'export'}",
        "+callbacks.rank_weights._target_=rank_weights.SaveRankWeights",
        f"+callbacks.rank_weights.folder={weights}",
    ]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "exported painting after 2 steps" in result.stdout

    rank0, rank1 = (torch.load(weights / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    exported = torch.load(tmp_path / "export" / "painting.pt", weights_only=True)["state_dict"]
    for key in rank0:
        torch.testing.assert_close(rank0[key], rank1[key], rtol=0, atol=0, msg=key)
        torch.testing.assert_close(exported[key], rank0[key], rtol=0, atol=0, msg=key)
