"""Distillation data: (photo, AdaIN rendering) pairs made once, cached, and cropped together; or read from a folder."""

import hydra
import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from painterly import PainterlyError
from painterly.cli.train import train
from painterly.config import compose_config
from painterly.data import teacher
from painterly.data.teacher import PairDataset, cached_pairs, teacher_pairs
from painterly.losses.perceptual import PerceptualLoss


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


def render_like(photo, folder, size=20):
    """A stand-in rendering of `photo`: its negative at `size` px on the long side, saved under the photo's name."""
    folder.mkdir(exist_ok=True)
    rendering = Image.open(photo).convert("RGB")
    rendering.thumbnail((size, size))
    Image.fromarray(255 - np.asarray(rendering)).save(folder / photo.name, quality=100)
    return folder / photo.name


def test_renderings_pair_with_the_photos_of_their_name(tmp_path, photo_dir, capsys):
    photos = sorted(photo_dir.iterdir())
    for photo in photos[:2]:
        render_like(photo, tmp_path / "renders")
    pairs = teacher_pairs(photos, renders=str(tmp_path / "renders"))
    assert len(pairs) == 2 and "2 of 6 training photos have a rendering" in capsys.readouterr().out
    for photo, target in pairs:
        assert photo.shape == target.shape == (3, 16, 20)  # the 40x32 photo at its rendering's size
        assert (photo.float() + target.float() - 255).abs().mean() < 12  # the negative, up to JPEG and resampling


def test_a_rendering_of_another_shape_is_skipped_by_name(tmp_path, photo_dir, capsys):
    photos = sorted(photo_dir.iterdir())
    render_like(photos[0], tmp_path / "renders")
    Image.new("RGB", (20, 20)).save(tmp_path / "renders" / photos[1].name)
    assert len(teacher_pairs(photos, renders=str(tmp_path / "renders"))) == 1
    assert f"teacher: skipping {tmp_path / 'renders' / photos[1].name}: its shape is not" in capsys.readouterr().out


def test_no_renderings_is_one_line_that_says_how_to_make_them(tmp_path, photo_dir):
    (tmp_path / "empty").mkdir()
    for renders in (tmp_path / "missing", tmp_path / "empty"):
        with pytest.raises(PainterlyError, match=f"{renders}: no renderings named like .* python stylize.py method="):
            teacher_pairs(sorted(photo_dir.iterdir()), renders=str(renders))


def test_renderings_and_adain_keys_together_are_refused(tmp_path, photo_dir):
    with pytest.raises(PainterlyError, match="data.teacher: give renders or AdaIN's keys \\(style_image, size\\), not"):
        teacher_pairs(sorted(photo_dir.iterdir()), renders=str(tmp_path), style_image="x.jpg", size=256)


def test_a_rendering_smaller_than_the_crop_is_padded():
    image, _, target = PairDataset([(torch.zeros(3, 10, 30, dtype=torch.uint8),) * 2], crop=16)[0]
    assert image.shape == target.shape == (3, 16, 16)


def test_a_run_takes_its_content_from_the_renderings(tmp_path, photo_dir, style_image, monkeypatch):
    (tmp_path / "renders").mkdir()
    for photo in sorted(photo_dir.iterdir()):  # all red: a content target from a photo (random noise) is not
        Image.new("RGB", Image.open(photo).size, (255, 0, 0)).save(tmp_path / "renders" / photo.name, quality=100)
    contents = []
    forward = PerceptualLoss.forward
    monkeypatch.setattr(
        PerceptualLoss, "forward", lambda self, out, content: contents.append(content) or forward(self, out, content)
    )
    cfg = compose_config(
        "train",
        [
            "experiment=starry_night_gatys",
            "debug=fast",
            f"data.root={photo_dir}",
            "data.num_holdout=2",
            "data.image_size=16",
            f"data.teacher.renders={tmp_path / 'renders'}",
            f"style.image={style_image}",
            f"paths.output_dir={tmp_path / 'run'}",
            f"export_dir={tmp_path / 'export'}",
            "trainer.enable_progress_bar=false",
        ],
    )
    assert cfg.model.teacher_content and cfg.model.distill_steps == 0
    train(cfg)
    # every step's content is a crop of a rendering; one more call is ThroughputMonitor's FLOP count, on noise
    red = [c for c in contents if c.shape[-2:] == (16, 16) and (c[:, 0] > 0.95).all() and (c[:, 1:] < 0.05).all()]
    assert len(red) == cfg.trainer.max_steps == len(contents) - 1
