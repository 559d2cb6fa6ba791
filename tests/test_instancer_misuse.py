"""ShapeInstancer used as a careless or hostile user would (issue 10): no write into another
object's memory, no silent loss, and a clear error naming the argument for every mistake.

Every pixel test draws an untouched neighbour instancer in a window sharing the instancer's GL
objects and in one that does not (its own object space, whose names collide with ours), and
checks that the neighbours' pixels never change.
"""

import threading

import numpy as np
import pyglet
import pytest
import warp as wp
from pyglet import gl

from warp_gl_lifecycle import ShapeInstancer, flush
from warp_gl_lifecycle.glresources import live_names

from .test_instancer import INDICES, QUAD, SIZE, dominant, draw, gl_floats, pixel_at

RED, GREEN, BLUE = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
SMALL_QUAD = QUAD * [0.1, 0.1, 1, 1, 1, 1, 1, 1]


@wp.kernel
def place_in_a_row(out: wp.array(dtype=wp.mat44)):
    """Instance ``i`` at (0.8 i - 0.4, 0.5): for two instances, left and right of the top half."""
    i = wp.tid()
    x = float(i) * 0.8 - 0.4
    out[i] = wp.transpose(wp.transform_compose(wp.vec3(x, 0.5, 0.0), wp.quat_identity(), wp.vec3(1.0, 1.0, 1.0)))


@wp.kernel
def place_at(offsets: wp.array(dtype=wp.vec3), out: wp.array(dtype=wp.mat44)):
    i = wp.tid()
    out[i] = wp.transpose(wp.transform_compose(offsets[i], wp.quat_identity(), wp.vec3(1.0, 1.0, 1.0)))


def build(positions, colors, device="cpu"):
    inst = ShapeInstancer(device=device)
    inst.register_shape(SMALL_QUAD, INDICES, RED)
    inst.allocate_instances(positions, colors1=colors)
    return inst


class Scene:
    """Window ``home`` (its own object space) holds the instancer under test and a neighbour;
    ``shared`` shares home's objects; ``private`` has an object space of its own whose
    neighbour's matrix buffer has the same number as the instancer's (so a GL call in the wrong
    context hits it)."""

    def __init__(self, gl_window):
        config = gl_window.config
        self.home = pyglet.window.Window(SIZE, SIZE, visible=False, config=config,
                                         context=config.create_context(None))
        self.shared = pyglet.window.Window(SIZE, SIZE, visible=False, config=config,
                                           context=config.create_context(self.home.context))
        self.private = pyglet.window.Window(SIZE, SIZE, visible=False, config=config,
                                            context=config.create_context(None))
        self.home.switch_to()
        self.inst = build([(-0.5, -0.5, 0), (0.5, -0.5, 0)], RED)
        self.same_neighbour = build([(0.5, 0.5, 0)], GREEN)
        self.shared.switch_to()
        self.shared_neighbour = build([(0.0, 0.5, 0)], GREEN)
        self.private.switch_to()
        self.private_neighbour = self._colliding_neighbour(self.inst.instance_transform_gl_buffer)
        self.before = self.neighbour_pixels()

    @staticmethod
    def _colliding_neighbour(target: int) -> ShapeInstancer:
        """A neighbour in the current (private) context whose matrix buffer is named ``target``."""
        ShapeInstancer(device="cpu").close()  # compiles this space's default shader first
        padding = []
        while True:  # a fresh object space hands out increasing names
            name = gl.GLuint()
            gl.glGenBuffers(1, name)
            padding.append(name.value)
            if name.value >= target - 5:  # the neighbour makes 5 buffers, matrices last
                break
        neighbour = build([(0.0, 0.0, 0), (0.0, -0.6, 0)], BLUE)  # as many matrices as ours
        assert neighbour.instance_transform_gl_buffer == target, "test set-up: names do not collide"
        return neighbour

    def image(self, window, inst):
        window.switch_to()
        return draw(inst)

    def neighbour_pixels(self):
        return {"same": self.image(self.home, self.same_neighbour),
                "shared": self.image(self.shared, self.shared_neighbour),
                "private": self.image(self.private, self.private_neighbour)}

    def assert_neighbours_untouched(self):
        after = self.neighbour_pixels()
        for where in ("same", "shared", "private"):
            changed = int((after[where] != self.before[where]).any(axis=2).sum())
            assert changed == 0, f"{changed} pixels of the {where} neighbour changed"

    def close(self):
        for inst, window in ((self.inst, self.home), (self.same_neighbour, self.home), (self.shared_neighbour, self.shared),
                             (self.private_neighbour, self.private)):
            window.switch_to()
            inst.close()
        for window in (self.private, self.shared, self.home):
            window.close()


