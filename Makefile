# make demo: train a style briefly on the bundled photos and stylize a photo (CPU, no downloads)
# make test: ruff (lint and format) and the test suite (what CI runs)
# make bench: naive eager against painterly's defaults, side by side (random weights, no data; minutes on a CPU)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench clean

setup: $(STAMP)

# torch first and pinned exactly: pip then takes the local wheels instead of downloading gigabytes
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[test]'
	touch $@

demo: setup
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

clean:
	rm -rf logs outputs .pytest_cache
