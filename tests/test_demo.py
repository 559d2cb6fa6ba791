"""The main job end to end: `python -m warp_gl_lifecycle demo` writes a PNG and leaves no GL names."""

import os
import subprocess
import sys

import pytest

from .conftest import BAD_STDERR, ROOT, without_warp_lines


def run_demo(tmp_path, *args):
    out = tmp_path / "demo.png"
    proc = subprocess.run(
        [sys.executable, "-m", "warp_gl_lifecycle", "demo", "--instances", "100", "--frames", "5", "--out", str(out), *args],
        cwd=ROOT,
        env={**os.environ, "PYGLET_HEADLESS": "true"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for bad in BAD_STDERR:
        assert bad not in without_warp_lines(proc.stderr), proc.stderr
    return out, proc.stdout


def png_pixels(path):
    import pyglet

    image = pyglet.image.load(str(path))
    data = image.get_image_data().get_data("RGB", image.width * 3)
    import numpy as np

    return np.frombuffer(data, np.uint8).reshape(image.height, image.width, 3)


@pytest.mark.parametrize("args, released", [((), "1 by close, 0 at exit"), (("--leave-open",), "0 by close, 2 at exit")])
def test_demo_draws_and_reports_zero_names(tmp_path, args, released):
    out, stdout = run_demo(tmp_path, *args)
    assert "frames drawn          5" in stdout
    assert "instances             100 on cpu" in stdout
    assert f"owners released       {released}" in stdout
    assert "GL names alive at end 0" in stdout
    pixels = png_pixels(out)
    assert pixels.shape == (480, 640, 3)
    background = pixels[5, 5].astype(int)
    centre = pixels[200:280, 280:360].reshape(-1, 3).astype(int)
    assert (abs(centre - background).sum(axis=1) > 60).mean() > 0.3  # the grid covers the middle
    assert abs(pixels[5:40, 5:40].astype(int) - background).max() < 10  # the corner is background


def test_demo_rejects_bad_arguments(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "warp_gl_lifecycle", "demo", "--instances", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and "--instances" in proc.stderr
