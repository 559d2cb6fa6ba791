"""The contract, round 3 (issue 16): ``managed()`` for every class shape, an exit release no
interrupt can cut, one warning per owner. One test per item of the issue (the number in each
name's comment); each failed on the code before the change that made it pass."""

import abc
import dataclasses
import gc
import os
import subprocess
import sys
import threading
import time
import warnings
import weakref

import pytest

from warp_gl_lifecycle.managed_classes import managed
from warp_gl_lifecycle.registry import Registry


@pytest.fixture(autouse=True)
def _quiet_resource_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield


def released_total(reg):
    s = reg.stats()
    return s["released_close"] + s["released_gc"] + s["released_exit"]


# -- 1. a legacy class whose context key is not a pyglet context ----------------------------------


@pytest.mark.parametrize("key", ["device", "window"])
def test_legacy_class_with_a_key_that_is_not_a_context_runs_its_cleanup(gl_window, key):
    from warp_gl_lifecycle.glresources import PygletContexts

    reg = Registry()
    reg.use_hooks(PygletContexts())
    ran = []
    label = "cuda:0" if key == "device" else gl_window  # a Window by mistake: still a plain label

    class Mesh:
        def close(self):
            ran.append(self)

    managed(Mesh, registry=reg, context=lambda self: label)
    closed, left = Mesh(), Mesh()
    closed.close()
    assert ran == [closed]
    reg.release_all()
    assert ran == [closed, left]
    gl_window.switch_to()


# -- 2. dataclasses ---------------------------------------------------------------------------------


def test_dataclass_subclass_of_a_managed_class_is_tracked_and_deferred():
    reg = Registry()
    events = []

    class Resource:
        def close(self):
            events.append(("close", threading.current_thread() is threading.main_thread()))

        def __del__(self):
            events.append(("del", threading.current_thread() is threading.main_thread()))

    managed(Resource, registry=reg)

    @dataclasses.dataclass
    class Mesh(Resource):
        name: str = "m"

    mesh = Mesh("a")
    assert [t.description for t in reg.live()] == ["Mesh #1"]
    worker = threading.Thread(target=lambda: None)
    holder = [mesh]
    del mesh

    def drop():
        holder.clear()

    worker = threading.Thread(target=drop)
    worker.start()
    worker.join()
    assert events == []  # nothing ran inside the finalizer, on the worker
    reg.run_deferred()
    assert events == [("close", True), ("del", True)]
    kept = Mesh("b")
    reg.release_all()
    assert events[2:] == [("close", True), ("del", True)] and kept.name == "b"


def test_dataclass_over_managed_on_one_class_constructs_and_is_tracked():
    reg = Registry()
    closed = []

    @dataclasses.dataclass
    @managed(registry=reg)
    class Mesh:
        name: str
        size: int = 3

        def close(self):
            closed.append(self.name)

    mesh = Mesh("a", size=4)
    assert (mesh.name, mesh.size) == ("a", 4)
    assert len(reg.live()) == 1
    mesh.close()
    mesh.close()
    assert closed == ["a"] and reg.live() == []


# -- 3. an __init_subclass__ that does not chain --------------------------------------------------


def test_non_chaining_init_subclass_between_base_and_leaf_runs_each_body_once():
    reg = Registry()
    calls = []

    class Resource:
        def close(self):
            calls.append("Resource")

    managed(Resource, registry=reg)

    class Plugin(Resource):
        registry = []

        def __init_subclass__(cls, **kwargs):  # the plugin-registry idiom: no super()
            Plugin.registry.append(cls)

        def close(self):
            calls.append("Plugin")
            super().close()

    class Leaf(Plugin):
        def close(self):
            calls.append("Leaf")
            super().close()

    leaf = Leaf()
    assert len(reg.live()) == 1
    leaf.close()
    assert calls == ["Leaf", "Plugin", "Resource"]
    leaf2 = Leaf()
    del leaf2
    gc.collect()
    reg.run_deferred()
    assert calls[3:] == ["Leaf", "Plugin", "Resource"]


# -- 4. a closer's arguments, return value and exception ------------------------------------------


def test_closer_gets_the_callers_arguments_and_returns_its_value():
    reg = Registry()
    calls = []

    class Mesh:
        def close(self, keep_texture=False):
            calls.append(keep_texture)
            return "kept" if keep_texture else "freed"

    managed(Mesh, registry=reg)
    mesh = Mesh()
    assert mesh.close(keep_texture=True) == "kept"
    assert calls == [True]
    assert mesh.close() is None  # released already: nothing runs
    assert calls == [True]


def test_closer_with_a_required_argument_runs_once_with_it():
    reg = Registry()
    calls = []

    class Pool:
        def destroy(self, count):
            calls.append(count)

    managed(Pool, registry=reg, closers=("destroy",))
    pool = Pool()
    pool.destroy(5)
    assert calls == [5] and reg.live() == [] and reg.stats()["errors"] == 0


