"""Property-based attack on the contract (issue 9): random interleavings of create / close / drop /
collect / close on a worker / release_all / run_deferred, over owners holding real GL names in two
contexts that share objects and one that does not. After each run: every owner released exactly
once, every name deleted, no delete off the main thread, and none with a foreign context current
(every delete call is recorded with the context current at the time).

Issue 16 adds the class shapes ``managed`` must follow at call time (a ``@dataclass`` subclass, a
subclass under an ``__init_subclass__`` that does not chain, each layer's body run once), closers
called with arguments (the body gets them and the call returns its value), and ``release_all()``
cut by an interrupt at a random point: a Ctrl-C delivered at a random line of the registry's own
frames, or raised at a random line of the context hooks (making a context current)."""

import dataclasses
import functools
import gc
import signal
import sys
import threading
import warnings
from typing import Any

import pyglet
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyglet import gl

from warp_gl_lifecycle import glresources, managed_classes, registry, unclosed
from warp_gl_lifecycle.glresources import GLResources, PygletContexts, live_names
from warp_gl_lifecycle.managed_classes import managed
from warp_gl_lifecycle.registry import Registry

REGISTRY_FILES = {registry.__file__, managed_classes.__file__, unclosed.__file__}
HOOK_FILES = {glresources.__file__}

_windows = []


def contexts(gl_window):
    """Two contexts sharing one object space, and one with a space of its own (made once)."""
    if not _windows:
        config = gl_window.config
        first = pyglet.window.Window(16, 16, visible=False, config=config, context=config.create_context(None))
        second = pyglet.window.Window(16, 16, visible=False, config=config, context=config.create_context(first.context))
        alone = pyglet.window.Window(16, 16, visible=False, config=config, context=config.create_context(None))
        _windows.extend([first, second, alone])
    return [w.context for w in _windows]


class Owner:
    """Holds one buffer (object space) and one vertex array (its context), made in ``context``."""

    def __init__(self, reg, context, counts, key):
        context.set_current()
        self.resources = GLResources(context)
        self.buffer = self.resources.gen_buffer()
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, self.buffer)
        gl.glBufferData(gl.GL_ARRAY_BUFFER, 16, None, gl.GL_STATIC_DRAW)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
        self.vao = self.resources.gen_vao()
        gl.glBindVertexArray(self.vao)
        gl.glBindVertexArray(0)
        resources = self.resources

        def release(reason, resources=resources, key=key):  # refers to the names, not the owner
            counts[key] = counts.get(key, 0) + 1
            resources.release(reason)

        self.tracked = reg.track(self, release, context=context, warn=False)

    def close(self, tag=None):
        self.tracked.close()


class LegacyMesh:
    """A class in the legacy style, managed: its close() deletes its names directly, trusting the
    contract that its context is current; some then switch to another context (as a release that
    reads back a last frame from another window does)."""

    def __init__(self, context, counts, key, switch_to=None):
        context.set_current()
        self.context, self.counts, self.key, self.switch_to = context, counts, key, switch_to
        self.buffer, self.vao = gl.GLuint(), gl.GLuint()
        gl.glGenBuffers(1, self.buffer)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, self.buffer)
        gl.glBufferData(gl.GL_ARRAY_BUFFER, 16, None, gl.GL_STATIC_DRAW)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, 0)
        gl.glGenVertexArrays(1, self.vao)
        gl.glBindVertexArray(self.vao)
        gl.glBindVertexArray(0)

    def close(self, tag=None):
        self.counts[self.key] = self.counts.get(self.key, 0) + 1
        self.counts.setdefault("tags", {})[self.key] = tag
        gl.glDeleteVertexArrays(1, self.vao)
        gl.glDeleteBuffers(1, self.buffer)
        if self.switch_to is not None:
            self.switch_to.set_current()
        return ("closed", tag)


def shapes(legacy):
    """Subclasses of the managed class ``legacy`` made after managed(): a dataclass, and a leaf
    under a plugin base whose __init_subclass__ does not chain; each layer counts its own body."""

    @dataclasses.dataclass(eq=False)
    class DataMesh(legacy):
        context: Any
        counts: dict
        key: int
        switch_to: Any = None

        def __post_init__(self):
            LegacyMesh.__init__(self, self.context, self.counts, self.key, self.switch_to)

    class Plugin(legacy):
        def __init_subclass__(cls, **kwargs):  # the plugin-registry idiom: no super()
            cls.plugin = True

        def close(self, tag=None):
            layers = self.counts.setdefault("layers", {})
            layers[(self.key, "Plugin")] = layers.get((self.key, "Plugin"), 0) + 1
            return super().close(tag)

    class Leaf(Plugin):
        def close(self, tag=None):
            layers = self.counts.setdefault("layers", {})
            layers[(self.key, "Leaf")] = layers.get((self.key, "Leaf"), 0) + 1
            return super().close(tag)

    return DataMesh, Leaf


def interrupted_release_all(reg, at, where):
    """``reg.release_all()`` cut by an interrupt at the ``at``-th line run in ``where``'s frames:
    for the registry's own frames, SIGINT's installed handler is called there, as Python does when
    Ctrl-C arrives; for the hooks' frames (PygletContexts: making a context current, flushing), KeyboardInterrupt
    is raised there. Returns whether the
    call raised KeyboardInterrupt."""
    files = REGISTRY_FILES if where == "registry" else HOOK_FILES
    left = [at]

    def local(frame, event, _arg):
        if event == "line" and left[0] is not None:
            left[0] -= 1
            if left[0] <= 0:
                left[0] = None
                if where == "registry":
                    signal.getsignal(signal.SIGINT)(signal.SIGINT, frame)
                else:
                    raise KeyboardInterrupt
        return local

    def calls(frame, _event, _arg):
        code = frame.f_code
        if left[0] is None or code.co_filename not in files:
            return None
        return local if where == "registry" or code.co_qualname.startswith("PygletContexts.") else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        reg.release_all()
    except KeyboardInterrupt:
        return True
    finally:
        sys.settrace(previous)
    return False


