import sys

import pytest

from painterly import PainterlyError
from painterly.cli.export import main
from painterly.export import export


def test_export_arguments_fail_in_one_line(tmp_path, style_ckpt, monkeypatch, capsys):
    with pytest.raises(PainterlyError, match="unknown format 'tflite'"):
        export(style_ckpt, "tflite")
    for argv, message in [([f"ckpt={tmp_path / 'missing.pt'}"], "no such checkpoint"), (["formats=onnx"], "formats")]:
        monkeypatch.setattr(sys, "argv", ["export.py", *argv])
        with pytest.raises(SystemExit) as exit:
            main()
        err = capsys.readouterr().err
        assert exit.value.code == 1 and err.startswith("export: ") and message in err and err.count("\n") == 1
    assert not list(tmp_path.glob("*.onnx")) and not list(tmp_path.glob(".*"))
