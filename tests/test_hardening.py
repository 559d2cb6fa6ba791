"""Fork, spawn, threads, signals, faults, bad input, warnings, the pytest plugin and doctor."""

import gc
import json
import os
import signal
import subprocess
import sys
import threading
import tracemalloc
import warnings

import numpy as np
import pytest
import warp as wp
from hypothesis import given, settings
from hypothesis import strategies as st
from pyglet import gl

from warp_gl_lifecycle import ShapeInstancer, flush, track
from warp_gl_lifecycle.glresources import GLResources, live_names
from warp_gl_lifecycle.registry import Reason, Registry

from .conftest import ROOT, SCENARIOS, python_path, run_scenario
from .test_instancer import INDICES, QUAD, make

# -- processes -------------------------------------------------------------------------------------


def test_forked_child_releases_nothing_of_the_parents_and_exits_cleanly(scenario):
    result = scenario("forked_child_with_owners.py").assert_clean()
    out = result.stdout
    assert "child live at fork: 0" in out
    assert "child live: ['Owner \"child\\'s\"']" in out
    assert "released child owner exit" in out and "child exit status 0" in out
    assert out.count("released parent owner") == 1  # by the parent only
    parent_pid = out.split("released parent owner ")[1].split()[0]
    assert "child exit status" in out.split(f"released parent owner {parent_pid}")[0]


def test_child_forked_after_the_parent_drew_refuses_gl_at_once_instead_of_hanging(scenario):
    """pyglet alone hangs here (the child's first draw, and its exit; ``--plain``). The child's
    window raises at once, naming fork and the fix; the child and the parent exit cleanly."""
    result = scenario("forked_child_draws.py", timeout=120).assert_clean()
    out = result.stdout
    assert "child hung" not in out and "child drew" not in out
    refusal = out.split("child refused: ")[1].splitlines()[0]
    assert "forked" in refusal and 'multiprocessing.get_context("spawn")' in refusal and '"forkserver"' in refusal
    assert "child exit status 3" in out and "parent still draws" in out
    child, parent = (dict(eval(line[len("STATS "):])) for line in out.splitlines() if line.startswith("STATS "))  # noqa: S307
    assert child["created"] == parent["created"] == 2 and child["released_exit"] == 0  # the parent's, not the child's
    assert parent["released_exit"] == 2 and parent["errors"] == child["errors"] == 0


def test_spawned_workers_each_draw_headless_and_exit_cleanly(scenario):
    result = scenario("spawn_workers_draw.py").assert_clean()
    pixels = [line for line in result.stdout.splitlines() if line.startswith("worker")]
    assert len(pixels) == 4 and all(line.endswith("[239, 0, 0]") for line in pixels), pixels


