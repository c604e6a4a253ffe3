import pytest
import torch
from torch.utils.data import DataLoader

from painterly.data.dataset import PhotoDataset, train_transform
from painterly.data.resumable import ResumableLoader


def loader(kind, photo_dir, **kwargs):
    dataset = PhotoDataset(sorted(photo_dir.glob("*.jpg")), train_transform(16, 24))
    return kind(dataset, batch_size=2, shuffle=True, drop_last=True, num_workers=0, **kwargs)  # 3 batches an epoch


def epochs(data, count, other_draw_after=None):
    """`count` batches over as many epochs as it takes, as Lightning iterates; `other_draw_after`: the batch after
    which something else draws from the RNG once (as the FLOPs count does after the first step)."""
    out = []
    while len(out) < count:
        for images, _ in data:
            out.append(images)
            if len(out) == other_draw_after:
                torch.rand(5)
            if len(out) == count:
                break
    return out


def test_a_straight_run_draws_what_a_plain_dataloader_draws(photo_dir):
    torch.manual_seed(0)
    plain = epochs(loader(DataLoader, photo_dir), 7)
    torch.manual_seed(0)
    ours = epochs(loader(ResumableLoader, photo_dir), 7)
    assert all(torch.equal(a, b) for a, b in zip(plain, ours, strict=True))


@pytest.mark.parametrize(
    "drawn, done, trained",
    [
        (4, 1, 4),  # saved after the first batch of the second epoch
        (6, 0, 6),  # saved at an epoch's end: the trainer starts the next epoch at 0
        (5, 1, 4),  # Ctrl-C while training the second batch of the second epoch: drawn, not trained
        (2, 2, 2),  # in the first epoch, after the other draw
    ],
)
def test_a_resume_draws_what_an_unbroken_run_would(photo_dir, drawn, done, trained):
    torch.manual_seed(0)
    unbroken = epochs(loader(ResumableLoader, photo_dir), 9, other_draw_after=1)
    torch.manual_seed(0)
    first = loader(ResumableLoader, photo_dir)
    trained = epochs(first, drawn, other_draw_after=1)[:trained]
    state = first.state_dict()
    torch.manual_seed(123)  # a new process: its RNG is elsewhere, and it does not draw the other draw again
    second = loader(ResumableLoader, photo_dir, batches_done=lambda: done)
    second.load_state_dict(state)
    resumed = trained + epochs(second, 9 - len(trained))
    assert all(torch.equal(a, b) for a, b in zip(unbroken, resumed, strict=True))


@pytest.mark.parametrize("rng", [torch.zeros(3, dtype=torch.uint8), torch.zeros(5056, dtype=torch.uint8), "x"])
def test_a_malformed_state_costs_exactness_in_one_line_not_the_run(photo_dir, capsys, rng):
    data = loader(ResumableLoader, photo_dir)
    data.load_state_dict({"epoch_rng": rng, "before": rng, "after": rng, "drawn": 1})
    assert len(epochs(data, 3)) == 3
    assert capsys.readouterr().err == (
        "warning: this resume draws other crops than an unbroken run would have (its data-loader state is malformed)\n"
    )


def test_a_mid_epoch_resume_from_a_checkpoint_without_loader_state_says_so(photo_dir, capsys):
    data = loader(ResumableLoader, photo_dir, batches_done=lambda: 2)  # the trainer restored 2 batches, no state
    assert len(epochs(data, 3)) == 3
    assert "(its checkpoint holds no data-loader state: saved by an older painterly)" in capsys.readouterr().err
