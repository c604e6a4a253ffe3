import csv

from PIL import Image

from conftest import run_script


def evaluate(*args):
    return run_script("scripts/evaluate.py", *args)


def test_end_to_end_on_two_tiny_photos(tmp_path, photo_dir, style_image, style_ckpt):
    result = evaluate(
        f"style={style_image}",
        f"input={photo_dir}",
        f"output={tmp_path / 'eval'}",
        "limit=2",
        f"ckpt={style_ckpt}",
        "size=32",
        "gatys.iterations=2",
        "device=cpu",
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(open(tmp_path / "eval/table.csv")))
    assert [r["method"] for r in rows] == ["photo (unchanged)", "johnson", "gatys", "adain"]
    assert all(float(r["style_loss"]) > 0 and float(r["seconds_per_image"]) > 0 for r in rows[1:])
    assert float(rows[0]["content_loss"]) == 0
    for row in rows:  # the style loss, split by layer (configs/loss/evaluation.yaml: relu1_1..relu5_1)
        layers = [float(row[f"style_relu{block}_1"]) for block in range(1, 6)]
        assert abs(sum(layers) - float(row["style_loss"])) <= 1e-6 * float(row["style_loss"])
    table = (tmp_path / "eval/table.md").read_text()
    assert "| gatys |" in table and "Measured on " in table and "| style: relu3_1 |" in table
    grid = Image.open(tmp_path / "eval/grid.png")
    assert grid.size == (5 * 36 + 4, 24 + 2 * 36 + 4)  # 5 columns, a 24 px header and 2 rows (limit=2), 4 px apart


def test_without_a_checkpoint_johnson_is_skipped_with_a_note(tmp_path, photo_dir, style_image):
    result = evaluate(
        f"style={style_image}",
        f"input={photo_dir}",
        f"output={tmp_path / 'eval'}",
        "limit=1",
        f"ckpt={tmp_path / 'none.pt'}",
        "size=24",
        "gatys.iterations=1",
    )
    assert result.returncode == 0, result.stderr
    rows = {r["method"]: r for r in csv.DictReader(open(tmp_path / "eval/table.csv"))}
    assert rows["johnson"]["note"].startswith("skipped: no checkpoint") and rows["johnson"]["style_loss"] == ""


def test_bad_arguments_fail_in_one_line(tmp_path):
    for args, message in [
        (["input=x"], "style= and input= are required"),
        (["style=the_scream", "input=x", "sizes=3"], "unknown key 'sizes'; did you mean 'size'?"),
        (["style=nope", f"input={tmp_path}"], "unknown style 'nope'"),
        (["style=600", f"input={tmp_path}"], "unknown style '600'"),  # a number to Hydra, not a name
        (["style=the_scream", f"input={tmp_path}"], "no images found"),
    ]:
        result = evaluate(*args)
        assert result.returncode == 1 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
