"""Stylize photos and videos: `python stylize.py ckpt=starry_night input=photo.jpg` (see configs/stylize.yaml)."""

from painterly.cli.stylize import main

if __name__ == "__main__":
    main()
