"""Train a style: `python train.py style=starry_night` (see configs/train.yaml)."""

from painterly.cli.train import main

if __name__ == "__main__":
    main()
