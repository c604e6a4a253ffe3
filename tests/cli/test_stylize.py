"""The stylize command as users run it: exit codes and one-line messages. Each launch costs seconds, so few."""

import pickletools
import re
import resource
import signal
import subprocess
import sys
import time
import zipfile

import pytest
import torch
from PIL import Image

from painterly.cli.launch import launch
from painterly.config import ROOT
from painterly.stylize.johnson import Johnson

from conftest import (
    make_clip,
    make_style_checkpoint,
    run_script,
    sigint_at,
    write_bad_images,
    write_bomb,
    write_photos,
)


def stylize(*args, cwd=ROOT):
    return run_script("stylize.py", *args, cwd=cwd, timeout=120)


def test_folder_with_bad_files(tmp_path, style_ckpt):
    photos = write_photos(tmp_path / "in", count=2)
    reasons = write_bad_images(tmp_path / "in")
    result = stylize(
        f"ckpt={style_ckpt}",
        f"input={tmp_path / 'in'}",
        f"output={tmp_path / 'out'}",
        "preserve_color=true",
        "strength=0.8",
        "tile=32",
        "tile_overlap=8",
        "device=cpu",
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    failures = sorted(line for line in result.stderr.splitlines() if line.startswith("stylize: "))
    assert len(failures) == len(reasons)
    for line, (name, reason) in zip(failures, sorted(reasons.items())):
        assert line.startswith(f"stylize: {tmp_path / 'in' / name}: ") and reason in line
    assert result.stdout.splitlines()[-1].startswith("stylize: done 2 images, failed 4, ")
    for photo in photos:
        assert Image.open(tmp_path / "out" / photo.name).size == Image.open(photo).size
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in photos)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "tiny.pt"]  # no run dir or logs


def test_a_checkpoint_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    evil = tmp_path / "evil.pt"
    torch.save({"format": "painterly-style", "payload": Payload()}, evil)
    # the payload is live, shown without running it: the pickle calls open(marker, "w") when unpickled
    with zipfile.ZipFile(evil) as archive:
        pickled = archive.read(next(name for name in archive.namelist() if name.endswith("data.pkl")))
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(pickled)]
    assert ("GLOBAL", "io open") in ops and ("BINUNICODE", str(marker)) in ops and ("REDUCE", None) in ops
    write_photos(tmp_path, count=1)
    result = stylize(f"ckpt={evil}", f"input={tmp_path / 'photo_0.jpg'}", f"output={tmp_path / 'o.png'}")
    assert result.returncode == 1 and not marker.exists() and not (tmp_path / "o.png").exists()
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"stylize: {evil}: not a loadable checkpoint")


def test_unknown_key_fails_in_one_line(tmp_path):
    result = stylize("ckpt=x", "input=y.jpg", "strenght=0.5", cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "strenght" in result.stderr
    assert result.stderr.startswith("stylize: ") and not list(tmp_path.iterdir())


# method=adain|gatys as users run them
def test_adain_keeps_the_size_with_alpha_and_preserve_color(tmp_path, photo_dir, style_image):
    photo = photo_dir / "photo_0.jpg"  # 40 x 32
    options = ["alpha=0.8", "preserve_color=true"]
    result = stylize("method=adain", f"style={style_image}", f"input={photo}", f"output={tmp_path / 'a.png'}", *options)
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "a.png").size == (40, 32)


def test_gatys_works_at_size_and_is_quiet_off_a_terminal(tmp_path, photo_dir, style_image):
    photo, options = photo_dir / "photo_0.jpg", ["size=48", "iterations=3", "optimizer=adam"]  # a 40 x 32 photo
    result = stylize("method=gatys", f"style={style_image}", f"input={photo}", f"output={tmp_path / 'g.png'}", *options)
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "g.png").size == (48, 38)
    assert "gatys" not in result.stderr  # quiet: no progress bar when stderr is not a terminal