@pytest.fixture
def scene(gl_window):
    made = Scene(gl_window)
    yield made
    made.close()
    gl_window.switch_to()
    flush()


# -- item 1: `with inst:` uploads in its own context -----------------------------------------------


@pytest.mark.parametrize("where", ["shared", "private"])
def test_with_block_uploads_into_its_own_buffer_when_another_context_became_current(scene, where):
    with scene.inst as mapped:
        wp.launch(place_in_a_row, dim=2, outputs=[mapped.vbo_transforms], device="cpu")
        window = getattr(scene, where)
        scene.image(window, getattr(scene, f"{where}_neighbour"))  # another instancer draws meanwhile
        assert gl.current_context is window.context
    scene.assert_neighbours_untouched()
    image = scene.image(scene.home, scene.inst)
    assert [dominant(pixel_at(image, x, 0.5)) for x in (-0.4, 0.4)] == ["red", "red"]
    assert dominant(pixel_at(image, -0.5, -0.5)) == "background"  # the kernel's matrices, not the old ones


# -- item 2: close() inside `with inst:` -----------------------------------------------------------


@pytest.mark.parametrize("where", ["home", "same", "private"])
def test_close_inside_with_block_uploads_nothing_anywhere(scene, where):
    """With GL error checking off (PYGLET_DEBUG_GL=false, or python -O: see
    test_focused_subset_under_dev_mode_and_without_gl_error_checks), binding the deleted name
    fails silently and an upload would land in whatever buffer is bound."""
    with scene.inst as mapped:
        wp.launch(place_in_a_row, dim=2, outputs=[mapped.vbo_transforms], device="cpu")
        scene.inst.close()
        if where == "same":  # a neighbour in the same context leaves its vertex buffer bound
            scene.home.switch_to()
            scene.same_neighbour.register_shape(SMALL_QUAD, INDICES, GREEN)
        if where == "private":  # the neighbour binds its own buffers in a context where our
            scene.private.switch_to()  # (deleted) matrix buffer's number names its matrices
            scene.private_neighbour.update_colors(BLUE, None)
    assert scene.inst.closed and not hasattr(scene.inst, "vbo_transforms")
    scene.assert_neighbours_untouched()


def test_close_from_inside_with_block_then_exception_propagates_unchanged(scene):
    with pytest.raises(KeyError, match="mine"):
        with scene.inst:
            scene.inst.close()
            raise KeyError("mine")
    scene.assert_neighbours_untouched()


# -- item 3: a kernel cannot write past the matrices ------------------------------------------------


def test_launch_helper_sets_dim_and_draws(scene):
    scene.home.switch_to()
    scene.inst.launch(place_in_a_row)
    image = scene.image(scene.home, scene.inst)
    assert [dominant(pixel_at(image, x, 0.5)) for x in (-0.4, 0.4)] == ["red", "red"]
    scene.home.switch_to()
    offsets = wp.array([(-0.5, 0.0, 0.0), (0.5, 0.0, 0.0)], dtype=wp.vec3, device="cpu")
    with scene.inst:  # inside the block too; the upload is on leaving it
        scene.inst.launch(place_at, inputs=[offsets])
    image = scene.image(scene.home, scene.inst)
    assert [dominant(pixel_at(image, x, 0.0)) for x in (-0.5, 0.5)] == ["red", "red"]
    scene.assert_neighbours_untouched()


