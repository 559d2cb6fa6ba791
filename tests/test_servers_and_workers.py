"""Where programs run: a server without a display, fork after GL use, worker processes under ``run``.

Each case runs a real program in a fresh interpreter (real multiprocessing, a display-less
environment, Xvfb for a desktop); every subprocess has a timeout, so a hang fails the test.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

from .conftest import SCENARIOS, WARP_REGISTRATION_WITHOUT_DRIVER, WARP_START_UP_WITHOUT_DRIVER, Result, python_path
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


# -- 4. fork after any GL use never hangs -------------------------------------------------------------

GL_USES = ["window", "import-gl", "renderer-before-import"]
REFUSED = ('worker refused: OpenGL cannot be used in a process forked from one that had used it',
           'multiprocessing.get_context("spawn")', 'multiprocessing.get_context("forkserver")')


def forked_workers(way, start, mode="import"):
    """The scenario under ``import warp_gl_lifecycle`` or ``run``; headless, at most 180 s."""
    args = ["workers_forked_after_gl_use.py", way, start]
    if mode == "run":
        return run_program(["-m", "warp_gl_lifecycle", "run", *args], env={"WGL_IMPORT": "0", "PYGLET_HEADLESS": "true"},
                           timeout=180)
    return run_program(args, env={"PYGLET_HEADLESS": "true"}, timeout=180)


@pytest.mark.parametrize("mode", ["import", "run"])
@pytest.mark.parametrize("way", GL_USES)
def test_forked_workers_refuse_gl_at_once_whatever_gl_the_parent_used(way, mode):
    """Plain pyglet: the 4 workers hang at their first draw (the scenario gives up after 60 s).
    With the package, however the parent used GL, each forked worker's window raises at once,
    naming spawn and forkserver; the pool reports it and everything exits cleanly."""
    plain_warp = WARP_START_UP_WITHOUT_DRIVER + WARP_REGISTRATION_WITHOUT_DRIVER  # a renderer made before the import
    result = forked_workers(way, "fork", mode).assert_clean(warp_lines=plain_warp)
    assert "workers hung" not in result.stdout and "pixel" not in result.stdout
    refusal = result.stdout.split("worker refused: ")[1].splitlines()[0]
    assert all(part.split("worker refused: ")[-1] in refusal for part in REFUSED), refusal
    assert "parent done" in result.stdout


@pytest.mark.parametrize("start", ["spawn", "forkserver"])
def test_workers_started_with_spawn_or_forkserver_draw_after_the_parent_used_gl(start):
    result = forked_workers("window", start).assert_clean()
    pixels = [line for line in result.stdout.splitlines() if line.startswith("worker ")]
    assert len(pixels) == 4 and all(line.endswith("pixel [0, 0, 255]") for line in pixels), result.stdout


def test_forked_workers_of_a_parent_without_gl_draw():
    result = forked_workers("none", "fork").assert_clean()
    pixels = [line for line in result.stdout.splitlines() if line.startswith("worker ")]
    assert len(pixels) == 4 and all(line.endswith("pixel [0, 0, 255]") for line in pixels), result.stdout


# -- 5. run reaches the program's worker processes ----------------------------------------------------


def under_run(args, env=None, timeout=400) -> Result:
    return run_program(["-m", "warp_gl_lifecycle", "run", *args], env={"PYGLET_HEADLESS": "true", **(env or {})},
                       timeout=timeout)


@pytest.mark.parametrize("start", ["spawn", "forkserver"])
def test_run_covers_worker_processes(start):
    """Before: spawn/forkserver workers of a program under ``run`` ran plain Warp (renderers
    untracked, and plain Warp's CUDA-GL registration errors on stderr, per worker)."""
    result = under_run(["workers_draw_with_warp_renderer.py", start, "--subprocess"]).assert_clean()
    lines = [line for line in result.stdout.splitlines() if " tracked " in line]
    assert len(lines) == 3 and all(" tracked True package from " in line for line in lines), result.stdout
    assert "child exit 0" in result.stdout and "parent done" in result.stdout


PROBE = ("import os, sys; print('CHILD', 'warp_gl_lifecycle' in sys.modules, 'warp' in sys.modules, "
         "[p for p in sys.path if p.endswith('_startup')], os.environ.get('WARP_GL_LIFECYCLE_RUN'), flush=True)")


def test_run_children_keep_their_own_sitecustomize_and_do_not_import_warp(tmp_path):
    """The start-up hook hides an environment's own ``sitecustomize``: it is run all the same; the
    child's ``sys.path`` is left without the hook's directory, and Warp is not imported for it."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text("print('OWN SITECUSTOMIZE', flush=True)\n")
    program = tmp_path / "program.py"
    program.write_text(f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {PROBE!r}], check=True)\n")
    result = under_run([str(program)], env={"PYTHONPATH": os.pathsep.join([python_path(), str(own)])}).assert_clean()
    # once in run's own process (PYTHONPATH names it), once in the child, then the child's probe
    assert result.stdout.splitlines() == ["OWN SITECUSTOMIZE"] * 2 + ["CHILD True False [] 1"], result.stdout


def test_run_covers_worker_processes_of_a_regular_install(tmp_path):
    """The start-up hook is package data: a regular (non-editable) install covers workers too."""
    target = tmp_path / "site"
    root = str(SCENARIOS.parent.parent)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), root],
                          capture_output=True, text=True, timeout=300)  # built as an installer builds it
    assert proc.returncode == 0, proc.stderr
    assert (target / "warp_gl_lifecycle" / "_startup" / "sitecustomize.py").is_file()
    env = {"PYTHONPATH": os.pathsep.join([str(target), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]).rstrip(os.pathsep)}
    result = under_run(["workers_draw_with_warp_renderer.py", "spawn"], env=env).assert_clean()
    lines = [line for line in result.stdout.splitlines() if " tracked " in line]
    assert len(lines) == 2 and all(line.endswith(f" tracked True package from {target}") for line in lines), result.stdout