def test_a_bad_style_image_fails_in_one_line(tmp_path, photo_dir):
    photo = photo_dir / "photo_0.jpg"
    (tmp_path / "painting.jpg").write_text("not a picture")
    result = stylize("method=adain", f"style={tmp_path / 'painting.jpg'}", f"input={photo}")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"stylize: {tmp_path / 'painting.jpg'}: not an image")


def test_output_equal_to_input_is_refused_and_nothing_changes(tmp_path):
    photo = write_photos(tmp_path, count=1)[0]
    before = photo.read_bytes()
    for output in (photo, tmp_path):
        result = stylize("ckpt=none", f"input={photo}", f"output={output}", "overwrite=true", cwd=tmp_path)
        assert (
            result.returncode == 1
            and result.stderr == f"stylize: output={output}: would overwrite the input {photo}; choose another output\n"
        )
    assert photo.read_bytes() == before


def limited_memory(gigabytes):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (int(gigabytes * 1e9),) * 2)

    return limit


def test_a_decompression_bomb_is_refused_under_a_memory_limit(tmp_path, style_ckpt):
    """Without the check, the bomb decodes (196 MB, then 0.6 GB as RGB, then 2.4 GB as floats) until the limit
    fails an allocation; without a limit it grew past 20 GB until the kernel killed stylize.py."""
    Johnson(style_ckpt, device="cpu")  # export and cache the style: the limited process then never loads torch
    photos = write_photos(tmp_path / "in", count=2)
    write_bomb(tmp_path / "in" / "bomb.png")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "stylize.py"),
            f"ckpt={style_ckpt}",
            f"input={tmp_path / 'in'}",
            f"output={tmp_path / 'out'}",
            "device=cpu",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        preexec_fn=limited_memory(2.5),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.fullmatch(
        f"stylize: {tmp_path / 'in' / 'bomb.png'}: needs about 157.8 GB to stylize, "
        r"[0-9.]+ GB available; try max_size=\d+ or tile=512\n",
        result.stderr,
    ), result.stderr
    assert result.stdout.splitlines()[-1].startswith("stylize: done 2 images, failed 1")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.name for p in photos]