@wp.kernel
def writes_vec3(out: wp.array(dtype=wp.vec3)):
    out[wp.tid()] = wp.vec3(0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kernel": place_in_a_row, "dim": 3}, ValueError, r"dim must be an int in \[0, 2\] \(num_instances\), got 3"),
        ({"kernel": place_in_a_row, "dim": (2, 2)}, TypeError, r"dim must be an int in \[0, 2\]"),
        ({"kernel": place_in_a_row, "dim": -1}, ValueError, r"dim must be an int in \[0, 2\]"),
        ({"kernel": writes_vec3}, TypeError, r"kernel's last parameter must be wp.array\(dtype=wp.mat44\)"),
        ({"kernel": place_at}, TypeError, r"inputs must hold 1 argument\(s\) for place_at, got 0"),
        ({"kernel": len}, TypeError, r"kernel must be a Warp kernel"),
    ],
)
def test_launch_helper_refuses_mistakes_before_launching(scene, kwargs, error, match):
    scene.home.switch_to()
    before = gl_floats(scene.inst.instance_transform_gl_buffer, (2, 16))
    with pytest.raises(error, match=match):
        scene.inst.launch(**kwargs)
    scene.home.switch_to()
    np.testing.assert_array_equal(gl_floats(scene.inst.instance_transform_gl_buffer, (2, 16)), before)
    with scene.inst:  # still usable: nothing was left mapped
        pass


# -- item 4: validate everything before changing anything ------------------------------------------


def state(scene):
    """What the instancer under test holds, on the host and in GL (its context made current)."""
    inst = scene.inst
    scene.home.switch_to()
    count = max(inst.num_instances, 1)
    return {
        "num_instances": inst.num_instances,
        "colors": (inst.color1, inst.color2),
        "face_count": inst.face_count,
        "names": inst._gl.names(),
        "transforms": inst.instance_transforms.numpy().tolist(),
        "scalings": inst.instance_scalings.numpy().tolist(),
        "gl_matrices": gl_floats(inst.instance_transform_gl_buffer, (count, 16)).tolist(),
        "gl_colors1": gl_floats(inst.instance_color1_buffer, (count, 3)).tolist(),
        "gl_colors2": gl_floats(inst.instance_color2_buffer, (count, 3)).tolist(),
    }


def assert_refused_and_unchanged(scene, call, error, match):
    before, image = state(scene), scene.image(scene.home, scene.inst)
    scene.home.switch_to()
    with pytest.raises(error, match=match):
        call()
    assert state(scene) == before
    assert (scene.image(scene.home, scene.inst) == image).all()
    scene.assert_neighbours_untouched()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"colors1": np.zeros((4, 3))}, r"colors1 must have shape \(5, 3\) or \(3,\), got \(4, 3\)"),
        ({"colors2": "blue"}, "colors2 must be an array of numbers"),
        ({"colors1": np.full((5, 3), np.nan)}, "colors1 must be finite"),
        ({"scalings": np.ones((4, 3))}, r"scalings must have shape \(5, 3\), got \(4, 3\)"),
    ],
)
def test_allocate_instances_with_a_bad_argument_changes_nothing(scene, kwargs, match):
    positions = np.linspace(-0.8, 0.8, 15).reshape(5, 3)
    assert_refused_and_unchanged(scene, lambda: scene.inst.allocate_instances(positions, **kwargs), ValueError
                                 if "colors2" not in kwargs else TypeError, match)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"colors1": np.zeros((3, 3))}, ValueError, r"colors1 must have shape \(2, 3\) or \(3,\), got \(3, 3\)"),
        ({"colors2": [1, 2]}, ValueError, r"colors2 must have shape \(2, 3\) or \(3,\), got \(2,\)"),
        ({"scalings": np.ones((3, 3))}, ValueError, r"scalings must have shape \(2, 3\), got \(3, 3\)"),
        ({"scalings": wp.ones(2, dtype=wp.vec2)}, TypeError, "scalings must have dtype vec3"),
    ],
)
def test_update_instances_with_a_bad_argument_changes_nothing(scene, kwargs, error, match):
    moved = wp.array([(0.5, 0.5, 0, 0, 0, 0, 1)] * 2, dtype=wp.transform, device="cpu")
    assert_refused_and_unchanged(scene, lambda: scene.inst.update_instances(moved, **kwargs), error, match)


