"""A resume takes the network, style, data and loss from its checkpoint, as checked overrides of our configs."""

import pytest
import torch
from PIL import Image

from painterly import PainterlyError
from painterly.cli.train import train
from painterly.config import compose_config
from painterly.training.resume import check_resume, resume_overrides

from conftest import make_style_checkpoint, write_photos


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A 2-step debug=fast run of the tiny network on 64 px crops of photos at 72 px, with a 2-layer style loss and a
    patch loss, a cosine schedule and settings of its own for what resume keeps (learning rate, save cadence)."""
    root = tmp_path_factory.mktemp("resume")
    photos = root / "photos"
    write_photos(photos)
    Image.new("RGB", (48, 48), "orange").save(root / "painting.png")
    train(
        compose_config(
            "train",
            [
                "debug=fast",
                f"data.root={photos}",
                "data.num_holdout=2",
                f"style.image={root / 'painting.png'}",
                f"paths.output_dir={root / 'run'}",
                "trainer.enable_progress_bar=false",
                "trainer.max_steps=2",
                "~loss.style_layers",
                "+loss.style_layers={relu1_1:1.0,relu2_1:2.0}",
                "loss.patch_layers={relu2_1:0.5}",
                "loss.style_octaves=1",
                "loss.style_octave_layers={relu2_1:0.5}",
                "loss.style_shift_layers={relu2_1:0.5}",
                "loss.style_shift_px=4",
                "loss.style_shift_diagonals=true",
                "data.resize=72",
                "model.optimizer.lr=0.002",
                "scheduler=cosine",
                "callbacks.model_checkpoint.every_n_train_steps=1",
                "callbacks.model_checkpoint.save_top_k=-1",
                "callbacks.style_grid.every_n_steps=7",
            ],
        )
    )
    return root / "run"


def test_resume_composes_the_checkpoints_recipe(run):
    last = run / "checkpoints" / "last.ckpt"
    overrides = resume_overrides([f"ckpt_path={last}"])
    cfg = compose_config("train", [f"ckpt_path={last}", *overrides], hydra_config=True)
    assert cfg.model.net.width == 4 and cfg.model.net.num_residual == 1  # not the default network: no size mismatch
    assert cfg.data.image_size == 64 and cfg.style.size == 64 and cfg.style.name == "painting"
    assert dict(cfg.loss.style_layers) == {"relu1_1": 1.0, "relu2_1": 2.0}  # replaced, not merged into the default
    assert dict(cfg.loss.patch_layers) == {"relu2_1": 0.5} and cfg.loss.style_octaves == 1
    assert dict(cfg.loss.style_octave_layers) == {"relu2_1": 0.5}
    assert dict(cfg.loss.style_shift_layers) == {"relu2_1": 0.5}  # the shifted Grams of the second legs
    assert cfg.loss.style_shift_px == 4 and cfg.loss.style_shift_diagonals is True
    assert cfg.trainer.max_steps == 2 and cfg.hydra.run.dir == str(run)  # same run dir: one TensorBoard curve
    assert cfg.export_dir == str(run)  # a debug run stays out of checkpoints/ when resumed
    # the rest of the recipe: a resume that forgot these would go on training a different recipe, silently
    assert cfg.data.resize == 72 and cfg.model.optimizer.lr == 0.002
    assert cfg.data.batch_size == 2  # debug=fast's, not the default 4
    # and what an unbroken run's crops depend on: the workers (debug=fast's 0, not data=samples' 2), the hold-out
    assert cfg.data.num_workers == 0 and cfg.data.num_holdout == 2 and cfg.seed == 42
    assert cfg.model.scheduler._target_ == "torch.optim.lr_scheduler.CosineAnnealingLR"
    checkpoint, grid = cfg.callbacks.model_checkpoint, cfg.callbacks.style_grid
    assert (checkpoint.every_n_train_steps, checkpoint.save_top_k, grid.every_n_steps) == (1, -1, 7)


def test_a_resume_may_change_how_often_it_saves(run):
    last = run / "checkpoints" / "last.ckpt"
    args = [f"ckpt_path={last}", "callbacks.model_checkpoint.every_n_train_steps=50"]
    cfg = compose_config("train", [*args, *resume_overrides(args)])
    assert cfg.callbacks.model_checkpoint.every_n_train_steps == 50 and cfg.callbacks.style_grid.every_n_steps == 7


def test_resume_allows_agreeing_and_unrelated_overrides(run):
    last = run / "checkpoints" / "last.ckpt"
    overrides = resume_overrides([f"ckpt_path={last}", "data.image_size=64", "trainer.max_steps=10", "debug=fast"])
    cfg = compose_config("train", [f"ckpt_path={last}", "trainer.max_steps=10", "debug=fast", *overrides])
    assert cfg.trainer.max_steps == 10 and cfg.data.image_size == 64


@pytest.mark.parametrize(
    "override, key",
    [
        ("model.net.width=8", "model.net.width"),
        ("model=johnson", "model.net.width"),
        ("style=the_scream", "style.name"),
        ("data.image_size=128", "data.image_size"),
        ("loss.tv_weight=5", "loss.tv_weight"),
        ("loss.patch_layers={relu2_1:1.0}", "loss.patch_layers"),
        ("style.weight=2", "loss.style_weight"),
        ("data.resize=80", "data.resize"),
        ("data.batch_size=5", "data.batch_size"),
        ("model.optimizer.lr=0.1", "model.optimizer.lr"),
    ],
)
def test_resume_refuses_contradicting_overrides_in_one_line(run, override, key):
    last = run / "checkpoints" / "last.ckpt"
    with pytest.raises(PainterlyError) as error:
        resume_overrides([f"ckpt_path={last}", override])
    assert "\n" not in str(error.value) and key in str(error.value) and str(last) in str(error.value)


def test_fitting_with_a_config_that_differs_from_the_checkpoint_is_one_line(run, tmp_path):
    cfg = compose_config(
        "train",
        [f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", f"paths.output_dir={tmp_path}", f"export_dir={tmp_path}"],
    )  # the default network, not the tiny one trained
    with pytest.raises(PainterlyError, match=r"was trained with model\.net\.width=4, not 16"):
        train(cfg)


def test_a_constant_rate_run_resumes_at_a_constant_rate(tmp_path, photo_dir, style_image):
    """The default scheduler is the cosine, so a resume must remove it for a run that had none, not fall back on it
    (check_resume would then refuse the very command it suggests)."""
    common = ["debug=fast", f"data.root={photo_dir}", "data.num_holdout=2", f"style.image={style_image}"]
    args = [*common, f"paths.output_dir={tmp_path}", "trainer.enable_progress_bar=false", "trainer.max_steps=1"]
    train(compose_config("train", [*args, "~scheduler"]))
    resume = [f"ckpt_path={tmp_path / 'checkpoints' / 'last.ckpt'}", "trainer.max_steps=2"]
    cfg = compose_config("train", [*resume, *resume_overrides(resume)])
    assert cfg.model.scheduler is None
    check_resume(cfg)


def test_a_bad_ckpt_path_is_one_line(tmp_path):
    (tmp_path / "notes.ckpt").write_text("not a checkpoint")
    style = make_style_checkpoint(tmp_path / "tiny.pt")
    for path, problem in [
        (tmp_path / "missing.ckpt", "no such checkpoint"),
        (tmp_path / "notes.ckpt", "not a loadable checkpoint"),
        (style, "not a training checkpoint"),
    ]:
        with pytest.raises(PainterlyError) as error:
            resume_overrides([f"ckpt_path={path}"])
        assert str(error.value).startswith(str(path)) and problem in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("data.root", "${oc.env:HOME}", "data.root must be a path"),
        ("data.root", "x' trainer.max_steps=1 '", "data.root must be a path"),
        ("data.image_size", 10**9, "data.image_size must be an integer"),
        ("data.image_size", {"_target_": "builtins.len", "_args_": ["ab"]}, "data.image_size must be an integer"),
        ("style.size", "64", "style.size must be an integer"),
        ("trainer.max_steps", -1, "trainer.max_steps must be an integer"),
        ("data.resize", "${oc.env:HOME}", "data.resize must be an integer"),
        ("data.resize", 8, "data.resize must be an integer in \\[64,"),  # below the crop it was trained with
        ("model.optimizer", {"lr": float("inf")}, "model.optimizer.lr must be a finite"),
        ("scheduler._target_", "os.system", "unknown scheduler"),
    ],
)
def test_a_tampered_recipe_is_refused(run, tmp_path, field, value, problem):
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    section, key = field.split(".")
    checkpoint["painterly"]["recipe"][section][key] = value
    torch.save(checkpoint, tmp_path / "evil.ckpt")
    with pytest.raises(PainterlyError, match=problem):
        resume_overrides([f"ckpt_path={tmp_path / 'evil.ckpt'}"])


@pytest.mark.parametrize(
    "loss, problem",
    [
        ({"style_layers": {"__import__('os')": 1.0}}, "unknown VGG19 layer"),
        ({"style_layers": {"relu1_1": float("nan")}}, "must be a finite non-negative number"),
        ({"tv_weight": {"_target_": "builtins.float", "_args_": ["1"]}}, "must be a finite non-negative number"),
        ({"patch_layers": {"relu9_9": 1.0}}, "unknown VGG19 layer"),
        ({"patch_layers": "relu2_1"}, "must map VGG19 layer names to weights"),
        ({"style_octaves": "__import__('os')"}, "must be an integer in"),
        ({"style_octaves": 9}, "must be an integer in"),
        ({"style_octave_layers": {"relu2_1": -1.0}}, "must be a finite non-negative number"),
        ({"style_octave_layers": ["relu2_1"]}, "must map VGG19 layer names to weights"),
        ({"style_shift_layers": {"relu2_1": "${oc.env:HOME}"}}, "must be a finite non-negative number"),
        ({"style_shift_px": 0}, "must be an integer in"),
        ({"style_shift_diagonals": "yes"}, "must be true or false"),
    ],
)
def test_a_tampered_loss_is_refused(run, tmp_path, loss, problem):
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    checkpoint["painterly"]["loss"].update(loss)
    torch.save(checkpoint, tmp_path / "evil.ckpt")
    with pytest.raises(PainterlyError, match=problem):
        resume_overrides([f"ckpt_path={tmp_path / 'evil.ckpt'}"])


def test_a_checkpoint_from_before_the_patch_loss_octaves_and_shifts_resumes_without_them(run, tmp_path):
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    old = ("patch_layers", "style_octaves", "style_octave_layers")
    for key in (*old, "style_shift_layers", "style_shift_px", "style_shift_diagonals"):
        del checkpoint["painterly"]["loss"][key]
    torch.save(checkpoint, tmp_path / "old.ckpt")
    args = [f"ckpt_path={tmp_path / 'old.ckpt'}"]
    loss = compose_config("train", [*args, *resume_overrides(args)]).loss
    assert loss.patch_layers is None and loss.style_octaves == 0 and loss.style_octave_layers is None
    assert loss.style_shift_layers is None and loss.style_shift_px == 32 and loss.style_shift_diagonals is False


@pytest.mark.parametrize("stop, noise_channels", [(5, 0), (4, 0), (2, 0), (2, 4)])
def test_a_stopped_and_resumed_run_trains_the_weights_of_an_unbroken_one(
    tmp_path, photo_dir, style_image, recwarn, stop, noise_channels
):
    """4 training photos at batch 1: step 5 is the first batch of the second epoch, step 4 ends the first, step 2 is in
    the first after the FLOPs count's draw. Before the data loader kept its state, a resume drew the epoch's shuffle and
    crops afresh (and Lightning warned that it was not resumable). A noise input draws from the RNG that the crops
    come from."""

    def run(name, *overrides):
        common = [
            "debug=fast",
            f"data.root={photo_dir}",
            "data.num_holdout=2",
            "data.batch_size=1",
            f"style.image={style_image}",
            "trainer.enable_progress_bar=false",
            f"callbacks.model_checkpoint.every_n_train_steps={stop}",
            "~scheduler",  # constant rate: the stop is a shorter run, whose cosine would decay on another curve
            f"model.net.noise_channels={noise_channels}",
        ]
        args = [*common, f"paths.output_dir={tmp_path / name}", *overrides]
        return torch.load(train(compose_config("train", [*args, *resume_overrides(args)])), weights_only=True)

    unbroken = run("unbroken", "trainer.max_steps=7")
    run("stopped", f"trainer.max_steps={stop}")
    resumed = run("stopped", f"ckpt_path={tmp_path / 'stopped' / 'checkpoints' / 'last.ckpt'}", "trainer.max_steps=7")
    assert resumed["steps"] == unbroken["steps"] == 7
    for name, weight in unbroken["state_dict"].items():
        assert torch.equal(weight, resumed["state_dict"][name]), name
    assert not [w for w in recwarn if "not resumable" in str(w.message)]  # Lightning's warning before
