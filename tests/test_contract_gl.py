"""The registry's contract on real GL (issue 9): wrong-context deletes, races with worker closes,
renderers collected in cycles, contexts that share nothing. Every GL delete tested here is
recorded with the context current at the time."""

import gc
import logging
import threading
import time
import warnings
import weakref

import numpy as np
import pyglet
import pytest
from pyglet import gl
from pyglet.gl.base import Context

import warp_gl_lifecycle as wgl
from warp_gl_lifecycle import ShapeInstancer, flush, managed
from warp_gl_lifecycle.registry import registry
from warp_gl_lifecycle.glresources import GLResources, live_names

from .test_instancer import INDICES, QUAD, RED, draw, make

DELETES = ("glDeleteBuffers", "glDeleteVertexArrays", "glDeleteTextures", "glDeleteFramebuffers",
           "glDeleteRenderbuffers", "glDeleteProgram")


@pytest.fixture
def deletes():
    """Every GL delete call, as (function, names, context current, thread name)."""
    calls = []
    originals = {name: getattr(gl, name) for name in DELETES}

    def recording(name, function):
        def call(*args):
            calls.append((name, _names(name, args), gl.current_context, threading.current_thread().name))
            return function(*args)
        return call

    for name, function in originals.items():
        setattr(gl, name, recording(name, function))
    yield calls
    for name, function in originals.items():
        setattr(gl, name, function)


def _names(function, args):
    if function == "glDeleteProgram":
        return [int(getattr(args[0], "value", args[0]))]
    count, names = args
    if hasattr(names, "value"):
        return [int(names.value)]
    return [int(n) for n in names[:count]]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield


def window(**kwargs):
    return pyglet.window.Window(32, 32, visible=False, **kwargs)


def unshared_window(gl_window):
    """A window whose context shares no objects with any other (its own object space)."""
    config = gl_window.config
    return window(config=config, context=config.create_context(None))


# -- 6. a release that switches context ------------------------------------------------------------


def test_legacy_vaos_are_deleted_in_their_own_context_after_a_release_switched_away(gl_window, deletes):
    """Two legacy owners in window A; the newer one's cleanup reads a last frame back from
    window B (switching to it). The older one's vertex array must still be deleted with A current."""
    a, b = window(), window()
    a.switch_to()

    class LegacyMesh:
        def __init__(self, other=None):
            self.context = gl.current_context
            self.vao = gl.GLuint()
            gl.glGenVertexArrays(1, self.vao)
            gl.glBindVertexArray(self.vao)  # a name becomes an object when first bound
            gl.glBindVertexArray(0)
            self.other = other

        def close(self):
            gl.glDeleteVertexArrays(1, self.vao)
            if self.other is not None:
                self.other.switch_to()  # e.g. reads a last frame back from another window

    managed(LegacyMesh, context=lambda self: self.context, kind="LegacyMesh")
    older = LegacyMesh()
    newer = LegacyMesh(other=b)
    b.switch_to()
    b_vao = gl.GLuint()
    gl.glGenVertexArrays(1, b_vao)  # the same number as `older`'s, in B
    gl.glBindVertexArray(b_vao)
    gl.glBindVertexArray(0)
    assert b_vao.value == older.vao.value
    for tracked in (newer._wgl_tracked, older._wgl_tracked):
        tracked.close()
    vao_deletes = [(names, context) for name, names, context, _ in deletes if name == "glDeleteVertexArrays"]
    assert vao_deletes == [([newer.vao.value], a.context), ([older.vao.value], a.context)], vao_deletes
    b.switch_to()
    assert live_names("vao", [b_vao.value]) == [b_vao.value]  # B's own vertex array is intact
    for w in (a, b):
        w.close()