# -- item 5: zero instances ------------------------------------------------------------------------


def test_zero_instances_upload_defined_colours_and_draw_nothing(scene):
    scene.home.switch_to()
    scene.inst.allocate_instances(np.zeros((0, 3)), colors1=np.zeros((0, 3)))
    assert scene.inst.num_instances == 0
    for buffer in (scene.inst.instance_color1_buffer, scene.inst.instance_color2_buffer):
        np.testing.assert_array_equal(gl_floats(buffer, (1, 3)), 0.0)  # not bytes read past an empty array
    image = scene.image(scene.home, scene.inst)
    assert (image == image[0, 0]).all() and dominant(image[0, 0]) == "background"
    scene.home.switch_to()
    scene.inst.update_instances(np.zeros((0, 7)), np.zeros((0, 3)), colors1=np.zeros((0, 3)))
    with scene.inst as mapped:
        assert mapped.vbo_transforms.shape == (0,)
    scene.inst.launch(place_in_a_row)
    scene.inst.allocate_instances([(0.0, 0.0, 0.0)])
    assert dominant(pixel_at(scene.image(scene.home, scene.inst), 0, 0)) == "red"
    scene.assert_neighbours_untouched()


# -- item 6: GL work off the main thread -----------------------------------------------------------


GL_METHODS = ("update_instances", "render", "register_shape", "allocate_instances", "update_colors", "launch",
              "__enter__")


def _calls(inst):
    return {
        "update_instances": lambda: inst.update_instances(np.tile([0, 0, 0, 0, 0, 0, 1.0], (2, 1))),
        "render": inst.render,
        "register_shape": lambda: inst.register_shape(SMALL_QUAD, INDICES),
        "allocate_instances": lambda: inst.allocate_instances(np.zeros((1, 3))),
        "update_colors": lambda: inst.update_colors(GREEN, None),
        "launch": lambda: inst.launch(place_in_a_row),
        "__enter__": inst.__enter__,
    }


def on_a_thread(call):
    """Run ``call`` on a worker thread; return what it raised (None if nothing)."""
    raised = []

    def run():
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            raised.append(exc)

    worker = threading.Thread(target=run, name="worker")
    worker.start()
    worker.join()
    return raised[0] if raised else None


@pytest.mark.parametrize("method", GL_METHODS)
def test_gl_work_off_the_main_thread_is_refused(scene, method):
    before = state(scene)
    error = on_a_thread(_calls(scene.inst)[method])
    assert isinstance(error, RuntimeError), error
    assert f"{method}() must be called on the main thread" in str(error) and "'worker'" in str(error)
    assert state(scene) == before


def test_construction_off_the_main_thread_is_refused(scene):
    scene.home.switch_to()
    error = on_a_thread(lambda: ShapeInstancer(device="cpu"))
    assert isinstance(error, RuntimeError) and "ShapeInstancer() must be called on the main thread" in str(error)


def test_close_from_a_worker_thread_still_releases(scene):
    scene.home.switch_to()
    inst = build([(0.0, 0.0, 0.0)], RED)
    buffers = inst._gl.names()["buffers"]
    assert on_a_thread(inst.close) is None and inst.closed
    flush()  # the safe point on the main thread deletes what the worker queued
    scene.home.switch_to()
    assert live_names("buffer", buffers) == []
    scene.assert_neighbours_untouched()


