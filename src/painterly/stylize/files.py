import errno
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from painterly import PainterlyError

UMASK = os.umask(0o022)  # reading the umask means setting it; put it straight back
os.umask(UMASK)

# A temporary is named `.<stem>.painterly-tmp-<pid>-<random><suffix>`: hidden, the suffix its format needs (PyAV and
# Pillow pick the format from it), and the pid of its writer, so that a later run can tell a live one from a leftover.
TEMP_MARK = ".painterly-tmp-"
STALE_SECONDS = 3600  # a temporary this long unwritten is a leftover even if its pid was reused by another process


def is_temporary(path) -> bool:
    return TEMP_MARK in Path(path).name


@contextmanager
def atomic_path(path, overwrite: bool = True):
    """Yield a temporary path beside `path`; on success it becomes `path` in one step, on failure it is removed.

    Readers never see a half-written file, and an existing file survives a crash mid-write. The data is synced
    before the rename, so a write error the kernel reports late (a full disk under delayed allocation, NFS, a quota)
    fails here too. With overwrite=False an existing `path` is never replaced, even one that appeared meanwhile.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}{TEMP_MARK}{os.getpid()}-", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes the file private (0600); give it the mode a plain open would
        sync(tmp)
        commit(tmp, path, overwrite)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def sync(path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit(tmp, path: Path, overwrite: bool) -> None:
    """Rename `tmp` to `path`; without `overwrite`, a hard link does it, which fails rather than replace a file."""
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise PainterlyError(f"{path}: already exists; give overwrite=true to replace it") from None
    except OSError as error:  # a filesystem without hard links (FAT, some FUSE): check, then rename
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        if path.exists():
            raise PainterlyError(f"{path}: already exists; give overwrite=true to replace it") from None
        os.replace(tmp, path)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_temporaries(folder) -> list[Path]:
    """Remove the temporaries a killed writer (kill -9, power loss) left in `folder`: those whose writer is gone,
    or that nothing wrote to for STALE_SECONDS. Returns the removed paths."""
    removed = []
    for tmp in Path(folder).glob(f".*{TEMP_MARK}*"):
        pid = tmp.name.split(TEMP_MARK, 1)[1].split("-", 1)[0]
        try:
            stale = time.time() - tmp.stat().st_mtime > STALE_SECONDS
            if pid.isdigit() and int(pid) != os.getpid() and (stale or not pid_alive(int(pid))):
                tmp.unlink()
                removed.append(tmp)
        except FileNotFoundError:  # its writer finished or another sweep got there first
            continue
    return removed