def start_video(tmp_path, style_ckpt, out, sigint=signal.SIG_DFL):
    """stylize.py on a 6000-frame clip, one frame a batch; returns the process once its temporary output exists.
    SIGINT starts at `sigint`: by default as from a terminal. The clip takes 6 s or more (1 ms a frame on the fastest
    host seen), so that a signal sent within a second finds it running."""
    clip = make_clip(tmp_path / "clip.mp4", frames=6000, size=(64, 48), audio=False)
    Johnson(style_ckpt, device="cpu")  # cache the export: the subprocess starts in a second
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "stylize.py"),
            f"ckpt={style_ckpt}",
            f"input={clip}",
            f"output={out / 'clip.mp4'}",
            "batch_size=1",
            "device=cpu",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_at(sigint),
    )
    deadline = time.monotonic() + 120
    while not list(out.glob(".clip*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert list(out.glob(".clip*")), process.communicate()
    return process


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_video_leaves_no_temporary(tmp_path, style_ckpt, sig):
    out = tmp_path / "out"
    process = start_video(tmp_path, style_ckpt, out)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + sig and list(out.iterdir()) == []
    assert stderr == (
        f"stylize: stopped by {sig.name} while writing {out / 'clip.mp4'} (not written, no partial "
        "file left); done 0 images\n"
    )


def test_a_background_job_keeps_ignoring_ctrl_c(tmp_path, style_ckpt):
    out = tmp_path / "out"
    process = start_video(tmp_path, style_ckpt, out, sigint=signal.SIG_IGN)  # as `nohup stylize.py ... &` starts it
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)  # 200 frames or more: a handler would have stopped it within one (the test above)
    still_running = process.poll() is None
    process.terminate()
    stdout, stderr = process.communicate(timeout=60)
    assert still_running and process.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.startswith("stylize: stopped by SIGTERM while writing")


def test_a_temporary_left_by_kill_9_is_swept_by_the_next_run(tmp_path, style_ckpt):
    out = tmp_path / "out"
    process = start_video(tmp_path, style_ckpt, out)
    process.kill()
    process.wait()
    (left,) = out.glob(".clip*")  # SIGKILL cannot be caught: the temporary stays...
    photo = write_photos(tmp_path, count=1)[0]
    result = stylize(f"ckpt={style_ckpt}", f"input={photo}", f"output={out / 'photo.png'}", "device=cpu")
    assert result.returncode == 0 and not left.exists()  # ...until the next run in that folder
    assert result.stderr == f"stylize: {out}: removed 1 temporary file left by a killed run\n"
    assert sorted(p.name for p in out.iterdir()) == ["photo.png"]


NAMES = [
    "café.jpg",
    "photo (1).jpg",
    "it's.jpg",
    "a=b.jpg",
    "photo[1].jpg",
    "my photo.jpg",
    "a,b.jpg",
    "100%.jpg",
    "#1.jpg",
    "~t.jpg",
    '"q".jpg',
    "back\\slash.jpg",
    "null.jpg",
    "end\\.jpg",
]


def run_main(monkeypatch, *args):
    """`python stylize.py args...` in this process (a subprocess per name would take minutes)."""
    from painterly.cli.stylize import main

    monkeypatch.setattr(sys, "argv", ["stylize.py", *map(str, args)])
    with pytest.raises(SystemExit) as exit:
        main()
    return exit.value.code


@pytest.mark.parametrize("name", NAMES)
def test_ordinary_file_names_work_as_input_output_ckpt_and_style(name, tmp_path, monkeypatch, capsys):
    folder = tmp_path / name.replace(".jpg", "")  # the name as a folder too
    photo = folder / name
    folder.mkdir()
    Image.new("RGB", (40, 32), "teal").save(photo, format="JPEG")
    ckpt = make_style_checkpoint(tmp_path / name.replace(".jpg", ".pt"))
    monkeypatch.chdir(tmp_path)
    assert run_main(monkeypatch, f"ckpt={ckpt.name}", f"input={folder.name}/{name}", f"output=out/{name}") == 0
    assert Image.open(tmp_path / "out" / name).size == (40, 32)
    assert run_main(monkeypatch, f"ckpt={ckpt}", f"input={folder}", f"output={tmp_path / 'out2' / folder.name}") == 0
    assert (tmp_path / "out2" / folder.name / name).is_file()
    for config_name, arg, key in [  # the painting: stylize.py's style= (as style_image=), train's; photo folders
        ("stylize", "style_image", "style_image"),
        ("train", "style.image", "style"),
        ("train", "data.root", "data"),
    ]:
        cfg = launch("test", config_name, lambda cfg: cfg, [f"{arg}={photo}"], hydra_config=config_name == "train")
        value = cfg[key] if config_name != "train" else cfg[key][arg.split(".")[1]]
        assert value == str(photo), (config_name, arg)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("max_size=abc", "max_size=abc: must be a whole number of pixels above 0"),
        ("max_size=0", "max_size=0: must be"),
        ("max_size=-5", "max_size=-5: must be"),
        ("scale=-1", "scale=-1: must be a number above 0"),
        ("scale=0", "scale=0: must be"),
        ("strength=abc", "strength=abc: must be a number from 0"),
        ("tile=1", "tile must be at least 32"),
        ("tile=-3", "tile=-3: must be a whole number of pixels"),
        ("batch_size=0", "batch_size=0: must be a whole number above 0"),
        ("preserve_color=maybe", "preserve_color=maybe: must be true or false"),
        ("skip_existing=no", "skip_existing=no: must be true or false"),
    ],
)
def test_a_bad_option_fails_in_one_line_naming_key_value_and_what_is_allowed(
    option, message, tmp_path, monkeypatch, capsys, style_ckpt
):
    Image.new("RGB", (40, 32), "teal").save(tmp_path / "p.jpg")
    assert run_main(monkeypatch, f"ckpt={style_ckpt}", f"input={tmp_path / 'p.jpg'}", option) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"stylize: {message}") and err.count("\n") == 1
    assert not list(tmp_path.glob("p_stylized*"))


