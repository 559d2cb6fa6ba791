"""Shared fixtures: a real headless pyglet GL context, and a runner for subprocess exit scenarios."""

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("PYGLET_HEADLESS", "true")

import pyglet  # noqa: E402

pyglet.options["headless"] = True

import warp as wp  # noqa: E402

wp.config.log_level = wp.LOG_WARNING

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
BAD_STDERR = ("Exception ignored", "Traceback", "ImportError", "CUDA error")


def has_cuda() -> bool:
    wp.init()
    return wp.is_cuda_available()


def pytest_collection_modifyitems(config, items):
    if has_cuda():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


# gl_window and gl_context come from the package's own pytest plugin (warp_gl_lifecycle.pytest_plugin),
# loaded through its entry point when the package is installed and named here when it is only on
# PYTHONPATH (as on the GPU machine).
_installed = any(ep.name == "warp_gl_lifecycle" for ep in importlib.metadata.entry_points(group="pytest11"))
pytest_plugins = ["pytester"] + ([] if _installed else ["warp_gl_lifecycle.pytest_plugin"])


class Result:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def assert_clean(self, returncode: int = 0) -> "Result":
        assert self.returncode == returncode, f"exit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        for bad in BAD_STDERR:
            assert bad not in self.stderr, f"{bad!r} in stderr:\n{self.stderr}"
        return self

    def figures(self) -> dict:
        """The JSON a scenario printed after ``FIGURES``."""
        import json  # noqa: PLC0415

        line = next(line for line in self.stdout.splitlines() if line.startswith("FIGURES "))
        return json.loads(line[len("FIGURES "):])

    def stats(self) -> dict:
        line = next(line for line in self.stdout.splitlines() if line.startswith("STATS "))
        return dict(eval(line[len("STATS "):]))  # noqa: S307 - our own scenario's repr of a list of tuples


def python_path() -> str:
    """PYTHONPATH for a child interpreter: the project first, then whatever this one was given
    (on the GPU machine warp and pyglet come from there, not from an installed environment)."""
    return os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)


def run_scenario(name: str, *args: str, env: dict | None = None, timeout: float = 180) -> Result:
    """Run ``tests/scenarios/<name>`` in a fresh interpreter; returns its exit code and output."""
    full_env = {**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path(), **(env or {})}
    proc = subprocess.run(
        [sys.executable, str(SCENARIOS / name), *args],
        cwd=SCENARIOS,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Result(proc)


@pytest.fixture
def scenario():
    return run_scenario
