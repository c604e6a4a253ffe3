import logging
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from types import SimpleNamespace

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from painterly import PainterlyError
from painterly.cli.train import export_path, export_style, train
from painterly.config import ROOT, compose_config
from painterly.io.checkpoint import load_style
from painterly.stylize.checkpoints import cached_onnx_path, resolve_checkpoint

from conftest import fast_config, sigint_at
from helpers.run_if import run_if


def test_fit_logs_and_exports(tmp_path, photo_dir, style_image, capsys):
    with warnings.catch_warnings(record=True) as caught:
        path = train(fast_config(tmp_path, photo_dir, style_image, "style.working_size=300"))
    # None from painterly, nor the ones this design once caused. (Lightning's about the host, e.g. "GPU available
    # but not used" or "few workers", depend on the machine running the tests.)
    ours = [
        w
        for w in caught
        if "painterly" in w.filename or re.search(r"eval mode|flops_per_batch|treespec", str(w.message))
    ]
    assert not ours, [f"{w.filename}:{w.lineno}: {w.message}" for w in ours]
    assert path == tmp_path / "export" / "painting.pt"
    out = capsys.readouterr().out  # what the run says up front, and at the end how to use the style
    assert f"run dir: {tmp_path / 'run'}" in out and "watch it: tensorboard --logdir " in out
    assert "4 steps" in out and re.search(r"step 2/4: [\d.]+ s/step, about \d+ min to go", out)
    assert f"use it: python stylize.py ckpt={path} input=photo.jpg" in out
    assert "warning: this recipe takes" not in out  # 4 tiny steps are no long recipe

    record = torch.load(path, weights_only=True)
    assert record["style"]["name"] == "painting" and record["steps"] == 4
    assert record["style"]["working_size"] == 300  # the size to render at, from the style's config
    assert record["model"]["_target_"].endswith("TransformerNet") and record["model"]["width"] == 4
    assert record["loss"]["style_layers"] and record["recipe"]["trainer"]["max_steps"] == 4
    assert record["style_thumbnail"].dtype == torch.uint8 and record["style_thumbnail"].shape[0] == 3
    assert not any(k.startswith("loss.") for k in record["state_dict"])

    model, _ = load_style(path)
    image = torch.rand(1, 3, 32, 32)
    assert model(image).shape == image.shape
    assert cached_onnx_path(path).is_file()  # exported for stylize.py by the run itself

    run = tmp_path / "run"
    assert sorted(p.name for p in (run / "tensorboard" / "grids").glob("*.png")) == [
        "step_000002.png",
        "step_000004.png",
    ]
    events = EventAccumulator(str(run / "tensorboard")).Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"train/content_loss", "train/style_loss", "train/tv_loss", "train/total_loss", "lr-Adam"} <= scalars
    assert any("samples_per_sec" in tag for tag in scalars)
    assert any("flops_per_sec" in tag for tag in scalars)  # the module counts its FLOPs (flops_per_batch)
    assert "stylized" in events.Tags()["images"]


