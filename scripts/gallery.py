"""Render the style gallery: `python scripts/gallery.py` (see configs/gallery.yaml)."""

from painterly.cli.gallery import main

if __name__ == "__main__":
    main()
