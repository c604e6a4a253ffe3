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
