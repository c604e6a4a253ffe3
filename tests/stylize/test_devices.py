import pytest
import torch

from painterly import PainterlyError
from painterly.stylize.devices import device_type, has_cuda, pick_device, pick_dtype


def test_device_and_precision_choices():
    assert has_cuda() == torch.cuda.is_available() and device_type("auto") == pick_device("auto").type
    assert pick_device("auto").type in ("cpu", "cuda") and pick_device("cpu").type == "cpu"
    assert pick_dtype("bf16") == torch.bfloat16
    with pytest.raises(PainterlyError, match="unknown precision 'fp8'"):
        pick_dtype("fp8")
    with pytest.raises(PainterlyError, match="unknown device"):
        pick_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(PainterlyError, match="no CUDA GPU"):
            pick_device("cuda")