def test_resume_keeps_step_count_and_optimizer_state(tmp_path, photo_dir, style_image):
    train(fast_config(tmp_path, photo_dir, style_image, "trainer.max_steps=2", run="first"))
    last = tmp_path / "first" / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 2

    resumed_elsewhere = fast_config(
        tmp_path, photo_dir, style_image, "trainer.max_steps=4", f"ckpt_path={last}", "overwrite=true", run="second"
    )
    with pytest.warns(UserWarning, match="dirpath has changed"):  # Lightning's true word on a resume into a new dir
        path = train(resumed_elsewhere)
    resumed = torch.load(tmp_path / "second" / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["global_step"] == 4
    adam_state = next(iter(resumed["optimizer_states"][0]["state"].values()))
    assert int(adam_state["step"]) == 4  # the optimizer went on from its saved moments
    assert torch.load(path, weights_only=True)["steps"] == 4


def test_lightning_checkpoint_loads_as_a_style(tmp_path, photo_dir, style_image):
    exported = train(fast_config(tmp_path, photo_dir, style_image))
    from_run, record = load_style(tmp_path / "run" / "checkpoints" / "last.ckpt")
    from_export, _ = load_style(exported)
    assert record["style"]["name"] == "painting"
    for (k, a), (_, b) in zip(from_run.state_dict().items(), from_export.state_dict().items()):
        torch.testing.assert_close(a, b, msg=k)


def test_export_never_clobbers_an_existing_style(tmp_path, photo_dir, style_image):
    shipped = tmp_path / "export" / "painting.pt"
    shipped.parent.mkdir()
    shipped.write_bytes(b"shipped")
    path = train(fast_config(tmp_path, photo_dir, style_image))
    assert shipped.read_bytes() == b"shipped" and path == tmp_path / "run" / "painting.pt" and path.exists()
    assert train(fast_config(tmp_path, photo_dir, style_image, "overwrite=true", run="again")) == shipped
    assert torch.load(shipped, weights_only=True)["style"]["name"] == "painting"


def test_corrupt_photos_are_skipped_and_counted(tmp_path, photo_dir, style_image, capsys):
    (photo_dir / "zero.jpg").write_bytes(b"")
    (photo_dir / "truncated.jpg").write_bytes((photo_dir / "photo_0.jpg").read_bytes()[:200])
    (photo_dir / "text.png").write_text("not an image")
    train(fast_config(tmp_path, photo_dir, style_image, "data.num_holdout=0", "trainer.max_steps=8"))
    out = capsys.readouterr().out
    named = {line.rsplit("/", 1)[-1] for line in out.splitlines() if line.startswith("warning: skipping unreadable")}
    assert named == {"zero.jpg", "truncated.jpg", "text.png"}  # each named once, as it comes (the first few)
    assert "skipped 3 unreadable image(s)" in out


def test_missing_dataset_fails_in_one_line(tmp_path, style_image):
    with pytest.raises(PainterlyError) as error:
        train(fast_config(tmp_path, tmp_path / "nowhere", style_image))
    assert "\n" not in str(error.value) and "data=samples" in str(error.value) and "nowhere" in str(error.value)


def test_a_bad_loss_network_file_fails_in_one_line(tmp_path, photo_dir, style_image):
    with pytest.raises(PainterlyError, match=r"missing\.pth: cannot read VGG weights"):
        train(fast_config(tmp_path, photo_dir, style_image, f"loss.vgg.weights={tmp_path / 'missing.pth'}"))


def test_unknown_style_is_one_line_listing_the_styles():
    result = subprocess.run([sys.executable, str(ROOT / "train.py"), "style=nope"], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "train: unknown style 'nope'; choose from: shipwreck, starry_night, the_scream, woman_with_hat"
    )


def endless_run(photo_dir, style_image, *overrides) -> list[str]:
    """`python train.py debug=fast ...` that trains until it is stopped."""
    return [sys.executable, str(ROOT / "train.py"), "debug=fast", "trainer.max_steps=100000", f"data.root={photo_dir}",
            "data.num_holdout=2", f"style.image={style_image}", *overrides]  # fmt: skip


def signal_when(process: subprocess.Popen, ready, signum: int, seconds: float = 600) -> None:
    """Send `signum` once `ready()` holds, then wait for the end; fails if training ends or stalls first."""
    try:
        deadline = time.monotonic() + seconds  # the CPU may be shared with other runs
        while not ready():
            assert process.poll() is None and time.monotonic() < deadline, "training ended or stalled"
            time.sleep(0.2)
        process.send_signal(signum)
        process.wait(timeout=120)
    finally:
        process.kill()
        process.wait()


def test_a_run_killed_with_sigkill_resumes_from_its_last_checkpoint(tmp_path, photo_dir, style_image):
    run = tmp_path / "killed"
    last = run / "checkpoints" / "last.ckpt"
    command = endless_run(photo_dir, style_image, f"hydra.run.dir={run}", f"export_dir={tmp_path / 'x'}")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    signal_when(
        process, lambda: last.exists() and torch.load(last, weights_only=True)["global_step"] >= 4, signal.SIGKILL
    )
    saved_step = torch.load(last, weights_only=True)["global_step"]  # never half-written, even when killed
    assert saved_step >= 4 and saved_step % 2 == 0
    resumed_elsewhere = fast_config(
        tmp_path, photo_dir, style_image, f"trainer.max_steps={saved_step + 2}", f"ckpt_path={last}"
    )
    with pytest.warns(UserWarning, match="dirpath has changed"):  # this test resumes into a new run dir
        path = train(resumed_elsewhere)
    assert torch.load(path, weights_only=True)["steps"] == saved_step + 2


@run_if(gpu=True)
def test_one_bf16_step_on_cuda_exports_a_style(tmp_path, photo_dir, style_image):
    path = train(fast_config(tmp_path, photo_dir, style_image, "trainer=gpu", "trainer.max_steps=1"))
    record = torch.load(path, weights_only=True)
    assert record["steps"] == 1 and record["recipe"]["trainer"]["accelerator"] == "gpu"
    assert all(torch.isfinite(v).all() for v in record["state_dict"].values() if v.is_floating_point())


def test_a_run_whose_held_out_photos_are_unreadable_still_exports(tmp_path, photo_dir, style_image):
    for name in ("photo_0.jpg", "photo_3.jpg"):  # the two held out of six photos
        (photo_dir / name).write_bytes(b"not a photo")
    path = train(fast_config(tmp_path, photo_dir, style_image, "trainer.max_steps=2"))
    assert torch.load(path, weights_only=True)["steps"] == 2
    assert (tmp_path / "run" / "tensorboard" / "grids" / "step_000002.png").is_file()


def test_an_unwritable_export_dir_fails_before_training(tmp_path, photo_dir, style_image):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(PainterlyError) as error:
        train(fast_config(tmp_path, photo_dir, style_image, f"export_dir={tmp_path / 'a_file' / 'styles'}"))
    assert "\n" not in str(error.value) and "export_dir" in str(error.value) and "not writable" in str(error.value)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_failed_export_says_where_the_run_is_and_how_to_export_it(tmp_path, photo_dir, style_image, monkeypatch):
    def disk_full(record, path, overwrite=True):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("painterly.cli.train.save_style", disk_full)
    with pytest.raises(PainterlyError) as error:
        train(fast_config(tmp_path, photo_dir, style_image, "trainer.max_steps=3"))  # 3: between two scheduled saves
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    message = str(error.value)
    assert "\n" not in message and "No space left on device" in message
    assert str(last) in message and f"python train.py ckpt_path={last}" in message
    assert torch.load(last, weights_only=True)["global_step"] == 3  # the final step, not the last scheduled one


def test_smoke_runs_export_into_their_run_dir(tmp_path):
    cfg = compose_config("train", ["debug=fast", f"paths.output_dir={tmp_path}"])
    assert export_path(cfg) == tmp_path / "starry_night.pt"


def test_a_resumed_smoke_run_replaces_its_own_style_without_a_notice(tmp_path, capsys):
    cfg = compose_config("train", ["debug=fast", f"paths.output_dir={tmp_path}"])
    (tmp_path / "starry_night.pt").write_bytes(b"this run's style at an earlier step")
    assert export_path(cfg) == tmp_path / "starry_night.pt"
    assert "overwrite" not in capsys.readouterr().out  # not "exists, so this run exports to" the same file


def test_a_style_another_run_exported_meanwhile_is_kept(tmp_path, photo_dir, style_image, capsys):
    cfg = fast_config(tmp_path, photo_dir, style_image)
    target = export_path(cfg)  # chosen at start-up, when the checkpoint folder had no such style
    assert target == tmp_path / "export" / "painting.pt"
    target.parent.mkdir()
    target.write_bytes(b"the other run's style")  # a second run of the same style finished first
    path = export_style(cfg, None, SimpleNamespace(style_checkpoint=lambda: {"steps": 7}), target)
    assert path == tmp_path / "run" / "painting.pt" and torch.load(path, weights_only=True) == {"steps": 7}
    assert target.read_bytes() == b"the other run's style"
    assert f"exists and overwrite=false, so this run exports to {path}" in capsys.readouterr().out


def test_init_from_starts_from_a_trained_style(tmp_path, photo_dir, style_image, style_ckpt, capsys):
    start = load_style(style_ckpt)[0].state_dict()
    cfg = fast_config(tmp_path, photo_dir, style_image, f"init_from={style_ckpt}", "trainer.max_steps=0")
    path = train(cfg)
    assert f"starting from {style_ckpt}: 0 steps of tiny" in capsys.readouterr().out
    trained = load_style(path)[0].state_dict()
    assert all(torch.equal(trained[k], start[k]) for k in start)  # no steps taken: the weights it started from


def test_init_from_adds_a_noise_input_that_starts_at_zero(tmp_path, photo_dir, style_image, style_ckpt):
    start = load_style(style_ckpt)[0].state_dict()
    overrides = (f"init_from={style_ckpt}", "model.net.noise_channels=8", "trainer.max_steps=0")
    noisy = train(fast_config(tmp_path, photo_dir, style_image, *overrides))
    trained = load_style(noisy)[0].state_dict()
    assert all(torch.equal(trained[k], start[k]) for k in start) and not trained["noise.project.weight"].any()
    with pytest.raises(PainterlyError, match=r"its network \{.*'noise_channels': 8\} does not fit"):
        train(fast_config(tmp_path, photo_dir, style_image, f"init_from={noisy}", run="back"))  # the noise, dropped


def test_init_from_a_network_of_another_shape_says_which(tmp_path, photo_dir, style_image, style_ckpt):
    cfg = fast_config(tmp_path, photo_dir, style_image, f"init_from={style_ckpt}", "model=johnson_slim")
    with pytest.raises(
        PainterlyError, match=r"init_from=.*tiny.pt: its network \{'width': 4, 'num_residual': 1\} does"
    ):
        train(cfg)


def test_runs_started_in_the_same_second_get_their_own_run_dirs():
    same_second = (
        "from omegaconf import OmegaConf; from painterly.config import compose_config; "
        "cfg = compose_config('train', [], hydra_config=True); "  # composing registers Hydra's own `now`
        "OmegaConf.register_new_resolver('now', lambda pattern: '2025-01-01_00-00-00', replace=True); "
        "print(cfg.hydra.run.dir)"
    )
    dirs = {
        subprocess.run([sys.executable, "-c", same_second], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(dirs) == 2


def interrupt_after_two_steps(tmp_path, photo_dir, style_image, signum):
    """`python train.py debug=fast` as a user runs it (in a project root of its own), sent `signum` once a step has
    been checkpointed; returns (process result, run dir)."""
    log = tmp_path / "output.txt"  # a file, not a pipe: a full pipe would stall the progress bar, and the run
    with log.open("w") as output:
        process = subprocess.Popen(
            endless_run(photo_dir, style_image),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            preexec_fn=sigint_at(signal.SIG_DFL),  # as from a terminal
        )
        signal_when(process, lambda: list(tmp_path.glob("logs/train/runs/*/checkpoints/last.ckpt")), signum)
    (run,) = tmp_path.glob("logs/train/runs/*")
    return process.returncode, log.read_text(), run


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_sigterm_or_ctrl_c_saves_the_run_and_the_style_so_far(tmp_path, photo_dir, style_image, signum, capsys):
    returncode, output, run = interrupt_after_two_steps(tmp_path, photo_dir, style_image, signum)
    assert returncode == 128 + signum and "Traceback" not in output, output
    last, partial = run / "checkpoints" / "last.ckpt", run / "painting.partial.pt"
    step = torch.load(last, weights_only=True)["global_step"]
    record = torch.load(partial, weights_only=True)
    assert record["partial"] is True and record["steps"] == step >= 2
    assert not (run / "painting.pt").exists() and not (tmp_path / "checkpoints").exists()
    assert f"resumable checkpoint: {last}" in output and f"style so far (partial): {partial}" in output
    assert f"resume: python train.py ckpt_path={last}" in output
    resolve_checkpoint(
        partial
    )  # stylize.py's lookup: a partial style is used, with a warning that says how to finish it
    assert f"is the style of an interrupted training run; `python train.py ckpt_path={last}` finishes it" in (
        capsys.readouterr().err
    )

    if signum == signal.SIGINT:  # the resume command as printed (and as the README writes it), two steps further
        resumed = subprocess.run(
            [sys.executable, str(ROOT / "train.py"), f"ckpt_path={last}", f"trainer.max_steps={step + 2}"],
            check=False,
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert resumed.returncode == 0, resumed.stderr
        exported = torch.load(run / "painting.pt", weights_only=True)  # same run dir, debug=fast's export_dir
        assert exported["steps"] == step + 2 and exported["model"]["width"] == 4 and "partial" not in exported
        assert len(list((run / "tensorboard").glob("events.*"))) == 2  # one run dir: one TensorBoard curve
        assert list(tmp_path.glob("logs/train/runs/*")) == [run] and not (tmp_path / "checkpoints").exists()


def test_sigterm_to_the_whole_process_group_reaches_the_workers_too_and_still_saves(tmp_path, photo_dir, style_image):
    # `kill -- -PGID` or `pkill -f train.py` also hits the data-loading workers: the run must still stop cleanly
    log = tmp_path / "output.txt"
    command = endless_run(photo_dir, style_image, "data.num_workers=1")
    with log.open("w") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 600
            while not list(tmp_path.glob("logs/train/runs/*/checkpoints/last.ckpt")):
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=120)
        finally:
            process.kill()
            process.wait()
    (run,) = tmp_path.glob("logs/train/runs/*")
    assert process.returncode == 128 + signal.SIGTERM and "Traceback" not in log.read_text(), log.read_text()
    assert (run / "painting.partial.pt").is_file()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data=folder", "data.root is required"),
        ("data.image_size=0", "data.image_size=0: must be a whole number, at least 16"),
        ("data.batch_size=0", "data.batch_size=0: must be a whole number, at least 1"),
        ("data.resize=1", "data.resize=1: must be a whole number, at least"),
        ("model.optimizer.lr=-1", "model.optimizer.lr=-1: must be a number above 0"),
        ("style.working_size=32", "style.working_size must be a whole number of pixels from 64 to 16384, not 32"),
        ("style.working_size=512.5", "style.working_size must be a whole number of pixels"),
        ("ckpt_path=nowhere.ckpt", "nowhere.ckpt: no such checkpoint"),
        ("ckpt_path=README.md", "README.md: not a loadable checkpoint"),
    ],
)
def test_a_bad_training_option_fails_in_one_line_before_training(override, message, tmp_path, style_image, monkeypatch):
    monkeypatch.chdir(ROOT)
    overrides = [f"style.image={style_image}", f"paths.output_dir={tmp_path}", "debug=fast", override]
    with pytest.raises(PainterlyError) as error:
        train(compose_config("train", overrides))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    assert not list(tmp_path.glob("checkpoints/*")) and not list(tmp_path.glob("tensorboard"))


def test_a_style_checkpoint_as_ckpt_path_says_what_to_give(tmp_path, style_ckpt, style_image):
    overrides = [f"style.image={style_image}", f"paths.output_dir={tmp_path}", f"ckpt_path={style_ckpt}"]
    with pytest.raises(PainterlyError, match="not a training checkpoint; a run resumes from .*last.ckpt"):
        train(compose_config("train", overrides))


def test_the_export_notice_comes_first_and_lightning_ads_are_dropped(tmp_path, photo_dir, style_image, capsys):
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "painting.pt").write_bytes(b"someone's style")
    cfg = fast_config(tmp_path, photo_dir, style_image, "trainer.max_steps=0")
    from painterly.cli.train import export_path

    assert export_path(cfg) == tmp_path / "run" / "painting.pt"
    assert "exists and overwrite=false, so this run exports to" in capsys.readouterr().out
    assert export_path(cfg, said=tmp_path / "run" / "painting.pt") and not capsys.readouterr().out  # said once
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    assert not rank_zero.filter(logging.makeLogRecord({"msg": "💡 Tip: For seamless cloud logging, try litlogger"}))
    assert rank_zero.filter(logging.makeLogRecord({"msg": "`Trainer.fit` stopped: `max_steps=4` reached."}))


def test_a_long_cpu_recipe_is_warned_about_with_hours_and_the_faster_recipe(capsys):

    from painterly.training.callbacks import RunInfo

    trainer = SimpleNamespace(
        max_steps=40000,
        global_step=0,
        precision="bf16-mixed",
        default_root_dir="logs/train/runs/x",
        datamodule=SimpleNamespace(batch_size=4, image_size=256),
    )
    RunInfo("logs/train").on_train_start(trainer, SimpleNamespace(device=torch.device("cpu")))
    out = capsys.readouterr().out
    assert "40000 steps" in out and "tensorboard --logdir logs/train" in out
    assert "warning: this recipe takes about 19 h 34 min on a CPU" in out and "experiment=demo" in out
