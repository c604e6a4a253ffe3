import signal

import lightning as L
import torch
from lightning.fabric.utilities.seed import pl_worker_init_function

from painterly import PainterlyError
from painterly.data.dataset import PhotoDataset, eval_transform, train_transform
from painterly.data.resumable import ResumableLoader
from painterly.data.teacher import PairDataset, teacher_pairs
from painterly.io.tensors import load_rgb
from painterly.stylize.images import find_images

MISSING_HINT = (
    "use data=samples for the bundled photos, or download COCO train2014 "
    "(http://images.cocodataset.org/zips/train2014.zip), unzip it and pass data=coco data.root=/path/to/train2014"
)


def worker_init(worker_id: int) -> None:
    """A SIGTERM sent to the whole process group (`kill -- -PGID`, `pkill -f train.py`, a job scheduler) is for the
    main process, whose handler saves the run and then ends the workers. A worker killed by it first would end the
    run in a traceback instead (docs/training.md, run B). Workers still exit when the main process dies."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    pl_worker_init_function(worker_id)  # Lightning's seeding of each worker (seed_everything(workers=True))


def readable_holdout(files: list, count: int) -> list:
    """`count` readable photos spread over `files`: an unreadable pick gives way to the next readable one, so the
    image grids never find only unreadable photos (which would end a run at its first grid)."""
    step = max(1, len(files) // max(1, count))
    spread = files[::step] + [f for i, f in enumerate(files) if i % step]
    chosen = []
    for path in spread:
        if len(chosen) == count:
            break
        try:
            load_rgb(path)
            chosen.append(path)
        except PainterlyError:
            continue
    return chosen


class PhotoDataModule(L.LightningDataModule):
    """Random crops of every photo under `root`; `num_holdout` fixed photos are kept out for the image grids."""

    def __init__(
        self,
        root: str,
        image_size: int = 256,
        resize: int | None = None,
        batch_size: int = 4,
        num_workers: int = 2,
        num_holdout: int = 4,
        pin_memory: bool = True,
        teacher: dict | None = None,
    ):
        super().__init__()
        if not root:
            raise PainterlyError("data.root is required: the folder of photos to train on (data.root=/path/to/photos)")
        # relu5_1, the deepest style layer (configs/loss/), sits after four 2x poolings: below 16 px it has no pixels
        resize = image_size if resize is None else resize
        for key, value, least in (
            ("image_size", image_size, 16),
            ("resize", resize, image_size),
            ("batch_size", batch_size, 1),
        ):
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= least):
                raise PainterlyError(f"data.{key}={value}: must be a whole number, at least {least}")
        # teacher: {style_image, size, alpha, cache_dir} or {renders}: train on in-memory (photo, AdaIN rendering)
        # pairs, or (photo, a rendering from the folder `renders`) pairs, instead (painterly.data.teacher)
        self.teacher = dict(teacher) if teacher else None
        self.root, self.image_size, self.resize, self.batch_size = root, image_size, resize, batch_size
        self.num_workers, self.num_holdout, self.pin_memory = num_workers, num_holdout, pin_memory
        self.train_files: list = []
        self.holdout_files: list = []

    def setup(self, stage=None):
        files = find_images(self.root)
        if not files:
            raise PainterlyError(f"{self.root}: no dataset folder, or no images in it; {MISSING_HINT}")
        self.holdout_files = readable_holdout(files, self.num_holdout) if len(files) > self.num_holdout else []
        self.train_files = [f for f in files if f not in self.holdout_files]

    def train_dataloader(self):
        if self.teacher:
            dataset = PairDataset(teacher_pairs(self.train_files, **self.teacher), self.image_size)
        else:
            dataset = PhotoDataset(self.train_files, train_transform(self.image_size, self.resize))
        return ResumableLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=len(dataset) >= self.batch_size,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            worker_init_fn=worker_init,
            pin_memory=self.pin_memory and torch.cuda.is_available(),
            batches_done=self.batches_done,
        )

    def batches_done(self) -> int:
        """How many of the epoch's batches were trained: on resume, as the trainer restored it from the checkpoint."""
        return self.trainer.fit_loop.epoch_loop.batch_progress.current.completed if self.trainer else 0

    def holdout_batch(self, size: int) -> torch.Tensor:
        """The held-out photos, center-cropped to `size`, as one batch (for image grids)."""
        dataset = PhotoDataset(self.holdout_files, eval_transform(size))
        return (
            torch.stack([dataset[i][0] for i in range(len(dataset))]) if len(dataset) else torch.empty(0, 3, size, size)
        )
