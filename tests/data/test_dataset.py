from painterly.data.dataset import PhotoDataset, train_transform


def test_unreadable_files_are_replaced_by_the_next_readable_one(photo_dir):
    (photo_dir / "zero.jpg").write_bytes(b"")
    (photo_dir / "junk.png").write_text("junk")
    files = [photo_dir / "zero.jpg", photo_dir / "junk.png", photo_dir / "photo_1.jpg"]
    dataset = PhotoDataset(files, train_transform(16))
    image, skipped = dataset[0]
    assert image.shape == (3, 16, 16) and int(skipped) == 0
    assert int(dataset[1][1]) == 1 and int(dataset[2][1]) == -1