# -- item 11: messages that name the argument and the mistake ---------------------------------------


def _fresh():
    return ShapeInstancer(device="cpu")


def _deleted_shader_render():
    from warp_gl_lifecycle.instancer import default_shape_shader

    shader = default_shape_shader()
    inst = ShapeInstancer(shader, device="cpu")
    inst.register_shape(SMALL_QUAD, INDICES)
    inst.allocate_instances(np.zeros((1, 3)))
    shader.delete()
    inst.render()


class FakeShader:
    id = "not a program"


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: _fresh().update_colors(RED, None), RuntimeError, r"allocate_instances\(\) must be called before update_colors"),
        (lambda: (lambda i: (i.register_shape(SMALL_QUAD, INDICES), i.update_colors(RED, None)))(_fresh()), RuntimeError,
         r"allocate_instances\(\) must be called before update_colors"),
        (_deleted_shader_render, RuntimeError, "shape_shader of .* was deleted"),
        (lambda: ShapeInstancer(FakeShader(), device="cpu"), TypeError, "shape_shader must be a pyglet ShaderProgram, got FakeShader"),
        (lambda: _fresh().register_shape(SMALL_QUAD, INDICES, color1="red"), TypeError, "color1 must be an array of numbers"),
        (lambda: _fresh().register_shape(SMALL_QUAD, [[0, 1, 2], [0, 2]]), TypeError, "indices must be integers, in one flat or"),
        (lambda: _fresh().register_shape(SMALL_QUAD, []), ValueError, r"indices must form whole triangles .* got 0"),
        (lambda: _fresh().register_shape(SMALL_QUAD * 1e300, INDICES), ValueError,
         r"vertices must fit float32 \(magnitude at most 3.4e\+38\), got 1e\+300"),
        (lambda: _fresh().register_shape(np.full((4, 8), np.inf), INDICES), ValueError, "vertices must be finite, got NaN or infinity"),
        (lambda: build(np.zeros((2, 3)), RED).update_instances(np.zeros((2, 7))), ValueError,
         "transforms must hold non-zero quaternions"),
        (lambda: build(np.zeros((2, 3)), RED).allocate_instances(np.zeros((2, 3)), np.zeros((2, 4))), ValueError,
         "rotations must hold non-zero quaternions"),
    ],
)
def test_messages_name_the_argument_and_the_mistake(gl_context, call, error, match):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(error, match=match):
            call()
        import gc

        gc.collect()
    flush()


def test_color2_defaults_to_color1_lightened(gl_context):
    inst = _fresh()
    inst.register_shape(SMALL_QUAD, INDICES, color1=(0.5, 0.9, 0.0))
    np.testing.assert_allclose(inst.color2, (0.75, 1.0, 0.25))
    inst.register_shape(SMALL_QUAD, INDICES, color1=(0.5, 0.9, 0.0), color2=(0.1, 0.2, 0.3))
    np.testing.assert_allclose(inst.color2, (0.1, 0.2, 0.3))
    inst.close()


@pytest.mark.parametrize(
    "signals, error, match",
    [
        (15, TypeError, r"signals must be a tuple of signal numbers such as \(signal.SIGTERM,\), got int"),
        (("TERM",), TypeError, "signals must hold signal numbers, got str 'TERM'"),
        ((99999,), ValueError, "signals: 99999 is not a signal number"),
        ((9,), ValueError, "signals: SIGKILL cannot be handled"),
    ],
)
def test_handle_signals_names_the_mistake_and_installs_nothing(signals, error, match):
    import signal

    from warp_gl_lifecycle import handle_signals

    before = signal.getsignal(signal.SIGUSR1)
    with pytest.raises(error, match=match):
        handle_signals((signal.SIGUSR1, *signals) if isinstance(signals, tuple) else signals)
    assert signal.getsignal(signal.SIGUSR1) is before


# -- the same tests under -X dev, and with GL error checking off ------------------------------------


