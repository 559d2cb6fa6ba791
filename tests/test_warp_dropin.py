"""The drop-in: Warp's own OpenGLRenderer, headless and on a desktop (Xvfb), with and without us."""

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import warp as wp
import pytest

from .conftest import (ROOT, SCENARIOS, WARP_REGISTRATION_WITHOUT_DRIVER, WARP_START_UP_WITHOUT_DRIVER, Result,
                       has_cuda, python_path, run_scenario, without_warp_lines)

# Before the import, plain Warp's renderer registers its buffers with CUDA and says it cannot.
BEFORE_IMPORT = WARP_START_UP_WITHOUT_DRIVER + WARP_REGISTRATION_WITHOUT_DRIVER

EXITS = [
    ("warp_renderer_left_open.py", 0),
    ("warp_renderers_two_alive.py", 0),
    ("warp_renderer_closed_twice.py", 0),
    ("warp_renderer_window_closed_then_close.py", 0),
    ("warp_renderer_sys_exit.py", 3),
    ("warp_renderer_held_by_another_modules_global.py", 0),
]
MODES = ["import", "run"]


def run_warp_scenario(name, mode, env=None):
    """``import``: the script imports warp_gl_lifecycle; ``run``: an unmodified script under ``run``."""
    env = {**(env or {})}
    if mode == "run":
        env["WGL_IMPORT"] = "0"
        return run_scenario_via_run(name, env)
    return run_scenario(name, env=env)


