"""``python -m warp_gl_lifecycle run``: everything after the program is the program's, and every way a
program ends gives the exit status and stderr of plain ``python``, side by side."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from .conftest import SCENARIOS, python_path, without_warp_lines

ENDINGS = ["normal", "ctrl-c", "keyboard-interrupt", "exit-3", "exit-message", "exception", "os-exit"]


def without_runpy(stderr):
    """Plain ``python -m`` shows two frames of runpy above the program's; ``run`` shows none."""
    return re.sub(r'  File "<frozen runpy>", line \d+, in \w+\n', "", stderr)


def python(*args):
    return subprocess.run(
        [sys.executable, *args],
        cwd=SCENARIOS,
        env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()},
        capture_output=True,
        text=True,
        timeout=120,
    )


def under_run(*args):
    return python("-m", "warp_gl_lifecycle", "run", *args)


@pytest.mark.parametrize("how", ENDINGS)
@pytest.mark.parametrize("form", ["script", "module"])
def test_program_ends_as_under_plain_python(how, form):
    target = ["program_ends.py"] if form == "script" else ["-m", "program_ends"]
    plain, ours = python(*target, how), under_run(*target, how)
    assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, without_runpy(plain.stderr))
    expected = {"normal": 0, "ctrl-c": -2, "keyboard-interrupt": -2, "exit-3": 3, "exit-message": 1,
                "exception": 1, "os-exit": 7}[how]  # -2: killed by SIGINT, a shell's 130
    assert ours.returncode == expected
    assert ("Traceback" in ours.stderr) == (how in ("ctrl-c", "keyboard-interrupt", "exception"))


@pytest.mark.parametrize("form", ["script", "module"])
def test_options_after_the_program_are_the_programs(form):
    target = ["program_ends.py"] if form == "script" else ["-m", "program_ends"]
    for args in (["--opt", "-v"], ["-h"], ["normal", "-h", "--opt", "-m", "x", "--", "run"]):
        result = under_run(*target, *args)
        assert result.returncode == 0, result.stderr
        assert result.stdout == f"argv {args}\n"


def test_module_name_attached_to_m():
    result = under_run("-mprogram_ends", "exit-3")
    assert result.returncode == 3 and result.stdout == "argv ['exit-3']\n"


def test_runner_help_and_errors():
    assert under_run("-h").returncode == 0 and "-m MODULE" in under_run("--help").stdout
    missing = under_run()
    assert missing.returncode == 2 and "give a script, or -m MODULE" in missing.stderr
    unknown = under_run("--bogus", "program_ends.py")
    assert unknown.returncode == 2 and "--bogus" in unknown.stderr
    plain, ours = python("no_such_file.py"), under_run("no_such_file.py")
    assert (ours.returncode, ours.stderr) == (plain.returncode, plain.stderr)


def test_warps_own_renderer_tests_run_with_unittest_options():
    """``run -m unittest -v ...``: Warp's own renderer tests (renderers made with ``__new__``)."""
    if importlib.util.find_spec("warp.tests") is None or importlib.util.find_spec("warp.tests.test_render_opengl") is None:
        pytest.skip("this warp-lang has no warp.tests.test_render_opengl")
    result = under_run("-m", "unittest", "-v", "warp.tests.test_render_opengl")
    assert result.returncode == 0, result.stderr
    assert " ... ok" in result.stderr and result.stderr.rstrip().endswith("OK")
    for bad in ("Exception ignored", "Traceback", "failed", "CUDA error"):
        assert bad not in without_warp_lines(result.stderr), result.stderr
