import os
import subprocess
import sys
import time

import pytest

from painterly import PainterlyError
from painterly.stylize import files
from painterly.stylize.files import STALE_SECONDS, atomic_path, is_temporary, sweep_temporaries


def test_without_overwrite_an_existing_file_is_never_replaced(tmp_path):
    target = tmp_path / "out.png"
    with atomic_path(target, overwrite=False) as tmp:
        tmp.write_bytes(b"first")
    with pytest.raises(PainterlyError, match=f"^{target}: already exists; give overwrite=true to replace it$"):
        with atomic_path(target, overwrite=False) as tmp:
            tmp.write_bytes(b"second")
    assert target.read_bytes() == b"first" and os.listdir(tmp_path) == ["out.png"]
    with atomic_path(target) as tmp:  # overwrite=True, the default for files painterly owns (caches, checkpoints)
        tmp.write_bytes(b"third")
    assert target.read_bytes() == b"third"


def test_a_late_write_error_fails_the_write_and_leaves_nothing(tmp_path, monkeypatch):
    """A full disk under delayed allocation (or NFS, or a quota) reports ENOSPC only when the data is flushed."""

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError, match="No space left"):
        with atomic_path(tmp_path / "out.jpg") as tmp:
            tmp.write_bytes(b"looks complete")
    assert os.listdir(tmp_path) == []


def temporary(folder, name, pid, age=0.0):
    path = folder / f".{name}{files.TEMP_MARK}{pid}-abc123.jpg"
    path.write_bytes(b"half")
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_sweep_removes_what_dead_or_silent_writers_left(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # exited: nothing is writing its files any more
    orphan = temporary(tmp_path, "orphan", dead_pid)
    silent = temporary(tmp_path, "silent", 1, age=STALE_SECONDS + 60)  # pid 1 lives, but wrote nothing for an hour
    live = temporary(tmp_path, "live", 1)  # a live writer's: keep
    mine = temporary(tmp_path, "mine", os.getpid(), age=STALE_SECONDS + 60)  # this process is writing it
    (tmp_path / ".hidden.jpg").write_bytes(b"the user's")
    assert sorted(sweep_temporaries(tmp_path)) == sorted([orphan, silent])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".hidden.jpg", live.name, mine.name])
    assert is_temporary(live) and not is_temporary(tmp_path / ".hidden.jpg")


def test_temporaries_carry_the_writer_pid_and_the_suffix(tmp_path):
    with atomic_path(tmp_path / "clip.mp4") as tmp:
        assert tmp.name.startswith(f".clip{files.TEMP_MARK}{os.getpid()}-") and tmp.suffix == ".mp4"
        tmp.write_bytes(b"x")