def test_exit_release_makes_each_owner_context_current_even_after_a_switch(gl_window, deletes):
    """The same with plain tracked owners (``track(owner, release, context=...)``): the newer
    one's release switches to B; the older one deletes its vertex array directly, trusting the
    contract that its context is current."""
    a, b = window(), window()
    a.switch_to()
    vao = gl.GLuint()
    gl.glGenVertexArrays(1, vao)
    gl.glBindVertexArray(vao)
    gl.glBindVertexArray(0)

    class Anchor:
        pass

    older, newer = Anchor(), Anchor()
    registry.track(older, lambda reason, vao=vao: gl.glDeleteVertexArrays(1, vao), context=a.context, warn=False)
    registry.track(newer, lambda reason: b.switch_to(), context=a.context, warn=False)
    registry.release_all()
    vao_deletes = [(names, context) for name, names, context, _ in deletes if name == "glDeleteVertexArrays"]
    assert ([vao.value], a.context) in vao_deletes, vao_deletes
    assert all(context is a.context for names, context in vao_deletes if names == [vao.value])
    for w in (a, b):
        w.close()


# -- 7. a worker closes while the main thread draws -----------------------------------------------


def close_on_worker(inst):
    worker = threading.Thread(target=inst.close, name="closer")
    worker.start()
    worker.join()


def test_close_on_a_worker_between_render_check_and_draw_raises_closed_not_gl_error(gl_context, monkeypatch):
    """Forced interleaving: the worker's close lands inside render()'s safe point."""
    inst = make()
    vao = inst.vao
    real_flush = wgl.glresources.flush

    def flush_after_a_worker_close():
        monkeypatch.setattr(wgl.glresources, "flush", real_flush)
        close_on_worker(inst)
        real_flush()

    monkeypatch.setattr(wgl.glresources, "flush", flush_after_a_worker_close)
    with pytest.raises(RuntimeError, match="is closed"):
        inst.render()
    flush()
    assert inst.closed and live_names("vao", [vao]) == []
    assert gl.glGetError() == gl.GL_NO_ERROR


def test_close_on_a_worker_inside_allocate_leaves_no_buffer_behind(gl_context, monkeypatch):
    """Forced interleaving: the worker's close lands after allocate_instances() checked that the
    instancer is open and before it makes its colour buffers."""
    inst = ShapeInstancer(device="cpu")
    inst.register_shape(QUAD * [0.1, 0.1, 1, 1, 1, 1, 1, 1], INDICES, RED)
    made = []
    real_gen = GLResources.gen_buffer

    def gen_after_a_worker_close(resources):
        if resources is inst._gl and not made:
            close_on_worker(inst)
        real = gl.glGenBuffers

        def recording(count, name):
            real(count, name)
            made.append(name.value)

        gl.glGenBuffers = recording
        try:
            return real_gen(resources)
        finally:
            gl.glGenBuffers = real

    monkeypatch.setattr(GLResources, "gen_buffer", gen_after_a_worker_close)
    with pytest.raises(RuntimeError, match="closed"):
        inst.allocate_instances(np.zeros((3, 3)))
    flush()
    numbers = made
    assert numbers and live_names("buffer", numbers) == [], "a buffer made after the close is still allocated"


def test_natural_race_worker_closes_while_main_renders_for_three_seconds(gl_context):
    errors, closed, frames = [], 0, 0
    deadline = time.monotonic() + 3.0
    rng = np.random.default_rng(7)
    while time.monotonic() < deadline:
        inst = make(count=2)
        delay = float(rng.uniform(0, 0.004))
        worker = threading.Thread(target=lambda i=inst, d=delay: (time.sleep(d), i.close()))
        worker.start()
        while True:
            try:
                inst.render()
                frames += 1
            except RuntimeError as exc:
                assert "is closed" in str(exc), exc
                closed += 1
                break
            except gl.GLException as exc:  # the fault: a deleted vertex array bound
                errors.append(exc)
                break
        worker.join()
    flush()
    assert errors == [], f"{len(errors)} GL errors in {frames} frames"
    assert closed > 20 and frames > 0


# -- 8. an unclosed Warp renderer collected in a reference cycle -----------------------------------


