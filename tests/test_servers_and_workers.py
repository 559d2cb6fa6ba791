"""Where programs run: a server without a display, fork after GL use, worker processes under ``run``.

Each case runs a real program in a fresh interpreter (real multiprocessing, a display-less
environment, Xvfb for a desktop); every subprocess has a timeout, so a hang fails the test.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

from .conftest import SCENARIOS, Result, python_path
from .test_warp_dropin import xvfb_display  # noqa: F401 - the Xvfb fixture

RENDERERS = ["warp", pytest.param("newton", marks=pytest.mark.skipif(
    importlib.util.find_spec("newton") is None, reason="Newton is not installed: pip install -e '.[newton]'"))]


def run_program(args, env=None, unset=(), timeout=300) -> Result:
    """Run ``python <args>`` in tests/scenarios with the project on PYTHONPATH; ``unset``: variables
    removed from the environment (after ``env`` is applied)."""
    full_env = {**os.environ, "PYTHONPATH": python_path(), **(env or {})}
    for name in unset:
        full_env.pop(name, None)
    proc = subprocess.run([sys.executable, *args], cwd=SCENARIOS, env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    return Result(proc)


# -- 3. headless=True on a server without a display --------------------------------------------------

SERVER = ("DISPLAY", "PYGLET_HEADLESS", "WAYLAND_DISPLAY")


@pytest.mark.parametrize("renderer", RENDERERS)
def test_headless_renderer_runs_on_a_server_without_a_display(renderer):
    """Neither DISPLAY nor PYGLET_HEADLESS: asking for headless gives headless (EGL), and a window
    opened afterwards is headless too (no display could show it)."""
    result = run_program(["headless_renderer_on_a_server.py", renderer, "--then-window"], unset=SERVER)
    result.assert_clean()
    assert "headless renderer window: HeadlessWindow" in result.stdout
    assert "then window: HeadlessWindow visible: False pixel: [0, 255, 0]" in result.stdout


def test_headless_renderer_runs_on_a_server_under_run():
    result = run_program(["-m", "warp_gl_lifecycle", "run", "headless_renderer_on_a_server.py", "warp"],
                         env={"WGL_IMPORT": "0"}, unset=SERVER)
    result.assert_clean()
    assert "headless renderer window: HeadlessWindow" in result.stdout and "done" in result.stdout


def test_plain_warp_cannot_make_a_headless_renderer_without_a_display():
    """What the drop-in fixes: Warp imports pyglet.graphics (which opens the X display for pyglet's
    shadow window) before it reads ``headless``."""
    result = run_program(["headless_renderer_on_a_server.py", "warp"], env={"WGL_IMPORT": "0"}, unset=SERVER)
    assert result.returncode == 1
    assert 'NoSuchDisplayException: Cannot connect to "None"' in result.stderr


@pytest.mark.parametrize("renderer", RENDERERS)
def test_headless_renderer_leaves_real_windows_to_a_desktop(xvfb_display, renderer):  # noqa: F811
    """Where a display exists nothing changes: the headless renderer gets Warp's/Newton's hidden X
    window, and a window opened afterwards is a real, visible one that draws."""
    result = run_program(["headless_renderer_on_a_server.py", renderer, "--then-window"],
                         env={"DISPLAY": xvfb_display}, unset=("PYGLET_HEADLESS",))
    result.assert_clean()
    assert "headless renderer window: XlibWindow" in result.stdout
    assert "then window: XlibWindow visible: True pixel: [0, 255, 0]" in result.stdout
