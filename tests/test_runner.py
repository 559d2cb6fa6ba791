"""``python -m warp_gl_lifecycle run``: everything after the program is the program's, and every way a
program ends gives the exit status and stderr of plain ``python``, side by side."""

import importlib.util
import os
import re
import subprocess
import sys
import zipfile

import pytest

from .conftest import SCENARIOS, python_path, without_warp_lines

ENDINGS = ["normal", "ctrl-c", "keyboard-interrupt", "exit-3", "exit-message", "exception", "os-exit"]


def without_runpy(stderr):
    """Plain ``python -m`` shows two frames of runpy above the program's; ``run`` shows none."""
    return re.sub(r'  File "<frozen runpy>", line \d+, in \w+\n', "", stderr)


def python(*args, cwd=SCENARIOS, stdin=None):
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def under_run(*args, cwd=SCENARIOS, stdin=None):
    return python("-m", "warp_gl_lifecycle", "run", *args, cwd=cwd, stdin=stdin)


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
    assert missing.returncode == 2 and "give a script, -m MODULE, -c CODE or -" in missing.stderr
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


SAVES_STATE = SCENARIOS / "program_saves_state_at_exit.py"


def program_forms(tmp_path):
    """Every way python takes a program, as (arguments before the program's own, standard input, cwd),
    each made in ``tmp_path`` from the scenario that saves its state at exit."""
    source = SAVES_STATE.read_text()
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "app.py").write_text(source)
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "app.py").symlink_to(tmp_path / "real" / "app.py")
    (tmp_path / "appdir").mkdir()
    (tmp_path / "appdir" / "__main__.py").write_text(source)
    with zipfile.ZipFile(tmp_path / "app.zip", "w") as archive:
        archive.writestr("__main__.py", source)
    return {
        "script": (["real/app.py"], None, tmp_path),
        "dotted-script": (["./real/../real/app.py"], None, tmp_path),
        "symlinked-script": (["links/app.py"], None, tmp_path),
        "absolute-script": ([str(tmp_path / "real" / "app.py")], None, tmp_path),
        "directory": (["appdir"], None, tmp_path),
        "zip": (["app.zip"], None, tmp_path),
        "module": (["-m", "program_saves_state_at_exit"], None, SCENARIOS),
        "code": (["-c", source], None, tmp_path),
        "code-attached": (["-c" + source], None, tmp_path),
        "stdin": (["-"], source, tmp_path),
    }


FORMS = ["script", "dotted-script", "symlinked-script", "absolute-script", "directory", "zip", "module", "code",
         "code-attached", "stdin"]


@pytest.mark.parametrize("form", FORMS)
def test_program_sees_what_python_shows_it_until_exit(form, tmp_path):
    """argv as typed, sys.path[0] (a symlinked script's real folder), __file__, and __main__ still the
    program's module in its atexit handlers and non-daemon threads (a class it defined pickles)."""
    target, stdin, cwd = program_forms(tmp_path)[form]
    plain = python(*target, "a", "-b", cwd=cwd, stdin=stdin)
    ours = under_run(*target, "a", "-b", cwd=cwd, stdin=stdin)
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr
    assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, plain.stderr)
    lines = ours.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["top", "thread", "thread", "atexit", "atexit"]
    assert all(line.endswith("main is the program True") for line in lines if " argv " in line)
    assert lines[-1] == "atexit saved 3"
    if form == "symlinked-script":
        assert f"path0 {str(tmp_path / 'real')!r}" in lines[0]


def test_symlinked_script_imports_a_module_next_to_the_real_file(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "app.py").write_text("import sibling\nprint(sibling.NAME)\n")
    (tmp_path / "real" / "sibling.py").write_text("NAME = 'found'\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "app").symlink_to(tmp_path / "real" / "app.py")
    plain, ours = python("bin/app", cwd=tmp_path), under_run("bin/app", cwd=tmp_path)
    assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, plain.stderr) == (0, "found\n", "")


def test_program_that_cannot_be_run_ends_as_under_python(tmp_path):
    """One line from python (its path first) and python's exit status, not runpy's traceback."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "plain.py").write_text("print('imported')\n")
    (tmp_path / "nomain").mkdir()
    cases = [["-m", "no_such_module_here"], ["-m", "pkg"], ["-m", "plain.py"], ["-m", "pkg.missing"],
             ["nomain"], ["pkg"], ["no_such_file.py"], ["-m", ""]]
    for target in cases:
        plain, ours = python(*target, cwd=tmp_path), under_run(*target, cwd=tmp_path)
        assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, plain.stderr), target
        assert ours.returncode != 0 and len(ours.stderr.splitlines()) == 1, (target, ours.stderr)
        assert ours.stderr.startswith(sys.executable + ": "), ours.stderr


@pytest.mark.parametrize("form", ["code", "stdin", "script"])
def test_errors_in_code_and_stdin_programs_end_as_under_python(form, tmp_path):
    for source in ("x = 1\nraise ValueError('user bug')\n", "def broken(:\n", "import sys\nsys.exit(4)\n"):
        (tmp_path / "prog.py").write_text(source)
        target, stdin = {"code": (["-c", source], None), "stdin": (["-"], source), "script": (["prog.py"], None)}[form]
        plain = python(*target, cwd=tmp_path, stdin=stdin)
        ours = under_run(*target, cwd=tmp_path, stdin=stdin)
        assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout, plain.stderr), source
        assert plain.returncode in (1, 4)


def test_code_option_without_code_is_a_usage_error():
    result = under_run("-c")
    assert result.returncode == 2 and "-c" in result.stderr and "Traceback" not in result.stderr