def test_a_reference_in_a_built_value_is_one_line(tmp_path, monkeypatch, capsys):
    # ckpt= and style= reach the method through hydra.utils.instantiate, which reads `${` as a reference
    Image.new("RGB", (40, 32), "teal").save(tmp_path / "p.jpg")
    assert run_main(monkeypatch, "ckpt=a${b}c", f"input={tmp_path / 'p.jpg'}") == 1
    err = capsys.readouterr().err
    assert err == (
        "stylize: method.ckpt: Interpolation key 'b' not found; a value with '${' in it is read as a reference\n"
    )


def test_skip_existing_with_every_output_there_loads_no_model(tmp_path, monkeypatch, capsys):
    Image.new("RGB", (40, 32), "teal").save(tmp_path / "p.jpg")
    (tmp_path / "out.jpg").write_bytes(b"done before")
    args = ["ckpt=no_such_style", f"input={tmp_path / 'p.jpg'}", f"output={tmp_path / 'out.jpg'}", "skip_existing=true"]
    assert run_main(monkeypatch, *args) == 0  # the missing checkpoint is never looked up
    assert capsys.readouterr().out == "stylize: nothing to do: every output exists\n"
    assert (tmp_path / "out.jpg").read_bytes() == b"done before"


def test_where_it_wrote_when_no_output_is_given(tmp_path, monkeypatch, capsys, style_ckpt):
    Image.new("RGB", (40, 32), "teal").save(tmp_path / "p.jpg")
    assert run_main(monkeypatch, f"ckpt={style_ckpt}", f"input={tmp_path / 'p.jpg'}") == 0
    out = capsys.readouterr().out
    assert out.strip().endswith(f"; wrote {tmp_path / 'p_stylized.jpg'}") and out.count("\n") == 1


def test_list_names_the_styles_and_where_each_lives(tmp_path, monkeypatch, capsys):
    ckpt = make_style_checkpoint(tmp_path / "checkpoints" / "mine.pt")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["stylize.py", "list"])
    from painterly.cli.stylize import main

    main()
    out = capsys.readouterr().out
    assert "mine" in out and str(ckpt) in out and "the_scream" in out and "python train.py style=" in out
    assert f"mine                 {ckpt}\n" in out  # no working size: nothing said


def test_list_says_at_what_size_to_render_a_style_whose_checkpoint_says_so(tmp_path, monkeypatch, capsys):
    ckpt = make_style_checkpoint(tmp_path / "checkpoints" / "sized.pt")
    record = torch.load(ckpt, weights_only=True)
    torch.save({**record, "style": {**record["style"], "working_size": 512}}, ckpt)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["stylize.py", "list"])
    from painterly.cli.stylize import main

    main()
    assert f"sized                {ckpt} (render at about 512 px on the long side: max_size=512)\n" in (
        capsys.readouterr().out
    )


def test_fp16_on_a_cpu_warns_and_says_what_to_use(tmp_path, monkeypatch, capsys, style_ckpt):
    Image.new("RGB", (40, 32), "teal").save(tmp_path / "p.jpg")
    args = [f"ckpt={style_ckpt}", f"input={tmp_path / 'p.jpg'}", "device=cpu", "precision=fp16", "engine=torch"]
    assert run_main(monkeypatch, *args) == 0
    assert "precision=fp16 is slow on a CPU; use precision=auto" in capsys.readouterr().err