class App:
    """An application object that closes its owner from its own __del__, in one garbage cycle.
    It makes the owner itself (so the collector finalizes the app first, as the review found)."""

    def __init__(self, make_owner):
        self.owner = make_owner()
        self.owner.app = self

    def __del__(self):
        self.owner.close()


OPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "create", "legacy", "legacy", "close", "thread_close", "drop", "cycle",
                         "collect", "release_all", "run_deferred", "switch",
                         "dataclass", "leaf", "close_with_tag", "interrupt_registry", "interrupt_hooks"]),
        st.integers(0, 7),
        st.integers(1, 600),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS)
def test_random_interleavings_release_once_in_the_right_context(gl_window, ops):
    ctxs = contexts(gl_window)
    reg = Registry()
    reg.use_hooks(PygletContexts())
    legacy = type("LegacyMesh", (LegacyMesh,), {})
    managed(legacy, registry=reg, context=lambda self: self.context)
    data_mesh, leaf = shapes(legacy)
    counts, owners, made = {}, {}, []  # made: (key, context, buffer, vao)
    leaves, tagged = [], {}
    deletes = []
    originals = {name: getattr(gl, name) for name in ("glDeleteBuffers", "glDeleteVertexArrays")}

    def recording(name, function):
        def call(count, names):
            values = [int(names.value)] if hasattr(names, "value") else [int(n) for n in names[:count]]
            deletes.append((name, values, gl.current_context, threading.current_thread() is threading.main_thread()))
            return function(count, names)
        return call

    for name, function in originals.items():
        setattr(gl, name, recording(name, function))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            for op, n, at in ops:
                if op == "create":
                    key = len(made)
                    owner = owners[key] = Owner(reg, ctxs[n % 3], counts, key)
                    made.append((key, ctxs[n % 3], owner.buffer, owner.vao))
                    del owner  # only `owners` may hold it
                elif op == "legacy":
                    key = len(made)
                    owner = owners[key] = legacy(ctxs[n % 3], counts, key, switch_to=ctxs[(n + 1) % 3] if n >= 4 else None)
                    made.append((key, ctxs[n % 3], owner.buffer.value, owner.vao.value))
                    del owner
                elif op in ("dataclass", "leaf"):
                    key = len(made)
                    kind = data_mesh if op == "dataclass" else leaf
                    owner = owners[key] = kind(ctxs[n % 3], counts, key, ctxs[(n + 1) % 3] if n >= 4 else None)
                    made.append((key, ctxs[n % 3], owner.buffer.value, owner.vao.value))
                    if op == "leaf":
                        leaves.append(key)
                    del owner
                elif op == "close_with_tag" and owners:
                    key = sorted(owners)[n % len(owners)]
                    result = owners[key].close(tag=at)
                    if result is not None:  # still open: the body got the argument, the call its value
                        assert result == ("closed", at), result
                        tagged[key] = at
                elif op in ("interrupt_registry", "interrupt_hooks"):
                    interrupted_release_all(reg, at, op.split("_")[1])
                elif op == "cycle":  # an app and the owner it makes, dropped at once as one cycle
                    key = len(made)
                    kind = legacy if n % 2 else functools.partial(Owner, reg)
                    app = App(lambda kind=kind, key=key: kind(ctxs[n % 3], counts, key))
                    owner = app.owner
                    made.append((key, ctxs[n % 3], int(getattr(owner.buffer, "value", owner.buffer)),
                                 int(getattr(owner.vao, "value", owner.vao))))
                    del app, owner
                elif op in ("close", "thread_close", "drop") and owners:
                    key = sorted(owners)[n % len(owners)]
                    if op == "close":
                        owners[key].close()
                    elif op == "thread_close":
                        worker = threading.Thread(target=owners[key].close)
                        worker.start()
                        worker.join()
                        del worker  # its target holds the owner
                    else:
                        del owners[key]
                elif op == "collect":
                    gc.collect()
                elif op == "release_all":
                    reg.release_all()
                elif op == "run_deferred":
                    reg.run_deferred()
                elif op == "switch":
                    ctxs[n % 3].set_current()
            owners.clear()
            gc.collect()
            reg.release_all()
    finally:
        for name, function in originals.items():
            setattr(gl, name, function)

    layers = counts.pop("layers", {})
    tags = counts.pop("tags", {})
    assert sorted(counts) == [key for key, *_ in made] and set(counts.values()) == {1} or not made, (counts, made)
    assert layers == {(key, layer): 1 for key in leaves for layer in ("Leaf", "Plugin")}, layers
    assert all(tags[key] == tag for key, tag in tagged.items()), (tags, tagged)
    assert all(on_main for *_, on_main in deletes), "a GL delete ran off the main thread"
    vaos_by_context = {}
    buffers_by_space = {}
    for _key, context, buffer, vao in made:
        vaos_by_context.setdefault(context, set()).add(vao)
        buffers_by_space.setdefault(context.object_space, set()).add(buffer)
    for name, values, current, _ in deletes:
        if name == "glDeleteVertexArrays":
            assert set(values) <= vaos_by_context.get(current, set()), f"vertex arrays {values} deleted in a foreign context"
        else:
            assert set(values) <= buffers_by_space.get(current.object_space, set()), f"buffers {values} deleted in a foreign space"
    for context in ctxs:
        context.set_current()
        assert live_names("vao", vaos_by_context.get(context, ())) == []
        assert live_names("buffer", buffers_by_space.get(context.object_space, ())) == []
    gl_window.switch_to()
