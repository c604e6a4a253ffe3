"""Export a style to ONNX or TorchScript: `python scripts/export.py ckpt=starry_night format=onnx`."""

from painterly.cli.export import main

if __name__ == "__main__":
    main()
