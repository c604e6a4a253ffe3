"""Distillation data: (photo, AdaIN rendering) pairs made once, cached, and cropped together."""

import hydra
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from painterly.cli.train import train
from painterly.config import compose_config
from painterly.data import teacher
from painterly.data.teacher import PairDataset, cached_pairs


def test_photo_and_target_get_the_same_crop_and_flip():
    photo = torch.randint(0, 255, (3, 40, 56), dtype=torch.uint8)
    dataset = PairDataset([(photo, 255 - photo)], crop=16)
    for _ in range(8):
        image, skipped, target = dataset[0]
        assert image.shape == (3, 16, 16) and skipped.tolist() == [0, 0]
        torch.testing.assert_close(target, 1 - image)


def test_pairs_are_made_once_then_read_from_the_cache(tmp_path, photo_dir, style_image, monkeypatch):
    files = sorted(photo_dir.iterdir())[:2]
    first = cached_pairs(files, str(style_image), size=24, alpha=1.0, cache_dir=tmp_path)
    assert len(first) == 2 and first[0][0].dtype == torch.uint8 and first[0][0].shape[-2:] == first[0][1].shape[-2:]
    assert min(first[0][0].shape[-2:]) == 24 and not torch.equal(first[0][0], first[0][1])
    monkeypatch.setattr(teacher, "make_pairs", lambda *args: (_ for _ in ()).throw(AssertionError("recomputed")))
    again = cached_pairs(files, str(style_image), size=24, alpha=1.0, cache_dir=tmp_path)
    assert all(torch.equal(a[1], b[1]) for a, b in zip(first, again, strict=True))


def test_a_run_distils_then_refines(tmp_path, photo_dir, style_image):
    cfg = compose_config(
        "train",
        [
            "experiment=distill",
            "debug=fast",
            f"data.root={photo_dir}",
            "data.num_holdout=2",
            "data.image_size=16",
            "data.teacher.size=24",
            f"data.teacher.cache_dir={tmp_path / 'cache'}",
            f"style.image={style_image}",
            f"paths.output_dir={tmp_path / 'run'}",
            f"export_dir={tmp_path / 'export'}",
            "model.distill_steps=2",
            "trainer.enable_progress_bar=false",
        ],
    )
    assert hydra.utils.instantiate(cfg.loss).content_layers == {"relu2_2": 1.0, "relu3_1": 1.0}  # run D2's layers
    train(cfg)
    scalars = EventAccumulator(str(tmp_path / "run" / "tensorboard")).Reload().Scalars
    assert [s.step for s in scalars("train/distill_loss")] == [0, 1]
    assert [s.step for s in scalars("train/style_loss")] == [2, 3]
