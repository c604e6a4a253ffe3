"""`@run_if(gpu=True)`: mark a test and skip it, with the reason, where it cannot run (lightning-hydra-template's
RunIf). The markers select groups of tests: `pytest -m gpu`, `pytest -m "not slow"`."""

import pytest
import torch


def run_if(gpu: bool = False, slow: bool = False):
    marks = []
    if gpu:
        marks += [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]
    if slow:
        marks.append(pytest.mark.slow)

    def mark(test):
        for each in marks:
            test = each(test)
        return test

    return mark
