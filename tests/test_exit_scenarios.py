"""What a user did, run to exit in a fresh interpreter: exit code 0 and nothing on stderr."""

import re
import subprocess

import pytest

from .conftest import Result, has_cuda


def test_legacy_class_in_cycle_fails_at_exit_without_the_package(scenario):
    # pyglet's GL error checking (its default) is what imports at teardown and shows the fault
    result = scenario("legacy_class_in_cycle.py", env={"PYGLET_DEBUG_GL": "true"})
    assert "Exception ignored" in result.stderr
    assert "sys.meta_path is None" in result.stderr
    assert "legacy __del__ body ran" not in result.stdout


def test_legacy_class_in_cycle_is_clean_under_managed(scenario):
    result = scenario("legacy_class_in_cycle.py", "--managed").assert_clean()
    assert result.stdout.count("legacy __del__ body ran") == 1
    stats = result.stats()
    assert stats["released_exit"] == 1 and stats["errors"] == 0


@pytest.mark.parametrize(
    "name",
    ["instancer_left_open.py", "instancer_in_reference_cycle.py", "instancer_in_module_global.py"],
)
def test_instancer_not_closed_is_released_at_exit(scenario, name):
    stats = scenario(name).assert_clean().stats()
    # the instancer, and the default shader it shared (an owner of its own)
    assert stats == {**stats, "released_exit": 2, "released_close": 0, "errors": 0, "tracked": 0}


@pytest.mark.parametrize("args", [(), ("--twice",)])
def test_closed_instancer_leaves_nothing_for_exit(scenario, args):
    stats = scenario("instancer_closed.py", *args).assert_clean().stats()
    # at exit only the shared default shader is left
    assert stats["released_close"] == 1 and stats["released_exit"] == 1 and stats["errors"] == 0


def test_instancers_in_two_windows_release_newest_first_each_in_its_own_context(scenario):
    result = scenario("instancers_in_two_windows.py").assert_clean()
    released = re.findall(r"released ShapeInstancer '(\w+)' \((\w+)\)", result.stdout)
    assert released == [("b2", "exit"), ("b1", "exit"), ("a2", "exit"), ("a1", "exit")]
    # Names are queued per context as owners are released, then deleted once per context,
    # each with that very context current (so its vertex arrays are the ones deleted).
    deletions = re.findall(r"deleting GL names queued for context (0x[0-9a-f]+) with context (0x[0-9a-f]+) current", result.stdout)
    assert deletions and all(owner == current for owner, current in deletions), deletions
    assert result.stdout.index("'a1' (exit)") < result.stdout.index("deleting GL names queued")


def test_exit_releases_live_owners_newest_first_and_each_once(scenario):
    result = scenario("owners_exit_order.py").assert_clean()
    released = re.findall(r"released (\d) (\w+)", result.stdout)
    assert released == [("2", "close"), ("4", "gc"), ("5", "exit"), ("3", "exit"), ("1", "exit"), ("0", "exit")]


def test_exit_hook_runs_before_a_later_library_tears_gl_down(scenario):
    out = scenario("library_tears_gl_down_at_exit.py").assert_clean().stdout
    assert out.index("released ShapeInstancer 'late library' (exit)") < out.index("library closes windows")
    owner, current = re.search(r"deleting GL names queued for context (0x[0-9a-f]+) with context (0x[0-9a-f]+) current", out).groups()
    assert owner == current
    assert out.index("deleting GL names queued") < out.index("library closes windows")


@pytest.mark.parametrize("mode", ["systemexit", "interrupt"])
def test_sys_exit_or_ctrl_c_inside_one_exit_release_does_not_stop_the_others(scenario, mode):
    result = scenario("release_interrupted_at_exit.py", "--mode", mode).assert_clean()
    assert re.findall(r"^released (\w+)$", result.stdout, re.M) == ["newest", "middle", "oldest"]
    assert "Exception ignored" not in result.stderr
    stats = result.stats()
    assert stats["tracked"] == 0 and stats["released_exit"] == 2 and stats["errors"] == 1


def test_owner_made_by_an_exit_release_is_released_too(scenario):
    result = scenario("release_interrupted_at_exit.py", "--mode", "helper").assert_clean()
    assert result.stdout.index("released oldest") < result.stdout.index("released middle's helper")
    assert result.stats() == {**result.stats(), "tracked": 0, "released_exit": 4, "errors": 0}


def test_renderer_closed_by_its_app_finalizer_in_one_garbage_cycle_is_released(scenario):
    result = scenario("release_interrupted_at_exit.py", "--mode", "cycle").assert_clean()
    assert result.stdout.count("released in cycle") == 1
    assert result.stats() == {**result.stats(), "tracked": 0, "released_close": 1, "errors": 0}


def test_warp_renderer_tracked_before_uninstall_is_still_released_once_at_exit(scenario):
    result = scenario("warp_renderer_uninstalled.py").assert_clean()
    assert "installed False" in result.stdout
    stats = result.stats()
    assert stats["errors"] == 0 and stats["tracked"] == 0 and stats["released_exit"] >= 1


def test_unclosed_owner_under_w_error_resource_warning_is_reported_as_unraisable(scenario):
    """As Python does for an unclosed file: the warning, raised as an error in a release that is
    not the user's call, reaches sys.unraisablehook; it does not vanish, and the others still go."""
    import os
    import subprocess
    import sys

    from .conftest import SCENARIOS, python_path

    proc = subprocess.run(
        [sys.executable, "-W", "error::ResourceWarning", str(SCENARIOS / "instancer_left_open.py")],
        cwd=SCENARIOS, env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()},
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Exception ignored" in proc.stderr and "ResourceWarning: unclosed ShapeInstancer 'left open'" in proc.stderr
    stats = dict(eval(next(l for l in proc.stdout.splitlines() if l.startswith("STATS "))[6:]))  # noqa: S307
    assert stats["tracked"] == 0 and stats["released_exit"] == 2


@pytest.mark.skipif(has_cuda(), reason="Warp's start-up lines are those of a machine without a CUDA driver")
def test_warp_start_up_lines_are_told_from_errors_of_ours():
    """Warp 1.8's start-up on a driverless machine is not a failure; a CUDA error of ours, or one of
    Warp's that is not a start-up line, still is, even glued to a start-up line."""
    start_up = ("Warp CUDA error: Could not open libcuda.so.\n"
                "Warp CUDA error: Function cuDriverGetVersion_f: a suitable driver entry point was not found\n"
                "Warp CUDA error 36 (in function cuda_driver_version, /builds/omniverse/warp/warp/native/warp.cu:1733)\n")

    def result(stderr):
        return Result(subprocess.CompletedProcess([], 0, "", stderr))

    result(start_up).assert_clean()
    for ours in ("Warp CUDA error 1 (in function wp_cuda_graphics_unregister_resource, warp.cu:9)\n",
                 "releasing OpenGLRenderer #1 (exit) failed: CUDA error 700\n"):
        with pytest.raises(AssertionError, match="CUDA error"):
            result(start_up + ours).assert_clean()
        with pytest.raises(AssertionError, match="CUDA error"):
            result(start_up.rstrip("\n") + ours).assert_clean()
