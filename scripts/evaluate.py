"""Compare johnson, gatys and adain side by side: `python scripts/evaluate.py style=<name|image> input=<folder>`."""

from painterly.cli.evaluate import main

if __name__ == "__main__":
    main()
