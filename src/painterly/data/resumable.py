"""The training DataLoader, resumable mid-epoch: a resumed run trains on the crops an unbroken run would have."""

import sys

import torch
from torch.utils.data import DataLoader


class ResumableLoader(DataLoader):
    """A DataLoader with Lightning's `state_dict()` / `load_state_dict()`: Lightning saves the state in every checkpoint
    and hands it back on resume.

    The state is the global RNG at the epoch's start, which draws the epoch's shuffle and every crop, and the batches
    drawn since. A resume restores that RNG and draws those batches again (decoding at most one epoch of photos), so
    the rest of the run gets the photos and crops of an unbroken run. A straight run draws what a plain DataLoader
    draws: reading the RNG state consumes nothing. With num_workers > 0 the crops come from the workers' RNGs, which
    the replay reseeds as an unbroken run would, though persistent workers keep theirs across epochs."""

    def __iter__(self):
        resume, self._resume = getattr(self, "_resume", None), None
        if resume and resume["batches"] >= len(self):  # stopped at the end of an epoch: the next starts from here
            torch.set_rng_state(resume["rng"])
            resume = None
        if resume:
            torch.set_rng_state(resume["epoch_rng"])
        self._epoch_rng, self._batches = torch.get_rng_state(), 0
        batches = super().__iter__()
        if resume:
            for _ in range(resume["batches"]):
                next(batches)
                self._batches += 1
            if not torch.equal(torch.get_rng_state(), resume["rng"]):
                differs("the photos changed?")
        return self._counted(batches)

    def _counted(self, batches):
        for batch in batches:
            self._batches += 1
            yield batch

    def state_dict(self) -> dict:
        if not hasattr(self, "_epoch_rng"):  # saved before the first batch: nothing to replay
            return {}
        return {"epoch_rng": self._epoch_rng, "batches": self._batches, "rng": torch.get_rng_state()}

    def load_state_dict(self, state: dict) -> None:
        """`state` comes from a checkpoint file: checked, and a malformed one only costs the resume its exactness."""
        if state and not well_formed(state):
            differs("its data-loader state is malformed")
            state = None
        self._resume = state or None


def well_formed(state) -> bool:
    rng = torch.get_rng_state()
    return (
        isinstance(state, dict)
        and type(state.get("batches")) is int
        and state["batches"] >= 0
        and all(
            isinstance(state.get(key), torch.Tensor) and state[key].dtype == rng.dtype and state[key].shape == rng.shape
            for key in ("epoch_rng", "rng")
        )
    )


def differs(why: str) -> None:
    print(f"warning: this resume draws other crops than the run it continues ({why})", file=sys.stderr)
