# `make demo`: the main job. `make test`: the test suite. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYGLET_HEADLESS ?= true

.PHONY: demo test install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install -q -e '.[test,newton]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m warp_gl_lifecycle demo --out demo.png

test: install
	$(PY) -m pytest -q tests

clean:
	rm -rf $(VENV) *.egg-info demo.png