def test_exception_from_an_explicit_close_is_raised_to_the_caller():
    reg = Registry()
    dels = []

    class Mesh:
        def close(self):
            raise OSError("disk full")

        def __del__(self):
            dels.append(1)

    managed(Mesh, registry=reg)
    mesh = Mesh()
    with pytest.raises(OSError, match="disk full"):
        mesh.close()
    assert dels == [1]  # the other bodies still ran
    assert reg.live() == []
    mesh.close()  # released (with an error): not again


# -- 5. an interrupt between two releases of release_all() ----------------------------------------


class InterruptingHooks:
    """Context hooks whose activate() is interrupted (Ctrl-C) the ``at``-th time it is called."""

    def __init__(self, at):
        self.at, self.calls, self.key = at, 0, None

    def activate(self, context):
        import contextlib

        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt

        @contextlib.contextmanager
        def active():
            previous, self.key = self.key, context
            try:
                yield context
            finally:
                self.key = previous

        return active()

    def current(self):
        return self.key

    def flush(self, context):
        pass


def test_interrupt_while_activating_a_context_loses_no_owner():
    reg = Registry()
    reg.use_hooks(InterruptingHooks(at=3))
    counts = {}
    keys = [object() for _ in range(10)]

    class Owner:
        pass

    owners = [Owner() for _ in range(10)]
    for i, owner in enumerate(owners):
        reg.track(owner, lambda reason, i=i: counts.__setitem__(i, counts.get(i, 0) + 1), context=keys[i], warn=False)
    with pytest.raises(KeyboardInterrupt):
        reg.release_all()
    assert len(counts) == 9  # the others were released before the interrupt was re-raised
    assert len(reg.live()) == 1  # the one interrupted was put back
    reg.release_all()
    assert counts == {i: 1 for i in range(10)}


def test_interrupt_while_warning_about_an_unclosed_owner_loses_no_owner():
    reg = Registry()
    counts = {}

    class Owner:
        pass

    owners = [Owner() for _ in range(10)]
    for i, owner in enumerate(owners):
        reg.track(owner, lambda reason, i=i: counts.__setitem__(i, counts.get(i, 0) + 1))
    shown = []

    def showwarning(message, category, filename, lineno, file=None, line=None):
        shown.append(message)
        if len(shown) == 2:
            raise KeyboardInterrupt

    with warnings.catch_warnings():
        warnings.simplefilter("always", ResourceWarning)
        warnings.showwarning = showwarning
        with pytest.raises(KeyboardInterrupt):
            reg.release_all()
    reg.release_all()
    assert counts == {i: 1 for i in range(10)}
    assert len(shown) == 10


# -- 6. an owner being collected on a daemon thread when the program ends -------------------------


def test_owner_being_collected_on_another_thread_at_exit_is_released():
    reg = Registry()
    released = []

    class Mesh:
        def close(self):
            released.append(threading.current_thread() is threading.main_thread())

    managed(Mesh, registry=reg)
    gc.collect()
    gc.disable()
    try:
        mesh = Mesh()
        t = mesh._wgl_tracked
        blocker = type("Blocker", (), {})()  # untracked, in the same cycle
        mesh.cycle, blocker.cycle = blocker, mesh
        go = threading.Event()
        in_callback = threading.Event()

        def pause(_ref):  # runs in the collector after every weak reference of the cycle was cleared
            in_callback.set()
            go.wait(5)

        probe = weakref.ref(blocker, pause)
        del mesh, blocker
        collector = threading.Thread(target=gc.collect, daemon=True)
        collector.start()
        assert in_callback.wait(5)
        assert t() is None and t.alive
        threading.Timer(0.2, go.set).start()
        reg._exit_hook()  # the program ends now
        collector.join(5)
    finally:
        gc.enable()
    assert released == [True], released
    assert reg.live() == [] and reg.pending() == 0
    del probe


# -- 7, 8. restore() ------------------------------------------------------------------------------


def test_restore_keeps_a_del_that_frees_directly_from_freeing_again():
    reg = Registry()
    freed = []

    class Instancer:  # as Warp's ShapeInstancer: __del__ frees directly
        def __del__(self):
            freed.append(id(self))

    def release(instancer):
        freed.append(id(instancer))

    managed(Instancer, registry=reg, release=release)
    closed_one, left_one = Instancer(), Instancer()
    Instancer._wgl_managed.restore()
    Instancer.close(closed_one) if hasattr(Instancer, "close") else closed_one._wgl_tracked.close()
    ids = [id(closed_one), id(left_one)]
    reg.release_all()
    del closed_one, left_one
    gc.collect()
    assert sorted(freed) == sorted(ids)


def test_subclasses_defined_after_restore_are_not_tracked():
    reg = Registry()

    class Renderer:
        def close(self):
            pass

    managed(Renderer, registry=reg)

    class Mine(Renderer):
        pass

    Renderer._wgl_managed.restore()

    class After(Renderer):  # a user's renderer, with an __init__ of its own
        def __init__(self):
            super().__init__()

    class Deeper(Mine):
        def __init__(self):
            super().__init__()

    made = [After(), Deeper(), Mine(), Renderer()]
    assert reg.live() == [] and reg.pending() == 0
    del made
    gc.collect()
    assert reg.pending() == 0
    managed(Renderer, registry=reg)  # re-activated: all of them again
    kept = [After(), Deeper()]
    assert len(reg.live()) == 2
    reg.release_all()
    del kept


