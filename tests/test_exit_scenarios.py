"""What a user did, run to exit in a fresh interpreter: exit code 0 and nothing on stderr."""

import re
import subprocess

import pytest

from .conftest import Result, has_cuda


def test_legacy_class_in_cycle_fails_at_exit_without_the_package(scenario):
    result = scenario("legacy_class_in_cycle.py")
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
