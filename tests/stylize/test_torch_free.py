"""The boundary of docs/architecture.md: the stylize side imports without torch, each module in a fresh interpreter."""

import pkgutil
import subprocess
import sys

import pytest

import painterly.stylize

TORCH_FREE = [
    "painterly",
    "painterly.config",
    "painterly.cli",
    "painterly.cli.stylize",
    *(f"painterly.stylize.{m.name}" for m in pkgutil.iter_modules(painterly.stylize.__path__)),
]


def imported_after(module: str) -> set[str]:
    code = f"import sys, importlib; importlib.import_module({module!r}); print(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.parametrize("module", TORCH_FREE)
def test_module_imports_without_torch(module):
    assert "torch" not in imported_after(module)


def test_the_johnson_method_alone_pulls_in_no_video_progress_bars_or_pipeline():
    loaded = imported_after("painterly.stylize.johnson")
    assert not loaded & {"torch", "av", "tqdm", "painterly.stylize.pipeline", "painterly.stylize.video"}
