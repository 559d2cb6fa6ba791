"""The command line, round 3 (issue 17): ``demo --window`` ends when the user closes the window and
shows its window under ``PYGLET_HEADLESS=true``; a refused ``bench`` creates nothing."""

import os
import subprocess
import sys

import pytest

from .conftest import BAD_STDERR, ROOT, SCENARIOS, python_path, without_warp_lines
from .test_warp_dropin import xvfb_display  # noqa: F401 - the Xvfb fixture

TITLE = "warp-gl-lifecycle demo"


@pytest.mark.parametrize("headless_env", ["false", "true"])
def test_demo_window_ends_when_the_user_closes_it(xvfb_display, tmp_path, headless_env):
    """On a desktop (Xvfb), a close request from another X client (what a window manager sends for
    the close button) ends the demo: it reports and exits 0 long before its frames run out. Under
    PYGLET_HEADLESS=true (which the Makefile exports) ``--window`` still shows the window."""
    env = {**os.environ, "DISPLAY": xvfb_display, "PYGLET_HEADLESS": headless_env, "PYTHONPATH": python_path()}
    demo = subprocess.Popen(
        [sys.executable, "-m", "warp_gl_lifecycle", "demo", "--window", "--instances", "16", "--frames", "1000000",
         "--size", "160x120", "--out", str(tmp_path / "demo.png")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        closer = subprocess.run([sys.executable, str(SCENARIOS / "_x11.py"), "close", TITLE],
                                env=env, capture_output=True, text=True, timeout=180)
        stdout, stderr = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
    assert closer.returncode == 0, f"the demo showed no window: {closer.stdout}{closer.stderr}"
    assert demo.returncode == 0, stderr
    for bad in BAD_STDERR:
        assert bad not in without_warp_lines(stderr), stderr
    frames = int(next(line for line in stdout.splitlines() if line.startswith("frames drawn")).split()[-1])
    assert 0 < frames < 1000000
    assert "GL names alive at end 0" in stdout
    assert (tmp_path / "demo.png").exists()


def test_demo_window_without_a_display_is_one_usage_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    proc = subprocess.run(
        [sys.executable, "-m", "warp_gl_lifecycle", "demo", "--window", "--out", str(tmp_path / "demo.png")],
        cwd=ROOT, env={**env, "PYGLET_HEADLESS": "true"}, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith("--window needs a display, and DISPLAY is not set; "
                                                          "leave it out to draw headless")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_refused_bench_creates_nothing(tmp_path, option):
    if option == "--plot":
        pytest.importorskip("matplotlib")
    target = "new/dir/x.json" if option == "--json" else "new/dir/x.png"
    proc = subprocess.run(
        [sys.executable, "-m", "warp_gl_lifecycle", "bench", option, target, "--device", "nonsense"],
        cwd=tmp_path, env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()},
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "--device 'nonsense'" in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "target, message",
    [("file.txt/x.json", "{target!r} cannot be written: Not a directory"),
     ("ro/new/x.json", "{target!r} cannot be written: Permission denied")],
)
def test_bench_output_under_a_file_or_a_read_only_folder_is_refused(tmp_path, target, message):
    (tmp_path / "file.txt").write_text("")
    (tmp_path / "ro").mkdir(mode=0o555)
    if target.startswith("ro/") and os.access(tmp_path / "ro", os.W_OK):
        pytest.skip("running as a user who may write anywhere (root)")
    proc = subprocess.run(
        [sys.executable, "-m", "warp_gl_lifecycle", "bench", "--json", target],
        cwd=tmp_path, env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()},
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(f"--json {message.format(target=target)}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "ro"]


def test_demo_window_in_a_process_whose_gl_is_headless_is_one_usage_line(gl_context, tmp_path, capsys, monkeypatch):
    """Called in-process where pyglet's GL is already loaded headless (this test process): no window
    could be shown, so ``--window`` is refused before any work, not drawn headless."""
    from .test_demo import usage_error

    monkeypatch.setenv("DISPLAY", ":0")
    line = usage_error(capsys, ["demo", "--window", "--frames", "1", "--out", str(tmp_path / "demo.png")])
    assert line.endswith("--window: pyglet's GL is already loaded headless in this process (PYGLET_HEADLESS=true), "
                         "so no window can be shown; leave --window out")
    assert list(tmp_path.iterdir()) == []
