import torch

from painterly.data.datamodule import PhotoDataModule


def test_holdout_is_fixed_and_kept_out_of_training(photo_dir):
    (photo_dir / "nested").mkdir()
    (photo_dir / "photo_0.jpg").rename(photo_dir / "nested" / "photo_0.webp.jpg")
    datamodule = PhotoDataModule(str(photo_dir), image_size=16, batch_size=2, num_workers=0, num_holdout=2)
    datamodule.setup()
    assert len(datamodule.holdout_files) == 2 and len(datamodule.train_files) == 4
    assert not set(datamodule.holdout_files) & set(datamodule.train_files)
    batch = datamodule.holdout_batch(24)
    assert batch.shape == (2, 3, 24, 24)
    torch.testing.assert_close(batch, datamodule.holdout_batch(24))
    images, skipped = next(iter(datamodule.train_dataloader()))
    assert images.shape == (2, 3, 16, 16) and (skipped[:, 1] == 0).all()  # (index, files skipped): none


def test_unreadable_held_out_photos_give_way_to_readable_ones(photo_dir):
    datamodule = PhotoDataModule(str(photo_dir), image_size=16, batch_size=2, num_workers=0, num_holdout=2)
    datamodule.setup()
    for path in datamodule.holdout_files:  # the photos the grids would show: all unreadable now
        path.write_bytes(b"not a photo")
    datamodule.setup()
    assert len(datamodule.holdout_files) == 2 and all(
        p.read_bytes() != b"not a photo" for p in datamodule.holdout_files
    )
    assert datamodule.holdout_batch(24).shape == (2, 3, 24, 24)
