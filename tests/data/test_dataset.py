import pytest
import torch

from painterly.data.dataset import PhotoDataset, skipped_files, train_transform


def test_unreadable_files_are_replaced_by_the_next_readable_one(photo_dir):
    (photo_dir / "zero.jpg").write_bytes(b"")
    (photo_dir / "junk.png").write_text("junk")
    files = [photo_dir / "zero.jpg", photo_dir / "junk.png", photo_dir / "photo_1.jpg"]
    dataset = PhotoDataset(files, train_transform(16))
    image, skipped = dataset[0]
    assert image.shape == (3, 16, 16) and skipped.tolist() == [0, 2]  # both bad files, each counted
    assert skipped_files(files, *skipped.tolist()) == files[:2]
    assert dataset[1][1].tolist() == [1, 1] and dataset[2][1].tolist() == [2, 0]


def test_resize_sets_the_scale_the_crops_see():
    # a ramp from 0 to 1 down a 96x128 photo: shrunk to a short side of s, neighbouring rows differ by 95/s
    ramp = torch.linspace(0, 1, 96)[:, None].expand(96, 128).expand(3, 96, 128).contiguous()
    for resize, step in ((None, 3 / 95), (64, 1.5 / 95)):  # 96 rows (steps of 1/95) to 32 or 64
        crop = train_transform(32, resize)(ramp)
        assert crop.shape == (3, 32, 32)
        assert torch.diff(crop[0, 4:-4, 16]).mean().item() == pytest.approx(step, rel=0.05)