# -- 9. abstract closers --------------------------------------------------------------------------


def test_abstract_close_stays_abstract():
    reg = Registry()

    class Resource(abc.ABC):
        @abc.abstractmethod
        def close(self):
            """Free it."""

    managed(Resource, registry=reg)

    class Forgot(Resource):
        pass

    class Done(Resource):
        def close(self):
            self.closed = True

    with pytest.raises(TypeError, match="abstract"):
        Forgot()
    done = Done()
    done.close()
    assert done.closed and reg.live() == []


# -- 10. bad closers and registries are refused at managed() time ---------------------------------


@pytest.mark.parametrize("shape", ["property", "attribute", "staticmethod", "typo"])
def test_closers_that_are_not_methods_are_refused(shape):
    namespace = {
        "property": {"close": property(lambda self: None)},
        "attribute": {"close": 3},
        "staticmethod": {"close": staticmethod(lambda: None)},
        "typo": {"close": lambda self: None},
    }[shape]
    cls = type("Mesh", (), dict(namespace))
    closers = ("clsoe",) if shape == "typo" else ("close",)
    with pytest.raises(TypeError, match="closers"):
        managed(cls, registry=Registry(), closers=closers)
    assert "_wgl_managed" not in cls.__dict__


def test_a_registry_that_is_not_a_registry_is_refused():
    class Mesh:
        def close(self):
            pass

    with pytest.raises(TypeError, match="registry"):
        managed(Mesh, registry=object())
    Mesh()  # still constructs


# -- 11. each owner's warning goes through the filters on its own ---------------------------------


def _owners(reg, kinds):
    class Owner:
        pass

    owners = [Owner() for _ in kinds]
    for owner, kind in zip(owners, kinds):
        reg.track(owner, lambda reason: None, kind=kind)
    return owners


def test_a_filter_for_one_kind_does_not_decide_for_another():
    reg = Registry()
    owners = _owners(reg, ["OpenGLRenderer", "warp ShapeInstancer"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        warnings.filterwarnings("ignore", message="unclosed warp ShapeInstancer")
        reg.release_all()
    assert [str(w.message).split(",")[0] for w in caught] == ["unclosed OpenGLRenderer #1"]
    del owners


def test_always_for_one_kind_is_honoured_while_resource_warnings_are_ignored():
    reg = Registry()
    owners = _owners(reg, ["OpenGLRenderer", "warp ShapeInstancer"])  # the instancer is newer: first
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.filterwarnings("always", message="unclosed OpenGLRenderer", category=ResourceWarning)
        reg.release_all()
    assert [str(w.message).split(",")[0] for w in caught] == ["unclosed OpenGLRenderer #1"]
    del owners


def test_deferred_releases_are_judged_on_their_own_message():
    reg = Registry()

    class Mesh:
        def close(self):
            pass

    managed(Mesh, registry=reg)
    Mesh()
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.filterwarnings("always", message="unclosed Mesh #1, released by garbage collection")
        assert reg.run_deferred() == 1
    assert len(caught) == 1


# -- 13. under -X tracemalloc, only the user's frames ---------------------------------------------


SCRIPT = """\
import warp_gl_lifecycle


class Mesh:
    def close(self):
        pass


warp_gl_lifecycle.managed(Mesh)


def make():
    return Mesh()


kept = make()
"""


@pytest.mark.parametrize("limit", ["", "=10"])
def test_tracemalloc_shows_only_the_users_allocation_frames(tmp_path, limit):
    script = tmp_path / "leaves_a_mesh.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    proc = subprocess.run([sys.executable, "-X", "dev", f"-X", f"tracemalloc{limit}", str(script)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{script}:13: ResourceWarning: unclosed Mesh #1, released at exit" in proc.stderr, proc.stderr
    allocated = proc.stderr.split("Object allocated at")[1]
    assert "warp_gl_lifecycle" not in allocated, proc.stderr
    assert f'File "{script}", line 13' in allocated, proc.stderr  # return Mesh()
    if limit:
        assert f'File "{script}", line 16' in allocated, proc.stderr  # kept = make()


# -- 12. no warning for what an upstream made for itself ------------------------------------------


def test_warp_renderer_left_open_warns_once_for_the_renderer_only(scenario):
    result = scenario("warp_renderer_left_open.py", env={"PYTHONWARNINGS": "always::ResourceWarning"})
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("ResourceWarning: unclosed OpenGLRenderer") == 1, result.stderr
    assert "ShapeInstancer" not in result.stderr, result.stderr


# -- what inspect sees (Newton's own tests read ViewerGL's signature) -----------------------------


def test_a_managed_class_keeps_its_signature():
    import inspect

    class Viewer:
        def __init__(self, width=640, *, vsync=False):
            pass

        def close(self):
            pass

    class Plain:
        def close(self):
            pass

    before = [inspect.signature(Viewer), inspect.signature(Plain)]
    managed(Viewer, registry=Registry())
    managed(Plain, registry=Registry())
    assert [inspect.signature(Viewer), inspect.signature(Plain)] == before