@pytest.mark.parametrize(
    "python_args, env, files",
    [
        (["-X", "dev", "-W", "error"], {}, ["tests/test_instancer_misuse.py", "tests/test_instancer.py"]),
        ([], {"PYGLET_DEBUG_GL": "false"},
         ["tests/test_instancer_misuse.py", "tests/test_instancer.py", "tests/test_instancer_fuzz.py"]),
    ],
    ids=["dev-mode-warnings-as-errors", "no-gl-error-checks"],
)
def test_focused_subset_under_dev_mode_and_without_gl_error_checks(python_args, env, files):
    """With pyglet's GL error checking off (as under ``python -O``) a failed bind is silent and a
    stray upload lands in whatever buffer is bound: only the pixel checks can see it. Dev mode
    with warnings as errors shows unclosed owners, unawaited work and deprecated calls."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT, python_path

    proc = subprocess.run(
        [sys.executable, *python_args, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files,
         "-k", "not focused_subset"],
        cwd=ROOT, env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONPATH": python_path(), **env},
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Exception ignored" not in proc.stderr and " passed" in proc.stdout


# -- the same contracts on CUDA (each interop mode) ---------------------------------------------------


@pytest.mark.cuda
@pytest.mark.parametrize("interop", ["map", "copy", "shared"])
def test_cuda_launch_helper_and_close_inside_with_block(gl_context, interop):
    inst = ShapeInstancer(device="cuda:0", interop=interop)
    inst.register_shape(SMALL_QUAD, INDICES, RED)
    try:
        inst.allocate_instances(np.zeros((2, 3)))
    except RuntimeError as exc:  # this machine cannot share or register GL buffers
        inst.close()
        pytest.skip(f"interop {interop} unavailable: {exc}")
    with pytest.raises(ValueError, match="dim must be an int"):
        inst.launch(place_in_a_row, dim=3)
    inst.launch(place_in_a_row)
    np.testing.assert_allclose(gl_floats(inst.instance_transform_gl_buffer, (2, 16))[:, 12:14], [[-0.4, 0.5], [0.4, 0.5]])
    error = on_a_thread(inst.render)
    assert isinstance(error, RuntimeError) and "main thread" in str(error)
    buffers = inst._gl.names()["buffers"]
    with inst as mapped:
        wp.launch(place_in_a_row, dim=2, outputs=[mapped.vbo_transforms], device="cuda:0")
        inst.close()  # waits for the kernel, undoes the mapping, then releases
    assert inst.closed and live_names("buffer", buffers) == []


@pytest.mark.skipif(
    not __import__("os").environ.get("WARP_GL_LIFECYCLE_VALGRIND") or not __import__("shutil").which("valgrind"),
    reason="slow (about 2 minutes): set WARP_GL_LIFECYCLE_VALGRIND=1 with valgrind installed",
)
def test_zero_instances_read_no_memory_past_an_array_under_valgrind():
    """The old code uploaded 12 bytes from an empty NumPy array: valgrind reported an invalid
    read in the driver's memmove of a block NumPy allocated. Other reports (the dynamic loader's)
    are not ours."""
    import os
    import subprocess
    import sys

    from .conftest import SCENARIOS, python_path

    proc = subprocess.run(
        ["valgrind", "--error-limit=no", sys.executable, str(SCENARIOS / "instancer_with_zero_instances.py")],
        cwd=SCENARIOS, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYGLET_HEADLESS": "true", "PYTHONMALLOC": "malloc", "PYTHONPATH": python_path()},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert ours_in_valgrind_reports(proc.stderr) == []


def ours_in_valgrind_reports(stderr: str) -> list[str]:
    """valgrind's reports (separated by an empty ``==pid==`` line) of reads past NumPy's memory."""
    import re

    reports = re.split(r"^==\d+== ?\n", stderr, flags=re.MULTILINE)
    return [report for report in reports if "Invalid read" in report and "PyDataMem" in report]