def run_scenario_via_run(name, env):
    proc = subprocess.run(
        [sys.executable, "-m", "warp_gl_lifecycle", "run", str(SCENARIOS / name)],
        cwd=SCENARIOS,
        env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path(), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Result(proc)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, code", EXITS)
def test_warp_renderer_exits_cleanly(name, code, mode):
    result = run_warp_scenario(name, mode).assert_clean(code)
    stats = result.stats()
    assert stats["tracked"] == 0 and stats["errors"] == 0
    assert stats["released_close"] + stats["released_exit"] == stats["created"] >= 4


@pytest.mark.skipif(has_cuda(), reason="the failure shown is that of a machine without a CUDA driver")
def test_warp_renderer_cannot_draw_on_cpu_without_the_package():
    result = run_scenario("warp_renderer_left_open.py", env={"WGL_IMPORT": "0"})
    assert result.returncode == 1
    assert "Failed to allocate" in result.stderr and "CUDA error" in result.stderr


@pytest.mark.parametrize("mode", MODES)
def test_warp_renderer_draws_on_cpu_with_the_package(mode):
    result = run_warp_scenario("warp_renderer_left_open.py", mode).assert_clean()
    assert "pixels (48, 64, 3)" in result.stdout


def test_seed_import_error_at_exit_without_the_package():
    result = run_scenario("warp_renderer_in_cycle_with_error_checking.py", env={"WGL_IMPORT": "0", "PYGLET_DEBUG_GL": "true"})
    assert "Exception ignored" in result.stderr
    assert "ImportError: sys.meta_path is None" in result.stderr


@pytest.mark.parametrize("mode", MODES)
def test_seed_import_error_is_gone_with_the_package(mode):
    stats = run_warp_scenario("warp_renderer_in_cycle_with_error_checking.py", mode).assert_clean().stats()
    assert stats["released_exit"] == stats["created"] >= 2


def test_renderer_created_before_the_import_is_adopted():
    result = run_scenario("warp_renderer_created_before_import.py").assert_clean(warp_lines=BEFORE_IMPORT)
    assert "adopted 2" in result.stdout  # the renderer and its axis instancer
    assert result.stats()["released_exit"] == 2


def test_renderers_in_every_state_are_adopted_in_creation_order_each_in_its_own_context():
    result = run_scenario("warp_renderers_adopted_at_import.py").assert_clean(warp_lines=BEFORE_IMPORT)
    figures = result.figures()
    assert figures["order"] == ["partly_built", "closed_by_warp", "closed_by_warp axis", "first", "first axis",
                                "second", "second axis"]
    assert figures["foreign_vao_deletes"] == [] and figures["first_deletes_in_own_context"]
    assert figures["second_draws_as_before"]
    assert "failed" not in result.stderr and result.stats()["errors"] == 0


@pytest.mark.parametrize("mode", MODES)
def test_exception_in_user_code_prints_only_the_users_traceback(mode):
    result = run_warp_scenario("warp_renderer_user_exception.py", mode)
    stderr = without_warp_lines(result.stderr)
    assert result.returncode == 1
    assert stderr.count("Traceback") == 1
    assert "ValueError: user bug in simulate()" in stderr
    assert 'warp_renderer_user_exception.py", line 7, in simulate' in stderr
    for bad in ("Exception ignored", "ImportError", "CUDA error", "runpy", "warp_gl_lifecycle"):
        assert bad not in stderr, result.stderr
    assert result.stats()["released_exit"] >= 4


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda:0", marks=pytest.mark.cuda)])
def test_30_renderer_cycles_leak_no_names_and_little_memory(measurement, device):
    """Names are flat from the first cycle. On CUDA, device memory in use grows, from cycle 10 to
    30, by at most 1 MB more than with plain pyglet windows cycled the same way (what the driver
    itself keeps per EGL context is not ours to free), and Warp's memory pool is flat."""
    result = run_scenario("warp_renderer_30_cycles.py", env={"WGL_DEVICE": device}).assert_clean()
    figures = result.figures()
    first, tenth, last = figures["1"], figures["10"], figures["30"]
    measurement(f"30 renderer cycles on {device}", f"live names {first['names']} -> {last['names']}, RSS "
                + " -> ".join(f"{f['rss_mb']}" for f in figures.values()) + " MB, GPU "
                + " -> ".join(f"{f['gpu_mb']}" for f in figures.values()) + " MB, Warp mempool "
                + " -> ".join(f"{f['mempool_mb']}" for f in figures.values()) + " MB")
    assert last["names"] == first["names"]
    # What loads once (Warp modules and kernels, pyglet caches) does so in the first cycles: 6 MB with
    # warp-lang 1.19, 22 MB with 1.13. A leak keeps growing: cycles 10 to 30 add under 1 MB with either.
    assert last["rss_mb"] - tenth["rss_mb"] < 5
    assert last["rss_mb"] - first["rss_mb"] < 40
    if device != "cpu":
        plain = run_scenario("warp_renderer_30_cycles.py", env={"WGL_DEVICE": device, "WGL_PLAIN": "1"}).assert_clean()
        baseline = plain.figures()
        measurement("30 plain pyglet window cycles", "GPU " + " -> ".join(f"{f['gpu_mb']}" for f in baseline.values()) + " MB")
        ours, windows = last["gpu_mb"] - tenth["gpu_mb"], baseline["30"]["gpu_mb"] - baseline["10"]["gpu_mb"]
        assert ours <= windows + 1.0, f"renderers grew {ours:.1f} MB from cycle 10 to 30, plain windows {windows:.1f} MB"
        if first["mempool_mb"] is not None:
            assert abs(last["mempool_mb"] - first["mempool_mb"]) <= 0.5


def test_creating_a_renderer_keeps_warps_choice_of_no_gl_error_checking():
    """Warp's __init__ sets pyglet.options["debug_gl"] = False before it imports pyglet.gl; the
    creation's safe point must not import pyglet.gl first (that would check every GL call)."""
    code = ("import pyglet; pyglet.options['headless'] = True\n"
            "import warp_gl_lifecycle\n"
            "from warp_gl_lifecycle.warp_compat import quiet_warp; quiet_warp()\n"
            "import warp.render\n"
            "r = warp.render.OpenGLRenderer(headless=True, device='cpu', screen_width=32, screen_height=32)\n"
            "from pyglet.gl import gl\n"
            "print('ERRCHECK', getattr(gl.glBindBuffer, 'errcheck', None) is not None, flush=True)\n"
            "r.close()\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                          env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path()},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "ERRCHECK False" in proc.stdout


class TestInProcess:
    @pytest.fixture(autouse=True)
    def _scene(self):
        sys.path.insert(0, str(SCENARIOS))
        import _warp_scene

        self.scene = _warp_scene
        yield
        sys.path.remove(str(SCENARIOS))

    def test_successive_renderers_draw_identical_pixels(self):
        images = []
        r = None
        for _ in range(4):
            r = self.scene.renderer()  # the previous one is dropped unclosed while this one is current
            self.scene.draw(r, frames=3)
            images.append(self.scene.pixels(r))
        r.close()
        assert images[0].std() > 0.01  # a scene, not a blank frame
        for image in images[1:]:
            np.testing.assert_array_equal(image, images[0])

    def test_unclosed_renderer_warning_points_at_the_users_line_not_warps(self):
        """Released at the next renderer's creation (a safe point inside Warp's __init__): the
        ResourceWarning names the user's line that made it (the scene's, here), not Warp's."""
        import gc
        import warnings

        dropped = self.scene.renderer()
        dropped.me = dropped
        del dropped
        gc.collect()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            r = self.scene.renderer()
            self.scene.draw(r, frames=1)
        r.close()
        unclosed = [w for w in caught if "unclosed OpenGLRenderer" in str(w.message)]
        assert unclosed and all(w.filename.endswith("_warp_scene.py") for w in unclosed), \
            [(w.filename, w.lineno) for w in unclosed]

    def test_creating_a_renderer_releases_the_one_dropped_before(self):
        """Creation is a safe point: a renderer dropped unclosed is released when the next one is
        made, before any frame (its buffers are gone, seen from the new one's object space)."""
        import warnings

        import warp_gl_lifecycle as wgl
        from warp_gl_lifecycle.glowners import gl_name
        from warp_gl_lifecycle.glresources import live_names

        dropped = self.scene.renderer()
        self.scene.draw(dropped, frames=1)
        buffers = [gl_name(getattr(dropped, name)) for name in ("_grid_vbo", "_sky_vbo", "_frame_vbo")]
        before = wgl.stats()["released_gc"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            del dropped
            assert wgl.pending() >= 1 and live_names("buffer", buffers) == buffers
            r = self.scene.renderer()
        try:
            assert wgl.pending() == 0 and wgl.stats()["released_gc"] > before
            assert live_names("buffer", buffers) == []
        finally:
            r.close()

    def test_close_releases_every_name_the_renderer_made(self):
        from pyglet import gl

        from warp_gl_lifecycle.glresources import live_names

        r = self.scene.renderer()
        self.scene.draw(r, frames=2)
        buffers = [int(getattr(r, a).value) for a in ("_grid_vbo", "_sky_vbo", "_frame_pbo", "_instance_transform_gl_buffer")]
        textures = [int(r._frame_texture.value), int(r._frame_depth_texture.value)]
        programs = [r._shape_shader.id, r._grid_shader.id]
        instancer_buffers = [int(i.instance_transform_gl_buffer.value) for i in r._shape_instancers.values()]
        r.close()
        gl._shadow_window.switch_to()
        assert live_names("buffer", buffers + instancer_buffers) == []
        assert live_names("texture", textures) == [] and live_names("program", programs) == []

    def test_drawing_after_close_raises_runtime_error_saying_closed(self):
        r = self.scene.renderer()
        self.scene.draw(r, frames=1)
        r.close()
        with pytest.raises(RuntimeError, match="OpenGLRenderer is closed"):
            self.scene.draw(r, frames=1)
        with pytest.raises(RuntimeError, match="OpenGLRenderer is closed"):
            self.scene.pixels(r)

    def test_closed_from_a_worker_thread_while_the_main_thread_draws(self):
        import threading

        keep = self.scene.renderer()
        self.scene.draw(keep, frames=2)
        before = self.scene.pixels(keep)
        r = self.scene.renderer()
        self.scene.draw(r, frames=2)
        r.begin_frame(0.0)
        r.render_box("box", pos=(0.0, 0.5, 0.0), rot=(0.0, 0.0, 0.0, 1.0), extents=(0.4, 0.4, 0.4))
        worker = threading.Thread(target=r.close)
        worker.start()
        worker.join()
        with pytest.raises(RuntimeError, match="OpenGLRenderer is closed"):
            r.end_frame()  # the release runs at this frame's safe point; the frame is not drawn
        self.scene.draw(keep, frames=2)
        np.testing.assert_array_equal(self.scene.pixels(keep), before)
        keep.close()

    def test_closed_renderer_still_referenced_holds_no_gl_names(self):
        from pyglet import gl

        from warp_gl_lifecycle.glresources import live_names

        def live():
            gl._shadow_window.switch_to()
            return {kind: live_names(kind, range(1, 1000)) for kind in ("buffer", "texture", "program")}

        warm = self.scene.renderer()  # pyglet's glyph atlas (shared by every label) is made once
        self.scene.draw(warm, frames=1)
        warm.close()
        before = live()
        r = self.scene.renderer()  # an app object would keep self.renderer after close()
        self.scene.draw(r, frames=2)
        r.close()
        assert live() == before
        assert r.window.context is None

    def test_uninstall_restores_warp_and_install_again(self):
        import warp_gl_lifecycle as wgl
        from warp_gl_lifecycle.warp_compat import warp_render_opengl

        OpenGLRenderer, ShapeInstancer = warp_render_opengl().OpenGLRenderer, warp_render_opengl().ShapeInstancer

        from warp_gl_lifecycle.instancer import shared_shape_shader

        assert wgl.installed()
        shader = shared_shape_shader()
        before = ShapeInstancer(shader, "cpu")
        wgl.uninstall()
        try:
            assert not wgl.installed()
            import warp as wp

            assert not hasattr(wp.RegisteredGLBuffer.map, "__wrapped__")
            assert not hasattr(OpenGLRenderer.update, "__wrapped__")
            assert not OpenGLRenderer._wgl_managed.active and not ShapeInstancer._wgl_managed.active
            after = ShapeInstancer(shader, "cpu")  # made while uninstalled: Warp's own lifecycle
            assert "_wgl_tracked" not in after.__dict__
            assert before._wgl_tracked.alive  # tracked before: still released by us, exactly once
        finally:
            assert wgl.install()
        assert OpenGLRenderer._wgl_managed.active
        again = ShapeInstancer(shader, "cpu")
        assert again._wgl_tracked.alive
        for instancer in (before, again):
            instancer._wgl_tracked.close()
            assert not instancer._wgl_tracked.alive


def python_c(code, **env):
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYGLET_HEADLESS": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_environment_variable_disables_the_drop_in():
    proc = python_c("import warp_gl_lifecycle as w; print(w.installed())", WARP_GL_LIFECYCLE="0")
    assert proc.returncode == 0 and proc.stdout.strip() == "False"
    proc = python_c("import warp_gl_lifecycle as w; print(w.installed())")
    assert proc.returncode == 0 and proc.stdout.strip() == "True"


def test_unsupported_warp_is_left_untouched_with_one_warning():
    code = (
        "try:\n"
        "    from warp._src.render.render_opengl import OpenGLRenderer, ShapeInstancer\n"
        "except ImportError:  # Warp 1.8, 1.9\n"
        "    from warp.render.render_opengl import OpenGLRenderer, ShapeInstancer\n"
        "del ShapeInstancer.__del__  # as if an older or newer Warp lacked it\n"
        "original = OpenGLRenderer.__init__\n"
        "import warp_gl_lifecycle as w\n"
        "print(w.installed(), OpenGLRenderer.__init__ is original)\n"
    )
    proc = python_c(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False True"
    assert proc.stderr.count("left unpatched") == 1 and "lacks ShapeInstancer.__del__" in proc.stderr


@pytest.fixture(scope="module")
def xvfb_display():
    """A virtual X display (GLX), started here; .ci/run installs Xvfb."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb; .ci/run does)")
    display = ":%d" % (90 + os.getpid() % 100)
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = f"/tmp/.X11-unix/X{display[1:]}"
    for _ in range(100):
        if os.path.exists(socket):
            break
        time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("Xvfb did not start")
    yield display
    server.terminate()
    server.wait(timeout=10)


def desktop_env(display):
    return {"WGL_DESKTOP": "1", "DISPLAY": display, "PYGLET_HEADLESS": "false"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, code", EXITS + [("warp_renderer_user_closes_window.py", 0)])
def test_desktop_window_exits_cleanly(xvfb_display, name, code, mode):
    result = run_warp_scenario(name, mode, env=desktop_env(xvfb_display)).assert_clean(code)
    assert result.stats()["errors"] == 0


def test_desktop_user_closing_the_window_ends_the_loop(xvfb_display):
    result = run_scenario("warp_renderer_user_closes_window.py", env=desktop_env(xvfb_display)).assert_clean()
    assert "loop ended at frame 6 window closed: True" in result.stdout
    stats = result.stats()
    assert stats["released_close"] == stats["created"] and stats["released_exit"] == 0


def test_warp_update_instances_ignores_the_transforms_it_is_given_ours_does_not(gl_context):
    """Warp 1.19's ShapeInstancer.update_instances(transforms) keeps them in ``self.transforms`` but
    recomputes the matrices from the allocation's ``instance_transforms``: nothing moves; and
    scalings alone raise AttributeError. Ours moves the instances (floats 12-14 of each matrix
    are its translation) and scales them."""
    from warp_gl_lifecycle import ShapeInstancer
    from warp_gl_lifecycle.instancer import shared_shape_shader
    from warp_gl_lifecycle.warp_compat import warp_shape_instancer

    from .test_instancer import INDICES, QUAD, gl_floats, gl_matrices

    shader = shared_shape_shader()
    theirs = warp_shape_instancer()(shader, "cpu")
    theirs.register_shape(QUAD, INDICES.astype(np.int32))
    theirs.allocate_instances(np.zeros((4, 3), np.float32))
    ours = ShapeInstancer(shader, "cpu")
    ours.register_shape(QUAD, INDICES)
    ours.allocate_instances(np.zeros((4, 3), np.float32))
    moved = wp.array([(1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0)] * 4, dtype=wp.transform, device="cpu")
    theirs.update_instances(moved)
    ours.update_instances(moved)
    np.testing.assert_allclose(gl_matrices(ours)[:, 12:15], [[1, 2, 3]] * 4)
    np.testing.assert_allclose(gl_floats(int(theirs.instance_transform_gl_buffer.value), (4, 16))[:, 12:15], [[0, 0, 0]] * 4)
    doubled = wp.full(4, wp.vec3(2.0, 2.0, 2.0), dtype=wp.vec3, device="cpu")
    with pytest.raises(AttributeError, match="device"):  # it reads transforms.device, and transforms is None
        theirs.update_instances(scalings=doubled)
    ours.update_instances(scalings=doubled)
    np.testing.assert_allclose(gl_matrices(ours)[:, [0, 5, 10]], 2.0)
    ours.close()
    theirs.close()
