import os
import subprocess
import sys

from painterly.config import ROOT


def test_bench_prints_one_table_of_side_by_side_ratios(tmp_path):
    pythonpath = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
    args = ["sizes=[32,48]", "repeats=1", "folder=false", "train_steps=0"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), *args],
        capture_output=True,
        text=True,
        env={"XDG_CACHE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", **pythonpath},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split(", ")[1].startswith("device: cpu") and "torch 2." in lines[0]
    assert any(line.startswith("48x48: default output vs naive fp32 eager, mean absolute difference") for line in lines)
    table = lines[lines.index("| measure | naive eager | painterly default | speed-up |") + 2 :]
    assert [row.split(" | ")[0] for row in table] == [
        "| inference 32x32, ms/image",
        "| inference 32x32, ms/image, precision=fp32",
        "| inference 48x48, ms/image",
        "| inference 48x48, ms/image, precision=fp32",
    ]
    for row in table:
        naive, ours, ratio = row.strip("| ").split(" | ")[1:]
        assert abs(float(naive) / float(ours) - float(ratio.rstrip("x"))) < 0.02 * float(ratio.rstrip("x")) + 0.01
