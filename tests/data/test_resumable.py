import torch
from torch.utils.data import DataLoader

from painterly.data.dataset import PhotoDataset, train_transform
from painterly.data.resumable import ResumableLoader


def loader(kind, photo_dir):
    dataset = PhotoDataset(sorted(photo_dir.glob("*.jpg")), train_transform(16, 24))
    return kind(dataset, batch_size=2, shuffle=True, drop_last=True, num_workers=0)  # 3 batches an epoch


def epochs(data, count):
    """`count` batches over as many epochs as it takes, as Lightning iterates."""
    out = []
    while len(out) < count:
        for images, _ in data:
            out.append(images)
            if len(out) == count:
                break
    return out


def test_a_straight_run_draws_what_a_plain_dataloader_draws(photo_dir):
    torch.manual_seed(0)
    plain = epochs(loader(DataLoader, photo_dir), 7)
    torch.manual_seed(0)
    ours = epochs(loader(ResumableLoader, photo_dir), 7)
    assert all(torch.equal(a, b) for a, b in zip(plain, ours, strict=True))


def test_a_resume_mid_epoch_or_at_its_end_draws_what_an_unbroken_run_would(photo_dir):
    torch.manual_seed(0)
    unbroken = epochs(loader(ResumableLoader, photo_dir), 9)
    for stop in (4, 6):  # mid-epoch (the second of the epoch's 3 batches), and at an epoch's end
        torch.manual_seed(0)
        first = loader(ResumableLoader, photo_dir)
        drawn = epochs(first, stop)
        state = first.state_dict()
        torch.manual_seed(123)  # a new process: its RNG is elsewhere
        second = loader(ResumableLoader, photo_dir)
        second.load_state_dict(state)
        resumed = drawn + epochs(second, 9 - stop)
        assert all(torch.equal(a, b) for a, b in zip(unbroken, resumed, strict=True)), stop


def test_a_malformed_state_costs_exactness_in_one_line_not_the_run(photo_dir, capsys):
    data = loader(ResumableLoader, photo_dir)
    data.load_state_dict({"epoch_rng": torch.zeros(3, dtype=torch.uint8), "batches": 1, "rng": "x"})
    assert len(epochs(data, 3)) == 3
    assert capsys.readouterr().err == (
        "warning: this resume draws other crops than the run it continues (its data-loader state is malformed)\n"
    )
