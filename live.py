"""The live camera page: `python live.py [ckpt=starry_night] [port=8000]`, then open the URL it prints."""

from painterly.live.cli import main

if __name__ == "__main__":
    main()
