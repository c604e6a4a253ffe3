# make demo: the gallery: held-out photos in every shipped style of checkpoints/ (outputs/gallery.png; CPU, no downloads)
# make train-demo: train a style briefly on the bundled photos and stylize a photo (CPU, no downloads)
# make test: ruff (lint and format) and the test suite (what CI runs)
# make bench: naive eager against painterly's defaults, side by side (random weights, no data; minutes on a CPU)
# make bench-live: the live page's frames/s and latency in headless Chromium with a fake camera (needs chromium)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo train-demo test bench bench-live clean

setup: $(STAMP)

# torch first and pinned exactly: pip then takes the local wheels instead of downloading gigabytes
$(STAMP): pyproject.toml package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error  # onnxruntime-web for the live page's browser mode (node_modules/)
	touch $@

demo: setup
	$(PY) scripts/gallery.py

train-demo: setup
	$(PY) train.py experiment=demo
	$(PY) stylize.py ckpt=outputs/demo/starry_night.pt \
		input=data/samples/skimage_astronaut.jpg output=outputs/demo/astronaut_starry_night.jpg
	@echo "stylized photo: outputs/demo/astronaut_starry_night.jpg"

test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

bench: setup
	$(PY) scripts/bench.py

bench-live: setup
	$(PY) scripts/bench_live.py screenshot=outputs/live.png

clean:
	rm -rf logs outputs .pytest_cache