def test_warp_renderer_collected_in_a_cycle_is_released_quietly_and_its_context_destroyed(gl_context, caplog):
    import warp.render

    renderer = warp.render.OpenGLRenderer(headless=True, screen_width=32, screen_height=32)
    renderer.begin_frame(0.0)
    renderer.end_frame()
    window_ref = weakref.ref(renderer.window)
    context_ref = weakref.ref(renderer.window.context)
    renderer.me = renderer
    errors_before = registry.stats()["errors"]
    del renderer
    with caplog.at_level(logging.WARNING, logger="warp_gl_lifecycle"):
        gc.collect()
        flush()
    assert [r.getMessage() for r in caplog.records if "failed" in r.getMessage()] == []
    assert registry.stats()["errors"] == errors_before
    window = window_ref()
    assert window is None or window.context is None, "the renderer's window was left open"
    assert context_ref() is None or context_ref().canvas is None, "its EGL context was not destroyed"


# -- 9. contexts that share nothing ----------------------------------------------------------------


def test_unshared_contexts_do_not_pile_up_shared_shaders_or_dead_contexts(gl_window):
    def cycle():
        w = unshared_window(gl_window)
        w.switch_to()
        inst = make(count=1)
        inst.render()
        inst.close()
        w.close()

    def dead_contexts():
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, Context) and o.canvas is None)

    cycle()
    live_before, dead_before = len(registry.live()), dead_contexts()
    for _ in range(40):
        cycle()
    gl_window.switch_to()
    dead = [t for t in registry.live() if t.context is not None and t.context.canvas is None]
    assert len(registry.live()) <= live_before and len(dead) <= 1, registry.live()
    assert dead_contexts() <= dead_before + 1


def test_neighbour_in_an_unshared_context_keeps_its_shader_when_another_space_goes(gl_window):
    gl_window.switch_to()
    keeper = make(count=1)
    other = unshared_window(gl_window)
    other.switch_to()
    gone = make(count=1)
    gone.close()
    other.close()
    gl_window.switch_to()
    again = make(count=1)  # prunes the other space's shader
    assert keeper.shape_shader is again.shape_shader and keeper.shape_shader.id
    image = draw(keeper)
    assert tuple(image[32, 32]) != (0, 0, 0)
    keeper.close()
    again.close()


def test_legacy_cleanup_is_not_run_with_a_stand_in_when_its_context_is_gone(gl_window, deletes):
    """A legacy class deletes its vertex array itself. Its window is closed before it is released:
    the vertex array died with the context, and running the body with a sibling current would
    delete the sibling's vertex array of the same number."""
    a, b = window(), window()
    a.switch_to()

    class LegacyMesh:
        def __init__(self):
            self.context = gl.current_context
            self.vao = gl.GLuint()
            gl.glGenVertexArrays(1, self.vao)
            gl.glBindVertexArray(self.vao)
            gl.glBindVertexArray(0)

        def close(self):
            gl.glDeleteVertexArrays(1, self.vao)

    managed(LegacyMesh, context=lambda self: self.context, kind="LegacyMesh")
    mesh = LegacyMesh()
    a.close()
    b.switch_to()
    sibling = gl.GLuint()
    gl.glGenVertexArrays(1, sibling)
    gl.glBindVertexArray(sibling)
    gl.glBindVertexArray(0)
    assert sibling.value == mesh.vao.value
    mesh.close()
    assert not mesh._wgl_tracked.alive
    assert [d for d in deletes if d[0] == "glDeleteVertexArrays"] == []
    assert live_names("vao", [sibling.value]) == [sibling.value]
    b.close()


def test_a_context_key_that_is_not_a_gl_context_is_a_plain_label_for_the_gl_layer(gl_context, caplog):
    """Issue 10, item 8: once the GL layer is loaded, a key such as "cpu-pool" must not make every
    flush fail and count an error for ever."""
    class Pool:
        pass

    pool = Pool()
    errors = registry.stats()["errors"]
    with caplog.at_level(logging.WARNING, logger="warp_gl_lifecycle"):
        tracked = registry.track(pool, lambda reason: None, context="cpu-pool", warn=False)
        registry.run_deferred()
        tracked.close()
        for _ in range(3):
            registry.run_deferred()
            flush()
    assert registry.stats()["errors"] == errors
    assert [r.getMessage() for r in caplog.records if "cpu-pool" in r.getMessage()] == []
    assert "cpu-pool" not in registry.contexts()
