"""The pytest plugin costs nothing until used: a pytest session of a project that never uses its
fixtures or marker imports nothing of Warp, Newton, pyglet or this package and installs nothing
(no drop-in patch, no import finder, no exit hook), measured in a throwaway project's own session."""

import importlib.metadata
import re
import subprocess
import sys
import zipfile

from .conftest import ROOT

UNUSED = """
import atexit
import sys


def test_nothing_of_ours_is_loaded():
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("warp", "newton", "pyglet", "warp_gl_lifecycle"))
    assert loaded == []
    finders = [type(f).__module__ for f in sys.meta_path]
    assert not [m for m in finders if m.startswith("warp_gl_lifecycle")], finders
    print("ATEXIT-CALLBACKS", atexit._ncallbacks())


def test_warps_renderer_is_warps_own():
    import warp.render

    def defined_in(value):
        code = getattr(getattr(value, "__func__", value), "__code__", None)
        return code.co_filename if code is not None else ""

    methods = {name: defined_in(value) for name, value in vars(warp.render.OpenGLRenderer).items()}
    assert "__init__" in methods and not [n for n, f in methods.items() if "warp_gl_lifecycle" in f], methods
    assert not [m for m in sys.modules if m.split(".")[0] == "warp_gl_lifecycle"]
"""


def with_plugin() -> list[str]:
    """pytest arguments loading the plugin: none where the package is installed (its entry point
    loads it), ``-p warp_gl_lifecycle_pytest`` where it is only on PYTHONPATH (the GPU machine)."""
    installed = any(ep.name == "warp_gl_lifecycle" for ep in importlib.metadata.entry_points(group="pytest11"))
    return [] if installed else ["-p", "warp_gl_lifecycle_pytest"]


def atexit_callbacks(result) -> int:
    return int(re.search(r"ATEXIT-CALLBACKS (\d+)", result.stdout.str())[1])


def test_plugin_imports_and_installs_nothing_until_used(pytester):
    pytester.makepyfile(test_unused=UNUSED)
    loaded = pytester.runpytest_subprocess("-s", *with_plugin())
    loaded.assert_outcomes(passed=2)
    assert "warp_gl_lifecycle_pytest" in pytester.runpytest_subprocess("--trace-config", *with_plugin()).stdout.str()
    without = pytester.runpytest_subprocess("-s", "-p", "no:warp_gl_lifecycle")
    without.assert_outcomes(passed=2)
    assert atexit_callbacks(loaded) == atexit_callbacks(without)


def test_marker_and_fixtures_load_the_package_when_used(pytester):
    pytester.makepyfile(
        """
        import sys
        import pytest
        from pyglet import gl

        def test_unused_first():
            assert "warp_gl_lifecycle" not in sys.modules

        @pytest.mark.no_leaked_owners
        def test_marked(gl_context):
            assert gl.current_context is gl_context
            assert "warp_gl_lifecycle" in sys.modules  # the marker's check needs the registry

        def test_then_installed():
            import warp_gl_lifecycle

            assert warp_gl_lifecycle.installed()
        """
    )
    result = pytester.runpytest_subprocess(*with_plugin())
    result.assert_outcomes(passed=3)


def test_wheel_ships_the_plugin_outside_the_package(tmp_path):
    """The entry point names a module that is not inside ``warp_gl_lifecycle`` (whose import
    installs the drop-ins), and the wheel carries it."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    archive = zipfile.ZipFile(next(tmp_path.glob("warp_gl_lifecycle-*.whl")))
    names = archive.namelist()
    assert "warp_gl_lifecycle_pytest.py" in names
    entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert re.search(r"^warp_gl_lifecycle = warp_gl_lifecycle_pytest$", entry_points, re.M), entry_points
