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


def usage_error(capsys, argv):
    """Run the CLI in this process; it must stop as argparse does (exit 2, one error line), having
    made no window and tracked no owner: the check came before the work."""
    import pyglet

    from warp_gl_lifecycle import stats
    from warp_gl_lifecycle.__main__ import main

    windows, tracked = len(pyglet.app.windows), stats()["tracked"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "Traceback" not in err and err.startswith("usage: ")
    assert len(pyglet.app.windows) == windows and stats()["tracked"] == tracked
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "{tmp}"], "--out '{tmp}' is a directory"),
        (["--out", "{tmp}/missing/demo.png"], "--out '{tmp}/missing/demo.png' cannot be written: No such file"),
        (["--out", "{tmp}/demo.jpg"], "--out '{tmp}/demo.jpg': pyglet cannot write .jpg; use .png"),
        (["--device", "cuda:0"], "--device 'cuda:0' is not a device here"),
        (["--device", "nonsense"], "--device 'nonsense' is not a device here"),
        (["--interop", "shared", "--device", "cpu"], "--interop shared needs a CUDA device"),
        (["--size", "abc"], "argument --size: expected WIDTHxHEIGHT such as 640x480, got 'abc'"),
        (["--size", "0x0"], "argument --size: width and height must be positive"),
        (["--size", "100000x100000"], "--size 100000x100000 is larger than this GL can draw"),
        (["--instances", "40000000"], "--instances 40000000 is more than one instancer holds"),
        (["--window"], "--window needs a display, and DISPLAY is not set"),
    ],
)
def test_demo_mistakes_end_in_one_usage_line_before_any_work(tmp_path, capsys, monkeypatch, args, message):
    from warp_gl_lifecycle import demo

    if "--device" in args and "cuda:0" in args and demo.wp.is_cuda_available():
        pytest.skip("cuda:0 exists here")
    monkeypatch.delenv("DISPLAY", raising=False)
    argv = ["demo", "--frames", "1", *[a.format(tmp=tmp_path) for a in args]]
    if "--out" not in args:
        argv += ["--out", str(tmp_path / "demo.png")]
    line = usage_error(capsys, argv)
    assert line.startswith("python -m warp_gl_lifecycle demo: error: ") and message.format(tmp=tmp_path) in line
    assert list(tmp_path.iterdir()) == []  # no file left behind


def test_demo_usage_error_exits_2_from_the_command_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "warp_gl_lifecycle", "demo", "--out", str(tmp_path)],
        cwd=ROOT, env={**os.environ, "PYGLET_HEADLESS": "true"}, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(f"--out {str(tmp_path)!r} is a directory; give a file name")