def run_until_drawing(*args):
    proc = subprocess.Popen(
        [sys.executable, str(SCENARIOS / "terminated_while_drawing.py"), *args],
        cwd=SCENARIOS, env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for line in proc.stdout:
        if line.startswith("drawing"):
            return proc
    raise AssertionError(proc.stderr.read())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_handle_signals_turns_a_signal_into_a_normal_exit(signum):
    proc = run_until_drawing("--handle-signals")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum
    assert "STATS" in out and "('released_exit', 2)" in out  # the instancer and the shared shader
    for bad in ("Traceback", "Exception ignored", "CUDA error"):
        assert bad not in err, err


def test_without_handle_signals_sigterm_kills_before_any_release():
    proc = run_until_drawing()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGTERM
    assert "STATS" not in out  # nothing ran at exit: this is what handle_signals() is for


def test_handle_signals_refuses_other_threads():
    from warp_gl_lifecycle import handle_signals

    errors = []
    thread = threading.Thread(target=lambda: errors.append(pytest.raises(RuntimeError, handle_signals)))
    thread.start()
    thread.join()
    assert errors and "main thread" in str(errors[0].value)


def test_keyboard_interrupt_in_a_render_loop(scenario):
    result = scenario("interrupted_render_loop.py")
    assert result.returncode in (130, -signal.SIGINT)
    assert result.stderr.count("Traceback") == 1 and "KeyboardInterrupt" in result.stderr  # python's own report
    assert "Exception ignored" not in result.stderr
    assert result.stats()["released_exit"] == 2


# -- faults ----------------------------------------------------------------------------------------


def test_a_release_that_raises_is_logged_once_and_others_still_go(scenario):
    result = scenario("release_raises_at_exit.py").assert_clean()
    assert result.stderr.count("driver lost the buffer") == 1
    assert "releasing Owner 'broken owner' (exit) failed: RuntimeError" in result.stderr
    stats = result.stats()
    assert stats["released_exit"] == 3 and stats["errors"] == 1  # two instancers, their shared shader


def test_context_destroyed_before_exit(scenario):
    stats = scenario("window_closed_without_close.py").assert_clean().stats()
    assert stats["released_exit"] == 2 and stats["errors"] == 0


def test_pyglet_missing_gives_a_clear_import_error(scenario):
    result = scenario("pyglet_missing.py").assert_clean()
    assert "imported; drop-in installed: True" in result.stdout
    assert "ImportError: warp_gl_lifecycle needs pyglet" in result.stdout


def test_no_cuda_driver_scenarios_run_clean(scenario):
    result = scenario("instancer_left_open.py", env={"CUDA_VISIBLE_DEVICES": "-1"}).assert_clean()
    assert result.stats()["released_exit"] == 2


def test_registry_entered_again_from_inside_a_release():
    reg = Registry()
    order = []

    class Owner:
        pass

    keep = [Owner() for _ in range(3)]

    def reentrant(reason):
        order.append("outer")
        inner_owner = Owner()
        keep.append(inner_owner)
        reg.track(inner_owner, lambda r: order.append(("inner", r)), warn=False)
        assert [t.description for t in reg.live()]  # reading is fine
        reg.release_all()  # releases what is left, each once

    reg.track(keep[0], lambda r: order.append(("first", r)), warn=False)
    reg.track(keep[1], reentrant, warn=False)
    reg.track(keep[2], lambda r: order.append(("third", r)), warn=False)
    reg.live()[1].close()
    assert order == ["outer", ("inner", Reason.EXIT), ("third", Reason.EXIT), ("first", Reason.EXIT)]
    assert reg.release_all() == 0 and reg.stats()["errors"] == 0


# -- threads ---------------------------------------------------------------------------------------


def test_stress_8_threads_500_owners_each_exactly_once_and_no_gl_delete_off_main(gl_context):
    """Owners holding real GL names are created and dropped on 8 threads under GC pressure."""
    deletes = []  # (thread, function) for every GL delete call, recorded around the real function
    originals = {name: getattr(gl, name) for name in ("glDeleteBuffers", "glDeleteVertexArrays")}

    def recording(name, function):
        def call(*args):
            deletes.append((threading.current_thread().name, name))
            return function(*args)
        return call

    released = []

    class Owner:
        def __init__(self, name):
            resources = GLResources(gl_context)
            resources.buffers.append(name)

            def release(reason, resources=resources, name=name):  # refers to the names, not the owner
                released.append(name)
                resources.release(reason)

            self.tracked = track(self, release, context=gl_context, warn=False)

    count = 8 * 500
    pool = (gl.GLuint * count)()
    gl.glGenBuffers(count, pool)
    for name in pool:
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, name)
        gl.glBufferData(gl.GL_ARRAY_BUFFER, 16, None, gl.GL_STATIC_DRAW)
    names = list(pool)

    def worker(chunk):
        for name in chunk:
            owner = Owner(name)
            junk = [[i] for i in range(50)]  # garbage to provoke collections on this thread
            junk.append(junk)
            del owner, junk
            if name % 97 == 0:
                gc.collect()

    for name, function in originals.items():
        setattr(gl, name, recording(name, function))
    try:
        threads = [threading.Thread(target=worker, args=(names[i::8],), name=f"worker-{i}") for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        gc.collect()
        off_main = [entry for entry in deletes if entry[0] != "MainThread"]
        assert off_main == []
        flush()  # the safe point on the main thread deletes what the threads queued
    finally:
        for name, function in originals.items():
            setattr(gl, name, function)
    assert sorted(released) == sorted(names)  # every owner released, exactly once
    assert live_names("buffer", names) == []
    assert all(thread == "MainThread" for thread, _ in deletes)


# -- property-based --------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["track", "close", "drop", "collect", "exit"]), st.integers(0, 9)), max_size=60))
def test_random_sequences_keep_exactly_once_and_reverse_order(ops):
    reg = Registry()
    released = []
    owners = {}  # id -> owner (strong), or None once dropped
    records = {}
    next_id = 0

    class Owner:
        pass

    for op, pick in ops:
        ids = sorted(records)
        if op == "track":
            owner = Owner()
            owners[next_id] = owner
            records[next_id] = reg.track(owner, lambda r, i=next_id: released.append((i, r)), warn=False)
            next_id += 1
        elif op == "close" and ids:
            records[ids[pick % len(ids)]].close()
        elif op == "drop" and ids:
            owners[ids[pick % len(ids)]] = None
        elif op == "collect":
            gc.collect()
        elif op == "exit":
            alive_before = [t.seq for t in reg.live()]
            mark = len(released)
            reg.release_all()
            exit_ids = [i for i, r in released[mark:] if r is Reason.EXIT]
            seqs = [records[i].seq for i in exit_ids]
            assert seqs == sorted(alive_before, reverse=True)
    reg.release_all()
    gc.collect()
    ids_released = [i for i, _ in released]
    assert sorted(ids_released) == sorted(set(ids_released)) == list(range(next_id))
    assert reg.live() == []


# -- warnings --------------------------------------------------------------------------------------


def test_resource_warning_carries_the_allocation_traceback_under_tracemalloc(gl_context):
    tracemalloc.start(5)
    try:
        inst = make()  # allocated here
    finally:
        tracemalloc.stop()
    with pytest.warns(ResourceWarning, match="unclosed ShapeInstancer") as caught:
        del inst
        gc.collect()
    message = str(caught[0].message)
    assert "Object allocated at (most recent call last):" in message
    assert "test_hardening.py" in message
    flush()


# -- bad input (with test_instancer.TestBadInput: more than 20 kinds) ------------------------------


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: ShapeInstancer(device="cuda:7"), ValueError, "device must be a Warp device"),
        (lambda: ShapeInstancer(device="nonsense"), ValueError, "device must be a Warp device"),
        (lambda: make().allocate_instances(np.zeros((2, 3)), rotations=np.zeros((2, 4))), ValueError, "non-zero quaternions"),
        (lambda: make().allocate_instances(np.full((2, 3), np.inf)), ValueError, "positions must be finite"),
        (lambda: make().allocate_instances(np.zeros((2, 3)), colors1="red"), TypeError, "colors1 must be an array of numbers"),
        (lambda: make().allocate_instances(np.zeros((2, 3)), scalings=np.zeros((2, 3, 1))), ValueError, r"scalings must have shape \(2, 3\)"),
        (lambda: make(count=2).update_instances(np.full((2, 7), np.nan)), ValueError, "transforms must be finite"),
        (lambda: make(count=2).update_instances(wp.array(np.zeros((3, 7)), dtype=wp.transform)), ValueError, r"transforms must have shape \(2,\), got \(3,\)"),
        (lambda: make(count=2).update_instances(np.zeros((2, 6))), ValueError, r"transforms must have shape \(2, 7\)"),
        (lambda: make(count=2).update_instances(colors1=np.zeros((3, 3))), ValueError, r"colors1 must have shape \(2, 3\)"),
        (lambda: make().register_shape(QUAD, np.array([[0, 1, 2]], dtype=np.complex64)), TypeError, "indices must be integers"),
        (lambda: make().register_shape(QUAD.astype(np.complex64), INDICES), TypeError, "vertices must be an array of numbers"),
        (lambda: make().register_shape(QUAD, INDICES, color1=(1, 0)), ValueError, r"color1 must have shape \(3,\)"),
    ],
)
def test_more_bad_input(gl_context, call, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(error, match=match):
            call()
        gc.collect()
    flush()


def test_absurd_instance_count_is_refused_before_allocating(gl_context, monkeypatch):
    import warp_gl_lifecycle.instancer as instancer_module

    inst = make()
    monkeypatch.setattr(instancer_module, "MAX_INSTANCES", 4)  # the real limit is 2**31 / 64 instances
    with pytest.raises(ValueError, match="positions holds 5 instances; at most 4"):
        inst.allocate_instances(np.zeros((5, 3)))
    inst.close()


@pytest.mark.parametrize("method", ["register_shape", "allocate_instances", "update_instances", "update_colors", "render", "__enter__"])
def test_closed_instancer_refuses_every_method(gl_context, method):
    inst = make()
    inst.close()
    args = {"register_shape": (QUAD, INDICES), "allocate_instances": (np.zeros((1, 3)),),
            "update_instances": (np.zeros((3, 7)),), "update_colors": (None, None)}.get(method, ())
    with pytest.raises(RuntimeError, match="is closed"):
        getattr(inst, method)(*args)


# -- soak ------------------------------------------------------------------------------------------


def test_soak_1000_instancer_and_100_renderer_cycles(measurement):
    result = run_scenario("soak.py", timeout=600).assert_clean()
    figures = result.figures()
    measurement("soak", figures)
    # Live names must not grow at all. Memory is compared once the driver is warm (see soak.py:
    # Mesa's llvmpipe fills a bounded cache of draw variants over the first ~1,500 vertex arrays).
    assert figures["instancer 1000"]["names"] == figures["instancer 10"]["names"]
    assert figures["renderer 100"]["names"] == figures["renderer 10"]["names"]
    assert figures["instancer peaks"]["measured"] - figures["instancer peaks"]["warm"] < 20
    assert figures["renderer 100"]["rss_mb"] - figures["renderer 50"]["rss_mb"] < 20


# -- the pytest plugin -----------------------------------------------------------------------------


def test_plugin_gl_context_and_leak_marker(pytester):
    pytester.makepyfile(
        """
        import numpy as np
        import pytest
        from pyglet import gl
        from warp_gl_lifecycle import ShapeInstancer

        def make():
            inst = ShapeInstancer(device="cpu", name="from the test")
            inst.register_shape(np.zeros((3, 8)), [0, 1, 2])
            return inst

        def test_context_is_current(gl_context):
            assert gl.current_context is gl_context

        @pytest.mark.no_leaked_owners
        def test_closes(gl_context):
            make().close()  # the first instancer: the shared default shader is created here

        @pytest.mark.no_leaked_owners
        def test_leaks(gl_context):
            pytest.kept = make()

        def test_leaks_with_fixture(gl_context, no_leaked_owners):
            pytest.kept2 = make()

        def test_leaks_unchecked(gl_context):
            pytest.kept3 = make()
        """
    )
    result = pytester.runpytest_subprocess("-W", "ignore::ResourceWarning")  # the plugin loads by its entry point
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(["*1 warp_gl_lifecycle owner(s) left alive by this test:*", "*ShapeInstancer 'from the test'*"])
    failed = [line for line in result.stdout.lines if line.startswith("FAILED")]
    assert sorted(line.split("::")[1].split()[0] for line in failed) == ["test_leaks", "test_leaks_with_fixture"]


def test_plugin_skips_with_a_reason_when_no_context_can_be_made(pytester, monkeypatch):
    pytester.makepyfile(
        """
        def test_needs_gl(gl_context):
            pass
        """
    )
    monkeypatch.setenv("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl_vendor.json")  # no EGL driver
    result = pytester.runpytest_subprocess("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*no GL context can be made here*"])


