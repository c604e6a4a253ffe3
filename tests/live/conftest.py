import pytest

from painterly.live.engine import exported_onnx, random_style, thumbnail_png

# Two tiny untrained styles (width 4, one residual block): milliseconds a frame, and different outputs. glacier has a
# noise input, as the shipped starry_night does: its fixed field runs in onnxruntime-web too.
STYLES = {"ember": ((200, 120, 40), 0, 0), "glacier": ((40, 120, 200), 1, 8)}


@pytest.fixture(scope="session")
def styles_dir(tmp_path_factory, onnx_cache):
    """A styles folder whose ONNX exports and thumbnails are already cached: serving it never imports torch."""
    folder = tmp_path_factory.mktemp("styles")
    for name, (color, seed, noise_channels) in STYLES.items():
        path = random_style(
            folder / f"{name}.pt", width=4, num_residual=1, seed=seed, color=color, noise_channels=noise_channels
        )
        exported_onnx(path)
        thumbnail_png(path)
    return folder
