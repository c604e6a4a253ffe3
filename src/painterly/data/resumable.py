"""The training DataLoader, resumable mid-epoch: a resumed run trains on the crops an unbroken run would have."""

import sys
from collections.abc import Callable

import torch
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import DataLoader


class ResumableLoader(DataLoader):
    """A DataLoader with Lightning's `state_dict()` / `load_state_dict()`: Lightning saves the state in every checkpoint
    and hands it back on resume.

    The global RNG draws each epoch's shuffle and every crop. The state is that RNG at the epoch's start, before and
    after the last batch drawn, and the batches drawn. A resume draws the epoch's batches that were trained again, to
    bring the shuffle to where it was, then sets the RNG to what it was after the last trained batch. The rest of the
    run then gets the photos and crops of an unbroken run (with num_workers=0: workers have RNGs of their own).
    `batches_done` says how many of the epoch's batches were trained, once Lightning has restored its count: a run
    stopped by Ctrl-C drew a batch that it did not finish training. A straight run draws what a plain DataLoader
    draws: reading the RNG state consumes nothing.
    """

    def __init__(self, *args, batches_done: Callable[[], int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches_done = batches_done
        self._resume: dict | None = None
        self._epoch_rng = self._rng_before = None
        self._drawn = 0

    def __iter__(self):
        if self._resume is not None:
            return self._resumed()
        if self._epoch_rng is None and self.batches_done and self.batches_done():  # a resume with nothing to replay
            differs("its checkpoint holds no data-loader state: saved by an older painterly")
        return self._counted(self._epoch_start())

    def _epoch_start(self):
        self._epoch_rng, self._drawn = torch.get_rng_state(), 0
        return super().__iter__()

    def _counted(self, batches):
        while True:
            self._rng_before = torch.get_rng_state()
            try:
                batch = next(batches)
            except StopIteration:
                return
            self._drawn += 1
            yield batch

    def _resumed(self):
        """Replayed at the first batch, not in iter(): by then Lightning has restored its count and set the epoch of
        a DistributedSampler."""
        resume, self._resume = self._resume, None
        done = self.batches_done() if self.batches_done else resume["drawn"]
        if done == 0 and resume["drawn"] >= len(self):  # saved at an epoch's end: the next one starts from there
            torch.set_rng_state(resume["after"])
            yield from self._counted(self._epoch_start())
            return
        if rank_zero_only.rank == 0:
            print(f"resuming: drawing the epoch's first {done} batches again, to go on with its photos and crops")
        torch.set_rng_state(resume["epoch_rng"])
        batches = self._epoch_start()
        for _ in range(done):
            next(batches)
        self._drawn = done
        if done == resume["drawn"]:
            torch.set_rng_state(resume["after"])
        elif done == resume["drawn"] - 1:  # stopped in the middle of a step: its batch is drawn again
            torch.set_rng_state(resume["before"])
        else:
            differs(f"it trained {done} of the epoch's batches, and drew {resume['drawn']}")
        yield from self._counted(batches)

    def state_dict(self) -> dict:
        if self._epoch_rng is None:  # saved before the first batch: nothing to replay
            return {}
        return {
            "epoch_rng": self._epoch_rng,
            "before": self._rng_before,
            "after": torch.get_rng_state(),
            "drawn": self._drawn,
        }

    def load_state_dict(self, state: dict) -> None:
        """`state` comes from a checkpoint file: checked, and a malformed one only costs the resume its exactness."""
        if state and not well_formed(state):
            differs("its data-loader state is malformed")
            state = None
        self._resume = state or None


def well_formed(state) -> bool:
    if not (isinstance(state, dict) and type(state.get("drawn")) is int and state["drawn"] >= 0):
        return False
    for key in ("epoch_rng", "before", "after"):
        try:
            torch.Generator().set_state(state[key])  # a valid Mersenne Twister state, not only the right size
        except (KeyError, TypeError, RuntimeError):
            return False
    return True


def differs(why: str) -> None:
    print(f"warning: this resume draws other crops than an unbroken run would have ({why})", file=sys.stderr)
