# `make demo`: the main job. `make test`: the test suite. Both create .venv and install what they need:
# the demo only the package (warp-lang, pyglet, numpy), the tests its test and newton extras too.
# `make test-oldest`: the drop-in, runner, exit-scenario, demo and doctor tests against the oldest supported
# warp-lang, in a second virtual environment (.venv-oldest); CI runs both.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYGLET_HEADLESS ?= true

OLDEST_WARP ?= warp-lang~=1.8.0
VENV_OLDEST := .venv-oldest
PY_OLDEST := $(VENV_OLDEST)/bin/python
OLDEST_TESTS := tests/test_warp_dropin.py tests/test_exit_scenarios.py tests/test_runner.py tests/test_demo.py \
	tests/test_hardening.py::test_doctor_reports_a_healthy_machine tests/test_servers_and_workers.py

OLDEST_NEWTON ?= newton~=1.5.0
OLDEST_NEWTON_WARP ?= warp-lang~=1.16.0
VENV_OLDEST_NEWTON := .venv-newton-oldest
PY_OLDEST_NEWTON := $(VENV_OLDEST_NEWTON)/bin/python
# Newton's own viewer tests (run twice there, plain and under run: ~8 min) are left to `make test`.
OLDEST_NEWTON_TESTS := tests/test_newton.py tests/test_servers_and_workers.py::test_headless_renderer_runs_on_a_server_without_a_display \
	-k "not newtons_own_viewer_tests"

.PHONY: demo test test-oldest test-oldest-newton install clean

$(PY):
	@echo "== creating $(VENV) =="
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# pip's own progress (what it collects and downloads) is shown: on a fresh machine this takes minutes.
$(VENV)/.installed-demo: $(PY) pyproject.toml
	@echo "== installing warp-gl-lifecycle with what the demo needs (warp-lang, pyglet, numpy) into $(VENV) =="
	$(PY) -m pip install -e .
	touch $@

$(VENV)/.installed: $(PY) pyproject.toml
	@echo "== installing warp-gl-lifecycle with its test and newton extras into $(VENV) (minutes on a fresh machine) =="
	$(PY) -m pip install -e '.[test,newton]'
	touch $@ $(VENV)/.installed-demo

install: $(VENV)/.installed

demo: $(VENV)/.installed-demo
	$(PY) -m warp_gl_lifecycle demo --out demo.png

# The whole suite: about 11 minutes on 2 CPU cores with Mesa llvmpipe (one dot per test; pytest
# prints the total at the end, and what tests measured in its "measurements" section).
test: install
	@echo "== running the test suite: about 11 minutes on a 2-core machine (headless llvmpipe) =="
	$(PY) -m pytest -q tests

$(PY_OLDEST):
	$(PYTHON) -m venv $(VENV_OLDEST)
	$(PY_OLDEST) -m pip install -q --upgrade pip

$(VENV_OLDEST)/.installed: $(PY_OLDEST) pyproject.toml
	$(PY_OLDEST) -m pip install -q -e '.[test]' '$(OLDEST_WARP)'
	touch $@

test-oldest: $(VENV_OLDEST)/.installed
	$(PY_OLDEST) -c "import warp; print('warp-lang', warp.config.version)"
	$(PY_OLDEST) -m pytest -q $(OLDEST_TESTS)

$(PY_OLDEST_NEWTON):
	$(PYTHON) -m venv $(VENV_OLDEST_NEWTON)
	$(PY_OLDEST_NEWTON) -m pip install -q --upgrade pip

$(VENV_OLDEST_NEWTON)/.installed: $(PY_OLDEST_NEWTON) pyproject.toml
	$(PY_OLDEST_NEWTON) -m pip install -q -e '.[test,newton]' '$(OLDEST_NEWTON)' '$(OLDEST_NEWTON_WARP)'
	touch $@

test-oldest-newton: $(VENV_OLDEST_NEWTON)/.installed
	$(PY_OLDEST_NEWTON) -c "import newton, warp; print('newton', newton.__version__, 'warp-lang', warp.config.version)"
	$(PY_OLDEST_NEWTON) -m pytest -q $(OLDEST_NEWTON_TESTS)

clean:
	rm -rf $(VENV) $(VENV_OLDEST) $(VENV_OLDEST_NEWTON) *.egg-info demo.png