# -- doctor ----------------------------------------------------------------------------------------


def run_doctor(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "warp_gl_lifecycle", "doctor", *args],
        cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120,
    )


def test_doctor_reports_a_healthy_machine():
    proc = run_doctor("--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    checks = {c["what"]: c for c in report["checks"]}
    assert report["healthy"] is True
    for what in ("python", "warp-lang", "pyglet", "numpy", "headless GL context", "GL renderer", "Warp drop-in"):
        assert checks[what]["status"] == "ok", checks[what]
    assert "installed" in checks["Warp drop-in"]["detail"]
    assert checks["CUDA devices"]["status"] in ("ok", "--")


def test_doctor_accepts_packages_only_on_sys_path(monkeypatch):
    """As on the GPU machine, where warp and pyglet are unpacked onto PYTHONPATH, not installed."""
    from importlib import metadata

    from warp_gl_lifecycle import doctor

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(doctor.metadata, "version", not_installed)
    assert doctor._version("warp-lang").startswith(f"{wp.config.version} (on sys.path at ")
    assert "not installed" in doctor._version("pyglet")
    monkeypatch.setitem(doctor._MODULES, "numpy", "no_such_module_here")
    assert doctor._version("numpy") is None


def test_doctor_exits_non_zero_and_says_how_to_fix(tmp_path):
    broken = tmp_path / "pyglet"  # a pyglet that cannot make a context
    broken.mkdir()
    (broken / "__init__.py").write_text("options = {}\nclass window:\n    class Window:\n"
                                        "        def __init__(self, *a, **k):\n            raise OSError('no EGL display')\n")
    proc = run_doctor(env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{python_path()}", "WARP_GL_LIFECYCLE": "0"})
    assert proc.returncode == 1
    assert "MISSING  headless GL context" in proc.stdout and "apt-get install libegl1" in proc.stdout
    assert "something needed is missing" in proc.stdout
